// `semsec clssr`: the run over methods, antenna sets and noise factors tau (the AO baseline or a
// trained agent for each), summary.csv, and the Fig. 2 / Fig. 3 plots of the CLSSR paper.
#include "trainers/clssr/experiment.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cstdlib>
#include <vector>

#include "core/errors.h"
#include "core/fs.h"
#include "core/progress.h"
#include "core/rundir.h"
#include "datasets/loader.h"
#include "kernels/link_level/link_level_op.h"
#include "kernels/philox.h"
#include "trainers/clssr/agent.h"
#include "trainers/clssr/codec.h"
#include "trainers/clssr/tasks.h"
#include "trainers/link/link_command.h"

namespace semsec::trainers {

namespace clssr {
namespace {

std::string summary_row(uint64_t seed, const std::string& method, const Env& env, const Rules& rules, const Summary& s,
                        int64_t episodes, const AgentResult& conv) {
  return fmt::format(
      "{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},"
      "{},{},{},{}",
      setting_columns(seed, method, env), semsec::clssr::omega_reading_name(rules.omega), s.clssr_ksut,
      s.clssr_literal_ksut, s.clssr_monotone_ksut, s.reliability, s.secure, s.timely, s.eve_image_leak, s.mean_b,
      s.g_user, s.g_eve, s.r_u_mbps, s.reward, episodes, conv.converged_episode, conv.converged_clssr,
      conv.converged_reliability);
}

bool is_ao(Method m) { return m == Method::kAo || m == Method::kAoStat; }

// Runs `method` in settings that differ only in tau (`envs`): AO on the evaluation tasks, or trained
// agents in lockstep (rows of episodes.csv); then a summary.csv row and a log line per setting.
void run_tau_group(const Codec& codec, const std::vector<Env>& envs, const Rules& rules, Method method,
                   const std::string& method_name, const AgentSettings& agent, int64_t eval_tasks,
                   CsvWriter& episodes_csv, CsvWriter& summary_csv, torch::Device device) {
  const auto t0 = std::chrono::steady_clock::now();
  // The evaluation tasks: the same ones after every episode, from the evaluation streams (they do
  // not depend on tau).
  const Tasks eval =
      draw_tasks(codec, envs.front(), eval_tasks, agent.stay_prob, rng::kStreamSource + rng::kStreamEvalOffset,
                 rng::kStreamLink + rng::kStreamEvalOffset, 0, device);
  std::vector<AgentResult> results;
  if (is_ao(method)) {
    for (const Env& env : envs) {
      std::vector<int64_t> beams, gsel;
      ao_actions(codec, env, rules, eval, beams, gsel, method);
      AgentResult r;
      r.final_summary = summarise(run_tasks(codec, env, rules, method, eval, beams, gsel, agent.gain_weight,
                                            rng::kStreamLink + rng::kStreamEvalOffset, 0));
      results.push_back(r);
    }
  } else {
    results = train_agents(codec, envs, rules, method, method_name, agent, eval, episodes_csv, device);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (size_t s = 0; s < envs.size(); ++s) {
    const Env& env = envs[s];
    const AgentResult& result = results[s];
    const Summary& final_summary = result.final_summary;
    summary_csv.row(
        summary_row(agent.seed, method_name, env, rules, final_summary, is_ao(method) ? 0 : agent.episodes, result));
    log::info(
        "{:5} {:4} tau {:g}: CLSSR {:.2f} ksut/s, task reliability {:.1f}%, secure {:.1f}%, timely {:.1f}%, "
        "mean b {:.2f}{}",
        method_name, env.antennas, env.tau, final_summary.clssr_ksut, final_summary.reliability,
        100 * final_summary.secure, 100 * final_summary.timely, final_summary.mean_b,
        is_ao(method) ? ""
                      : fmt::format(", converged after {} episodes (CLSSR {}, reliability {})",
                                    result.converged_episode, result.converged_clssr, result.converged_reliability));
  }
  log::info("{} {}: {} noise factor(s) in {:.1f} s", method_name, envs.front().antennas, envs.size(), secs);
}

// fig2.png / fig3.png from the CSV files by scripts/plot_clssr.py when a python with matplotlib is at hand.
void draw_figures(const ClssrOptions& options, const std::string& run_dir) {
  const std::string script = fs::join(fs::join(options.source_dir, "scripts"), "plot_clssr.py");
  if (!options.python.empty() && fs::exists(options.python) && fs::exists(script)) {
    const std::string cmd =
        fmt::format("'{}' '{}' '{}' > '{}' 2>&1", options.python, script, run_dir, fs::join(run_dir, "plot.log"));
    if (std::system(cmd.c_str()) == 0) {
      std::vector<std::string> drawn;
      for (const char* f : {"fig2.png", "fig3.png", "map.png"}) {
        if (fs::is_file(fs::join(run_dir, f))) drawn.push_back(fs::join(run_dir, f));
      }
      log::info("figures: {}", fmt::join(drawn, ", "));
    } else {
      log::info("figures not drawn (see {}/plot.log); the CSV files are complete", run_dir);
    }
  } else {
    log::info("no python with matplotlib found: figures not drawn (scripts/plot_clssr.py RUN_DIR draws them)");
  }
}

}  // namespace

std::vector<Setting> clssr_settings(const config::Config& cfg) {
  std::vector<double> etas = cfg.get_float_list("clssr.path_loss_exponents");
  if (etas.empty()) etas = {cfg.get_float("channel.path_loss_exponent")};
  std::vector<double> eve1 = cfg.get_float_list("clssr.eve1_xy");
  if (eve1.empty()) eve1 = {cfg.get_float_list("channel.eves_xy").at(0), cfg.get_float_list("channel.eves_xy").at(1)};
  std::vector<Setting> settings;
  for (double eta : etas) {
    for (size_t p = 0; p + 1 < eve1.size(); p += 2) {
      for (const std::string& method : cfg.get_string_list("clssr.methods")) {
        const auto& antenna_list = is_ao(parse_method(method)) ? cfg.get_string_list("clssr.ao_antennas")
                                                               : cfg.get_string_list("clssr.antennas");
        for (const std::string& antennas : antenna_list) {
          for (double tau : cfg.get_float_list("clssr.tau"))
            settings.push_back({method, antennas, tau, eta, eve1[p], eve1[p + 1]});
        }
      }
    }
  }
  return settings;
}

bool same_but_tau(const Setting& a, const Setting& b) {
  return a.method == b.method && a.antennas == b.antennas && a.path_loss_exponent == b.path_loss_exponent &&
         a.eve1_x == b.eve1_x && a.eve1_y == b.eve1_y;
}

link::LinkConfig setting_link(const link::LinkConfig& base_link, const Setting& setting) {
  link::LinkConfig l = base_link;
  l.path_loss_exponent = setting.path_loss_exponent;
  l.eves.at(0) = link::Position{setting.eve1_x, setting.eve1_y};
  return l;
}

}  // namespace clssr

void check_clssr_config(const config::Config& cfg) {
  // A config.yaml that semsec wrote (the one a resumed run reads) holds every key, this one at its
  // default (2): only another value is a setting that clssr.antennas would silently override.
  if (cfg.was_given("channel.num_rx") && cfg.get_int("channel.num_rx") != clssr::default_clssr_link().num_rx) {
    fail("channel.num_rx: not used by semsec clssr ({}); clssr.antennas chooses mimo (2) or miso (1)",
         cfg.origin("channel.num_rx"));
  }
  const link::LinkConfig base_link = link_config(cfg);
  if (base_link.scheme != link::Scheme::kBeamAlamouti && base_link.scheme != link::Scheme::kBeamforming) {
    fail("channel.scheme: semsec clssr needs a scheme with beams (beam_alamouti or beamforming), got {} ({})",
         link::scheme_name(base_link.scheme), cfg.origin("channel.scheme"));
  }
  if (cfg.get_string_list("clssr.methods").empty()) fail("clssr.methods: expected at least one method");
  if (cfg.get_string_list("clssr.antennas").empty()) fail("clssr.antennas: expected at least one of mimo, miso");
  if (cfg.get_float_list("clssr.tau").empty()) fail("clssr.tau: expected at least one noise factor");
  if (cfg.get_float_list("clssr.eve1_xy").size() % 2 != 0) {
    fail("clssr.eve1_xy: expected [x0, y0, x1, y1, ...] (positions of Eve 1), got {} values ({})",
         cfg.get_float_list("clssr.eve1_xy").size(), cfg.origin("clssr.eve1_xy"));
  }
  clssr::codec_sizes(cfg);  // codec.b_max >= codec.b_min
  if (!cfg.get_string("data.root").empty()) data::check_data_root(cfg.get_string("data.root"));
  const std::string& init = cfg.get_string("codec.init_from");
  if (!init.empty() && !fs::is_file(init)) {
    fail("codec.init_from: {}: no such file ({})", init, cfg.origin("codec.init_from"));
  }
}

int run_clssr(const config::Config& cfg, const std::string& run_dir, torch::Device device,
              const ClssrOptions& options) {
  cfg.check();  // check_clssr_config and the other rules, as Config::load runs them
  const link::LinkConfig base_link = link_config(cfg);
  const clssr::Rules rules = clssr::rules_from_config(cfg);

  RunContext ctx = open_run(run_dir, device, options.resume, /*tensorboard=*/false);
  ctx.resume_command = options.resume_command;
  const clssr::Codec codec = clssr::build_codec(cfg, rules, ctx);
  clssr::AgentSettings agent = clssr::agent_settings(cfg);
  agent.resume_command = options.resume_command;
  const int64_t eval_tasks = cfg.get_int("eval.tasks");
  const auto seed = static_cast<uint64_t>(cfg.get_int("seed"));

  CsvWriter episodes_csv(fs::join(run_dir, "episodes.csv"),
                         std::string(clssr::kSettingColumns) +
                             ",episode,task_reliability,secure_rate,timely_rate,clssr_ksut,clssr_literal_ksut,"
                             "clssr_monotone_ksut,mean_reward,mean_b,policy_changes,visited_pairs");
  CsvWriter summary_csv(fs::join(run_dir, "summary.csv"),
                        std::string(clssr::kSettingColumns) +
                            ",omega,clssr_ksut,clssr_literal_ksut,clssr_monotone_ksut,task_reliability,secure_rate,"
                            "timely_rate,eve_image_leak_rate,mean_b,mean_g_user,mean_g_eve_min,r_u_mbps,mean_reward,"
                            "episodes,converged_episode,converged_clssr,converged_reliability");

  // Settings that differ only in tau (consecutive in clssr_settings' order) run as one batch.
  const std::vector<clssr::Setting> settings = clssr::clssr_settings(cfg);
  for (size_t first = 0; first < settings.size();) {
    size_t last = first + 1;
    while (last < settings.size() && clssr::same_but_tau(settings[first], settings[last])) ++last;
    std::vector<clssr::Env> envs;
    for (size_t i = first; i < last; ++i) {
      envs.push_back(clssr::make_env(cfg, clssr::setting_link(base_link, settings[i]), settings[i].antennas,
                                     settings[i].tau, seed));
    }
    const clssr::Setting& setting = settings[first];
    clssr::run_tau_group(codec, envs, rules, clssr::parse_method(setting.method), setting.method, agent, eval_tasks,
                         episodes_csv, summary_csv, device);
    first = last;
  }
  episodes_csv.close();
  summary_csv.close();

  clssr::draw_figures(options, run_dir);
  return 0;
}

}  // namespace semsec::trainers
