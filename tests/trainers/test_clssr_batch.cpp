// The CLSSR settings that differ only in tau run as one batch (run_tasks_at, train_agents): each
// setting's outcomes, agents and episodes.csv rows equal those of the setting run alone, and a
// task's noise is its own whatever b the other tasks of the batch use.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/trainers/clssr_toy.h"

namespace {

using namespace semsec::testing::clssr_toy;  // NOLINT: the toy codec's helpers and aliases

// A (beam, b) per row from a Philox stream of the test's own.
void random_actions(const cl::Codec& c, const cl::Env& env, int64_t rows, uint64_t seed, std::vector<int64_t>& beams,
                    std::vector<int64_t>& gsel) {
  const rng::Key key = rng::make_key(seed);
  beams.clear();
  gsel.clear();
  for (int64_t i = 0; i < rows; ++i) {
    const rng::Philox4 w = rng::draw(key, 9, static_cast<uint32_t>(i), 0, 0);
    beams.push_back(cl::uniform_index(rng::to_unit(w.v[0]), env.num_beams));
    gsel.push_back(cl::uniform_index(rng::to_unit(w.v[1]), c.grid()));
  }
}

// Batching changes which rows share the decoder's matrix products, and MKL's sgemm rounds a row
// differently with the batch's size and the row's position in it (a few ulp of float): distortions
// and what depends on them agree to 1e-5 relative; the discrete outcomes are equal unless a
// distortion sits within that rounding of epsilon (not the case here).
std::vector<std::vector<double>> episode_rows(const std::string& text);

void expect_close(const std::vector<double>& a, const std::vector<double>& b, const char* what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5 * std::abs(b[i]) + 1e-9) << what << " " << i;
}

void expect_same(const cl::Outcome& a, const cl::Outcome& b) {
  expect_close(a.reward, b.reward, "reward");
  expect_close(a.omega, b.omega, "omega");
  expect_close(a.omega_literal, b.omega_literal, "omega_literal");
  expect_close(a.omega_monotone, b.omega_monotone, "omega_monotone");
  expect_close(a.g_user, b.g_user, "g_user");
  expect_close(a.g_eve_min, b.g_eve_min, "g_eve_min");
  EXPECT_EQ(a.r_u, b.r_u);  // no decoder in the rates
  EXPECT_EQ(a.b, b.b);
  EXPECT_EQ(a.secure, b.secure);
  EXPECT_EQ(a.timely, b.timely);
  EXPECT_EQ(a.eve_image_leak, b.eve_image_leak);
}

void expect_same(const cl::Summary& a, const cl::Summary& b) {
  expect_close({a.reward, a.clssr_ksut, a.g_user, a.g_eve}, {b.reward, b.clssr_ksut, b.g_user, b.g_eve}, "summary");
  EXPECT_EQ(a.reliability, b.reliability);
  EXPECT_EQ(a.secure, b.secure);
  EXPECT_EQ(a.timely, b.timely);
  EXPECT_EQ(a.mean_b, b.mean_b);
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Random (index-dependent) decoders and noisy links: bit errors change what every receiver decodes,
// so a row scored with another row's noise, tau or action shows.
TEST(ClssrBatch, RunTasksAtEqualsRunTasksAtEachTau) {
  const cl::Codec c = toy_codec();
  const std::vector<double> taus = {0.5, 40.0, 400.0};
  for (const std::string antennas : {"mimo", "miso"}) {
    for (const cl::Method m : {cl::Method::kClSs, cl::Method::kPlSs}) {
      SCOPED_TRACE(fmt::format("{} method {}", antennas, static_cast<int>(m)));
      const cl::Env env = toy_env(1.0, antennas);
      const cl::Tasks t = toy_tasks(c, env, 30);
      std::vector<int64_t> beams, gsel;
      random_actions(c, env, static_cast<int64_t>(taus.size()) * t.size(), 5, beams, gsel);
      const std::vector<cl::Outcome> batch =
          cl::run_tasks_at(c, env, taus, kRulesMonotone, m, t, beams, gsel, 0.5, rng::kStreamLink, 2);
      ASSERT_EQ(batch.size(), taus.size());
      int64_t errors_differ = 0;
      for (size_t s = 0; s < taus.size(); ++s) {
        const cl::Env alone_env = toy_env(taus[s], antennas);
        const auto first = static_cast<std::ptrdiff_t>(s * static_cast<size_t>(t.size()));
        const std::vector<int64_t> b(beams.begin() + first, beams.begin() + first + t.size());
        const std::vector<int64_t> g(gsel.begin() + first, gsel.begin() + first + t.size());
        const cl::Outcome alone = cl::run_tasks(c, alone_env, kRulesMonotone, m, t, b, g, 0.5, rng::kStreamLink, 2);
        expect_same(batch[s], alone);
        if (s > 0) errors_differ += batch[s].g_user != batch[0].g_user ? 1 : 0;
      }
      EXPECT_GT(errors_differ, 0) << "tau changes no decoded image: the comparison is vacuous";
    }
  }
}

// Each b sends only its own tasks, with the task index as the noise counter: a task's outcome does
// not depend on the b of the other tasks.
TEST(ClssrBatch, ATasksNoiseDoesNotDependOnTheOtherTasksB) {
  const cl::Codec c = toy_codec();
  const cl::Env env = toy_env(40.0, "miso");
  const cl::Tasks t = toy_tasks(c, env, 40);
  std::vector<int64_t> beams, mixed;
  random_actions(c, env, t.size(), 8, beams, mixed);
  const cl::Outcome o_mixed =
      cl::run_tasks(c, env, kRules, cl::Method::kClSs, t, beams, mixed, 0.0, rng::kStreamLink, 1);
  int64_t compared = 0;
  for (int64_t g = 0; g < c.grid(); ++g) {
    const cl::Outcome o_all = cl::run_tasks(c, env, kRules, cl::Method::kClSs, t, beams,
                                            std::vector<int64_t>(beams.size(), g), 0.0, rng::kStreamLink, 1);
    for (size_t i = 0; i < beams.size(); ++i) {
      if (mixed[i] != g) continue;
      EXPECT_EQ(o_mixed.g_user[i], o_all.g_user[i]) << "task " << i;
      EXPECT_EQ(o_mixed.g_eve_min[i], o_all.g_eve_min[i]) << "task " << i;
      EXPECT_EQ(o_mixed.reward[i], o_all.reward[i]) << "task " << i;
      ++compared;
    }
  }
  EXPECT_EQ(compared, t.size());
  // The noise matters here: another step's noise decodes some task differently.
  const cl::Outcome o_other = cl::run_tasks(c, env, kRules, cl::Method::kClSs, t, beams, mixed, 0.0, rng::kStreamLink, 2);
  EXPECT_NE(o_other.g_user, o_mixed.g_user);
}

// Agents trained in lockstep equal agents trained one by one: the same summaries, convergence and
// episodes.csv rows (the batch writes them setting by setting), under both kinds of experience.
TEST(ClssrBatch, TrainAgentsEqualsTrainAgentOnEachSettingAlone) {
  const cl::Codec c = toy_codec();
  const std::vector<double> taus = {2.0, 50.0};
  std::vector<cl::Env> envs;
  for (double tau : taus) envs.push_back(toy_env(tau));
  const cl::Tasks eval = cl::draw_tasks(c, envs[0], 50, 0.5, rng::kStreamSource + rng::kStreamEvalOffset,
                                        rng::kStreamLink + rng::kStreamEvalOffset, 0, torch::kCPU);
  for (const bool all_actions : {false, true}) {
    SCOPED_TRACE(all_actions ? "all_actions" : "epsilon_greedy");
    cl::AgentSettings agent;
    agent.episodes = 3;
    agent.steps = 24;
    agent.all_actions = all_actions;
    agent.explore = 0.3;
    const semsec::testing::TempDir dir("batch");
    std::vector<cl::AgentResult> batch;
    {
      semsec::CsvWriter csv(dir.file("batch.csv"), "h");
      batch = cl::train_agents(c, envs, kRulesMonotone, cl::Method::kClSs, "cl_ss", agent, eval, csv, torch::kCPU);
      csv.close();
    }
    ASSERT_EQ(batch.size(), envs.size());
    std::vector<std::vector<double>> alone_rows;
    for (size_t s = 0; s < envs.size(); ++s) {
      const std::string path = dir.file(fmt::format("alone{}.csv", s));
      cl::AgentResult alone;
      {
        semsec::CsvWriter csv(path, "h");
        alone = cl::train_agent(c, envs[s], kRulesMonotone, cl::Method::kClSs, "cl_ss", agent, eval, csv, torch::kCPU);
        csv.close();
      }
      for (const auto& row : episode_rows(read_file(path).substr(2))) alone_rows.push_back(row);
      expect_same(batch[s].final_summary, alone.final_summary);
      EXPECT_EQ(batch[s].policy, alone.policy) << s;
      EXPECT_EQ(batch[s].converged_clssr, alone.converged_clssr) << s;
      EXPECT_EQ(batch[s].converged_reliability, alone.converged_reliability) << s;
    }
    // episodes.csv: the batch writes each setting's rows together, in the order of the settings.
    const std::vector<std::vector<double>> batch_rows = episode_rows(read_file(dir.file("batch.csv")).substr(2));
    ASSERT_EQ(batch_rows.size(), alone_rows.size());
    for (size_t k = 0; k < batch_rows.size(); ++k) expect_close(batch_rows[k], alone_rows[k], "episodes.csv row");
    // The final score (after episodes that re-simulated only the tasks whose action changed)
    // equals the final policy's outcomes simulated afresh.
    for (size_t s = 0; s < envs.size(); ++s) {
      const std::vector<int64_t> states = cl::channel_states(envs[s], eval);
      const int64_t num_states = envs[s].num_channel_states();
      std::vector<int64_t> beams, gsel;
      for (int64_t i = 0; i < eval.size(); ++i) {
        const auto u = static_cast<size_t>(i);
        const int64_t a = batch[s].policy.at(static_cast<size_t>(eval.cls[u] * num_states + states[u]));
        beams.push_back(a / c.grid());
        gsel.push_back(a % c.grid());
      }
      const cl::Summary fresh = cl::summarise(cl::run_tasks(c, envs[s], kRulesMonotone, cl::Method::kClSs, eval, beams,
                                                            gsel, agent.gain_weight,
                                                            rng::kStreamLink + rng::kStreamEvalOffset, 0));
      expect_same(batch[s].final_summary, fresh);
    }
    EXPECT_NE(batch[0].final_summary.reward, batch[1].final_summary.reward) << "the two taus gave one result";
  }
}

// The rows of an episodes.csv body as numbers (method and antennas read as 0).
std::vector<std::vector<double>> episode_rows(const std::string& text) {
  std::vector<std::vector<double>> rows;
  std::stringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<double> v;
    std::stringstream cells(line);
    int col = 0;
    for (std::string cell; std::getline(cells, cell, ','); ++col) v.push_back(col == 1 || col == 2 ? 0.0 : std::stod(cell));
    rows.push_back(v);
  }
  return rows;
}
constexpr size_t kColReliability = 8, kColClssr = 11, kColVisited = 17;

// The convergence episodes follow the rule on the logged series: the reliability within
// 100 rl.converge_tol percentage points of its last value, the CLSSR within rl.converge_tol of its
// last value, converged_episode the later of the two.
TEST(ClssrAgent, ConvergenceIsTheSettledEpisodeOfTheLoggedSeries) {
  const cl::Codec c = constant_codec();
  const cl::Env env = toy_env(2.0);
  const cl::Tasks eval = cl::draw_tasks(c, env, 200, 0.5, rng::kStreamSource + rng::kStreamEvalOffset,
                                        rng::kStreamLink + rng::kStreamEvalOffset, 0, torch::kCPU);
  cl::AgentSettings agent;
  agent.episodes = 12;
  agent.steps = 16;
  agent.explore = 0.5;
  agent.converge_tol = 0.02;
  const semsec::testing::TempDir dir("converge");
  cl::AgentResult r;
  {
    semsec::CsvWriter csv(dir.file("episodes.csv"), "h");
    r = cl::train_agent(c, env, kRules, cl::Method::kClSs, "cl_ss", agent, eval, csv, torch::kCPU);
    csv.close();
  }
  std::vector<double> reliability, clssr;
  for (const auto& row : episode_rows(read_file(dir.file("episodes.csv")).substr(2))) {
    reliability.push_back(row.at(kColReliability));
    clssr.push_back(row.at(kColClssr));
  }
  ASSERT_EQ(reliability.size(), 13U);
  EXPECT_EQ(r.converged_reliability, cl::settled_episode(reliability, 2.0));
  EXPECT_EQ(r.converged_clssr, cl::settled_episode(clssr, 0.02 * std::abs(clssr.back())));
  EXPECT_EQ(r.converged_episode, std::max(r.converged_reliability, r.converged_clssr));
  // The band in points matters on this series (0.02 points would settle later).
  EXPECT_NE(cl::settled_episode(reliability, 2.0), cl::settled_episode(reliability, 0.02));
}

// Epsilon-greedy experience explores with probability rl.explore: with 0 every task of the first
// episode is tried with the untrained policy's action, one (state, action) pair per state; with 1
// every action is drawn uniformly, so many more pairs are visited.
TEST(ClssrAgent, ExplorationHappensWithProbabilityRlExplore) {
  const cl::Codec c = constant_codec();
  const cl::Env env = toy_env(2.0);
  const cl::Tasks eval = toy_tasks(c, env, 10);
  cl::AgentSettings agent;
  agent.episodes = 1;
  agent.steps = 64;
  const cl::Tasks first = cl::draw_tasks(c, env, agent.steps, agent.stay_prob, rng::kStreamSource, rng::kStreamLink, 0,
                                         torch::kCPU);
  const std::vector<int64_t> states = cl::channel_states(env, first);
  std::vector<int64_t> mdp_states;
  for (size_t i = 0; i < states.size(); ++i) mdp_states.push_back(first.cls[i] * env.num_channel_states() + states[i]);
  std::sort(mdp_states.begin(), mdp_states.end());
  const auto distinct = std::unique(mdp_states.begin(), mdp_states.end()) - mdp_states.begin();
  std::vector<double> visited;
  for (const double explore : {0.0, 1.0}) {
    agent.explore = explore;
    const semsec::testing::TempDir dir("explore");
    {
      semsec::CsvWriter csv(dir.file("episodes.csv"), "h");
      cl::train_agent(c, env, kRules, cl::Method::kClSs, "cl_ss", agent, eval, csv, torch::kCPU);
      csv.close();
    }
    visited.push_back(episode_rows(read_file(dir.file("episodes.csv")).substr(2)).at(1).at(kColVisited));
  }
  EXPECT_EQ(visited[0], static_cast<double>(distinct));
  EXPECT_GT(visited[1], static_cast<double>(distinct) + 10);
}

TEST(ClssrBatch, SettingsThatDifferOnlyInTauFormOneGroup) {
  const cl::Setting a{"cl_ss", "mimo", 1.0, 4.0, 400.0, 450.0};
  cl::Setting b = a;
  b.tau = 5.0;
  EXPECT_TRUE(cl::same_but_tau(a, b));
  for (int field = 0; field < 5; ++field) {
    cl::Setting d = b;
    if (field == 0) d.method = "pl_ss";
    if (field == 1) d.antennas = "miso";
    if (field == 2) d.path_loss_exponent = 3.0;
    if (field == 3) d.eve1_x = 683.0;
    if (field == 4) d.eve1_y = 183.0;
    EXPECT_FALSE(cl::same_but_tau(a, d)) << "field " << field;
  }
}

TEST(ClssrBatch, RunTasksAtRefusesMismatchedActions) {
  const cl::Codec c = toy_codec();
  const cl::Env env = toy_env(1.0);
  const cl::Tasks t = toy_tasks(c, env, 4);
  const std::vector<int64_t> four(4, 0), eight(8, 0);
  expect_error([&] { cl::run_tasks_at(c, env, {}, kRules, cl::Method::kClSs, t, four, four, 0.0, 0, 0); },
               {"run_tasks_at needs at least one noise factor tau"});
  expect_error([&] { cl::run_tasks_at(c, env, {1.0, 2.0}, kRules, cl::Method::kClSs, t, four, eight, 0.0, 0, 0); },
               {"needs a beam and a b for each of 2 x 4 rows, got 4 and 8"});
  const semsec::testing::TempDir dir("batch_errors");
  semsec::CsvWriter csv(dir.file("episodes.csv"), "h");
  expect_error(
      [&] { cl::train_agents(c, {}, kRules, cl::Method::kClSs, "cl_ss", cl::AgentSettings{}, t, csv, torch::kCPU); },
      {"train_agents needs at least one setting"});
}

}  // namespace
