// The `semsec clssr` experiment: every behaviour key of the configuration reaches the field it
// configures, the regime map's settings, bad values rejected naming their key before any work, and
// the invariants of summary.csv and episodes.csv on a small end-to-end run.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/fs.h"
#include "datasets/synthetic.h"
#include "trainers/link/link_command.h"
#include "tests/trainers/clssr_toy.h"

namespace {

using namespace semsec::testing::clssr_toy;  // NOLINT: the toy codec's helpers and aliases

// ---- Config keys reaching the structs they configure ----

std::string settings_of(const config::Config& cfg) {
  std::string s;
  for (const cl::Setting& x : cl::clssr_settings(cfg)) s += fmt::format("{}/{}/{} ", x.method, x.antennas, x.tau);
  return s;
}

// The Envs of every setting: antennas, num_rx, tau and the user's mean gain in units of one entry's.
std::string envs_of(const config::Config& cfg) {
  std::string s;
  const semsec::link::LinkConfig link = semsec::trainers::link_config(cfg);
  for (const cl::Setting& x : cl::clssr_settings(cfg)) {
    const cl::Env e = cl::make_env(cfg, link, x.antennas, x.tau, 0);
    s += fmt::format("{} rx={} tau={} mean={:g} ", e.antennas, e.link.num_rx, e.tau,
                     e.user_mean_gain / semsec::link::large_scale_gains(e.link)[0]);
  }
  return s;
}

TEST(ClssrConfig, EveryBehaviourKeyReachesTheFieldItConfigures) {
  using Get = std::function<std::string(const config::Config&)>;
  auto agent = [](auto field) -> Get {
    return [field](const config::Config& c) { return fmt::format("{}", field(cl::agent_settings(c))); };
  };
  auto env = [](auto field) -> Get {
    return [field](const config::Config& c) {
      return fmt::format("{}", field(cl::make_env(c, semsec::trainers::link_config(c), "mimo", 1.0, 0)));
    };
  };
  auto rules = [](auto field) -> Get {
    return [field](const config::Config& c) { return fmt::format("{}", field(cl::rules_from_config(c))); };
  };
  struct Case {
    std::vector<std::string> overrides;
    Get get;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"rl.episodes=7"}, agent([](const cl::AgentSettings& a) { return a.episodes; }), "7"},
      {{"rl.steps_per_episode=9"}, agent([](const cl::AgentSettings& a) { return a.steps; }), "9"},
      {{"rl.experience=all_actions"}, agent([](const cl::AgentSettings& a) { return a.all_actions; }), "true"},
      {{"rl.explore=0.3"}, agent([](const cl::AgentSettings& a) { return a.explore; }), "0.3"},
      {{"rl.gamma=0.5"}, agent([](const cl::AgentSettings& a) { return a.gamma; }), "0.5"},
      {{"rl.gain_weight=2.5"}, agent([](const cl::AgentSettings& a) { return a.gain_weight; }), "2.5"},
      {{"rl.converge_tol=0.05"}, agent([](const cl::AgentSettings& a) { return a.converge_tol; }), "0.05"},
      {{"seed=8"}, agent([](const cl::AgentSettings& a) { return a.seed; }), "8"},
      {{"clssr.omega=literal"},
       rules([](const cl::Rules& r) { return semsec::clssr::omega_reading_name(r.omega); }),
       "literal"},
      {{"source.stay_prob=0.25"}, agent([](const cl::AgentSettings& a) { return a.stay_prob; }), "0.25"},
      {{"rl.snr_levels_db=[3,9]"},
       env([](const cl::Env& e) { return fmt::format("{} {}", e.snr_levels_db[0], e.snr_levels_db.size()); }),
       "3 2"},
      {{"task.images=3"}, env([](const cl::Env& e) { return e.images_per_task; }), "3"},
      {{"task.epsilon=0.2"}, rules([](const cl::Rules& r) { return r.epsilon; }), "0.2"},
      {{"task.distortion_max=2"}, rules([](const cl::Rules& r) { return r.d_max; }), "2"},
      {{"task.deadline_s=0.5"}, rules([](const cl::Rules& r) { return r.deadline_s; }), "0.5"},
      {{"clssr.methods=[pl_ss,ao]"},
       settings_of,
       "pl_ss/mimo/1 pl_ss/mimo/2 pl_ss/mimo/3 pl_ss/mimo/4 pl_ss/mimo/5 pl_ss/miso/1 pl_ss/miso/2 pl_ss/miso/3 "
       "pl_ss/miso/4 pl_ss/miso/5 ao/mimo/1 ao/mimo/2 ao/mimo/3 ao/mimo/4 ao/mimo/5 "},
      {{"clssr.tau=[0.5,2]"},
       settings_of,
       "cl_ss/mimo/0.5 cl_ss/mimo/2 cl_ss/miso/0.5 cl_ss/miso/2 pl_ss/mimo/0.5 pl_ss/mimo/2 pl_ss/miso/0.5 "
       "pl_ss/miso/2 ao/mimo/0.5 ao/mimo/2 ao_stat/mimo/0.5 ao_stat/mimo/2 "},
      {{"clssr.antennas=[miso]", "clssr.tau=[3]"},
       envs_of,
       "miso rx=1 tau=3 mean=1 miso rx=1 tau=3 mean=1 mimo rx=2 tau=3 mean=2 mimo rx=2 tau=3 mean=2 "},
      {{"clssr.ao_antennas=[miso,mimo]", "clssr.methods=[ao]", "clssr.tau=[2]"},
       envs_of,
       "miso rx=1 tau=2 mean=1 mimo rx=2 tau=2 mean=2 "},
  };
  const config::Config defaults = clssr_config();
  for (const Case& c : cases) {
    SCOPED_TRACE(fmt::format("{}", fmt::join(c.overrides, " ")));
    EXPECT_NE(c.get(defaults), c.expected) << "the override must change the value";
    EXPECT_EQ(c.get(clssr_config(c.overrides)), c.expected);
  }
  // The defaults, for the record.
  const cl::AgentSettings a = cl::agent_settings(defaults);
  EXPECT_EQ(a.episodes, 30);
  EXPECT_EQ(a.steps, 64);
  EXPECT_FALSE(a.all_actions);  // on-policy interaction by default
  EXPECT_DOUBLE_EQ(a.converge_tol, 0.02);
  const cl::Rules r = cl::rules_from_config(defaults);
  EXPECT_DOUBLE_EQ(r.epsilon, 0.01);  // Remark 1's threshold for MSE
  EXPECT_EQ(r.omega, semsec::clssr::OmegaReading::kMonotone);
  const cl::Env e = cl::make_env(defaults, cl::default_clssr_link(), "mimo", 2.0, 5);
  EXPECT_EQ(e.num_beams, 4);
  EXPECT_EQ(e.num_receivers, 3);
  EXPECT_EQ(e.seed, 5u);
  EXPECT_EQ(e.num_channel_states(), 4 * 4 * 2);
  EXPECT_EQ(cl::parse_method("cl_ss"), cl::Method::kClSs);
  EXPECT_EQ(cl::parse_method("pl_ss"), cl::Method::kPlSs);
  EXPECT_EQ(cl::parse_method("ao"), cl::Method::kAo);
  EXPECT_EQ(cl::parse_method("ao_stat"), cl::Method::kAoStat);
  EXPECT_EQ(e.images_per_task, 1);  // per-image tasks by default
}

// The regime map: every setting at every (path-loss exponent, Eve 1 position), exponents outer;
// without the map keys the single point of channel.*; the link of a setting carries its point.
TEST(ClssrConfig, RegimeMapRunsEverySettingAtEveryPoint) {
  const config::Config one = clssr_config({"clssr.methods=[cl_ss]", "clssr.antennas=[mimo]", "clssr.tau=[1]"});
  const std::vector<cl::Setting> single = cl::clssr_settings(one);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_DOUBLE_EQ(single[0].path_loss_exponent, 4.0);
  EXPECT_DOUBLE_EQ(single[0].eve1_x, 400.0);
  EXPECT_DOUBLE_EQ(single[0].eve1_y, 450.0);
  const config::Config map = clssr_config({"clssr.methods=[cl_ss,ao]", "clssr.antennas=[mimo]", "clssr.tau=[1,5]",
                                           "clssr.path_loss_exponents=[2,3.5]", "clssr.eve1_xy=[400,450,700,-100]"});
  const std::vector<cl::Setting> s = cl::clssr_settings(map);
  ASSERT_EQ(s.size(), 2u * 2u * 2u * 2u);  // exponents x positions x methods x tau
  std::string order;
  for (const cl::Setting& x : s)
    order += fmt::format("{}/{}/{}/{}/{} ", x.path_loss_exponent, x.eve1_x, x.eve1_y, x.method, x.tau);
  EXPECT_EQ(order,
            "2/400/450/cl_ss/1 2/400/450/cl_ss/5 2/400/450/ao/1 2/400/450/ao/5 2/700/-100/cl_ss/1 2/700/-100/cl_ss/5 "
            "2/700/-100/ao/1 2/700/-100/ao/5 3.5/400/450/cl_ss/1 3.5/400/450/cl_ss/5 3.5/400/450/ao/1 3.5/400/450/ao/5 "
            "3.5/700/-100/cl_ss/1 3.5/700/-100/cl_ss/5 3.5/700/-100/ao/1 3.5/700/-100/ao/5 ");
  const semsec::link::LinkConfig base = semsec::trainers::link_config(map);
  const semsec::link::LinkConfig l = cl::setting_link(base, s[5]);
  EXPECT_DOUBLE_EQ(l.path_loss_exponent, 2.0);
  EXPECT_DOUBLE_EQ(l.eves[0].x_m, 700.0);
  EXPECT_DOUBLE_EQ(l.eves[0].y_m, -100.0);
  EXPECT_DOUBLE_EQ(l.eves[1].x_m, base.eves[1].x_m);  // Eve 2 stays
  // The Env's gains follow the point: Eve 1 farther away hears less.
  const cl::Env near = cl::make_env(map, cl::setting_link(base, s[0]), "mimo", 1.0, 0);
  const cl::Env far = cl::make_env(map, l, "mimo", 1.0, 0);
  EXPECT_LT(far.mean_gains[1], near.mean_gains[1]);
}

TEST(ClssrConfig, BadValuesAreRejectedNamingTheKey) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"rl.gamma=1", "rl.gamma"},
      {"rl.experience=greedy", "rl.experience"},
      {"rl.explore=1.5", "rl.explore"},
      {"rl.episodes=0", "rl.episodes"},
      {"rl.snr_levels_db=[300]", "rl.snr_levels_db"},
      {"rl.converge_tol=-0.1", "rl.converge_tol"},
      {"task.images=0", "task.images"},
      {"task.epsilon=0", "task.epsilon"},
      {"task.distortion_max=0", "task.distortion_max"},
      {"source.stay_prob=1.5", "source.stay_prob"},
      {"clssr.methods=[rl]", "clssr.methods"},
      {"clssr.antennas=[simo]", "clssr.antennas"},
      {"clssr.ao_antennas=[siso]", "clssr.ao_antennas"},
      {"clssr.tau=[0]", "clssr.tau"},
      {"clssr.omega=printed", "clssr.omega"},
      {"clssr.eve1_xy=[1,2,3]", "clssr.eve1_xy"},
      {"clssr.path_loss_exponents=[11]", "clssr.path_loss_exponents"},
      {"codec.noise=random", "codec.noise"},
      {"codec.noise_hidden=0", "codec.noise_hidden"},
  };
  for (const auto& [override_text, key] : bad) {
    SCOPED_TRACE(override_text);
    expect_error([&] { clssr_config({override_text}); }, {key});
  }
}

TEST(ClssrConfig, RunClssrErrorsNameTheKeyBeforeAnyWork) {
  const semsec::testing::TempDir dir("clssr_err");
  const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> bad = {
      {{"channel.num_rx=1"}, {"channel.num_rx", "clssr.antennas"}},
      {{"channel.scheme=alamouti_2x2"}, {"channel.scheme", "beam_alamouti or beamforming"}},
      {{"clssr.methods=[]"}, {"clssr.methods", "at least one"}},
      {{"clssr.antennas=[]"}, {"clssr.antennas", "at least one"}},
      {{"clssr.tau=[]"}, {"clssr.tau", "at least one"}},
      {{"codec.b_min=4", "codec.b_max=3"}, {"codec.b_max", "codec.b_min"}},
  };
  for (const auto& [overrides, parts] : bad) {
    SCOPED_TRACE(fmt::format("{}", fmt::join(overrides, " ")));
    expect_error(
        [&] {
          semsec::trainers::run_clssr(clssr_config(overrides), dir.path(), torch::kCPU,
                                      semsec::trainers::ClssrOptions{});
        },
        parts);
    EXPECT_TRUE(semsec::fs::list_dir(dir.path()).empty()) << "nothing written";
  }
}

// ---- summary.csv of a small run ----

std::vector<std::map<std::string, std::string>> read_csv(const std::string& path) {
  std::istringstream in(semsec::testing::read_bytes(path));
  std::string line;
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
  auto split = [](const std::string& l) {
    std::vector<std::string> cells;
    std::stringstream ss(l);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    return cells;
  };
  if (std::getline(in, line)) header = split(line);
  while (std::getline(in, line)) {
    const std::vector<std::string> cells = split(line);
    EXPECT_EQ(cells.size(), header.size()) << line;
    std::map<std::string, std::string> row;
    for (size_t k = 0; k < std::min(cells.size(), header.size()); ++k) row[header[k]] = cells[k];
    rows.push_back(row);
  }
  return rows;
}

TEST(ClssrExperiment, SummaryCsvInvariantsOnASmallRun) {
  const semsec::testing::TempDir dir("clssr_run");
  semsec::data::write_synthetic_dataset(dir.file("data"), 384, 96, 9, false);
  const std::string run_dir = dir.file("run");
  ASSERT_TRUE(semsec::fs::create_directories(run_dir).empty());
  const config::Config cfg = clssr_config(
      {"data.root=" + dir.file("data"), "codec.num_symbols=8", "codec.hidden=64", "codec.b_min=2", "codec.b_max=3",
       "codec.pretrain_epochs=4", "codec.noise_epochs=2", "codec.batch_size=32", "task.images=2", "task.epsilon=0.1",
       "clssr.antennas=[mimo,miso]", "clssr.tau=[1,3]", "rl.episodes=3", "rl.steps_per_episode=16", "eval.tasks=24"});
  ASSERT_EQ(semsec::trainers::run_clssr(cfg, run_dir, torch::kCPU, semsec::trainers::ClssrOptions{}), 0);
  const auto summary = read_csv(semsec::fs::join(run_dir, "summary.csv"));
  const auto episodes = read_csv(semsec::fs::join(run_dir, "episodes.csv"));
  const std::vector<cl::Setting> settings = cl::clssr_settings(cfg);
  // cl_ss, pl_ss x {mimo, miso} x {1, 3} + ao, ao_stat x mimo x {1, 3}
  ASSERT_EQ(summary.size(), settings.size());
  ASSERT_EQ(summary.size(), 12u);
  EXPECT_EQ(episodes.size(), 8u * (1u + 3u));  // episode 0 (the untrained policy) and episodes 1-3
  auto num = [](const std::map<std::string, std::string>& row, const std::string& key) {
    return std::stod(row.at(key));
  };
  const double tol = 1e-4;  // the CSV's 6 significant digits
  for (size_t k = 0; k < summary.size(); ++k) {
    const auto& row = summary[k];
    SCOPED_TRACE(fmt::format("summary row {}: {} {} {}", k, row.at("method"), row.at("antennas"), row.at("tau")));
    EXPECT_EQ(row.at("method"), settings[k].method);
    EXPECT_EQ(row.at("seed"), "0");
    EXPECT_EQ(row.at("omega"), "monotone");
    // The chosen reading of eq. 7 is the CLSSR column; the monotone one never credits less.
    EXPECT_EQ(row.at("clssr_ksut"), row.at("clssr_monotone_ksut"));
    EXPECT_GE(num(row, "clssr_monotone_ksut"), num(row, "clssr_literal_ksut"));
    EXPECT_GE(num(row, "eve_image_leak_rate"), 0.0);
    EXPECT_LE(num(row, "eve_image_leak_rate"), 1.0);
    EXPECT_EQ(row.at("antennas"), settings[k].antennas);
    EXPECT_DOUBLE_EQ(num(row, "tau"), settings[k].tau);
    const double rel = num(row, "task_reliability"), sec = num(row, "secure_rate"), tim = num(row, "timely_rate");
    // Reliability is a percentage of tasks both secure and timely: at most either rate, at least
    // their overlap forced by inclusion-exclusion; the rates are fractions.
    EXPECT_GE(rel, 0.0);
    EXPECT_LE(rel, 100.0);
    for (double v : {sec, tim}) {
      EXPECT_GE(v, 0.0);
      EXPECT_LE(v, 1.0);
    }
    EXPECT_LE(rel, 100.0 * std::min(sec, tim) + tol);
    EXPECT_GE(rel, 100.0 * (sec + tim - 1.0) - tol);
    // 24 evaluation tasks: reliability is a multiple of 100 / 24.
    EXPECT_NEAR(rel * 24.0 / 100.0, std::round(rel * 24.0 / 100.0), 1e-3);
    EXPECT_GE(num(row, "clssr_ksut"), 0.0);
    EXPECT_GE(num(row, "mean_b"), 2.0);
    EXPECT_LE(num(row, "mean_b"), 3.0);
    for (const char* g : {"mean_g_user", "mean_g_eve_min"}) {
      EXPECT_GE(num(row, g), 0.0);
      EXPECT_LE(num(row, g), 1.0);
    }
    EXPECT_GT(num(row, "r_u_mbps"), 0.0);
    if (row.at("method") == "ao" || row.at("method") == "ao_stat") {
      EXPECT_EQ(row.at("episodes"), "0");
      EXPECT_EQ(row.at("converged_episode"), "0");
    } else {
      EXPECT_EQ(row.at("episodes"), "3");
      EXPECT_LE(num(row, "converged_clssr"), 3.0);
      EXPECT_LE(num(row, "converged_reliability"), 3.0);
      EXPECT_EQ(num(row, "converged_episode"),
                std::max(num(row, "converged_clssr"), num(row, "converged_reliability")));
      for (const char* ep : {"0", "1", "2", "3"}) {
        EXPECT_EQ(std::count_if(episodes.begin(), episodes.end(),
                                [&](const auto& e) {
                                  return e.at("method") == row.at("method") && e.at("antennas") == row.at("antennas") &&
                                         e.at("tau") == row.at("tau") && e.at("episode") == ep;
                                }),
                  1)
            << "episode " << ep;
      }
      // The summary is the greedy policy's evaluation after the last episode.
      const auto last = std::find_if(episodes.begin(), episodes.end(), [&](const auto& e) {
        return e.at("method") == row.at("method") && e.at("antennas") == row.at("antennas") &&
               e.at("tau") == row.at("tau") && e.at("episode") == "3";
      });
      ASSERT_NE(last, episodes.end());
      EXPECT_EQ(last->at("task_reliability"), row.at("task_reliability"));
      EXPECT_EQ(last->at("clssr_ksut"), row.at("clssr_ksut"));
    }
  }
  // A codec trained with constant noise is refused by a run with input-dependent noise, before any
  // output is written.
  const std::string other = dir.file("other");
  ASSERT_TRUE(semsec::fs::create_directories(other).empty());
  std::vector<std::string> overrides = {"data.root=" + dir.file("data"), "codec.num_symbols=8", "codec.hidden=64",
                                        "codec.b_min=2", "codec.b_max=3", "codec.noise=input",
                                        "codec.init_from=" + semsec::fs::join(run_dir, "codec.ckpt")};
  expect_error(
      [&] {
        semsec::trainers::run_clssr(clssr_config(overrides), other, torch::kCPU, semsec::trainers::ClssrOptions{});
      },
      {"codec.init_from", "codec.noise=constant", "this run has codec.noise=input"});
  EXPECT_TRUE(semsec::fs::list_dir(other).empty());
  // PL-SS's reliability is not bounded by CL-SS's in summary.csv: the two agents choose their own
  // beams and b, and CL-SS's user decodes the semantic-noise indices with another decoder (see
  // PlSsIsNeverMoreSecureThanClSsWhenBothDecodeAlike for what holds by construction).
}

}  // namespace
