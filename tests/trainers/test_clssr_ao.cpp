// The CLSSR allocator baselines on the toy codec (tests/trainers/clssr_toy.h): the alternating
// optimisation with exact CSI of every Eve (the oracle) and with the Eves' statistical CSI.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "tests/trainers/clssr_toy.h"

namespace {

using namespace semsec::testing::clssr_toy;  // NOLINT: the toy codec's helpers and aliases

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

// The hand-made setting of the next tests: AO's model G_u = 0 at both b, G_e = 0 at b = 2 and
// 0.5 at b = 3; one Eve, three beams, tau = 2, K = 1 image.
cl::Codec hand_made_codec() {
  cl::Codec c = toy_codec();
  c.mean_g_user_aware = {0.0, 0.0};
  c.mean_g_eve = {0.0, 0.5};
  return c;
}

cl::Env hand_made_env() {
  cl::Env env;
  env.link = cl::default_clssr_link();
  env.num_beams = 3;
  env.num_receivers = 2;
  env.tau = 2.0;
  env.images_per_task = 1;
  return env;
}

TEST(ClssrAo, BeamGivenBThenBGivenBeamOnAHandMadeChannel) {
  // One Eve, three beams, tau = 2, K = 1 image of n = 3 symbols; rates B log2(1 + gain / tau) in
  // whole Mbit/s. b = 2 (g = 0): Eve completes the task (G_e = 0 < eps), only R^S > 0 secures it;
  // b = 3 (g = 1): Eve fails it (G_e = 0.5), so a beam where Eve hears better still delivers R_u.
  const cl::Codec c = hand_made_codec();
  const cl::Env env = hand_made_env();
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

// A task with a weak physical-layer edge on one beam and an Eve advantage on another, one Eve,
// tau = 2, K = 1 image of n = 3 symbols; (R_u, R_e) in Mbit/s per beam: (10, 9), (6, 7), (3, 1).
// At b = 3 the semantics defeat Eve (G_e = 0.5 >= eps), at b = 2 they do not (G_e = 0).
// Literal eq. 7 credits beam 0 only R^S = 1 but beam 1, where Eve hears better, R_u = 6: AO picks
// beam 1. The monotone reading credits R_u = 10 on beam 0: AO picks the strongest beam.
TEST(ClssrAo, TheReadingOfEq7DecidesWhetherAoPicksABeamWhereEveHearsBetter) {
  const cl::Codec c = hand_made_codec();
  const cl::Env env = hand_made_env();
  cl::Tasks t;
  t.cls = {0};
  t.gains = torch::tensor({2046.0, 126.0, 14.0, /**/ 1022.0, 254.0, 2.0}, torch::kFloat64).view({2, 1, 3});
  std::vector<int64_t> beams, gsel;
  cl::ao_actions(c, env, kRules, t, beams, gsel);
  EXPECT_EQ(beams, (std::vector<int64_t>{1}));
  EXPECT_EQ(gsel, (std::vector<int64_t>{1}));
  cl::ao_actions(c, env, kRulesMonotone, t, beams, gsel);
  EXPECT_EQ(beams, (std::vector<int64_t>{0}));
  EXPECT_EQ(gsel, (std::vector<int64_t>{1}));
}

// ao_stat sees the user's exact gains but only the Eves' mean beam gains (Env::mean_gains): its
// actions do not change when the Eves' realised gains do, and they are the oracle's actions on a
// channel whose Eves have exactly their mean gain on every beam.
TEST(ClssrAo, StatisticalCsiUsesOnlyTheEvesMeanGains) {
  cl::Codec c = toy_codec();
  // Eve completes the task at every b (G_e = 0 < eps): only R^S > 0 secures it, so the Eves' channels
  // decide the beam.
  c.mean_g_user_aware = {0.02, 0.05};
  c.mean_g_eve = {0.0, 0.0};
  for (const cl::Rules& rules : {kRules, kRulesMonotone}) {
    const cl::Env env = toy_env(1.0);
    ASSERT_EQ(env.mean_gains.size(), static_cast<size_t>(env.num_receivers));
    EXPECT_DOUBLE_EQ(env.mean_gains[0], env.user_mean_gain);
    const cl::Tasks t = toy_tasks(c, env, 48);
    std::vector<int64_t> beams, gsel, beams2, gsel2, oracle_beams, oracle_gsel;
    cl::ao_actions(c, env, rules, t, beams, gsel, cl::Method::kAoStat);
    // Other realised Eve gains: the Eves' rows reversed in beam order and scaled.
    cl::Tasks other = t;
    other.gains = t.gains.clone();
    other.gains.slice(0, 1) = t.gains.slice(0, 1).flip({2}) * 3.0;
    cl::ao_actions(c, env, rules, other, beams2, gsel2, cl::Method::kAoStat);
    EXPECT_EQ(beams, beams2);
    EXPECT_EQ(gsel, gsel2);
    // The oracle on Eves with their mean gain on every beam.
    cl::Tasks mean = t;
    mean.gains = t.gains.clone();
    for (int64_t r = 1; r < env.num_receivers; ++r) mean.gains[r].fill_(env.mean_gains[static_cast<size_t>(r)]);
    cl::ao_actions(c, env, rules, mean, oracle_beams, oracle_gsel, cl::Method::kAo);
    EXPECT_EQ(beams, oracle_beams);
    EXPECT_EQ(gsel, oracle_gsel);
    // And the oracle itself does react to the realised gains.
    cl::ao_actions(c, env, rules, t, oracle_beams, oracle_gsel, cl::Method::kAo);
    EXPECT_NE(std::make_pair(beams, gsel), std::make_pair(oracle_beams, oracle_gsel));
  }
}

}  // namespace
