// Unit tests of the CLSSR experiment layer (trainers/clssr/: tasks, agent, experiment) on a toy
// codec built by hand: its decoders can be made constant, so every distortion is known exactly
// and does not depend on bit errors, and the rates, security, timeliness, CLSSR and reward of each
// task follow from the channel gains by the task model of trainers/clssr/experiment.h. The
// configuration and a small end-to-end run are in test_clssr_experiment.cpp, the AO baselines in
// test_clssr_ao.cpp.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/fs.h"
#include "datasets/synthetic.h"
#include "kernels/link_level/link_level_op.h"
#include "kernels/philox.h"
#include "tests/test_util.h"
#include "trainers/clssr/agent.h"
#include "trainers/clssr/codec.h"
#include "trainers/clssr/experiment.h"
#include "trainers/clssr/tasks.h"
#include "trainers/link/link_command.h"

#include "tests/trainers/clssr_toy.h"

namespace {

using namespace semsec::testing::clssr_toy;  // NOLINT: the toy codec's helpers and aliases

// ---- the agent learns ----

// The trained greedy policy beats a uniformly random policy on the same evaluation tasks (the
// streams run_setting draws them from), in mean reward and in CLSSR, with experience from every
// action and from epsilon-greedy interaction alone. A sign flip of the reward, or a policy read
// back at the wrong state, falls to the random policy's level or below.
TEST(ClssrAgent, TheTrainedPolicyBeatsTheRandomPolicyOnTheSameTasks) {
  cl::Codec c = constant_codec();
  const cl::Env env = toy_env(2.0);
  const cl::Tasks eval = cl::draw_tasks(c, env, 300, 0.5, rng::kStreamSource + rng::kStreamEvalOffset,
                                        rng::kStreamLink + rng::kStreamEvalOffset, 0, torch::kCPU);
  // The random policy: a uniform (beam, b) per task, from a Philox stream of its own.
  std::vector<int64_t> beams, gsel;
  const rng::Key key = rng::make_key(99);
  for (int64_t i = 0; i < eval.size(); ++i) {
    const rng::Philox4 w = rng::draw(key, 7, static_cast<uint32_t>(i), 0, 0);
    beams.push_back(cl::uniform_index(rng::to_unit(w.v[0]), env.num_beams));
    gsel.push_back(cl::uniform_index(rng::to_unit(w.v[1]), c.grid()));
  }
  const cl::Summary random = cl::summarise(
      cl::run_tasks(c, env, kRules, cl::Method::kClSs, eval, beams, gsel, 1.0, rng::kStreamLink + rng::kStreamEvalOffset, 0));
  for (const bool all_actions : {true, false}) {
    SCOPED_TRACE(all_actions ? "all_actions" : "epsilon_greedy");
    cl::AgentSettings agent;
    agent.episodes = all_actions ? 4 : 30;
    agent.steps = 64;
    agent.all_actions = all_actions;
    agent.explore = 0.3;
    const semsec::testing::TempDir dir("agent");
    semsec::CsvWriter episodes(dir.file("episodes.csv"), "x");
    const cl::AgentResult trained =
        cl::train_agent(c, env, kRules, cl::Method::kClSs, "cl_ss", agent, eval, episodes, torch::kCPU);
    EXPECT_GT(trained.final_summary.reward, random.reward + 0.1 * std::abs(random.reward))
        << "trained " << trained.final_summary.reward << " random " << random.reward;
    EXPECT_GT(trained.final_summary.clssr_ksut, random.clssr_ksut)
        << "trained " << trained.final_summary.clssr_ksut << " random " << random.clssr_ksut;
  }
}

// ---- summarise, uniform_index, channel_states, converged_episode ----

TEST(ClssrSummarise, MeansOverTasksAndReliabilityInPercent) {
  cl::Outcome o;
  o.omega = {1000, 3000, 0, 4000};
  o.omega_literal = {1000, 2000, 0, 1000};
  o.omega_monotone = {1000, 3000, 0, 4000};
  o.eve_image_leak = {0, 1, 1, 0};
  o.secure = {1, 1, 0, 1};
  o.timely = {1, 0, 1, 1};
  o.b = {2, 3, 2, 3};
  o.g_user = {0.0, 0.1, 0.2, 0.3};
  o.g_eve_min = {0.5, 0.6, 0.7, 0.8};
  o.r_u = {1e6, 2e6, 3e6, 4e6};
  o.reward = {1, 2, 3, 6};
  const cl::Summary s = cl::summarise(o);
  EXPECT_DOUBLE_EQ(s.clssr_ksut, 2.0);    // (1 + 3 + 0 + 4) ksut/s / 4
  EXPECT_DOUBLE_EQ(s.clssr_literal_ksut, 1.0);
  EXPECT_DOUBLE_EQ(s.clssr_monotone_ksut, 2.0);
  EXPECT_DOUBLE_EQ(s.eve_image_leak, 0.5);
  EXPECT_DOUBLE_EQ(s.reliability, 50.0);  // tasks 0 and 3 are secure and timely: 2 of 4, in percent
  EXPECT_DOUBLE_EQ(s.secure, 0.75);
  EXPECT_DOUBLE_EQ(s.timely, 0.75);
  EXPECT_DOUBLE_EQ(s.mean_b, 2.5);
  EXPECT_DOUBLE_EQ(s.g_user, 0.15);
  EXPECT_DOUBLE_EQ(s.g_eve, 0.65);
  EXPECT_DOUBLE_EQ(s.r_u_mbps, 2.5);
  EXPECT_DOUBLE_EQ(s.reward, 3.0);

  o.timely = {1, 1, 1, 1};
  EXPECT_DOUBLE_EQ(cl::summarise(o).reliability, 75.0);
  o.secure = {1, 1, 1, 1};
  EXPECT_DOUBLE_EQ(cl::summarise(o).reliability, 100.0);
  // No task at all has no task reliability (eq. 14 needs one).
  expect_error([] { cl::summarise(cl::Outcome{}); }, {"task reliability", "at least one task"});
}

TEST(ClssrUniformIndex, FloorOfUTimesNInsideTheRange) {
  EXPECT_EQ(cl::uniform_index(0.0, 5), 0);
  EXPECT_EQ(cl::uniform_index(0.1999, 5), 0);
  EXPECT_EQ(cl::uniform_index(0.2, 5), 1);
  EXPECT_EQ(cl::uniform_index(0.5, 4), 2);
  EXPECT_EQ(cl::uniform_index(0.7499, 4), 2);
  EXPECT_EQ(cl::uniform_index(0.75, 4), 3);
  EXPECT_EQ(cl::uniform_index(0.999999, 5), 4);
  EXPECT_EQ(cl::uniform_index(1.0, 5), 4);  // kept inside [0, n)
  EXPECT_EQ(cl::uniform_index(0.9, 1), 0);
  // Every index is reached, equally often on an even grid of u.
  std::vector<int> hits(7, 0);
  for (int k = 0; k < 700; ++k) ++hits[static_cast<size_t>(cl::uniform_index((k + 0.5) / 700.0, 7))];
  for (int h : hits) EXPECT_EQ(h, 100);
}

TEST(ClssrChannelStates, UserBeamThenStrongestEvesBeamThenSnrLevel) {
  cl::Env env;
  env.num_beams = 3;
  env.num_receivers = 3;
  env.tau = 2.0;
  env.snr_levels_db = {10.0, 20.0};
  EXPECT_EQ(env.num_channel_states(), 3 * 3 * 3);
  cl::Tasks t;
  t.cls = {0, 0, 0};
  // gains [R = 3, T = 3, K = 3]
  t.gains = torch::tensor(
                {// user
                 1.0, 150.0, 3.0, /**/ 7.0, 2.0, 1.0, /**/ 1.0, 2.0, 1000.0,
                 // Eve 1
                 5.0, 1.0, 2.0, /**/ 1.0, 50.0, 3.0, /**/ 4.0, 1.0, 1.0,
                 // Eve 2
                 1.0, 2.0, 9.0, /**/ 20.0, 1.0, 1.0, /**/ 1.0, 3.0, 1.0},
                torch::kFloat64)
                .view({3, 3, 3});
  const std::vector<int64_t> h = cl::channel_states(env, t);
  ASSERT_EQ(h.size(), 3u);
  // Task 0: user beam 1, strongest Eve is Eve 2 (9 > 5) with beam 2; SNR 150 / tau = 75 -> 18.75 dB,
  // level 1 (>= 10 dB, < 20 dB).
  EXPECT_EQ(h[0], (1 * 3 + 2) * 3 + 1);
  // Task 1: user beam 0, strongest Eve is Eve 1 (50 > 20) with beam 1; 7 / 2 = 3.5 -> 5.4 dB, level 0.
  EXPECT_EQ(h[1], (0 * 3 + 1) * 3 + 0);
  // Task 2: user beam 2, Eve 1 (4 > 3) with beam 0; 1000 / 2 -> 27 dB, level 2.
  EXPECT_EQ(h[2], (2 * 3 + 0) * 3 + 2);
  // A quieter receiver: tau = 1 lifts task 0 to 21.8 dB (level 2); tau = 100 drops it to 1.8 dB (level 0).
  env.tau = 1.0;
  EXPECT_EQ(cl::channel_states(env, t)[0], (1 * 3 + 2) * 3 + 2);
  env.tau = 100.0;
  EXPECT_EQ(cl::channel_states(env, t)[0], (1 * 3 + 2) * 3 + 0);
  env.tau = 1.5;  // 150 / 1.5 = 100: exactly 20 dB, a threshold counts as reached
  EXPECT_EQ(cl::channel_states(env, t)[0], (1 * 3 + 2) * 3 + 2);
  // No SNR levels: one level, the state is the beam pair.
  env.snr_levels_db.clear();
  EXPECT_EQ(cl::channel_states(env, t), (std::vector<int64_t>{5, 1, 6}));
}

TEST(ClssrSettledEpisode, FirstEpisodeFromWhichTheScoreStaysInTheBand) {
  // series[e] is the score after episode e; episode 0 is the untrained policy.
  EXPECT_EQ(cl::settled_episode({}, 2.0), 0);
  EXPECT_EQ(cl::settled_episode({50.0}, 2.0), 0);
  EXPECT_EQ(cl::settled_episode({50.0, 50.0, 50.0}, 0.0), 0);
  EXPECT_EQ(cl::settled_episode({10.0, 40.0, 50.0, 50.0}, 0.0), 2);
  EXPECT_EQ(cl::settled_episode({10.0, 40.0, 50.0, 50.0}, 10.0), 1);  // |40 - 50| <= 10
  EXPECT_EQ(cl::settled_episode({50.0, 10.0, 50.0}, 5.0), 2);         // left the band in episode 1
  EXPECT_EQ(cl::settled_episode({50.0, 10.0, 50.0}, 40.0), 0);
}

// ---- draw_tasks ----

TEST(ClssrDrawTasks, ClassChainImagesOfTheClassAndChannelShapes) {
  const cl::Codec c = toy_codec();
  const cl::Env env = toy_env(1.0);
  const int64_t n = 40;
  auto draw = [&](double stay) {
    return cl::draw_tasks(c, env, n, stay, rng::kStreamSource, rng::kStreamLink, 2, torch::kCPU);
  };
  const cl::Tasks stay = draw(1.0), move = draw(0.0), half = draw(0.5);
  for (int64_t i = 1; i < n; ++i) {
    EXPECT_EQ(stay.cls[static_cast<size_t>(i)], stay.cls[0]) << i;
    EXPECT_NE(move.cls[static_cast<size_t>(i)], move.cls[static_cast<size_t>(i - 1)]) << i;
  }
  int64_t stays = 0;
  for (int64_t i = 1; i < n; ++i) stays += half.cls[static_cast<size_t>(i)] == half.cls[static_cast<size_t>(i - 1)];
  EXPECT_GT(stays, 5);
  EXPECT_LT(stays, 34);
  for (const cl::Tasks* t : {&stay, &move, &half}) {
    ASSERT_EQ(t->image.sizes(), (std::vector<int64_t>{n, env.images_per_task}));
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < env.images_per_task; ++j) {
        const int64_t img = t->image.index({i, j}).item<int64_t>();
        EXPECT_EQ(c.labels[static_cast<size_t>(img)], t->cls[static_cast<size_t>(i)]) << i << " " << j;
      }
    }
    EXPECT_EQ(t->h.sizes(), (std::vector<int64_t>{3, n, 2, 4, 2}));  // R, T, num_rx (mimo), num_tx, re/im
    EXPECT_EQ(t->gains.sizes(), (std::vector<int64_t>{3, n, 4}));
  }
  // The channels do not depend on the source chain; miso has one receive antenna.
  EXPECT_TRUE(torch::equal(stay.gains, move.gains));
  EXPECT_EQ(
      cl::draw_tasks(c, toy_env(1.0, "miso"), 2, 0.5, rng::kStreamSource, rng::kStreamLink, 0, torch::kCPU).h.size(2),
      1);
}

// ---- run_tasks on the constant decoders: every number from the task model ----

TEST(ClssrRunTasks, EveryTaskMatchesTheTaskModel) {
  const cl::Codec c = constant_codec();
  int64_t secure = 0, insecure = 0, timely = 0, late = 0, readings_differ = 0;
  for (double tau : {0.25, 4.0}) {
    const cl::Env env = toy_env(tau);
    const cl::Tasks t = toy_tasks(c, env, 24);
    const std::vector<int64_t> beams = cycling_beams(env, t.size());
    for (const auto& [method, name] : std::vector<std::pair<cl::Method, const char*>>{
             {cl::Method::kClSs, "cl_ss"}, {cl::Method::kPlSs, "pl_ss"}, {cl::Method::kAo, "ao"}}) {
      const bool pl = method == cl::Method::kPlSs;
      for (int64_t g = 0; g < 2; ++g) {
        for (double w : {0.0, 1.0}) {
          for (const cl::Rules& rules : {kRules, kRulesMonotone}) {
            SCOPED_TRACE(fmt::format("tau {} {} b {} gain_weight {} eq. 7 {}", tau, name, c.bits(g), w,
                                     semsec::clssr::omega_reading_name(rules.omega)));
            const cl::Outcome o = run(c, env, method, t, beams, g, w, rules);
            ASSERT_EQ(o.omega.size(), static_cast<size_t>(t.size()));
            const double g_u = pl ? kGPlain[static_cast<size_t>(g)] : 0.0, g_e = kGPlain[static_cast<size_t>(g)];
            for (int64_t i = 0; i < t.size(); ++i) {
              const auto u = static_cast<size_t>(i);
              const Expected e = expected_task(env, t, i, beams[u], c.bits(g), g_u, g_e, !pl, w, rules);
              EXPECT_NEAR(o.r_u[u], e.r_u, 1e-9 * e.r_u) << i;
              EXPECT_NEAR(o.g_user[u], g_u, 1e-6) << i;
              EXPECT_NEAR(o.g_eve_min[u], g_e, 1e-6) << i;
              EXPECT_EQ(o.secure[u], e.secure ? 1 : 0) << i;
              EXPECT_EQ(o.timely[u], e.timely ? 1 : 0) << i;
              EXPECT_NEAR(o.omega[u], e.omega, 1e-6 * std::max(1.0, e.omega)) << i;
              EXPECT_NEAR(o.omega_literal[u], e.omega_literal, 1e-6 * std::max(1.0, e.omega_literal)) << i;
              EXPECT_NEAR(o.omega_monotone[u], e.omega_monotone, 1e-6 * std::max(1.0, e.omega_monotone)) << i;
              EXPECT_GE(o.omega_monotone[u], o.omega_literal[u]) << i;
              EXPECT_NEAR(o.reward[u], e.reward, 1e-6 * std::max(1.0, std::abs(e.reward))) << i;
              EXPECT_EQ(o.b[u], static_cast<double>(c.bits(g)));
              // Every Eve decodes with the plain decoder: per image G = kGPlain[g] against eps.
              EXPECT_EQ(o.eve_image_leak[u], g_e < rules.epsilon ? 1 : 0) << i;
              (e.secure ? secure : insecure) += 1;
              (e.timely ? timely : late) += 1;
              readings_differ += e.omega_literal != e.omega_monotone ? 1 : 0;
            }
          }
        }
      }
    }
  }
  EXPECT_GT(readings_differ, 0);
  // Every branch of the model is exercised.
  EXPECT_GT(secure, 0);
  EXPECT_GT(insecure, 0);
  EXPECT_GT(timely, 0);
  EXPECT_GT(late, 0);
}

TEST(ClssrRunTasks, RatesAreShannonOfTheBeamsGainOverTau) {
  const cl::Codec c = constant_codec();
  const cl::Env quiet = toy_env(0.25), noisy = toy_env(4.0);
  const cl::Tasks t = toy_tasks(c, quiet, 8);  // the channels do not depend on tau
  const std::vector<int64_t> beams = cycling_beams(quiet, t.size());
  const cl::Outcome oq = run(c, quiet, cl::Method::kClSs, t, beams, 0, 0.0);
  const cl::Outcome on = run(c, noisy, cl::Method::kClSs, t, beams, 0, 0.0);
  for (int64_t i = 0; i < t.size(); ++i) {
    const auto u = static_cast<size_t>(i);
    const double snr = gain_of(t, 0, i, beams[u]);  // at tau = 1
    EXPECT_NEAR(oq.r_u[u], 1e6 * std::log2(1.0 + 4.0 * snr), 1e-3) << i;
    EXPECT_NEAR(on.r_u[u], 1e6 * std::log2(1.0 + snr / 4.0), 1e-3) << i;
    EXPECT_GT(oq.r_u[u], on.r_u[u]) << "more noise power, lower rate: task " << i;
  }
}

TEST(ClssrRunTasks, ClSsIsSecureAtTheApplicationLayerPlSsOnlyThroughSecrecyRate) {
  const cl::Codec c = constant_codec();
  const cl::Env env = toy_env(1.0);
  const cl::Tasks t = toy_tasks(c, env, 32);
  const std::vector<int64_t> beams = cycling_beams(env, t.size());
  // b = 2: the user's G_u = 0 < eps <= Eve's G_e = 0.16, so a CL-SS task is secure against every
  // Eve, through R^S > 0 or, where an Eve hears at least as well (R^S = 0), at the application layer.
  const cl::Outcome cl_b2 = run(c, env, cl::Method::kClSs, t, beams, 0, 0.0, kRulesMonotone);
  const cl::Outcome ao_b2 = run(c, env, cl::Method::kAo, t, beams, 0, 0.0, kRulesMonotone);
  int64_t eve_hears_better = 0, user_beats_all = 0;
  for (int64_t i = 0; i < t.size(); ++i) {
    const auto u = static_cast<size_t>(i);
    const double r_e_max = max_eve_rate(env, t, i, beams[u]);
    const bool secrecy = cl_b2.r_u[u] > r_e_max;
    eve_hears_better += secrecy ? 0 : 1;
    user_beats_all += secrecy ? 1 : 0;
    EXPECT_EQ(cl_b2.secure[u], 1) << "task " << i << (secrecy ? " (R^S > 0)" : " (R^S = 0: application layer)");
    EXPECT_EQ(ao_b2.secure[u], 1) << i;
    // With G_e >= eps against every Eve the transmitter sends at R_u (Remark 2, the monotone reading).
    const double n_bits = static_cast<double>(env.images_per_task * kSymbols * 2);
    EXPECT_EQ(cl_b2.timely[u], n_bits / cl_b2.r_u[u] <= kRules.deadline_s ? 1 : 0) << i;
  }
  ASSERT_GT(eve_hears_better, 0) << "the test needs tasks where an Eve hears at least as well as the user";
  ASSERT_GT(user_beats_all, 0) << "the test needs tasks with physical-layer secrecy";

  // b = 3: G = 0.01 < eps for every receiver. PL-SS's user decodes with the plain decoder too (G_u =
  // 0.01 < eps); with no application-layer branch a task is secure exactly when R^S > 0 against
  // every Eve, and so is CL-SS's here, because no Eve fails the task (G_e = 0.01 < eps).
  // b = 2: PL-SS's user has G_u = 0.16 >= eps: never secure.
  const cl::Outcome pl_b3 = run(c, env, cl::Method::kPlSs, t, beams, 1, 0.0);
  const cl::Outcome cl_b3 = run(c, env, cl::Method::kClSs, t, beams, 1, 0.0);
  const cl::Outcome pl_b2 = run(c, env, cl::Method::kPlSs, t, beams, 0, 0.0);
  for (int64_t i = 0; i < t.size(); ++i) {
    const auto u = static_cast<size_t>(i);
    const double r_e_max = max_eve_rate(env, t, i, beams[u]);
    EXPECT_EQ(pl_b3.secure[u], pl_b3.r_u[u] > r_e_max ? 1 : 0) << i;
    EXPECT_EQ(cl_b3.secure[u], pl_b3.secure[u]) << i;
    EXPECT_EQ(pl_b2.secure[u], 0) << i;
    EXPECT_EQ(pl_b2.omega[u], 0.0) << i;
  }
}

TEST(ClssrRunTasks, RewardAddsTheUsersGainAdvantageOverEveryEve) {
  const cl::Codec c = constant_codec();
  const cl::Env env = toy_env(1.0);
  const cl::Tasks t = toy_tasks(c, env, 16);
  const std::vector<int64_t> beams = cycling_beams(env, t.size());
  const cl::Outcome o0 = run(c, env, cl::Method::kClSs, t, beams, 0, 0.0);
  const cl::Outcome o1 = run(c, env, cl::Method::kClSs, t, beams, 0, 1.0);
  const cl::Outcome o3 = run(c, env, cl::Method::kClSs, t, beams, 0, 3.0);
  // The user's mean gain: P_tx PL(d_u) / P0 per entry, times num_rx = 2 receive antennas.
  EXPECT_NEAR(env.user_mean_gain, 2.0 * semsec::link::large_scale_gains(env.link)[0], 1e-9 * env.user_mean_gain);
  EXPECT_NEAR(10.0 * std::log10(env.user_mean_gain / 2.0), 20.0, 0.05);  // 20 dB at tau = 1 (default_clssr_link)
  int64_t positive = 0, negative = 0;
  for (int64_t i = 0; i < t.size(); ++i) {
    const auto u = static_cast<size_t>(i);
    EXPECT_DOUBLE_EQ(o0.reward[u], o0.omega[u] / 1e3) << "gain_weight 0: r = Omega in ksut/s, task " << i;
    double term = 0.0;
    for (int64_t r = 1; r < env.num_receivers; ++r) {
      term += (gain_of(t, 0, i, beams[u]) - gain_of(t, r, i, beams[u])) / env.user_mean_gain;
    }
    EXPECT_NEAR(o1.reward[u] - o0.reward[u], term, 1e-9 * std::max(1.0, std::abs(term))) << i;
    EXPECT_NEAR(o3.reward[u] - o0.reward[u], 3.0 * term, 1e-9 * std::max(1.0, std::abs(term))) << i;
    if (term > 0.0) {
      ++positive;
      EXPECT_GT(o1.reward[u], o0.reward[u]) << "the user out-hears the Eves: the channel term adds, task " << i;
    } else {
      ++negative;
      EXPECT_LT(o1.reward[u], o0.reward[u]) << "the Eves out-hear the user: the channel term subtracts, task " << i;
    }
  }
  EXPECT_GT(positive, 0);
  EXPECT_GT(negative, 0);
}

// ---- run_tasks on random decoders: what is sent and which decoder reads it ----

TEST(ClssrRunTasks, UserDecodesTheMethodsIndicesWithItsDecoderEveWithThePlainOne) {
  // Random (index-dependent) decoders at 60 dB mean SNR: no bit errors, so each receiver decodes
  // exactly the indices sent (the noisy ones for cl_ss and ao, the plain ones for pl_ss).
  const cl::Codec c = toy_codec();
  const cl::Env env = toy_env(1e-4);
  const cl::Tasks t = toy_tasks(c, env, 12);
  const std::vector<int64_t> beams = cycling_beams(env, t.size());
  // The task's distortion: mean over its K images of the per-image MSE (images are kPixel).
  auto task_mse = [&](int64_t i, int64_t g, bool noisy_indices, bool aware) {
    const auto img = t.image[i];
    const auto idx = (noisy_indices ? c.idx_noisy : c.idx_plain)[g].index_select(0, img);
    return (c.net->decode_point(g, idx, aware) - kPixel).pow(2).mean().item<double>();
  };
  for (int64_t g = 0; g < 2; ++g) {
    const cl::Outcome ocl = run(c, env, cl::Method::kClSs, t, beams, g, 0.0);
    const cl::Outcome oao = run(c, env, cl::Method::kAo, t, beams, g, 0.0);
    const cl::Outcome opl = run(c, env, cl::Method::kPlSs, t, beams, g, 0.0);
    for (int64_t i = 0; i < t.size(); ++i) {
      const auto u = static_cast<size_t>(i);
      SCOPED_TRACE(fmt::format("b {} task {}", c.bits(g), i));
      EXPECT_NEAR(ocl.g_user[u], task_mse(i, g, true, true), 1e-6);
      EXPECT_NEAR(oao.g_user[u], task_mse(i, g, true, true), 1e-6);
      EXPECT_NEAR(opl.g_user[u], task_mse(i, g, false, false), 1e-6);
      EXPECT_NEAR(ocl.g_eve_min[u], task_mse(i, g, true, false), 1e-6);
      EXPECT_NEAR(opl.g_eve_min[u], task_mse(i, g, false, false), 1e-6);
    }
  }
}

// Per-image leakage: a task leaks when some Eve reconstructs some one of its K images with G below
// epsilon, even when the task's mean distortion stays above it. Error-free reception (60 dB) and
// random decoders, so every image's distortion is computed here from the decoder alone.
TEST(ClssrRunTasks, EveImageLeakIsEvesBestImageOfTheTaskBelowEpsilon) {
  const cl::Codec c = toy_codec();
  const cl::Env env = toy_env(1e-4);
  const cl::Tasks t = toy_tasks(c, env, 24);
  const std::vector<int64_t> beams = cycling_beams(env, t.size());
  const int64_t g = 1;
  // Eve's per-image MSE (plain decoder of cl_ss's noisy indices) for each task's K images.
  std::vector<double> best, worst, all;
  for (int64_t i = 0; i < t.size(); ++i) {
    const auto mse = (c.net->decode_point(g, c.idx_noisy[g].index_select(0, t.image[i]), false) - kPixel)
                         .pow(2)
                         .mean(1)
                         .to(torch::kFloat64);
    best.push_back(mse.min().item<double>());
    worst.push_back(mse.max().item<double>());
    all.push_back(mse.mean().item<double>());
  }
  // epsilon halfway between the best and worst image of the task where they lie furthest apart:
  // that task leaks by its best image alone.
  size_t widest = 0;
  for (size_t u = 0; u < best.size(); ++u) {
    if (worst[u] - best[u] > worst[widest] - best[widest]) widest = u;
  }
  const double eps = 0.5 * (best[widest] + worst[widest]);
  const cl::Rules rules{eps, 1.0, 1.0, semsec::clssr::OmegaReading::kMonotone};
  const cl::Outcome o = run(c, env, cl::Method::kClSs, t, beams, g, 0.0, rules);
  int64_t leak_by_one_image = 0;
  for (int64_t i = 0; i < t.size(); ++i) {
    const auto u = static_cast<size_t>(i);
    EXPECT_EQ(o.eve_image_leak[u], best[u] < eps ? 1 : 0) << "task " << i;
    EXPECT_NEAR(o.g_eve_min[u], all[u], 1e-6) << "task " << i;
    leak_by_one_image += (best[u] < eps && worst[u] >= eps) ? 1 : 0;
  }
  EXPECT_GT(leak_by_one_image, 0) << "no task whose images fall on both sides of epsilon: the test is vacuous";
}

TEST(ClssrRunTasks, PlSsIsNeverMoreSecureThanClSsWhenBothDecodeAlike) {
  // With the same indices and decoders for both methods, on the same channels and noise, the two
  // differ only in Eve's application-layer branch, which PL-SS lacks: a PL-SS-secure task is
  // CL-SS-secure. (In run_clssr this is no invariant of summary.csv: there CL-SS's user decodes
  // other indices with another decoder, and each method's agent picks its own beams and b.)
  cl::Codec c = toy_codec();
  c.net->copy_plain_to_aware();
  c.idx_noisy = c.idx_plain;
  // The images are the error-free reconstructions at b = 3: bit errors alone make G > 0.
  c.images = c.net->decode_point(1, c.idx_plain[1], false).detach().clone();
  // A noisy single-antenna link (tau = 64: a mean SNR of 2 dB per fading entry at the user) and a
  // strict epsilon: bit errors decide who completes the task, and some Eves that hear better than
  // the user still err.
  const cl::Env env = toy_env(64.0, "miso");
  const cl::Rules strict{1e-3, 1.0, 1e-3};
  const cl::Tasks t = toy_tasks(c, env, 64);
  const std::vector<int64_t> beams = cycling_beams(env, t.size());
  const cl::Outcome ocl = run(c, env, cl::Method::kClSs, t, beams, 1, 0.0, strict);
  const cl::Outcome opl = run(c, env, cl::Method::kPlSs, t, beams, 1, 0.0, strict);
  int64_t only_cl = 0;
  for (int64_t i = 0; i < t.size(); ++i) {
    const auto u = static_cast<size_t>(i);
    EXPECT_EQ(ocl.g_user[u], opl.g_user[u]) << i;
    EXPECT_EQ(ocl.r_u[u], opl.r_u[u]) << i;
    EXPECT_LE(opl.secure[u], ocl.secure[u]) << i;
    EXPECT_LE(opl.omega[u], ocl.omega[u] * (1 + 1e-12)) << i;
    only_cl += ocl.secure[u] > opl.secure[u] ? 1 : 0;
  }
  EXPECT_GT(only_cl, 0) << "no task secured by the application layer alone: the comparison is vacuous";
}

}  // namespace
