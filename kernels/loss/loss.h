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

// The UE's output layer and loss fused (eq. 28 with SD_UE's last layer, sigmoid output): for grid
// point g, sample r < B and pixel d < D,
//   a[g, r, d] = b[g, d] + sum_k h[g, r, k] w[g, k, d],   e = sigmoid(a) - x[g, r, d],
// and the loss of point g is mean over (r, d) of e^2. One CPU pass computes, per point and column
// block (linear_loss_blocks(D) blocks of at most 128 pixels, fixed by D alone):
//   sq[g, c]: sum of e^2 over the block, rows in order (double);
//   the gradients of the mean itself (dL/da = 2 e s (1 - s) / (B D)) that are asked for:
//   with dw, db not null, dw[g, k, d] = sum_r h dL/da, db[g, d] = sum_r dL/da (rows in order);
//   with dh_part not null, dh_part[g, c, r, k] = sum over the block's pixels of dL/da w[g, k, d],
//   which linear_loss_reduce_dh adds over the blocks in order.
// a, s and dL/da never leave the cache: no [G, B, D] tensor but x is read, none is written. The
// summation order is fixed by the shapes, so results do not depend on the thread count.
struct LinearLossShape {
  int64_t points, batch, k, d;
};
int64_t linear_loss_blocks(int64_t d);
void linear_sigmoid_mse_cpu(const float* h, const float* w, const float* b, const float* x, LinearLossShape s,
                            double* sq, float* dh_part, float* dw, float* db);
// dh[g, r, k] = sum over blocks c in order of dh_part[g, c, r, k].
void linear_loss_reduce_dh(const float* dh_part, LinearLossShape s, float* dh);

}  // namespace semsec::kernels
