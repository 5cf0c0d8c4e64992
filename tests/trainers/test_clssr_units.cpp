// Unit tests of the CLSSR experiment layer (trainers/clssr/: tasks, agent, experiment) on a toy
// codec built by hand: its decoders can be made constant, so every distortion is known exactly
// and does not depend on bit errors, and the rates, security, timeliness, CLSSR and reward of each
// task follow from the channel gains by the task model of trainers/clssr/experiment.h. Also the
// config keys reaching the structs they configure, the errors naming their key, and invariants of
// summary.csv on a small end-to-end run.
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

namespace {

namespace cl = semsec::trainers::clssr;
namespace config = semsec::config;
namespace rng = semsec::rng;
using semsec::testing::expect_error;

const double kInf = std::numeric_limits<double>::infinity();

// ---- The toy codec: D = 6 pixels, n = 3 symbols of k = 2, b = 2..3 (grid points g = 0, 1) ----

constexpr int64_t kImages = 12, kClasses = 3, kSymbols = 3;
constexpr double kPixel = 0.5;  // every pixel of every test image

// Index j of image i at point g: int64 [G, N, n] in [0, 2^b_g), different for `salt`.
torch::Tensor toy_indices(const cl::Codec& c, int64_t salt) {
  std::vector<int64_t> v;
  for (int64_t g = 0; g < c.grid(); ++g) {
    for (int64_t i = 0; i < kImages; ++i) {
      for (int64_t j = 0; j < c.sizes.num_symbols; ++j) v.push_back((i * (1 + salt) + 2 * j + salt) % (1 << c.bits(g)));
    }
  }
  return torch::tensor(v, torch::kInt64).view({c.grid(), kImages, c.sizes.num_symbols});
}

// Random decoders (Philox init); images of value kPixel, class i % kClasses; AO's model: G_u = 0
// and G_e = 0.5 at every b.
cl::Codec toy_codec() {
  cl::Codec c;
  c.sizes.image_dim = 6;
  c.sizes.hidden = 4;
  c.sizes.num_symbols = kSymbols;
  c.sizes.symbol_dim = 2;
  c.sizes.b_min = 2;
  c.sizes.b_max = 3;
  c.net = semsec::models::SemanticCodec(c.sizes, std::vector<uint64_t>{11, 12});
  c.images = torch::full({kImages, c.sizes.image_dim}, kPixel);
  c.by_class.assign(kClasses, {});
  for (int64_t i = 0; i < kImages; ++i) {
    c.labels.push_back(i % kClasses);
    c.by_class[static_cast<size_t>(i % kClasses)].push_back(i);
  }
  c.idx_plain = toy_indices(c, 0);
  c.idx_noisy = toy_indices(c, 1);
  c.mean_g_user_aware = {0.0, 0.0};
  c.mean_g_eve = {0.5, 0.5};
  return c;
}

// Makes `dec` output out[g] on every pixel at point g, whatever the received indices.
void make_constant(semsec::models::GridMlp& dec, const std::vector<double>& out) {
  torch::NoGradGuard no_grad;
  auto params = dec->named_parameters();
  params["fc1.weight"].zero_();
  for (size_t g = 0; g < out.size(); ++g)
    params["fc1.bias"][static_cast<int64_t>(g)].fill_(std::log(out[g] / (1 - out[g])));
}

// The constant decoders of the hand-checked tests: the user's noise-aware decoder reconstructs
// every image exactly (G = 0), the plain one (every Eve's, and the PL-SS user's) is off by 0.4
// at b = 2 and by 0.1 at b = 3 on every pixel: G = 0.16 and 0.01 with d_max = 1.
const std::vector<double> kPlainOut = {0.9, 0.6}, kAwareOut = {0.5, 0.5};
const std::vector<double> kGPlain = {0.16, 0.01};
cl::Codec constant_codec() {
  cl::Codec c = toy_codec();
  make_constant(c.net->decoder_plain, kPlainOut);
  make_constant(c.net->decoder_aware, kAwareOut);
  return c;
}

config::Config clssr_config(const std::vector<std::string>& overrides = {}) {
  return config::Config::load(semsec::trainers::clssr_schema(), "", overrides);
}

// The experiment's Env for (antennas, tau) with the default link and task.images = 4.
cl::Env toy_env(double tau, const std::string& antennas = "mimo") {
  return cl::make_env(clssr_config(), cl::default_clssr_link(), antennas, tau, 3);
}

cl::Tasks toy_tasks(const cl::Codec& c, const cl::Env& env, int64_t count) {
  return cl::draw_tasks(c, env, count, 0.5, rng::kStreamSource, rng::kStreamLink, 0, torch::kCPU);
}

// Rules: epsilon 0.06 sits between G = 0.01 and G = 0.16; d_max = 1; a deadline of 20 us, which the
// K n b = 24 or 36 bits of a task meet at 1.2 or 1.8 Mbit/s: some tasks are timely, some late.
const cl::Rules kRules{0.06, 1.0, 2e-5};

// |h_r f_beam|^2 of task i (units of P0) and its rate B log2(1 + gain / tau) (eq. 2).
double gain_of(const cl::Tasks& t, int64_t r, int64_t i, int64_t beam) {
  return t.gains.index({r, i, beam}).item<double>();
}
double rate_of(const cl::Env& env, const cl::Tasks& t, int64_t r, int64_t i, int64_t beam) {
  return env.link.bandwidth_hz * std::log2(1.0 + gain_of(t, r, i, beam) / env.tau);
}

// The best rate among the Eves of task i with `beam`.
double max_eve_rate(const cl::Env& env, const cl::Tasks& t, int64_t i, int64_t beam) {
  double r_e_max = 0.0;
  for (int64_t r = 1; r < env.num_receivers; ++r) r_e_max = std::max(r_e_max, rate_of(env, t, r, i, beam));
  return r_e_max;
}

// What the task model says about task i sent with (beam, b) when the user's distortion is g_u and
// every Eve's g_e; `app_layer` is false for PL-SS (security only through R^S > 0). Written from
// Definition 1, eq. 2-8, the timeliness rule and the reward, without semsec::clssr::evaluate_task.
struct Expected {
  double r_u, omega, reward;
  bool secure, timely;
};
Expected expected_task(const cl::Env& env, const cl::Tasks& t, int64_t i, int64_t beam, int64_t b, double g_u,
                       double g_e, bool app_layer, double gain_weight) {
  const int64_t n_bits = env.images_per_task * kSymbols * b;  // K n b
  Expected e{rate_of(env, t, 0, i, beam), kInf, 0.0, g_u < kRules.epsilon, false};
  double r_tx = kInf, channel = 0.0;
  for (int64_t r = 1; r < env.num_receivers; ++r) {
    const double r_s = std::max(e.r_u - rate_of(env, t, r, i, beam), 0.0);
    const bool shielded = app_layer && g_e >= kRules.epsilon;  // Eve cannot complete the task
    const bool secure = g_u < kRules.epsilon && (r_s > 0.0 || shielded);
    e.secure = e.secure && secure;
    e.omega = std::min(e.omega, (secure ? 1.0 - g_u : 0.0) / static_cast<double>(n_bits) * (r_s > 0.0 ? r_s : e.r_u));
    r_tx = std::min(r_tx, shielded ? e.r_u : r_s);
    channel += (gain_of(t, 0, i, beam) - gain_of(t, r, i, beam)) / env.user_mean_gain;
  }
  e.timely = r_tx > 0.0 && static_cast<double>(n_bits) / r_tx <= kRules.deadline_s;
  e.reward = e.omega / 1e3 + gain_weight * channel;
  return e;
}

// Beam i % num_beams for task i, codec point g for all.
std::vector<int64_t> cycling_beams(const cl::Env& env, int64_t n) {
  std::vector<int64_t> beams;
  for (int64_t i = 0; i < n; ++i) beams.push_back(i % env.num_beams);
  return beams;
}

cl::Outcome run(const cl::Codec& c, const cl::Env& env, cl::Method m, const cl::Tasks& t,
                const std::vector<int64_t>& beams, int64_t g, double gain_weight, const cl::Rules& rules = kRules) {
  return cl::run_tasks(c, env, rules, m, t, beams, std::vector<int64_t>(beams.size(), g), gain_weight, rng::kStreamLink,
                       0);
}

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
  o.secure = {1, 1, 0, 1};
  o.timely = {1, 0, 1, 1};
  o.b = {2, 3, 2, 3};
  o.g_user = {0.0, 0.1, 0.2, 0.3};
  o.g_eve_min = {0.5, 0.6, 0.7, 0.8};
  o.r_u = {1e6, 2e6, 3e6, 4e6};
  o.reward = {1, 2, 3, 6};
  const cl::Summary s = cl::summarise(o);
  EXPECT_DOUBLE_EQ(s.clssr_ksut, 2.0);    // (1 + 3 + 0 + 4) ksut/s / 4
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

TEST(ClssrConvergedEpisode, LastEpisodeOutsideTheToleranceBand) {
  EXPECT_EQ(cl::converged_episode({}, 2.0), 0);
  EXPECT_EQ(cl::converged_episode({50.0}, 2.0), 1);
  EXPECT_EQ(cl::converged_episode({50.0, 50.0, 50.0}, 0.0), 1);
  EXPECT_EQ(cl::converged_episode({10.0, 40.0, 50.0, 50.0}, 0.0), 3);
  EXPECT_EQ(cl::converged_episode({10.0, 40.0, 50.0, 50.0}, 10.0), 2);  // |40 - 50| <= 10
  EXPECT_EQ(cl::converged_episode({50.0, 10.0, 50.0}, 5.0), 3);         // left the band in episode 2
  EXPECT_EQ(cl::converged_episode({50.0, 10.0, 50.0}, 40.0), 1);
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
  int64_t secure = 0, insecure = 0, timely = 0, late = 0;
  for (double tau : {0.25, 4.0}) {
    const cl::Env env = toy_env(tau);
    const cl::Tasks t = toy_tasks(c, env, 24);
    const std::vector<int64_t> beams = cycling_beams(env, t.size());
    for (const auto& [method, name] : std::vector<std::pair<cl::Method, const char*>>{
             {cl::Method::kClSs, "cl_ss"}, {cl::Method::kPlSs, "pl_ss"}, {cl::Method::kAo, "ao"}}) {
      const bool pl = method == cl::Method::kPlSs;
      for (int64_t g = 0; g < 2; ++g) {
        for (double w : {0.0, 1.0}) {
          SCOPED_TRACE(fmt::format("tau {} {} b {} gain_weight {}", tau, name, c.bits(g), w));
          const cl::Outcome o = run(c, env, method, t, beams, g, w);
          ASSERT_EQ(o.omega.size(), static_cast<size_t>(t.size()));
          const double g_u = pl ? kGPlain[static_cast<size_t>(g)] : 0.0, g_e = kGPlain[static_cast<size_t>(g)];
          for (int64_t i = 0; i < t.size(); ++i) {
            const auto u = static_cast<size_t>(i);
            const Expected e = expected_task(env, t, i, beams[u], c.bits(g), g_u, g_e, !pl, w);
            EXPECT_NEAR(o.r_u[u], e.r_u, 1e-9 * e.r_u) << i;
            EXPECT_NEAR(o.g_user[u], g_u, 1e-6) << i;
            EXPECT_NEAR(o.g_eve_min[u], g_e, 1e-6) << i;
            EXPECT_EQ(o.secure[u], e.secure ? 1 : 0) << i;
            EXPECT_EQ(o.timely[u], e.timely ? 1 : 0) << i;
            EXPECT_NEAR(o.omega[u], e.omega, 1e-6 * std::max(1.0, e.omega)) << i;
            EXPECT_NEAR(o.reward[u], e.reward, 1e-6 * std::max(1.0, std::abs(e.reward))) << i;
            EXPECT_EQ(o.b[u], static_cast<double>(c.bits(g)));
            (e.secure ? secure : insecure) += 1;
            (e.timely ? timely : late) += 1;
          }
        }
      }
    }
  }
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
  const cl::Outcome cl_b2 = run(c, env, cl::Method::kClSs, t, beams, 0, 0.0);
  const cl::Outcome ao_b2 = run(c, env, cl::Method::kAo, t, beams, 0, 0.0);
  int64_t eve_hears_better = 0, user_beats_all = 0;
  for (int64_t i = 0; i < t.size(); ++i) {
    const auto u = static_cast<size_t>(i);
    const double r_e_max = max_eve_rate(env, t, i, beams[u]);
    const bool secrecy = cl_b2.r_u[u] > r_e_max;
    eve_hears_better += secrecy ? 0 : 1;
    user_beats_all += secrecy ? 1 : 0;
    EXPECT_EQ(cl_b2.secure[u], 1) << "task " << i << (secrecy ? " (R^S > 0)" : " (R^S = 0: application layer)");
    EXPECT_EQ(ao_b2.secure[u], 1) << i;
    // With G_e >= eps against every Eve the transmitter sends at R_u (Remark 2).
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

// ---- AO ----

// Omega predicted by AO's model for task i with beam k and point g: exact CSI, G_u and G_e from
// the codec's means (written from eq. 2-8).
double ao_predicted(const cl::Codec& c, const cl::Env& env, const cl::Tasks& t, int64_t i, int64_t k, int64_t g) {
  const double g_u = c.mean_g_user_aware[static_cast<size_t>(g)], g_e = c.mean_g_eve[static_cast<size_t>(g)];
  const double r_u = rate_of(env, t, 0, i, k);
  double omega = kInf;
  for (int64_t r = 1; r < env.num_receivers; ++r) {
    const double r_s = std::max(r_u - rate_of(env, t, r, i, k), 0.0);
    const bool secure = g_u < kRules.epsilon && (r_s > 0.0 || g_e >= kRules.epsilon);
    const double phi = (secure ? 1.0 - g_u : 0.0) / static_cast<double>(env.images_per_task * kSymbols * c.bits(g));
    omega = std::min(omega, phi * (r_s > 0.0 ? r_s : r_u));
  }
  return omega;
}

int64_t best_beam(const cl::Codec& c, const cl::Env& env, const cl::Tasks& t, int64_t i, int64_t g) {
  int64_t best = 0;
  for (int64_t k = 1; k < env.num_beams; ++k) {
    if (ao_predicted(c, env, t, i, k, g) > ao_predicted(c, env, t, i, best, g)) best = k;
  }
  return best;
}

TEST(ClssrAo, FindsTheBestBitsAndBeamOfThePredictedClssr) {
  cl::Codec c = toy_codec();
  const cl::Env env = toy_env(0.01);
  const cl::Tasks t = toy_tasks(c, env, 32);
  std::vector<int64_t> beams, gsel;
  // (a) b = 2 fails every task (G_u = 1), b = 3 is secure everywhere: b = 3 and its best beam.
  c.mean_g_user_aware = {1.0, 0.0};
  cl::ao_actions(c, env, kRules, t, beams, gsel);
  ASSERT_EQ(beams.size(), static_cast<size_t>(t.size()));
  int64_t beam_matters = 0;
  for (int64_t i = 0; i < t.size(); ++i) {
    const auto u = static_cast<size_t>(i);
    EXPECT_EQ(gsel[u], 1) << i;
    EXPECT_EQ(beams[u], best_beam(c, env, t, i, 1)) << i;
    beam_matters += best_beam(c, env, t, i, 1) != 0 ? 1 : 0;
  }
  EXPECT_GT(beam_matters, 0);
  // (b) Both b secure (G_u = 0 < eps <= G_e): the same rate carries fewer bits per task at b = 2,
  // so b = 2 (AO starts at b_max), with the best beam for it.
  c.mean_g_user_aware = {0.0, 0.0};
  cl::ao_actions(c, env, kRules, t, beams, gsel);
  for (int64_t i = 0; i < t.size(); ++i) {
    const auto u = static_cast<size_t>(i);
    EXPECT_EQ(gsel[u], 0) << i;
    EXPECT_EQ(beams[u], best_beam(c, env, t, i, 0)) << i;
  }
  // (c) Whatever the model, AO ends at a point neither step improves: the beam is best for its b
  // and the b is best for its beam.
  c.mean_g_user_aware = {0.02, 0.05};
  c.mean_g_eve = {0.07, 0.03};
  cl::ao_actions(c, env, kRules, t, beams, gsel);
  for (int64_t i = 0; i < t.size(); ++i) {
    const auto u = static_cast<size_t>(i);
    const double at = ao_predicted(c, env, t, i, beams[u], gsel[u]);
    EXPECT_GT(at, 0.0) << i;
    for (int64_t k = 0; k < env.num_beams; ++k) EXPECT_LE(ao_predicted(c, env, t, i, k, gsel[u]), at) << i;
    for (int64_t g = 0; g < c.grid(); ++g) EXPECT_LE(ao_predicted(c, env, t, i, beams[u], g), at) << i;
  }
}

TEST(ClssrAo, BeamGivenBThenBGivenBeamOnAHandMadeChannel) {
  // One Eve, three beams, tau = 2, K = 1 image of n = 3 symbols; rates B log2(1 + gain / tau) in
  // whole Mbit/s. b = 2 (g = 0): Eve completes the task (G_e = 0 < eps), only R^S > 0 secures it;
  // b = 3 (g = 1): Eve fails it (G_e = 0.5), so a beam where Eve hears better still delivers R_u.
  cl::Codec c = toy_codec();
  c.mean_g_user_aware = {0.0, 0.0};
  c.mean_g_eve = {0.0, 0.5};
  cl::Env env;
  env.link = cl::default_clssr_link();
  env.num_beams = 3;
  env.num_receivers = 2;
  env.tau = 2.0;
  env.images_per_task = 1;
  cl::Tasks t;
  t.cls = {0, 0};
  // gains [R = 2, T = 2, K = 3]; (R_u, R_e) in Mbit/s per beam:
  //   task 0: (4, 2), (10, 11), (6, 2); task 1: (4, 2), (3, 4), (6, 2).
  t.gains = torch::tensor({30.0, 2046.0, 126.0, /**/ 30.0, 14.0, 126.0,  // user
                           6.0, 4094.0, 6.0, /**/ 6.0, 30.0, 6.0},       // Eve
                          torch::kFloat64)
                .view({2, 2, 3});
  // Predicted CLSSR in Mbit/s per symbol-bit (x 1 / (n b)): task 0
  //   b = 3: beam 0 2/9, beam 1 10/9 (R_u: application layer), beam 2 4/9;
  //   b = 2: beam 0 2/6, beam 1 0 (R^S = 0, Eve completes), beam 2 4/6.
  // From (beam 0, b = 3): beam given b = 3 -> 1; b given beam 1 -> 3; stable at (1, 3), also the
  // global optimum. (b chosen for the previous beam 0 would give b = 2, then beam 2, ... : the
  // order matters here.) Task 1: beam 1 gives 3/9 at b = 3, so beam 2 (4/9); b given beam 2 -> 2
  // (4/6); beam given b = 2 -> 2: (2, 2).
  std::vector<int64_t> beams, gsel;
  cl::ao_actions(c, env, kRules, t, beams, gsel);
  EXPECT_EQ(beams, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(gsel, (std::vector<int64_t>{1, 0}));
}

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
      {{"rl.experience=epsilon_greedy"}, agent([](const cl::AgentSettings& a) { return a.all_actions; }), "false"},
      {{"rl.explore=0.3"}, agent([](const cl::AgentSettings& a) { return a.explore; }), "0.3"},
      {{"rl.gamma=0.5"}, agent([](const cl::AgentSettings& a) { return a.gamma; }), "0.5"},
      {{"rl.gain_weight=2.5"}, agent([](const cl::AgentSettings& a) { return a.gain_weight; }), "2.5"},
      {{"rl.converge_tol=0.05"}, agent([](const cl::AgentSettings& a) { return a.converge_tol_pct; }), "5"},
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
       "pl_ss/miso/2 ao/mimo/0.5 ao/mimo/2 "},
      {{"clssr.antennas=[miso]", "clssr.tau=[3]"},
       envs_of,
       "miso rx=1 tau=3 mean=1 miso rx=1 tau=3 mean=1 mimo rx=2 tau=3 mean=2 "},
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
  EXPECT_TRUE(a.all_actions);
  EXPECT_DOUBLE_EQ(a.converge_tol_pct, 2.0);
  const cl::Env e = cl::make_env(defaults, cl::default_clssr_link(), "mimo", 2.0, 5);
  EXPECT_EQ(e.num_beams, 4);
  EXPECT_EQ(e.num_receivers, 3);
  EXPECT_EQ(e.seed, 5u);
  EXPECT_EQ(e.num_channel_states(), 4 * 4 * 2);
  EXPECT_EQ(cl::parse_method("cl_ss"), cl::Method::kClSs);
  EXPECT_EQ(cl::parse_method("pl_ss"), cl::Method::kPlSs);
  EXPECT_EQ(cl::parse_method("ao"), cl::Method::kAo);
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
  };
  for (const auto& [override_text, key] : bad) {
    SCOPED_TRACE(override_text);
    expect_error([&] { clssr_config({override_text}); }, {key});
  }
}

TEST(ClssrConfig, RunClssrErrorsNameTheKeyBeforeAnyWork) {
  const semsec::testing::TempDir dir("clssr_err");
  const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> bad = {
      {{"channel.num_rx=2"}, {"channel.num_rx", "clssr.antennas"}},
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
  ASSERT_EQ(summary.size(), settings.size());  // cl_ss, pl_ss x {mimo, miso} x {1, 3} + ao x mimo x {1, 3}
  ASSERT_EQ(summary.size(), 10u);
  EXPECT_EQ(episodes.size(), 8u * 3u);
  auto num = [](const std::map<std::string, std::string>& row, const std::string& key) {
    return std::stod(row.at(key));
  };
  const double tol = 1e-4;  // the CSV's 6 significant digits
  for (size_t k = 0; k < summary.size(); ++k) {
    const auto& row = summary[k];
    SCOPED_TRACE(fmt::format("summary row {}: {} {} {}", k, row.at("method"), row.at("antennas"), row.at("tau")));
    EXPECT_EQ(row.at("method"), settings[k].method);
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
    if (row.at("method") == "ao") {
      EXPECT_EQ(row.at("episodes"), "0");
      EXPECT_EQ(row.at("converged_episode"), "0");
    } else {
      EXPECT_EQ(row.at("episodes"), "3");
      EXPECT_GE(num(row, "converged_episode"), 1.0);
      EXPECT_LE(num(row, "converged_episode"), 3.0);
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
  // PL-SS's reliability is not bounded by CL-SS's in summary.csv: the two agents choose their own
  // beams and b, and CL-SS's user decodes the semantic-noise indices with another decoder (see
  // PlSsIsNeverMoreSecureThanClSsWhenBothDecodeAlike for what holds by construction).
}

}  // namespace
