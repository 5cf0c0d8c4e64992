// The toy CLSSR codec and task helpers shared by the CLSSR unit tests (test_clssr_units.cpp,
// test_clssr_ao.cpp): a hand-built codec whose decoders can be made constant, so every distortion
// is known exactly, and the task model written out from the paper's equations.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/config.h"
#include "kernels/link_level/link_level_op.h"
#include "kernels/philox.h"
#include "tests/test_util.h"
#include "trainers/clssr/agent.h"
#include "trainers/clssr/codec.h"
#include "trainers/clssr/experiment.h"
#include "trainers/clssr/tasks.h"

namespace semsec::testing::clssr_toy {

namespace cl = semsec::trainers::clssr;
namespace config = semsec::config;
namespace rng = semsec::rng;
using semsec::testing::expect_error;

inline const double kInf = std::numeric_limits<double>::infinity();

// ---- The toy codec: D = 6 pixels, n = 3 symbols of k = 2, b = 2..3 (grid points g = 0, 1) ----

constexpr int64_t kImages = 12, kClasses = 3, kSymbols = 3;
constexpr double kPixel = 0.5;  // every pixel of every test image

// Index j of image i at point g: int64 [G, N, n] in [0, 2^b_g), different for `salt`.
inline torch::Tensor toy_indices(const cl::Codec& c, int64_t salt) {
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
inline cl::Codec toy_codec() {
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
inline void make_constant(semsec::models::GridMlp& dec, const std::vector<double>& out) {
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
inline cl::Codec constant_codec() {
  cl::Codec c = toy_codec();
  make_constant(c.net->decoder_plain, kPlainOut);
  make_constant(c.net->decoder_aware, kAwareOut);
  return c;
}

inline config::Config clssr_config(const std::vector<std::string>& overrides = {}) {
  return config::Config::load(semsec::trainers::clssr_schema(), "", overrides);
}

// The experiment's Env for (antennas, tau) with the default link and task.images = 4.
inline cl::Env toy_env(double tau, const std::string& antennas = "mimo") {
  return cl::make_env(clssr_config({"task.images=4"}), cl::default_clssr_link(), antennas, tau, 3);
}

inline cl::Tasks toy_tasks(const cl::Codec& c, const cl::Env& env, int64_t count) {
  return cl::draw_tasks(c, env, count, 0.5, rng::kStreamSource, rng::kStreamLink, 0, torch::kCPU);
}

// Rules: epsilon 0.06 sits between G = 0.01 and G = 0.16; d_max = 1; a deadline of 20 us, which the
// K n b = 24 or 36 bits of a task meet at 1.2 or 1.8 Mbit/s: some tasks are timely, some late.
// The hand-written expectations below follow eq. 7 as printed (the literal reading); the monotone
// reading has its own tests (test_clssr_ao.cpp, test_clssr_metrics.cpp).
const cl::Rules kRules{0.06, 1.0, 2e-5, semsec::clssr::OmegaReading::kLiteral};
const cl::Rules kRulesMonotone{0.06, 1.0, 2e-5, semsec::clssr::OmegaReading::kMonotone};

// |h_r f_beam|^2 of task i (units of P0) and its rate B log2(1 + gain / tau) (eq. 2).
inline double gain_of(const cl::Tasks& t, int64_t r, int64_t i, int64_t beam) {
  return t.gains.index({r, i, beam}).item<double>();
}
inline double rate_of(const cl::Env& env, const cl::Tasks& t, int64_t r, int64_t i, int64_t beam) {
  return env.link.bandwidth_hz * std::log2(1.0 + gain_of(t, r, i, beam) / env.tau);
}

// The best rate among the Eves of task i with `beam`.
inline double max_eve_rate(const cl::Env& env, const cl::Tasks& t, int64_t i, int64_t beam) {
  double r_e_max = 0.0;
  for (int64_t r = 1; r < env.num_receivers; ++r) r_e_max = std::max(r_e_max, rate_of(env, t, r, i, beam));
  return r_e_max;
}

// What the task model says about task i sent with (beam, b) when the user's distortion is g_u and
// every Eve's g_e; `app_layer` is false for PL-SS (security only through R^S > 0). Written from
// Definition 1, eq. 2-8, the timeliness rule and the reward, without semsec::clssr::evaluate_task.
// eq. 7 credits, and timeliness uses, per Eve: literal R^S when R^S > 0, else R_u; monotone R_u
// when Eve fails the task (G_e >= eps), else R^S.
struct Expected {
  double r_u, omega, omega_literal, omega_monotone, reward;
  bool secure, timely;
};
inline Expected expected_task(const cl::Env& env, const cl::Tasks& t, int64_t i, int64_t beam, int64_t b, double g_u,
                              double g_e, bool app_layer, double gain_weight, const cl::Rules& rules = kRules) {
  const int64_t n_bits = env.images_per_task * kSymbols * b;  // K n b
  const bool literal = rules.omega == semsec::clssr::OmegaReading::kLiteral;
  Expected e{rate_of(env, t, 0, i, beam), kInf, kInf, kInf, 0.0, g_u < rules.epsilon, false};
  double r_tx = kInf, channel = 0.0;
  for (int64_t r = 1; r < env.num_receivers; ++r) {
    const double r_s = std::max(e.r_u - rate_of(env, t, r, i, beam), 0.0);
    const bool shielded = app_layer && g_e >= rules.epsilon;  // Eve cannot complete the task
    const bool secure = g_u < rules.epsilon && (r_s > 0.0 || shielded);
    const double phi = (secure ? 1.0 - g_u : 0.0) / static_cast<double>(n_bits);
    const double lit = r_s > 0.0 ? r_s : e.r_u, mono = shielded ? e.r_u : r_s;
    e.secure = e.secure && secure;
    e.omega_literal = std::min(e.omega_literal, phi * lit);
    e.omega_monotone = std::min(e.omega_monotone, phi * mono);
    r_tx = std::min(r_tx, literal ? lit : mono);
    channel += (gain_of(t, 0, i, beam) - gain_of(t, r, i, beam)) / env.user_mean_gain;
  }
  e.omega = literal ? e.omega_literal : e.omega_monotone;
  e.timely = r_tx > 0.0 && static_cast<double>(n_bits) / r_tx <= rules.deadline_s;
  e.reward = e.omega / 1e3 + gain_weight * channel;
  return e;
}

// Beam i % num_beams for task i, codec point g for all.
inline std::vector<int64_t> cycling_beams(const cl::Env& env, int64_t n) {
  std::vector<int64_t> beams;
  for (int64_t i = 0; i < n; ++i) beams.push_back(i % env.num_beams);
  return beams;
}

inline cl::Outcome run(const cl::Codec& c, const cl::Env& env, cl::Method m, const cl::Tasks& t,
                const std::vector<int64_t>& beams, int64_t g, double gain_weight, const cl::Rules& rules = kRules) {
  return cl::run_tasks(c, env, rules, m, t, beams, std::vector<int64_t>(beams.size(), g), gain_weight, rng::kStreamLink,
                       0);
}


}  // namespace semsec::testing::clssr_toy
