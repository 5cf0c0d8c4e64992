// CUDA launcher of the fused GridAdam update (adam.cu); layout as adam_step_cpu in adam.h.
#pragma once

#include <cuda_runtime_api.h>

#include "kernels/optim/adam.h"

namespace semsec::kernels {

// lr [G] and step [1] are device pointers read inside the kernel (graph-safe).
template <typename T>
void adam_step_cuda(const AdamTensor<T>* tensors, int64_t count, const double* lr, const double* step, AdamHyper h,
                    cudaStream_t stream);

}  // namespace semsec::kernels
