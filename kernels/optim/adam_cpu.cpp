// CPU launcher of the fused GridAdam update: one pass over each parameter, in parallel chunks.
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "kernels/cpu_clones.h"
#include "kernels/optim/adam.h"

namespace semsec::kernels {

namespace {

// One grid point's contiguous slice; a plain loop the compiler vectorises (sqrt without errno).
template <typename T>
inline void adam_range(T* __restrict__ p, const T* __restrict__ g, T* __restrict__ m, T* __restrict__ v, int64_t n,
                       T step_size, T bc2_sqrt, const AdamConsts<T>& c) {
  for (int64_t i = 0; i < n; ++i) adam_element(p[i], g[i], m[i], v[i], step_size, bc2_sqrt, c);
}

SEMSEC_CPU_CLONES void adam_range_f(float* p, const float* g, float* m, float* v, int64_t n, float ss, float bc,
                                    const AdamConsts<float>& c) {
  adam_range(p, g, m, v, n, ss, bc, c);
}

SEMSEC_CPU_CLONES void adam_range_d(double* p, const double* g, double* m, double* v, int64_t n, double ss, double bc,
                                    const AdamConsts<double>& c) {
  adam_range(p, g, m, v, n, ss, bc, c);
}

void adam_range_any(float* p, const float* g, float* m, float* v, int64_t n, float ss, float bc,
                    const AdamConsts<float>& c) {
  adam_range_f(p, g, m, v, n, ss, bc, c);
}

void adam_range_any(double* p, const double* g, double* m, double* v, int64_t n, double ss, double bc,
                    const AdamConsts<double>& c) {
  adam_range_d(p, g, m, v, n, ss, bc, c);
}

}  // namespace

template <typename T>
void adam_step_cpu(const AdamTensor<T>* tensors, int64_t count, const double* lr, const double* step,
                   const uint8_t* active, AdamHyper h) {
  const AdamConsts<T> c(h);
  for (int64_t t = 0; t < count; ++t) {
    const AdamTensor<T> a = tensors[t];
    if (a.numel == 0) continue;
    const int64_t points = a.numel / a.per_point;
    std::vector<T> step_size(static_cast<size_t>(points)), bc2_sqrt(static_cast<size_t>(points));
    for (int64_t g = 0; g < points; ++g) {
      const AdamScalars s = adam_scalars(h, lr[g], *step);
      step_size[g] = static_cast<T>(s.step_size);
      bc2_sqrt[g] = static_cast<T>(s.bc2_sqrt);
    }
    at::parallel_for(0, a.numel, 1 << 15, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end;) {
        const int64_t g = i / a.per_point;
        const int64_t stop = std::min(end, (g + 1) * a.per_point);
        if (active != nullptr && active[g] == 0) {
          i = stop;
          continue;
        }
        adam_range_any(a.p + i, a.g + i, a.m + i, a.v + i, stop - i, step_size[g], bc2_sqrt[g], c);
        i = stop;
      }
    });
  }
}

template void adam_step_cpu<float>(const AdamTensor<float>*, int64_t, const double*, const double*, const uint8_t*,
                                   AdamHyper);
template void adam_step_cpu<double>(const AdamTensor<double>*, int64_t, const double*, const double*, const uint8_t*,
                                    AdamHyper);

}  // namespace semsec::kernels
