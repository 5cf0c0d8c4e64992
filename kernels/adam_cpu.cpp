// CPU launcher of the fused GridAdam update: one pass over each parameter, in parallel chunks.
#include <ATen/Parallel.h>

#include <vector>

#include "kernels/adam.h"

namespace semsec::kernels {

template <typename T>
void adam_step_cpu(const AdamTensor<T>* tensors, int64_t count, const double* lr, const double* step, AdamHyper h) {
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
        const T ss = step_size[g], bc = bc2_sqrt[g];
        for (; i < stop; ++i) adam_element(a.p[i], a.g[i], a.m[i], a.v[i], ss, bc, c);
      }
    });
  }
}

template void adam_step_cpu<float>(const AdamTensor<float>*, int64_t, const double*, const double*, AdamHyper);
template void adam_step_cpu<double>(const AdamTensor<double>*, int64_t, const double*, const double*, AdamHyper);

}  // namespace semsec::kernels
