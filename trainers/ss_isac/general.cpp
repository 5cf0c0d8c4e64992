// The SS-ISAC experiment: construction, the training channel, and the general system's stage and evaluation.
#include "trainers/ss_isac/experiment.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>

#include "core/errors.h"
#include "core/progress.h"
#include "core/safetensors.h"
#include "kernels/philox.h"
#include "trainers/engine/parameters.h"
#include "trainers/ss_isac/losses.h"

namespace semsec::trainers {
namespace {

constexpr double kDeg = std::numbers::pi / 180.0;

}  // namespace

models::GsIsacSizes gs_isac_sizes(const IsacSettings& s, int64_t input_dim) {
  models::GsIsacSizes sizes = s.model;
  sizes.input_dim = input_dim;
  return sizes;
}

models::ArnSizes arn_sizes(const IsacSettings& s) {
  models::ArnSizes sizes;
  sizes.latent_dim = s.model.latent_dim;
  return sizes;
}

kernels::IsacLinkParams isac_link_params(const IsacSettings& s) {
  kernels::IsacLinkParams p;
  p.num_antennas = s.num_antennas;
  p.w = kernels::make_beamformer(s.channel.beamformer, p.num_antennas, s.channel.steer_deg,
                                 {s.data.phi_min_deg, s.data.phi_max_deg});
  p.alpha = {s.channel.alpha_re, s.channel.alpha_im};
  p.alpha_random_phase = s.channel.alpha_phase == "random";
  p.si_residual_power = s.channel.si_residual_power;
  p.eve_snr_offset_db = s.channel.eve_snr_offset_db;
  const double lo = s.data.phi_min_deg * kDeg, hi = s.data.phi_max_deg * kDeg;
  p.ref_gain_bs = kernels::mean_sensing_gain(p, lo, hi);
  if (!(p.ref_gain_bs > 0)) {
    fail(
        "channel: the beamformer '{}' has zero mean gain towards the azimuth range [{}, {}] deg; the sensing SNR is "
        "undefined",
        s.channel.beamformer, s.data.phi_min_deg, s.data.phi_max_deg);
  }
  return p;
}

void load_arn_weights(const std::string& path, const std::vector<torch::nn::Module*>& arns) {
  // A weights file is untrusted input: read_safetensors bounds-checks the file, and every tensor
  // must be present with the ARN's shape (a leading grid size of 1 is broadcast to all points).
  const SafetensorsFile f = read_safetensors(path);
  const std::map<std::string, torch::Tensor> by_name(f.tensors.begin(), f.tensors.end());
  torch::NoGradGuard no_grad;
  for (torch::nn::Module* arn : arns) {
    for (auto& item : arn->named_parameters()) {
      const std::string name = "arn." + item.key();
      const auto it = by_name.find(name);
      if (it == by_name.end()) fail("security.arn_init: {}: tensor '{}' is missing", path, name);
      const torch::Tensor& t = it->second;
      torch::Tensor dest = item.value();
      const bool shape_ok = t.dim() == dest.dim() && (t.size(0) == 1 || t.size(0) == dest.size(0)) &&
                            t.sizes().slice(1) == dest.sizes().slice(1);
      if (!shape_ok || t.scalar_type() != torch::kFloat32) {
        fail("security.arn_init: {}: tensor '{}' is {} {}, expected float32 [1 or {}, {}]", path, name,
             c10::str(t.sizes()), std::string(c10::toString(t.scalar_type())), dest.size(0),
             c10::str(dest.sizes().slice(1)));
      }
      if (!torch::isfinite(t).all().item<bool>())
        fail("security.arn_init: {}: tensor '{}' holds NaN or inf", path, name);
      dest.copy_(t.expand_as(dest));
    }
  }
}

IsacExperiment::IsacExperiment(const config::Config& cfg, std::vector<GridPoint> points, RunContext& ctx)
    : cfg_(cfg), settings_(isac_settings(cfg)), grid_(cfg, std::move(points)), ctx_(ctx) {
  cfg.check();  // the schema's cross-key rules (phi range, data files), as Config::load runs them
  const IsacSettings& s = settings_;
  phi_lo_ = s.data.phi_min_deg * kDeg;
  phi_hi_ = s.data.phi_max_deg * kDeg;

  train_ = data::load_split(s.data.root, "train", s.data.train_limit);
  test_ = data::load_split(s.data.root, "test", s.data.test_limit);
  // The data set is small: keep it on the training device so batches are gathered there.
  train_.images = train_.images.to(ctx.device);
  train_.labels = train_.labels.to(ctx.device);
  test_.images = test_.images.to(ctx.device);
  test_.labels = test_.labels.to(ctx.device);

  const models::GsIsacSizes sizes = gs_isac_sizes(s, train_.rows * train_.cols);
  model_ = models::GsIsac(grid_.seeds(), sizes);
  model_->to(ctx.device);

  channel_ = models::IsacChannel(isac_link_params(s), grid_.seeds(), ctx.device);
  train_snr_t_ = grid_.tensor("train.snr_db", ctx.device);

  const int64_t batch = s.train.batch_size;
  if (batch > train_.images.size(0)) {
    fail("train.batch_size ({}) is larger than the training set ({} samples)", batch, train_.images.size(0));
  }
  sampler_ = std::make_shared<data::BatchSampler>(train_.images.size(0), batch, grid_.seeds());
  cuda_graph_ = s.train.cuda_graph && ctx.device.is_cuda();  // a CPU run steps eagerly
  // A process-wide cuBLAS switch, set by every experiment so one run never inherits another's.
  if (ctx.device.is_cuda()) {
    at::globalContext().setAllowTF32CuBLAS(s.train.tf32);
  } else if (s.train.tf32) {
    log::info("train.tf32: the run is on {}, where it has no effect", ctx.device.str());
  }

  if (s.security.enabled) {
    std::vector<float> tau;  // eq. 26, per point
    for (const auto& p : grid_.points()) tau.push_back(static_cast<float>(psr_to_tau(p.psr_db, sizes.latent_dim)));
    tau_ = torch::tensor(tau, torch::kFloat32).to(ctx.device);
    encryption_.projection = s.security.projection;
    encryption_.equal_power = s.security.equal_power;
    const models::ArnSizes arn = arn_sizes(s);
    const int64_t y_dim = 2 * sizes.latent_dim, k = s.eve.num_classes;
    const auto& hidden = s.eve.hidden;
    const auto& sub_hidden = s.eve.substitute_hidden;
    eve_wb_ = models::EveClassifier(grid_.seeds(), y_dim, hidden, k, models::kInitEveWhitebox);
    eve_bb_ = models::EveClassifier(grid_.seeds(), y_dim, sub_hidden, k, models::kInitEveSubstitute);
    eve_adapt_ = models::EveClassifier(grid_.seeds(), y_dim, hidden, k, models::kInitEveAdaptive);
    if (s.eve.clean_ceiling) {
      eve_clean_ = models::EveClassifier(grid_.seeds(), sizes.latent_dim, hidden, k, models::kInitEveClean);
      eve_clean_->to(ctx.device);
    }
    arn_wb_ = models::PairedArn(grid_.seeds(), arn);
    // The black-box pair starts from other weights than the white-box pair.
    std::vector<uint64_t> bb_seeds;
    for (auto s : grid_.seeds()) bb_seeds.push_back(s ^ 0x5bd1e995ull);
    arn_bb_ = models::PairedArn(bb_seeds, arn);
    if (!s.security.arn_init.empty()) {
      load_arn_weights(s.security.arn_init, {arn_wb_.get(), arn_bb_.get()});
    }
    for (auto* m : std::initializer_list<torch::nn::Module*>{eve_wb_.get(), eve_bb_.get(), eve_adapt_.get(),
                                                             arn_wb_.get(), arn_bb_.get()}) {
      m->to(ctx.device);
    }
    make_defences(arn, y_dim, hidden, k);
  }
}

void IsacExperiment::make_defences(const models::ArnSizes& arn, int64_t y_dim, const std::vector<int64_t>& hidden,
                                   int64_t num_classes) {
  // Each population member's initialisation: the point's seed mixed with the member's index (the
  // first member is overwritten with P_Eve's weights when its stage starts).
  const int64_t members = settings_.minmax.population;
  std::vector<uint64_t> member_seeds;
  for (const uint64_t s : grid_.seeds()) {
    for (int64_t p = 0; p < members; ++p)
      member_seeds.push_back(p == 0 ? s : rng::mix_seed(s ^ static_cast<uint64_t>(p)));
  }
  auto pair = [&](uint64_t salt, int64_t key_dim) {
    std::vector<uint64_t> seeds;
    for (const uint64_t s : grid_.seeds()) seeds.push_back(s ^ salt);
    models::ArnSizes sizes = arn;
    sizes.key_dim = key_dim;
    models::PairedArn p(seeds, sizes);
    p->to(ctx_.device);
    return p;
  };
  auto population = [&](uint32_t module_id) {
    models::EveClassifier e(member_seeds, y_dim, hidden, num_classes, module_id);
    e->to(ctx_.device);
    return e;
  };
  if (settings_.threat.enabled) {  // checked before any stage trains
    const int64_t n_train = train_.images.size(0);
    for (const int64_t n : settings_.threat.samples) {
      if (n > n_train) fail("threat.samples: {} samples asked for, but the training set holds {}", n, n_train);
    }
  }
  if (settings_.minmax.enabled) {
    arn_mm_ = pair(0x2545f491ull, 0);
    eve_mm_ = population(models::kInitEveMinmax);
  }
  if (settings_.keyed.enabled) {
    arn_key_ = pair(0x68e31da4ull, settings_.keyed.bits);
    eve_key_ = population(models::kInitEveKeyed);
    secret_ = settings_.keyed.secret;
  }
  if (settings_.confusion) {
    arn_conf_ = pair(0x1b873593ull, 0);
    eve_conf_ = population(models::kInitEveConfusion);
  }
}

const IsacStage& isac_stage(std::string_view name) {
  for (const IsacStage& s : kIsacStages) {
    if (s.name == name) return s;
  }
  fail("internal: no SS-ISAC stage '{}'", name);
}

StageSpec IsacExperiment::stage_spec(const std::string& name) const {
  // Each stage reads its section's steps (or epochs) and learning rate (kIsacStages); every stage
  // shares logging, checkpoints and Adam's settings.
  const std::string_view section_name = isac_stage(name).section;
  const StageSection& section = settings_.section(section_name);
  std::vector<double> lr;
  if (section_name == "train") {
    lr = grid_.values("train.lr");  // a grid key
  } else {
    lr.assign(grid_.points().size(), section.lr);
  }
  StageSpec spec;
  spec.name = name;
  spec.total_steps = section.steps > 0 ? section.steps : section.epochs * sampler_->steps_per_epoch();
  spec.log_every = settings_.train.log_every;
  spec.checkpoint_every = settings_.train.checkpoint_every;
  spec.lr = std::move(lr);
  spec.adam = settings_.train.adam;
  spec.cuda_graph = cuda_graph_;
  return spec;
}

void IsacExperiment::load_step(int64_t s) {
  data::Batch b = data::make_batch(train_, *sampler_, grid_.seeds(), s, phi_lo_, phi_hi_, ctx_.device);
  if (cuda_graph_ && batch_.x.defined()) {
    batch_.x.copy_(b.x);
    batch_.labels.copy_(b.labels);
    batch_.phi.copy_(b.phi);
  } else {
    batch_ = std::move(b);
  }
  channel_.set_step(s);
  loaded_step_ = s;
}

kernels::IsacLinkOut IsacExperiment::train_channel(const torch::Tensor& z) {
  return channel_(z, batch_.phi, train_snr_t_, /*eval=*/false);
}

kernels::IsacLinkOut IsacExperiment::eval_channel(const torch::Tensor& z, const torch::Tensor& phi,
                                                  const torch::Tensor& snr_db, int64_t step) {
  channel_.set_step(step);
  return channel_(z, phi, snr_db, /*eval=*/true);
}

kernels::IsacLinkState IsacExperiment::eval_state(const torch::Tensor& phi, const torch::Tensor& snr_db, int64_t step,
                                                  int64_t length) {
  channel_.set_step(step);
  return channel_.generate(phi, snr_db, length, /*eval=*/true);
}

double IsacExperiment::com_loss_scale() const {
  // l_com is a per-pixel mean; eq. 9 and 28 write E||x - x_hat||^2, the sum over the image's pixels.
  return settings_.train.com_loss_sum ? static_cast<double>(train_.rows * train_.cols) : 1.0;
}

void IsacExperiment::train_general() {
  const torch::Tensor gamma_sen = grid_.tensor("train.gamma_sen", ctx_.device),
                      gamma_com = grid_.tensor("train.gamma_com", ctx_.device) * com_loss_scale();
  StageSpec spec = stage_spec("general");
  add_parameters(spec.params, *model_);
  spec.prepare = [this, offset = isac_stage("general").counter](int64_t step) { load_step(offset + step); };
  spec.loss_fn = [this, gamma_sen, gamma_com]() {
    return general_losses(
        model_, batch_.x, batch_.phi, [this](const torch::Tensor& z) { return train_channel(z); }, gamma_sen,
        gamma_com);
  };
  run_stage(spec, ctx_);
}

std::vector<SummaryRow> IsacExperiment::evaluate_general() {
  torch::NoGradGuard no_grad;
  model_->eval();
  const int64_t n = test_.images.size(0);
  const int64_t batch = std::min<int64_t>(settings_.eval.batch_size, n);
  const auto num_points = static_cast<int64_t>(grid_.points().size());
  std::vector<SummaryRow> rows;
  for (const double snr_db : settings_.eval.test_snr_db) {
    const torch::Tensor snr =
        torch::full({num_points}, snr_db, torch::TensorOptions().dtype(torch::kFloat32).device(ctx_.device));
    torch::Tensor se_sen =
        torch::zeros({num_points}, torch::TensorOptions().dtype(torch::kFloat64).device(ctx_.device));
    torch::Tensor se_com = se_sen.clone();
    for (int64_t start = 0; start < n; start += batch) {
      const int64_t bsz = std::min(batch, n - start);
      const data::Batch b = data::eval_batch(test_, start, bsz, grid_.seeds(), phi_lo_, phi_hi_, ctx_.device);
      const torch::Tensor z = model_->transmit(b.x);
      const kernels::IsacLinkOut y = eval_channel(z, b.phi, snr, start / batch);
      se_sen += (model_->receive_bs(y.y_bs) - b.phi).square().sum(1).to(torch::kFloat64);
      se_com += (model_->receive_ue(y.y_ue) - b.x).square().mean(2).sum(1).to(torch::kFloat64);
    }
    const torch::Tensor sen = (se_sen / n).cpu(), com = (se_com / n).cpu();
    for (int64_t g = 0; g < num_points; ++g) {
      SummaryRow r;
      r.point = g;
      r.seed = grid_.points()[g].seed;
      r.train_snr_db = grid_.points()[g].train_snr_db;
      r.test_snr_db = snr_db;
      r.mse_sen = sen[g].item<double>();
      r.mse_com = com[g].item<double>();
      rows.push_back(r);
    }
  }
  model_->train();
  return rows;
}

}  // namespace semsec::trainers
