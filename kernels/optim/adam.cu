// CUDA kernel of the fused GridAdam update: the shared math of adam.h, one launch per parameter
// tensor (its pointers passed by value), grid-stride over the elements.
#include "kernels/launch.cuh"
#include "kernels/optim/adam_cuda.h"

namespace semsec::kernels {

namespace {

template <typename T>
__global__ void adam_kernel(AdamTensor<T> a, const double* __restrict__ lr, const double* __restrict__ step,
                            const uint8_t* __restrict__ active, AdamHyper h, AdamConsts<T> c) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = thread_index(); i < a.numel; i += stride) {
    const int64_t g = i / a.per_point;
    if (active != nullptr && active[g] == 0) continue;
    const AdamScalars s = adam_scalars(h, lr[g], *step);
    adam_element(a.p[i], a.g[i], a.m[i], a.v[i], static_cast<T>(s.step_size), static_cast<T>(s.bc2_sqrt), c);
  }
}

}  // namespace

template <typename T>
void adam_step_cuda(const AdamTensor<T>* tensors, int64_t count, const double* lr, const double* step,
                    const uint8_t* active, AdamHyper h, cudaStream_t stream) {
  for (int64_t t = 0; t < count; ++t) {
    const AdamTensor<T>& a = tensors[t];
    if (a.numel == 0) continue;
    adam_kernel<T><<<blocks_for(a.numel, 1024), kThreads, 0, stream>>>(a, lr, step, active, h, AdamConsts<T>(h));
  }
}

template void adam_step_cuda<float>(const AdamTensor<float>*, int64_t, const double*, const double*, const uint8_t*,
                                    AdamHyper, cudaStream_t);
template void adam_step_cuda<double>(const AdamTensor<double>*, int64_t, const double*, const double*, const uint8_t*,
                                     AdamHyper, cudaStream_t);

}  // namespace semsec::kernels
