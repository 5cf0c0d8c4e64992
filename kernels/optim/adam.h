// The per-element Adam update of GridAdam (torch.optim.Adam's arithmetic: no weight decay, no
// amsgrad), written once for the CPU loop (adam_cpu.cpp) and the CUDA kernel (adam.cu). The
// step counter is read from memory by every launch, so a captured CUDA graph replays with the
// current step. No torch in here.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/hd.h"

namespace semsec::kernels {

struct AdamHyper {
  double beta1, beta2, eps;
};

// Per-step scalars of one grid point: step_size = lr / (1 - beta1^t), bc2_sqrt = sqrt(1 - beta2^t).
struct AdamScalars {
  double step_size, bc2_sqrt;
};

SEMSEC_HD AdamScalars adam_scalars(const AdamHyper& h, double lr, double step) {
  return AdamScalars{lr / (1.0 - pow(h.beta1, step)), sqrt(1.0 - pow(h.beta2, step))};
}

// Per-element constants in the parameters' type. 1 - beta is formed in double first, as torch
// does (0.999f is not 0.999, and 1 - 0.999f in float is 0.00099998713).
template <typename T>
struct AdamConsts {
  T one_minus_beta1, beta2, one_minus_beta2, eps;
  explicit AdamConsts(const AdamHyper& h)
      : one_minus_beta1(static_cast<T>(1.0 - h.beta1)),
        beta2(static_cast<T>(h.beta2)),
        one_minus_beta2(static_cast<T>(1.0 - h.beta2)),
        eps(static_cast<T>(h.eps)) {}
};

// The square root in the parameters' type. An unqualified sqrt(float) finds only C's
// double sqrt in host code here (nvcc adds a float overload in device code), which made the CPU
// update round through double while the GPU and torch work in float.
SEMSEC_HD float adam_sqrt(float x) { return ::sqrtf(x); }
SEMSEC_HD double adam_sqrt(double x) { return ::sqrt(x); }

// m <- lerp(m, g, 1 - beta1); v <- beta2 v + (1 - beta2) g^2; p <- p - step_size m / (sqrt(v) / bc2_sqrt + eps),
// every operation in T.
template <typename T>
SEMSEC_HD void adam_element(T& p, T g, T& m, T& v, T step_size, T bc2_sqrt, const AdamConsts<T>& c) {
  m = m + c.one_minus_beta1 * (g - m);
  v = v * c.beta2 + c.one_minus_beta2 * g * g;
  p = p - step_size * m / (adam_sqrt(v) / bc2_sqrt + c.eps);
}

// One parameter tensor of G grid points, contiguous, numel = G * per_point; lr [G] and step
// (float64) are read from memory; active [G] (may be null: every point) leaves the points with 0
// untouched, parameters and moments alike (DivergenceGuard freezes diverged points this way).
template <typename T>
struct AdamTensor {
  T* p;
  const T* g;
  T* m;
  T* v;
  int64_t numel, per_point;
};

template <typename T>
void adam_step_cpu(const AdamTensor<T>* tensors, int64_t count, const double* lr, const double* step,
                   const uint8_t* active, AdamHyper h);

}  // namespace semsec::kernels
