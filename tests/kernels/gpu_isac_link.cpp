// CPU == CUDA for the SS-ISAC link kernel: outputs within one float ulp (fused, and generate then
// apply), gradients within float tolerance, and CUDA-graph replays that pick up the device-side
// step counter. Skips without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

#include <torch/cuda.h>

#include "kernels/isac_link/isac_link_op.h"
#include "tests/kernels/isac_link_util.h"
#include "tests/test_util.h"

#ifdef SEMSEC_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace {

namespace sk = semsec::kernels;

using semsec::testing::ulp_distance;
using sk::isac_link_test::Inputs;
using sk::isac_link_test::kSector;
using sk::isac_link_test::run;

// This file's own parameters and inputs (not isac_link_test's): eval and noise switchable, other seeds.
sk::IsacLinkParams make_params(bool eval, bool noise, bool random_phase = false) {
  sk::IsacLinkParams p;
  p.num_antennas = 16;
  p.w = sk::make_beamformer("wide2", 16, 0.0);
  p.alpha = {0.8, -0.3};
  p.si_residual_power = 0.05;
  p.eve_snr_offset_db = -4.0;
  p.ref_gain_bs = sk::mean_sensing_gain(p, -kSector, kSector);
  p.eval = eval;
  p.noise = noise;
  p.alpha_random_phase = random_phase;
  return p;
}

Inputs make_inputs(int64_t num_grid, int64_t batch, int64_t length, torch::ScalarType dtype, int64_t step) {
  torch::manual_seed(11);
  auto z = torch::randn({num_grid, batch, length}, torch::kDouble);
  return Inputs{(z / z.norm(2, {-1}, true)).to(dtype),
                ((torch::rand({num_grid, batch}, torch::kDouble) * 2.0 - 1.0) * kSector).to(dtype),
                torch::linspace(-10.0, 25.0, num_grid, torch::kDouble).to(dtype),
                torch::arange(num_grid, torch::kLong) * 31 + 5, torch::full({1}, step, torch::kLong)};
}

// Largest ulp distance between two float tensors of the same shape.
int64_t max_ulp(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  const auto x = a.detach().to(torch::kCPU).contiguous(), y = b.detach().to(torch::kCPU).contiguous();
  int64_t worst = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    worst = std::max(worst, ulp_distance(x.data_ptr<float>()[i], y.data_ptr<float>()[i]));
  }
  return worst;
}

TEST(GpuIsacLink, FloatOutputsMatchCpuWithinOneUlp) {
  SEMSEC_SKIP_WITHOUT_CUDA();
  const auto cpu = make_inputs(4, 512, 33, torch::kFloat, 7);
  const auto gpu = cpu.to(torch::kCUDA);
  for (bool eval : {false, true}) {
    for (bool noise : {true, false}) {
      const auto p = make_params(eval, noise);
      const auto a = run(cpu, p), b = run(gpu, p);
      ASSERT_TRUE(b.y_bs.is_cuda());
      const std::string what = std::string("eval=") + (eval ? "1" : "0") + " noise=" + (noise ? "1" : "0");
      EXPECT_LE(max_ulp(a.y_bs, b.y_bs), 1) << what;
      EXPECT_LE(max_ulp(a.y_ue, b.y_ue), 1) << what;
      EXPECT_LE(max_ulp(a.y_eve, b.y_eve), 1) << what;
      EXPECT_LE(max_ulp(a.gains, b.gains), 1) << what;
    }
  }
  // A random reflection phase draws two more fading normals per sample on both paths.
  const auto p = make_params(false, true, true);
  const auto a = run(cpu, p), b = run(gpu, p);
  EXPECT_LE(max_ulp(a.y_bs, b.y_bs), 1) << "random alpha phase";
  EXPECT_LE(max_ulp(a.y_eve, b.y_eve), 1) << "random alpha phase";
  EXPECT_LE(max_ulp(a.gains, b.gains), 1) << "random alpha phase";
}

TEST(GpuIsacLink, DoubleOutputsMatchCpu) {
  SEMSEC_SKIP_WITHOUT_CUDA();
  const auto cpu = make_inputs(3, 128, 16, torch::kDouble, 2);
  const auto p = make_params(false, true);
  const auto a = run(cpu, p), b = run(cpu.to(torch::kCUDA), p);
  EXPECT_TRUE(torch::allclose(a.y_bs, b.y_bs.cpu(), 1e-12, 1e-14));
  EXPECT_TRUE(torch::allclose(a.y_ue, b.y_ue.cpu(), 1e-12, 1e-14));
  EXPECT_TRUE(torch::allclose(a.y_eve, b.y_eve.cpu(), 1e-12, 1e-14));
}

TEST(GpuIsacLink, GradientsMatchCpu) {
  SEMSEC_SKIP_WITHOUT_CUDA();
  for (auto dtype : {torch::kFloat, torch::kDouble}) {
    const auto cpu = make_inputs(3, 256, 20, dtype, 4);
    const auto p = make_params(false, true);
    torch::manual_seed(2);
    const auto v = torch::randn({3, 3, 256, 40}, dtype);
    auto grad = [&](Inputs in) {
      in.z = in.z.clone().requires_grad_(true);
      const auto out = run(in, p);
      const auto w = v.to(in.z.device());
      const auto f = (out.y_bs * w[0]).sum() + (out.y_ue * w[1]).sum() + (out.y_eve * w[2]).sum();
      return torch::autograd::grad({f}, {in.z})[0].cpu();
    };
    const auto g_cpu = grad(cpu), g_gpu = grad(cpu.to(torch::kCUDA));
    const double rtol = dtype == torch::kFloat ? 1e-5 : 1e-12;
    EXPECT_TRUE(torch::allclose(g_cpu, g_gpu, rtol, rtol * 0.1)) << (g_cpu - g_gpu).abs().max().item<double>();
  }
}

TEST(GpuIsacLink, CapturedGraphReplaysWithFreshCounters) {
  SEMSEC_SKIP_WITHOUT_CUDA();
#ifdef SEMSEC_WITH_CUDA
  const auto cpu = make_inputs(2, 256, 16, torch::kFloat, 0);
  const auto gpu = cpu.to(torch::kCUDA);
  const auto p = make_params(false, true);
  torch::NoGradGuard no_grad;
  const auto stream = c10::cuda::getStreamFromPool();
  const c10::cuda::CUDAStreamGuard stream_guard(stream);
  run(gpu, p);  // warm-up outside the capture
  stream.synchronize();
  at::cuda::CUDAGraph graph;
  graph.capture_begin();
  const auto out = run(gpu, p);
  graph.capture_end();
  for (int64_t step : {5, 6, 1000}) {
    gpu.counter.fill_(step);
    graph.replay();
    stream.synchronize();
    auto at_step = cpu;
    at_step.counter = torch::full({1}, step, torch::kLong);
    const auto ref = run(at_step, p);
    EXPECT_LE(max_ulp(ref.y_bs, out.y_bs), 1) << "step " << step;
    EXPECT_LE(max_ulp(ref.y_ue, out.y_ue), 1) << "step " << step;
    EXPECT_LE(max_ulp(ref.y_eve, out.y_eve), 1) << "step " << step;
  }
#endif
}

TEST(GpuIsacLink, GenerateThenApplyMatchesTheCpuAndKeepsItsStep) {
  SEMSEC_SKIP_WITHOUT_CUDA();
  const auto cpu = make_inputs(3, 300, 21, torch::kFloat, 6);
  auto gpu = cpu.to(torch::kCUDA);
  const auto p = make_params(true, true, true);
  const auto state = sk::isac_link_generate(gpu.phi, gpu.snr_db, gpu.seeds, gpu.counter, 21, p);
  gpu.counter.fill_(7);  // the state keeps step 6
  const auto got = sk::isac_link_apply(gpu.z, state), want = run(cpu, p);
  ASSERT_TRUE(got.y_ue.is_cuda());
  EXPECT_LE(max_ulp(want.y_bs, got.y_bs), 1);
  EXPECT_LE(max_ulp(want.y_ue, got.y_ue), 1);
  EXPECT_LE(max_ulp(want.y_eve, got.y_eve), 1);
  EXPECT_LE(max_ulp(want.gains, got.gains), 1);
}

TEST(GpuIsacLink, MismatchedDevicesAreRejected) {
  SEMSEC_SKIP_WITHOUT_CUDA();
  auto in = make_inputs(2, 4, 8, torch::kFloat, 0).to(torch::kCUDA);
  in.counter = in.counter.cpu();
  semsec::testing::expect_error<c10::Error>([&] { run(in, make_params(false, true)); },
                                            {"isac_link: all inputs must be on z's device"});
}

}  // namespace
