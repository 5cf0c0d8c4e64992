// The kernels' one device dispatch: each torch-facing op (isac_link_op.cpp, link_level_op.cpp,
// adam_op.cpp) hands its CPU loop and its CUDA launch to on_device instead of repeating the
// guard, the stream, the launch check and the no-CUDA-build error. The CUDA launchers' headers
// (*_cuda.h) take a CudaStream, so they need no CUDA header and every build sees them.
#pragma once

#include <torch/torch.h>

#include <utility>

#ifdef SEMSEC_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#endif

#include "kernels/cuda_stream.h"

namespace semsec::kernels {

// cpu() when `device` is the host; for a CUDA device, cuda(stream) with that device current and
// its current stream, then the kernel launch check. A build without CUDA kernels never calls (nor
// emits) `cuda` and fails on a CUDA device with an error naming `what`.
template <typename Cpu, typename Cuda>
void on_device(const torch::Device& device, const char* what, Cpu&& cpu, Cuda&& cuda) {
  if (!device.is_cuda()) {
    std::forward<Cpu>(cpu)();
    return;
  }
#ifdef SEMSEC_WITH_CUDA
  const c10::cuda::CUDAGuard guard(device);
  std::forward<Cuda>(cuda)(static_cast<CudaStream>(at::cuda::getCurrentCUDAStream().stream()));
  C10_CUDA_KERNEL_LAUNCH_CHECK();
#else
  (void)cuda;
  TORCH_CHECK(false, what, ": tensors on ", device, " but semsec was built without CUDA kernels");
#endif
}

}  // namespace semsec::kernels
