// The CUDA kernels' one launch-size helper (isac_link.cu, link_level.cu, adam.cu): 1-D grids of
// kThreads-thread blocks, one thread per element or grid-stride.
#pragma once

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>

namespace semsec::kernels {

inline constexpr int kThreads = 256;

// Blocks that cover n threads, at most max_blocks (a grid-stride kernel covers the rest).
inline unsigned blocks_for(int64_t n, int64_t max_blocks = INT32_MAX) {
  return static_cast<unsigned>(std::min<int64_t>((n + kThreads - 1) / kThreads, max_blocks));
}

// kernel(n, args...) on a 1-D grid covering n threads; nothing to do for n == 0.
template <typename Kernel, typename... Args>
void launch_linear(Kernel kernel, int64_t n, cudaStream_t stream, Args... args) {
  if (n == 0) return;
  kernel<<<blocks_for(n), kThreads, 0, stream>>>(n, args...);
}

__device__ __forceinline__ int64_t thread_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

}  // namespace semsec::kernels
