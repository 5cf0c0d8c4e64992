// The stream type of the CUDA launchers' declarations (*_cuda.h), without a CUDA or torch header:
// every build sees the launchers, and only CUDA builds define and call them (kernels/device.h).
#pragma once

struct CUstream_st;  // cudaStream_t is CUstream_st*

namespace semsec::kernels {

using CudaStream = CUstream_st*;

}  // namespace semsec::kernels
