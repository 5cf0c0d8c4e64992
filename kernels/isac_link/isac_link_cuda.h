// CUDA launchers of the ISAC channel (isac_link.cu): raw pointers and a stream, no torch, so
// the .cu file compiles without torch headers. Shapes and layout as the CPU launchers in isac_link.h.
#pragma once

#include <cstdint>

#include "kernels/cuda_stream.h"
#include "kernels/isac_link/isac_link.h"

namespace semsec::kernels {

// seeds [G] and counter [1] live on the device and are read inside the kernels, so a captured
// CUDA graph replays with fresh draws once the counter has been advanced in place.
// generate: one thread per sample writes its state samples[G*B] (double precision) and gains.
// apply: one thread per (sample, symbol pair) sends z through those states with the noise draws
// of the same counter. The forward is generate then apply (workspace: G*B IsacSample records).
template <typename T>
void isac_link_generate_cuda(const IsacLinkArgs& a, const T* phi, const T* snr_db, const int64_t* seeds,
                             const int64_t* counter, IsacSample* samples, T* gains, CudaStream stream);
template <typename T>
void isac_link_apply_cuda(const IsacLinkArgs& a, const T* z, const IsacSample* samples, const int64_t* seeds,
                          const int64_t* counter, T* y_bs, T* y_ue, T* y_eve, CudaStream stream);

template <typename T>
void isac_link_backward_cuda(int64_t num_grid, int64_t batch, int64_t length, const T* gains, const T* gy_bs,
                             const T* gy_ue, const T* gy_eve, T* grad_z, CudaStream stream);

}  // namespace semsec::kernels
