// Tests of the SS-ISAC link kernel on the CPU against other implementations: the analytic gradient
// against finite differences, the vectorised CPU kernel against the per-sample (CUDA) path bit for
// bit, the outputs and gradients against the ATen reference, and generate / apply against the
// fused link bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/isac_link/isac_link.h"
#include "kernels/isac_link/isac_link_op.h"
#include "kernels/philox.h"
#include "tests/kernels/isac_link_util.h"
#include "tests/test_util.h"

namespace {

namespace sk = semsec::kernels;
namespace rng = semsec::rng;

using semsec::testing::ulp_distance;
using sk::isac_link_test::make_inputs;
using sk::isac_link_test::make_params;

TEST(IsacLink, AnalyticGradientMatchesFiniteDifferences) {
  auto p = make_params();
  p.alpha = {0.7, 0.4};
  p.si_residual_power = 0.2;
  const int64_t num_grid = 2, batch = 3, length = 5;
  const auto in = make_inputs(num_grid, batch, length, torch::kDouble, 2);
  torch::manual_seed(7);
  const auto v_bs = torch::randn({num_grid, batch, 2 * length}, torch::kDouble);
  const auto v_ue = torch::randn_like(v_bs), v_eve = torch::randn_like(v_bs);
  auto objective = [&](const torch::Tensor& z, bool reference) {
    const auto out = reference ? sk::isac_link_reference(z, in.phi, in.snr_db, in.seeds, in.counter, p)
                               : sk::isac_link(z, in.phi, in.snr_db, in.seeds, in.counter, p);
    return (out.y_bs * v_bs).sum() + (out.y_ue * v_ue).sum() + (out.y_eve * v_eve).sum();
  };
  const auto z = in.z.clone().requires_grad_(true);
  const auto grad = torch::autograd::grad({objective(z, false)}, {z})[0];
  const auto z_ref = in.z.clone().requires_grad_(true);
  const auto grad_ref = torch::autograd::grad({objective(z_ref, true)}, {z_ref})[0];

  const double eps = 1e-6;
  auto numeric = torch::empty_like(in.z);
  {
    torch::NoGradGuard no_grad;
    auto flat = numeric.view({-1});
    for (int64_t i = 0; i < in.z.numel(); ++i) {
      auto zp = in.z.clone(), zm = in.z.clone();
      zp.view({-1})[i] += eps;
      zm.view({-1})[i] -= eps;
      flat[i] = (objective(zp, false) - objective(zm, false)).item<double>() / (2.0 * eps);
    }
  }
  EXPECT_TRUE(torch::allclose(grad, numeric, 0.0, 1e-8)) << (grad - numeric).abs().max().item<double>();
  EXPECT_TRUE(torch::allclose(grad, grad_ref, 0.0, 1e-12)) << (grad - grad_ref).abs().max().item<double>();

  // One output used alone: the others' gradients arrive as zeros.
  const auto z1 = in.z.clone().requires_grad_(true);
  const auto out1 = sk::isac_link(z1, in.phi, in.snr_db, in.seeds, in.counter, p);
  const auto g1 = torch::autograd::grad({(out1.y_ue * v_ue).sum()}, {z1})[0];
  const auto s_ue = out1.gains.select(2, 1);  // [G, B, 2]
  const auto v = v_ue.view({num_grid, batch, length, 2});
  const auto expected =
      s_ue.select(-1, 0).unsqueeze(-1) * v.select(-1, 0) + s_ue.select(-1, 1).unsqueeze(-1) * v.select(-1, 1);
  EXPECT_TRUE(torch::allclose(g1, expected, 0.0, 1e-14));
  EXPECT_FALSE(out1.gains.requires_grad());
}

// The CPU kernel draws a chunk of samples at a time, vectorises the steering sums and channels
// across samples and the Philox words by hand (AVX-512): its outputs must be, bit for bit, those
// of the per-sample path the CUDA kernels take (isac_fading, isac_sample, isac_apply_sample_pair
// of isac_link.h, one sample and one symbol pair at a time). Sizes cover batches that are not a
// multiple of the chunk, odd and even lengths, antenna counts with a partly used fading block,
// noise on and off, training and evaluation draws, float and double.
template <typename T>
void expect_cpu_kernel_equals_per_sample_path(int64_t num_antennas, int64_t batch, int64_t length, bool noise,
                                              bool eval, bool random_phase = false) {
  auto p = make_params(num_antennas, "steer");
  p.alpha_random_phase = random_phase;
  p.alpha = {0.7, -0.4};
  p.si_residual_power = 0.05;
  p.eve_snr_offset_db = -3.0;
  p.noise = noise;
  p.eval = eval;
  sk::IsacLinkArgs a = sk::isac_link_args(p);
  a.num_grid = 3;
  a.batch = batch;
  a.length = length;
  const auto dtype = std::is_same_v<T, float> ? torch::kFloat : torch::kDouble;
  const auto in = make_inputs(a.num_grid, batch, length, dtype, 17);
  const int64_t n = a.num_grid * batch;
  const T* z = in.z.template data_ptr<T>();
  const T* phi = in.phi.template data_ptr<T>();
  const T* snr_db = in.snr_db.template data_ptr<T>();
  const int64_t* seeds = in.seeds.template data_ptr<int64_t>();
  const uint32_t step = 17;
  std::vector<T> y(3 * n * 2 * length), gains(6 * n), y_ref(y.size()), gains_ref(gains.size());
  T* y_bs = y.data();
  sk::isac_link_forward_cpu<T>(a, z, phi, snr_db, seeds, step, y_bs, y_bs + n * 2 * length, y_bs + 2 * n * 2 * length,
                               gains.data());
  T* r_bs = y_ref.data();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t g = i / batch;
    const auto b = static_cast<uint32_t>(i % batch);
    const rng::Key key = rng::make_key(static_cast<uint64_t>(seeds[g]));
    const sk::IsacSample s = sk::isac_sample(a, sk::isac_fading(a, key, step, b), static_cast<double>(phi[i]),
                                             static_cast<double>(snr_db[g]));
    sk::isac_store_gains(s, gains_ref.data() + 6 * i);
    const int64_t row = 2 * length * i;
    for (int64_t k = 0; k < sk::isac_num_pairs(length); ++k) {
      sk::isac_apply_sample_pair(a, s, key, step, b, k, z + length * i, r_bs + row, r_bs + n * 2 * length + row,
                                 r_bs + 2 * n * 2 * length + row);
    }
  }
  EXPECT_EQ(std::memcmp(gains.data(), gains_ref.data(), gains.size() * sizeof(T)), 0) << "gains";
  int64_t differing = 0;
  for (size_t j = 0; j < y.size(); ++j) differing += std::memcmp(&y[j], &y_ref[j], sizeof(T)) != 0;
  EXPECT_EQ(differing, 0) << "of " << y.size() << " outputs";
}

TEST(IsacLink, CpuKernelEqualsThePerSamplePathBitForBit) {
  // Both Philox loops: the hand-written AVX-512 one (where this CPU has AVX-512) and the portable
  // one every other CPU runs.
  for (const bool avx512 : {true, false}) {
    SCOPED_TRACE(avx512 ? "AVX-512 Philox allowed" : "portable Philox");
    const bool before = sk::isac_link_cpu_allow_avx512(avx512);
    for (const bool eval : {false, true}) {
      SCOPED_TRACE(eval ? "eval" : "train");
      expect_cpu_kernel_equals_per_sample_path<float>(16, 37, 23, true, eval);
      expect_cpu_kernel_equals_per_sample_path<float>(5, 8, 8, true, eval);
      expect_cpu_kernel_equals_per_sample_path<double>(16, 37, 23, true, eval);
      expect_cpu_kernel_equals_per_sample_path<double>(7, 3, 1, true, eval);
    }
    expect_cpu_kernel_equals_per_sample_path<float>(16, 21, 23, false, false);
    expect_cpu_kernel_equals_per_sample_path<double>(3, 9, 6, false, true);
    // A random reflection phase: two more fading normals (a new block for M = 5, not for M = 16).
    expect_cpu_kernel_equals_per_sample_path<float>(16, 37, 23, true, false, true);
    expect_cpu_kernel_equals_per_sample_path<float>(5, 8, 8, true, true, true);
    expect_cpu_kernel_equals_per_sample_path<double>(7, 3, 1, true, false, true);
    sk::isac_link_cpu_allow_avx512(before);
  }
}

TEST(IsacLink, MatchesAtenReference) {
  for (const auto& [eval, random_phase] : {std::pair{false, false}, std::pair{true, false}, std::pair{false, true}}) {
    SCOPED_TRACE(random_phase ? "random alpha phase" : eval ? "eval" : "train");
    auto p = make_params(12, "steer");
    p.alpha_random_phase = random_phase;
    p.alpha = {0.9, -0.2};
    p.si_residual_power = 0.1;
    p.eve_snr_offset_db = 4.0;
    p.eval = eval;
    const auto in = make_inputs(3, 64, 15, torch::kFloat, 21);
    const auto z = in.z.clone().requires_grad_(true);
    const auto out = sk::isac_link(z, in.phi, in.snr_db, in.seeds, in.counter, p);
    const auto z_ref = in.z.clone().requires_grad_(true);
    const auto ref = sk::isac_link_reference(z_ref, in.phi, in.snr_db, in.seeds, in.counter, p);
    // Both compute in double and round once: they may differ in the last float bit only.
    const std::pair<torch::Tensor, torch::Tensor> pairs[] = {
        {out.y_bs, ref.y_bs}, {out.y_ue, ref.y_ue}, {out.y_eve, ref.y_eve}, {out.gains, ref.gains}};
    for (const auto& [x, y] : pairs) {
      ASSERT_EQ(x.sizes(), y.sizes());
      EXPECT_EQ(x.scalar_type(), torch::kFloat);
      const auto xf = x.detach().contiguous(), yf = y.detach().contiguous();
      int64_t worst = 0;
      for (int64_t i = 0; i < xf.numel(); ++i) {
        const float u = xf.data_ptr<float>()[i], w = yf.data_ptr<float>()[i];
        // A gain of exactly zero imaginary part can come out as +-1e-17 in the complex reference.
        if (std::abs(u - w) < 1e-12f) continue;
        worst = std::max(worst, ulp_distance(u, w));
      }
      EXPECT_LE(worst, 1);
    }
    torch::manual_seed(3);
    const auto v = torch::randn({3, 3, 64, 30});
    auto objective = [&](const sk::IsacLinkOut& o) {
      return (o.y_bs * v[0]).sum() + (o.y_ue * v[1]).sum() + (o.y_eve * v[2]).sum();
    };
    const auto g = torch::autograd::grad({objective(out)}, {z})[0];
    const auto g_ref = torch::autograd::grad({objective(ref)}, {z_ref})[0];
    EXPECT_TRUE(torch::allclose(g, g_ref, 1e-5, 1e-6)) << (g - g_ref).abs().max().item<double>();
  }
}

// Every output of apply(z, generate(...)) has the fused link's bits.
void expect_same_bits(const sk::IsacLinkOut& got, const sk::IsacLinkOut& want) {
  EXPECT_TRUE(torch::equal(got.y_bs, want.y_bs));
  EXPECT_TRUE(torch::equal(got.y_ue, want.y_ue));
  EXPECT_TRUE(torch::equal(got.y_eve, want.y_eve));
  EXPECT_TRUE(torch::equal(got.gains, want.gains));
}

TEST(IsacLinkSplit, GenerateThenApplyEqualsTheFusedLinkBitForBit) {
  struct Case {
    int64_t antennas, batch, length;
    torch::ScalarType dtype;
    bool eval, noise, random_phase;
  };
  const Case cases[] = {{16, 37, 23, torch::kFloat, false, true, false},
                        {16, 37, 23, torch::kDouble, true, true, false},
                        {5, 8, 8, torch::kFloat, true, true, true},
                        {7, 3, 1, torch::kDouble, false, true, true},
                        {16, 21, 6, torch::kFloat, false, false, false}};
  for (const bool avx512 : {true, false}) {
    const bool before = sk::isac_link_cpu_allow_avx512(avx512);
    for (const Case& c : cases) {
      SCOPED_TRACE(testing::Message() << "M " << c.antennas << " B " << c.batch << " L " << c.length << " eval "
                                      << c.eval << " noise " << c.noise << " random phase " << c.random_phase
                                      << " avx512 " << avx512);
      auto p = make_params(c.antennas, "uniform");
      p.alpha = {0.6, 0.5};
      p.si_residual_power = 0.1;
      p.eve_snr_offset_db = -3.0;
      p.eval = c.eval;
      p.noise = c.noise;
      p.alpha_random_phase = c.random_phase;
      const auto in = make_inputs(3, c.batch, c.length, c.dtype, 5);
      const auto state = sk::isac_link_generate(in.phi, in.snr_db, in.seeds, in.counter, c.length, p);
      expect_same_bits(sk::isac_link_apply(in.z, state),
                       sk::isac_link(in.z, in.phi, in.snr_db, in.seeds, in.counter, p));
    }
    sk::isac_link_cpu_allow_avx512(before);
  }
}

TEST(IsacLinkSplit, OneStateGivesSeveralCodewordsTheDrawsOfItsStep) {
  auto p = make_params();
  p.si_residual_power = 0.1;
  auto in = make_inputs(2, 19, 12, torch::kFloat, 3);
  const auto state = sk::isac_link_generate(in.phi, in.snr_db, in.seeds, in.counter, 12, p);
  const auto at_step_3 = in.counter.clone();
  in.counter.fill_(9);  // the caller's counter moves on; the state keeps step 3
  torch::manual_seed(4);
  const auto other = torch::randn_like(in.z);
  const auto v = torch::randn({3, 2, 19, 24});
  for (const auto& z0 : {in.z, other / other.norm(2, {-1}, true)}) {
    const auto z = z0.clone().requires_grad_(true), z_fused = z0.clone().requires_grad_(true);
    const auto got = sk::isac_link_apply(z, state);
    const auto want = sk::isac_link(z_fused, in.phi, in.snr_db, in.seeds, at_step_3, p);
    expect_same_bits(got, want);
    auto objective = [&](const sk::IsacLinkOut& o) {
      return (o.y_bs * v[0]).sum() + (o.y_ue * v[1]).sum() + (o.y_eve * v[2]).sum();
    };
    EXPECT_TRUE(torch::equal(torch::autograd::grad({objective(got)}, {z})[0],
                             torch::autograd::grad({objective(want)}, {z_fused})[0]));
  }
  EXPECT_FALSE(torch::equal(sk::isac_link_apply(in.z, state).y_ue,
                            sk::isac_link(in.z, in.phi, in.snr_db, in.seeds, in.counter, p).y_ue));
}

TEST(IsacLinkSplit, EmptyBatchAndBadInputsGiveEmptyOutputsOrClearErrors) {
  const auto p = make_params();
  const auto empty = make_inputs(2, 0, 8, torch::kFloat);
  const auto none =
      sk::isac_link_apply(empty.z, sk::isac_link_generate(empty.phi, empty.snr_db, empty.seeds, empty.counter, 8, p));
  EXPECT_EQ(none.y_eve.sizes(), (std::vector<int64_t>{2, 0, 16}));
  const auto in = make_inputs(2, 3, 4, torch::kFloat);
  using semsec::testing::expect_error;
  expect_error<c10::Error>([&] { sk::isac_link_generate(in.phi[0], in.snr_db, in.seeds, in.counter, 4, p); },
                           {"isac_link_generate: phi must be [G, B], got [3]"});
  expect_error<c10::Error>([&] { sk::isac_link_generate(in.phi, in.snr_db, in.seeds, in.counter, -1, p); },
                           {"isac_link_generate: length must be >= 0, got -1"});
  expect_error<c10::Error>(
      [&] { sk::isac_link_generate(in.phi, in.snr_db.to(torch::kDouble), in.seeds, in.counter, 4, p); },
      {"isac_link: phi and snr_db must have phi's dtype Float, got Float and Double"});
  const auto state = sk::isac_link_generate(in.phi, in.snr_db, in.seeds, in.counter, 4, p);
  expect_error<c10::Error>([&] { sk::isac_link_apply(in.z, sk::IsacLinkState{}); },
                           {"isac_link_apply: empty state (make it with isac_link_generate)"});
  expect_error<c10::Error>(
      [&] { sk::isac_link_apply(in.z.slice(2, 0, 3), state); },
      {"isac_link_apply: z must be [G, B, L] = [2, 3, 4] as the state was generated for, got [2, 3, 3]"});
  expect_error<c10::Error>([&] { sk::isac_link_apply(in.z.to(torch::kDouble), state); },
                           {"isac_link_apply: z must have the state's dtype Float, got Double"});
}

}  // namespace
