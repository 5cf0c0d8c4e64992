// CUDA launcher of the fused GridAdam update (adam.cu); layout as adam_step_cpu in adam.h.
#pragma once

#include "kernels/cuda_stream.h"
#include "kernels/optim/adam.h"

namespace semsec::kernels {

// lr [G], step [1] and active [G] (may be null) are device pointers read inside the kernel
// (graph-safe).
template <typename T>
void adam_step_cuda(const AdamTensor<T>* tensors, int64_t count, const double* lr, const double* step,
                    const uint8_t* active, AdamHyper h, CudaStream stream);

}  // namespace semsec::kernels
