// SEMSEC_HD marks the functions written once for host and device: __host__ __device__ inline
// under nvcc, plain inline in a host compiler. Every kernel header's math uses it.
#pragma once

#if defined(__CUDACC__)
#define SEMSEC_HD __host__ __device__ __forceinline__
#else
#define SEMSEC_HD inline
#endif
