// Fused sigmoid + squared error of the UE's image reconstruction (eq. 28 with the sigmoid output
// layer of SD_UE): per element e = (sigmoid(a) - x)^2 and de/da = 2 (s - x) s (1 - s). Written
// once, branch-free float math (own exp) so the CPU loops vectorise. No torch in here.
#pragma once

#include <cstdint>

#include "kernels/philox.h"

namespace semsec::kernels {

// e^x for |x| <= 88 (Cephes expf: x = n ln2 + r, degree-5 polynomial in r, 2^n from the bits;
// relative error about 2e-7); inputs are clamped to [-87, 87], where sigmoid is 0 or 1 in float.
SEMSEC_HD float exp_f(float x) {
  x = x < -87.0f ? -87.0f : (x > 87.0f ? 87.0f : x);
  const float n = static_cast<float>(static_cast<int32_t>(x * 1.44269504088896341f + (x < 0.0f ? -0.5f : 0.5f)));
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  const float r2 = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = (p * r2 + r) + 1.0f;
  return e * rng::bits_to_float(static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23);
}

SEMSEC_HD float sigmoid_f(float a) { return 1.0f / (1.0f + exp_f(-a)); }

// CPU loops over rows of D elements (row r = sample r % B of grid point r / B), all contiguous;
// the logit of element (r, d) is a[r, d] + bias[r / B, d] (bias [G, D]):
//   forward: row_sums[r] = sum_d (sigmoid(logit) - x[r, d])^2, accumulated in double;
//   backward: grad[r, d] = scale[g] * 2 (s - x) s (1 - s) with scale[g] = dL/de of point g, and
//   grad_bias[g, d] = sum over the point's rows of grad[r, d], summed in a fixed order (chunks
//   of 16 rows, then the chunks in turn) whatever the threads.
void sigmoid_mse_rows_cpu(const float* a, const float* bias, const float* x, int64_t points, int64_t batch, int64_t d,
                          double* row_sums);
void sigmoid_mse_grad_cpu(const float* a, const float* bias, const float* x, const float* scale, int64_t points,
                          int64_t batch, int64_t d, float* grad, float* grad_bias);

}  // namespace semsec::kernels
