// CUDA-graph capture and replay of a training step.
#include "trainers/engine/graph_step.h"

#include "core/errors.h"

#ifdef SEMSEC_WITH_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace semsec::trainers {

#ifdef SEMSEC_WITH_CUDA

struct GraphedStep::Impl {
  explicit Impl(torch::Device device) : stream(c10::cuda::getStreamFromPool(false, device.index())), guard(stream) {}
  c10::cuda::CUDAStream stream;
  c10::cuda::CUDAStreamGuard guard;
  std::unique_ptr<at::cuda::CUDAGraph> graph;
  NamedTensors terms;
  int warmup = 0, calls = 0;
};

GraphedStep::GraphedStep(torch::Device device, int warmup_steps) {
  if (!device.is_cuda()) fail("train.cuda_graph: needs a CUDA device, the run is on {}", device.str());
  // The side stream starts after the work already queued on the default stream.
  c10::cuda::getCurrentCUDAStream(device.index()).synchronize();
  impl_ = std::make_unique<Impl>(device);
  impl_->warmup = warmup_steps;
}

GraphedStep::~GraphedStep() {
  if (impl_) impl_->stream.synchronize();
}

NamedTensors GraphedStep::run(const std::function<NamedTensors()>& step) {
  Impl& s = *impl_;
  if (s.calls++ < s.warmup) return step();
  if (!s.graph) {
    s.stream.synchronize();
    s.graph = std::make_unique<at::cuda::CUDAGraph>();
    s.graph->capture_begin();
    s.terms = step();  // recorded, not run
    s.graph->capture_end();
  }
  s.graph->replay();
  return s.terms;
}

#else

struct GraphedStep::Impl {};

GraphedStep::GraphedStep(torch::Device device, int) {
  fail("train.cuda_graph: this build has no CUDA kernels (device {})", device.str());
}

GraphedStep::~GraphedStep() = default;

NamedTensors GraphedStep::run(const std::function<NamedTensors()>& step) { return step(); }

#endif

}  // namespace semsec::trainers
