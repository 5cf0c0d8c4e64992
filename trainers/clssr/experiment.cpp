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

std::string summary_row(const std::string& method, const Env& env, const Summary& s, int64_t episodes,
                        int64_t converged) {
  return fmt::format("{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{},{}", method,
                     env.antennas, env.tau, s.clssr_ksut, s.reliability, s.secure, s.timely, s.mean_b, s.g_user,
                     s.g_eve, s.r_u_mbps, s.reward, episodes, converged);
}

// Runs `method` in one setting: AO on the evaluation tasks or a trained agent (rows of episodes.csv),
// then its summary.csv row and a log line.
void run_setting(const Codec& codec, const Env& env, const Rules& rules, Method method, const std::string& method_name,
                 const AgentSettings& agent, int64_t eval_tasks, CsvWriter& episodes_csv, CsvWriter& summary_csv,
                 torch::Device device) {
  const double stay = agent.stay_prob, gain_weight = agent.gain_weight;
  const auto t0 = std::chrono::steady_clock::now();
  // The evaluation tasks: the same ones after every episode, from the evaluation streams.
  const Tasks eval = draw_tasks(codec, env, eval_tasks, stay, rng::kStreamSource + rng::kStreamEvalOffset,
                                rng::kStreamLink + rng::kStreamEvalOffset, 0, device);
  Summary final_summary;
  int64_t converged = 0;
  if (method == Method::kAo) {
    std::vector<int64_t> beams, gsel;
    ao_actions(codec, env, rules, eval, beams, gsel);
    final_summary = summarise(run_tasks(codec, env, rules, method, eval, beams, gsel, gain_weight,
                                        rng::kStreamLink + rng::kStreamEvalOffset, 0));
    summary_csv.row(summary_row(method_name, env, final_summary, 0, 0));
  } else {
    const AgentResult r = train_agent(codec, env, rules, method, method_name, agent, eval, episodes_csv, device);
    final_summary = r.final_summary;
    converged = r.converged_episode;
    summary_csv.row(summary_row(method_name, env, final_summary, agent.episodes, converged));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log::info(
      "{:5} {:4} tau {:g}: CLSSR {:.2f} ksut/s, task reliability {:.1f}%, secure {:.1f}%, timely {:.1f}%, "
      "mean b {:.2f}{} ({:.1f} s)",
      method_name, env.antennas, env.tau, final_summary.clssr_ksut, final_summary.reliability,
      100 * final_summary.secure, 100 * final_summary.timely, final_summary.mean_b,
      method == Method::kAo ? "" : fmt::format(", converged after {} episodes", converged), secs);
}

// fig2.png / fig3.png from the CSV files by scripts/plot_clssr.py when a python with matplotlib is at hand.
void draw_figures(const ClssrOptions& options, const std::string& run_dir) {
  const std::string script = fs::join(fs::join(options.source_dir, "scripts"), "plot_clssr.py");
  if (!options.python.empty() && fs::exists(options.python) && fs::exists(script)) {
    const std::string cmd =
        fmt::format("'{}' '{}' '{}' > '{}' 2>&1", options.python, script, run_dir, fs::join(run_dir, "plot.log"));
    if (std::system(cmd.c_str()) == 0) {
      std::vector<std::string> drawn;
      for (const char* f : {"fig2.png", "fig3.png"}) {
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
  std::vector<Setting> settings;
  for (const std::string& method : cfg.get_string_list("clssr.methods")) {
    const auto& antenna_list = parse_method(method) == Method::kAo ? cfg.get_string_list("clssr.ao_antennas")
                                                                   : cfg.get_string_list("clssr.antennas");
    for (const std::string& antennas : antenna_list) {
      for (double tau : cfg.get_float_list("clssr.tau")) settings.push_back({method, antennas, tau});
    }
  }
  return settings;
}

}  // namespace clssr

void check_clssr_config(const config::Config& cfg) {
  if (cfg.was_given("channel.num_rx")) {
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

  const clssr::Codec codec = clssr::build_codec(cfg, rules, run_dir, device);
  const clssr::AgentSettings agent = clssr::agent_settings(cfg);
  const int64_t eval_tasks = cfg.get_int("eval.tasks");
  const auto seed = static_cast<uint64_t>(cfg.get_int("seed"));

  CsvWriter episodes_csv(fs::join(run_dir, "episodes.csv"),
                         "method,antennas,tau,episode,task_reliability,secure_rate,timely_rate,clssr_ksut,"
                         "mean_reward,mean_b,policy_changes,visited_pairs");
  CsvWriter summary_csv(fs::join(run_dir, "summary.csv"),
                        "method,antennas,tau,clssr_ksut,task_reliability,secure_rate,timely_rate,mean_b,mean_g_user,"
                        "mean_g_eve_min,r_u_mbps,mean_reward,episodes,converged_episode");

  for (const clssr::Setting& setting : clssr::clssr_settings(cfg)) {
    const clssr::Env env = clssr::make_env(cfg, base_link, setting.antennas, setting.tau, seed);
    clssr::run_setting(codec, env, rules, clssr::parse_method(setting.method), setting.method, agent, eval_tasks,
                       episodes_csv, summary_csv, device);
  }
  episodes_csv.close();
  summary_csv.close();

  clssr::draw_figures(options, run_dir);
  return 0;
}

}  // namespace semsec::trainers
