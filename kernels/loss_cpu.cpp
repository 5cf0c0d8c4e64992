// CPU loops of the fused sigmoid + squared error (loss.h), parallel over rows, vectorised over
// the elements of a row (AVX-512 / AVX2 / baseline clones, as isac_link_cpu.cpp).
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "kernels/loss.h"
#include "kernels/cpu_clones.h"

namespace semsec::kernels {

namespace {

constexpr int64_t kChunkRows = 16;  // rows per task, and per partial bias-gradient sum
constexpr int kLanes = 16;

// Float partial sums over lanes, then double over the row: the order is fixed by d alone, so a
// row's sum does not depend on the thread count. b: the point's bias row.
SEMSEC_CPU_CLONES double row_sum(const float* __restrict__ a, const float* __restrict__ b,
                                 const float* __restrict__ x, int64_t d) {
  float part[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= d; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) {
      const float e = sigmoid_f(a[i + k] + b[i + k]) - x[i + k];
      part[k] += e * e;
    }
  }
  double acc = 0.0;
  for (; i < d; ++i) {
    const float e = sigmoid_f(a[i] + b[i]) - x[i];
    acc += static_cast<double>(e * e);
  }
  for (int k = 0; k < kLanes; ++k) acc += static_cast<double>(part[k]);
  return acc;
}

// grad row of one sample; adds it into acc (the chunk's partial bias gradient).
SEMSEC_CPU_CLONES void row_grad(const float* __restrict__ a, const float* __restrict__ b, const float* __restrict__ x,
                                float scale, int64_t d, float* __restrict__ grad, float* __restrict__ acc) {
  for (int64_t i = 0; i < d; ++i) {
    const float s = sigmoid_f(a[i] + b[i]);
    const float gi = scale * (2.0f * (s - x[i]) * (s * (1.0f - s)));
    grad[i] = gi;
    acc[i] += gi;
  }
}

// Chunk c of kChunkRows rows inside one grid point: its point and row range.
struct Chunk {
  int64_t point, begin, end;
};
Chunk chunk_of(int64_t c, int64_t batch) {
  const int64_t per_point = (batch + kChunkRows - 1) / kChunkRows;
  const int64_t g = c / per_point, first = (c % per_point) * kChunkRows;
  return Chunk{g, g * batch + first, g * batch + std::min(batch, first + kChunkRows)};
}

}  // namespace

void sigmoid_mse_rows_cpu(const float* a, const float* bias, const float* x, int64_t points, int64_t batch, int64_t d,
                          double* row_sums) {
  at::parallel_for(0, points * batch, kChunkRows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) row_sums[r] = row_sum(a + r * d, bias + (r / batch) * d, x + r * d, d);
  });
}

void sigmoid_mse_grad_cpu(const float* a, const float* bias, const float* x, const float* scale, int64_t points,
                          int64_t batch, int64_t d, float* grad, float* grad_bias) {
  const int64_t chunks = points * ((batch + kChunkRows - 1) / kChunkRows);
  std::vector<float> partial(static_cast<size_t>(chunks * d), 0.0f);
  at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const Chunk k = chunk_of(c, batch);
      for (int64_t r = k.begin; r < k.end; ++r) {
        row_grad(a + r * d, bias + k.point * d, x + r * d, scale[k.point], d, grad + r * d, partial.data() + c * d);
      }
    }
  });
  // Each point's chunk sums, added in chunk order.
  std::fill(grad_bias, grad_bias + points * d, 0.0f);
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t g = chunk_of(c, batch).point;
    for (int64_t i = 0; i < d; ++i) grad_bias[g * d + i] += partial[c * d + i];
  }
}

}  // namespace semsec::kernels
