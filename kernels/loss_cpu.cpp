// CPU loops of the fused sigmoid + squared error (loss.h), parallel over rows, vectorised over
// the elements of a row (AVX-512 / AVX2 / baseline clones, as isac_link_cpu.cpp).
#include <ATen/Parallel.h>

#include "kernels/loss.h"
#include "kernels/cpu_clones.h"

namespace semsec::kernels {

namespace {

constexpr int64_t kRowGrain = 16;

// Float partial sums over lanes, then double over the row: the order is fixed by d alone, so a
// row's sum does not depend on the thread count.
SEMSEC_CPU_CLONES double row_sum(const float* __restrict__ a, const float* __restrict__ x, int64_t d) {
  constexpr int kLanes = 16;
  float part[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= d; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) {
      const float e = sigmoid_f(a[i + k]) - x[i + k];
      part[k] += e * e;
    }
  }
  double acc = 0.0;
  for (; i < d; ++i) {
    const float e = sigmoid_f(a[i]) - x[i];
    acc += static_cast<double>(e * e);
  }
  for (int k = 0; k < kLanes; ++k) acc += static_cast<double>(part[k]);
  return acc;
}

SEMSEC_CPU_CLONES void row_grad(const float* __restrict__ a, const float* __restrict__ x, float scale, int64_t d,
                                float* __restrict__ grad) {
  for (int64_t i = 0; i < d; ++i) {
    const float s = sigmoid_f(a[i]);
    grad[i] = scale * (2.0f * (s - x[i]) * (s * (1.0f - s)));
  }
}

}  // namespace

void sigmoid_mse_rows_cpu(const float* a, const float* x, int64_t rows, int64_t d, double* row_sums) {
  at::parallel_for(0, rows, kRowGrain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) row_sums[r] = row_sum(a + r * d, x + r * d, d);
  });
}

void sigmoid_mse_grad_cpu(const float* a, const float* x, const float* scale, int64_t rows, int64_t d, float* grad) {
  at::parallel_for(0, rows, kRowGrain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) row_grad(a + r * d, x + r * d, scale[r], d, grad + r * d);
  });
}

}  // namespace semsec::kernels
