// The SS-ISAC configuration read once into IsacSettings.
#include "trainers/ss_isac/settings.h"

#include "core/errors.h"

namespace semsec::trainers {
namespace {

StageSection read_section(const config::Config& cfg, const std::string& name) {
  StageSection s;
  s.steps = cfg.get_int(name + ".steps");
  s.epochs = cfg.get_int(name + ".epochs");
  if (name != "train") s.lr = cfg.get_float(name + ".lr");
  return s;
}

}  // namespace

const StageSection& IsacSettings::section(std::string_view name) const {
  if (name == "train") return train_stage;
  if (name == "eve") return eve_stage;
  if (name == "security") return security_stage;
  fail("internal: no SS-ISAC configuration section '{}' of a stage", name);
}

IsacSettings isac_settings(const config::Config& cfg) {
  IsacSettings s;
  s.data = {cfg.get_string("data.root"), cfg.get_int("data.train_limit"), cfg.get_int("data.test_limit"),
            cfg.get_float("data.phi_min_deg"), cfg.get_float("data.phi_max_deg")};
  s.model.latent_dim = cfg.get_int("model.latent_dim");
  s.model.feature_dim = cfg.get_int("model.feature_dim");
  s.model.bs_hidden = cfg.get_int("model.bs_hidden");
  s.model.ue_hidden = cfg.get_int("model.ue_hidden");
  s.num_antennas = cfg.get_int("model.num_antennas");
  s.channel.beamformer = cfg.get_string("channel.beamformer");
  s.channel.alpha_phase = cfg.get_string("channel.alpha_phase");
  s.channel.steer_deg = cfg.get_float("channel.steer_deg");
  s.channel.alpha_re = cfg.get_float("channel.alpha_re");
  s.channel.alpha_im = cfg.get_float("channel.alpha_im");
  s.channel.si_residual_power = cfg.get_float("channel.si_residual_power");
  s.channel.eve_snr_offset_db = cfg.get_float("channel.eve_snr_offset_db");

  s.train.batch_size = cfg.get_int("train.batch_size");
  s.train.log_every = cfg.get_int("train.log_every");
  s.train.checkpoint_every = cfg.get_int("train.checkpoint_every");
  s.train.adam = AdamOptions{cfg.get_float("train.adam_beta1"), cfg.get_float("train.adam_beta2"),
                             cfg.get_float("train.adam_eps")};
  s.train.cuda_graph = cfg.get_bool("train.cuda_graph");
  s.train.tf32 = cfg.get_bool("train.tf32");
  s.train.com_loss_sum = cfg.get_string("train.com_loss") == "sum";
  s.train_stage = read_section(cfg, "train");
  s.eve_stage = read_section(cfg, "eve");
  s.security_stage = read_section(cfg, "security");

  s.security.enabled = cfg.get_bool("security.enabled");
  s.security.blackbox = cfg.get_bool("security.blackbox");
  s.security.adaptive_eve = cfg.get_bool("security.adaptive_eve");
  s.security.equal_power = cfg.get_bool("security.equal_power");
  s.security.power_constraint = cfg.get_string("security.power_constraint");
  s.security.projection = s.security.power_constraint == "projection";
  s.security.arn_init = cfg.get_string("security.arn_init");
  s.eve = {cfg.get_int_list("eve.hidden"), cfg.get_int_list("eve.substitute_hidden"), cfg.get_int("eve.num_classes"),
           cfg.get_bool("eve.clean_ceiling")};
  s.minmax = {cfg.get_bool("minmax.enabled"),     cfg.get_int("minmax.eve_steps"),     cfg.get_int("minmax.population"),
              cfg.get_string("minmax.aggregate"), cfg.get_float("minmax.temperature"), cfg.get_float("minmax.eve_lr")};
  s.keyed = {cfg.get_bool("keyed.enabled"), cfg.get_int("keyed.bits"),
             static_cast<uint64_t>(cfg.get_int("keyed.secret"))};
  s.confusion = cfg.get_bool("confusion.enabled");
  s.threat = {cfg.get_bool("threat.enabled"),
              cfg.get_int_list("threat.samples"),
              cfg.get_int_list("threat.large_hidden"),
              cfg.get_string_list("threat.starts"),
              cfg.get_int("threat.steps"),
              cfg.get_float_list("threat.test_snr_db")};
  s.eval = {cfg.get_float_list("eval.test_snr_db"), cfg.get_int("eval.batch_size")};
  s.export_what = cfg.get_string("output.export");
  return s;
}

}  // namespace semsec::trainers
