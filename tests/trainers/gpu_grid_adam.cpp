// The fused GridAdam update on the GPU: equal to the CPU update for the same gradients, and
// capturable in a CUDA graph (the step counter and learning rates are read from device memory,
// so replays apply fresh bias corrections). Skips without a CUDA device.
#include <gtest/gtest.h>

#include <torch/cuda.h>
#include <torch/torch.h>

#include "tests/test_util.h"
#include "trainers/engine/grid_adam.h"

#ifdef SEMSEC_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace {

using semsec::trainers::GridAdam;

// Parameters of two shapes over G = 4 points and a fixed sequence of gradients.
std::vector<torch::Tensor> make_params(torch::Device d) {
  torch::manual_seed(11);
  return {torch::randn({4, 33, 17}).to(d).requires_grad_(true), torch::randn({4, 5}).to(d).requires_grad_(true)};
}

void set_grads(std::vector<torch::Tensor>& params, int step) {
  torch::manual_seed(100 + step);
  for (auto& p : params) p.mutable_grad() = torch::randn(p.sizes()).to(p.device());
}

TEST(GpuGridAdam, FusedUpdateMatchesCpu) {
  SEMSEC_SKIP_WITHOUT_CUDA();
  const std::vector<double> lr{1e-3, 1e-2, 0.0, 5e-2};
  auto cpu = make_params(torch::kCPU);
  auto gpu = make_params(torch::kCUDA);
  GridAdam opt_cpu(cpu, lr, {});
  GridAdam opt_gpu(gpu, lr, {});
  for (int step = 0; step < 20; ++step) {
    set_grads(cpu, step);
    set_grads(gpu, step);
    opt_cpu.step();
    opt_gpu.step();
  }
  for (size_t i = 0; i < cpu.size(); ++i) {
    EXPECT_TRUE(torch::allclose(cpu[i], gpu[i].cpu(), 1e-6, 1e-7)) << (cpu[i] - gpu[i].cpu()).abs().max();
  }
}

// The per-point mask of DivergenceGuard on the GPU: frozen points keep parameters and moments,
// the others step exactly as on the CPU.
TEST(GpuGridAdam, MaskedUpdateFreezesPointsAsOnTheCpu) {
  SEMSEC_SKIP_WITHOUT_CUDA();
  const std::vector<double> lr{1e-3, 1e-2, 2e-2, 5e-2};
  auto cpu = make_params(torch::kCPU);
  auto gpu = make_params(torch::kCUDA);
  const auto frozen_before = cpu[0][1].detach().clone();
  GridAdam opt_cpu(cpu, lr, {});
  GridAdam opt_gpu(gpu, lr, {});
  opt_cpu.set_active(torch::tensor({1, 0, 1, 1}, torch::kUInt8));
  opt_gpu.set_active(torch::tensor({1, 0, 1, 1}, torch::kUInt8).to(torch::kCUDA));
  for (int step = 0; step < 5; ++step) {
    set_grads(cpu, step);
    set_grads(gpu, step);
    opt_cpu.step();
    opt_gpu.step();
  }
  EXPECT_TRUE(torch::equal(cpu[0][1], frozen_before));
  for (size_t i = 0; i < cpu.size(); ++i) {
    EXPECT_TRUE(torch::allclose(cpu[i], gpu[i].cpu(), 1e-6, 1e-7)) << (cpu[i] - gpu[i].cpu()).abs().max();
  }
  const auto states_cpu = opt_cpu.state_tensors();
  const auto states_gpu = opt_gpu.state_tensors();
  for (size_t i = 0; i + 1 < states_cpu.size(); ++i) {
    EXPECT_EQ(states_gpu[i][1].abs().sum().item<double>(), 0.0) << "moments of the frozen point stay zero";
    EXPECT_TRUE(torch::allclose(states_cpu[i], states_gpu[i].cpu(), 1e-6, 1e-7));
  }
}

TEST(GpuGridAdam, CapturedStepReplaysWithTheDeviceStepCounter) {
  SEMSEC_SKIP_WITHOUT_CUDA();
#ifdef SEMSEC_WITH_CUDA
  const std::vector<double> lr{1e-3, 1e-2, 2e-2, 5e-2};
  auto eager = make_params(torch::kCUDA);
  auto graphed = make_params(torch::kCUDA);
  GridAdam opt_eager(eager, lr, {});
  GridAdam opt_graphed(graphed, lr, {});
  set_grads(eager, 0);
  set_grads(graphed, 0);  // the captured step reads these gradient buffers on every replay
  const auto stream = c10::cuda::getStreamFromPool();
  {
    const c10::cuda::CUDAStreamGuard guard(stream);
    opt_graphed.step();  // warm-up outside the capture (step 1)
    stream.synchronize();
    at::cuda::CUDAGraph graph;
    graph.capture_begin();
    opt_graphed.step();
    graph.capture_end();
    for (int i = 0; i < 5; ++i) graph.replay();  // steps 2..6 (the capture itself ran no kernels)
    stream.synchronize();
  }
  for (int i = 0; i < 6; ++i) opt_eager.step();
  EXPECT_EQ(opt_graphed.step_count().item<double>(), 6.0);
  for (size_t i = 0; i < eager.size(); ++i) {
    EXPECT_TRUE(torch::allclose(eager[i], graphed[i], 1e-6, 1e-7)) << (eager[i] - graphed[i]).abs().max();
  }
#endif
}

}  // namespace
