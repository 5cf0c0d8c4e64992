// CPU loops of the fused output layer + sigmoid + squared error (loss.h): one task per grid point
// and column block, rows in order inside a task, vectorised over the pixels of a row (AVX-512 /
// AVX2 / baseline clones, as isac_link_cpu.cpp).
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/cpu_clones.h"
#include "kernels/loss/loss.h"

namespace semsec::kernels {

namespace {

constexpr int kLanes = 16;
constexpr int64_t kBlockVectors = 8;  // at most 8 x 16 = 128 pixels per column block
constexpr int64_t kPrefetchRows = 4;

struct Cols {
  int64_t begin, end;
};
Cols block_cols(int64_t c, int64_t blocks, int64_t d) {
  const int64_t vectors = (d + kLanes - 1) / kLanes;
  return Cols{c * vectors / blocks * kLanes, std::min(d, (c + 1) * vectors / blocks * kLanes)};
}

// 16 floats as one value: GCC lowers it to one AVX-512 register, two AVX2 registers or four SSE
// registers, so every clone keeps the loops below in registers.
using V = float __attribute__((vector_size(kLanes * sizeof(float))));
SEMSEC_ALWAYS_INLINE V load(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
SEMSEC_ALWAYS_INLINE void store(float* p, V v) { std::memcpy(p, &v, sizeof v); }

// Pixels j .. j + 16 kVec - 1 of kRows consecutive rows (hr[i]: row i's K hidden values, xr[i]:
// its D targets, dh_acc[i]: its [K, 16] lane sums of dL/da w). The point's w [K, D], b [D],
// dw [K, D], db [D]; sq: lane sums of e^2. Several vectors and rows at once give the core
// independent chains to overlap, and the rows share each load of w and each update of dw.
template <bool kDh, bool kDw, int kVec, int kRows>
SEMSEC_ALWAYS_INLINE void pixels(const float* const* hr, const float* const* xr, const float* w, const float* b,
                                 int64_t k, int64_t d, int64_t j, float unit, V& sq, float* dw, float* db,
                                 float* const* dh_acc) {
  constexpr int n = kVec * kLanes;
  V a[kRows][kVec];
  for (int v = 0; v < kVec; ++v) {
    const V bv = load(b + j + v * kLanes);
    for (int i = 0; i < kRows; ++i) a[i][v] = bv;
  }
  for (int64_t q = 0; q < k; ++q) {
    for (int v = 0; v < kVec; ++v) {
      const V wv = load(w + q * d + j + v * kLanes);
      for (int i = 0; i < kRows; ++i) a[i][v] += hr[i][q] * wv;
    }
  }
  V g[kRows][kVec];
  for (int i = 0; i < kRows; ++i) {
    float av[n], e2[n], gl[n];
    for (int v = 0; v < kVec; ++v) store(av + v * kLanes, a[i][v]);
    for (int l = 0; l < n; ++l) {
      const float s = sigmoid_f(av[l]);
      const float e = s - xr[i][j + l];
      e2[l] = e * e;
      gl[l] = unit * (2.0f * e * (s * (1.0f - s)));
    }
    for (int v = 0; v < kVec; ++v) {
      sq += load(e2 + v * kLanes);
      g[i][v] = load(gl + v * kLanes);
    }
  }
  if constexpr (kDw) {
    for (int v = 0; v < kVec; ++v) {
      V dbv = load(db + j + v * kLanes);
      for (int i = 0; i < kRows; ++i) dbv += g[i][v];
      store(db + j + v * kLanes, dbv);
    }
  }
  if constexpr (kDh || kDw) {
    for (int64_t q = 0; q < k; ++q) {
      const float* wq = w + q * d + j;
      float* dwq = kDw ? dw + q * d + j : nullptr;
      V acc[kRows];
      for (int v = 0; v < kVec; ++v) {
        const V wv = load(wq + v * kLanes);
        V dwv = kDw ? load(dwq + v * kLanes) : V{};
        for (int i = 0; i < kRows; ++i) {
          if constexpr (kDw) dwv += hr[i][q] * g[i][v];
          if constexpr (kDh) acc[i] = v == 0 ? g[i][v] * wv : acc[i] + g[i][v] * wv;
        }
        if constexpr (kDw) store(dwq + v * kLanes, dwv);
      }
      if constexpr (kDh) {
        for (int i = 0; i < kRows; ++i) store(dh_acc[i] + q * kLanes, load(dh_acc[i] + q * kLanes) + acc[i]);
      }
    }
  }
}

// The same for the last n < 16 pixels of a row.
template <bool kDh, bool kDw>
SEMSEC_ALWAYS_INLINE void tail_pixels(const float* hr, const float* w, const float* b, const float* xr, int64_t k,
                                      int64_t d, int64_t j, int n, float unit, V& sq, float* dw, float* db,
                                      float* dh_acc) {
  float a[kLanes] = {}, e2[kLanes] = {}, gl[kLanes] = {};
  for (int l = 0; l < n; ++l) a[l] = b[j + l];
  for (int64_t q = 0; q < k; ++q) {
    for (int l = 0; l < n; ++l) a[l] += hr[q] * w[q * d + j + l];
  }
  for (int l = 0; l < n; ++l) {
    const float s = sigmoid_f(a[l]);
    const float e = s - xr[j + l];
    e2[l] = e * e;
    gl[l] = unit * (2.0f * e * (s * (1.0f - s)));
  }
  sq += load(e2);
  if constexpr (kDw) {
    for (int l = 0; l < n; ++l) db[j + l] += gl[l];
  }
  if constexpr (kDh || kDw) {
    for (int64_t q = 0; q < k; ++q) {
      float wq[kLanes] = {};
      for (int l = 0; l < n; ++l) {
        if constexpr (kDw) dw[q * d + j + l] += hr[q] * gl[l];
        wq[l] = w[q * d + j + l];
      }
      if constexpr (kDh) store(dh_acc + q * kLanes, load(dh_acc + q * kLanes) + load(gl) * load(wq));
    }
  }
}

// kRows rows from r of point g over the pixels of one column block: their sum of e^2 (lanes, then
// double) and, with gradients, their dh_part rows (out: kRows x K).
template <bool kDh, bool kDw, int kRows>
SEMSEC_ALWAYS_INLINE double rows_of_block(const float* h, const float* x, const float* wg, const float* bg,
                                          const LinearLossShape& s, int64_t g, int64_t r, Cols cols, float unit,
                                          float* dwg, float* dbg, float* dh_acc, float* out) {
  const int64_t k = s.k, d = s.d;
  const float* hr[kRows];
  const float* xr[kRows];
  float* acc[kRows];
  for (int i = 0; i < kRows; ++i) {
    hr[i] = h + (g * s.batch + r + i) * k;
    xr[i] = x + (g * s.batch + r + i) * d;
    acc[i] = dh_acc + i * k * kLanes;
    // The block's pixels of a row are a few cache lines a row apart, which the hardware
    // prefetcher does not follow: ask for those of a later row now.
    if (r + i + kPrefetchRows < s.batch) {
      for (int64_t p = cols.begin; p < cols.end; p += kLanes) __builtin_prefetch(xr[i] + kPrefetchRows * d + p);
    }
  }
  if constexpr (kDh) std::fill(dh_acc, dh_acc + kRows * k * kLanes, 0.0f);
  V sq = {};
  int64_t j = cols.begin;
  // Four rows take two vectors of pixels at a time, fewer rows four: 8 accumulators either way,
  // which an AVX2 clone (two registers a vector) still holds.
  constexpr int kWide = kRows >= 4 ? 2 : 4;
  for (; j + kWide * kLanes <= cols.end; j += kWide * kLanes) {
    pixels<kDh, kDw, kWide, kRows>(hr, xr, wg, bg, k, d, j, unit, sq, dwg, dbg, acc);
  }
  if constexpr (kWide > 2) {
    if (j + 2 * kLanes <= cols.end) {
      pixels<kDh, kDw, 2, kRows>(hr, xr, wg, bg, k, d, j, unit, sq, dwg, dbg, acc);
      j += 2 * kLanes;
    }
  }
  if (j + kLanes <= cols.end) {
    pixels<kDh, kDw, 1, kRows>(hr, xr, wg, bg, k, d, j, unit, sq, dwg, dbg, acc);
    j += kLanes;
  }
  if (j < cols.end) {
    for (int i = 0; i < kRows; ++i) {
      tail_pixels<kDh, kDw>(hr[i], wg, bg, xr[i], k, d, j, static_cast<int>(cols.end - j), unit, sq, dwg, dbg, acc[i]);
    }
  }
  double total = 0.0;
  for (int l = 0; l < kLanes; ++l) total += static_cast<double>(sq[l]);
  if constexpr (kDh) {
    for (int i = 0; i < kRows; ++i) {
      for (int64_t q = 0; q < k; ++q) {
        float t = 0.0f;
        for (int l = 0; l < kLanes; ++l) t += acc[i][q * kLanes + l];
        out[i * k + q] = t;
      }
    }
  }
  return total;
}

// All rows of point g over the pixels of one column block.
template <bool kDh, bool kDw>
SEMSEC_ALWAYS_INLINE void block_rows(const float* h, const float* w, const float* b, const float* x,
                                     const LinearLossShape& s, int64_t g, int64_t c, int64_t blocks, double* sq,
                                     float* dh_part, float* dw, float* db) {
  const Cols cols = block_cols(c, blocks, s.d);
  const int64_t k = s.k, d = s.d;
  const float* wg = w + g * k * d;
  const float* bg = b + g * d;
  float* dwg = kDw ? dw + g * k * d : nullptr;
  float* dbg = kDw ? db + g * d : nullptr;
  if constexpr (kDw) {
    for (int64_t q = 0; q < k; ++q) std::fill(dwg + q * d + cols.begin, dwg + q * d + cols.end, 0.0f);
    std::fill(dbg + cols.begin, dbg + cols.end, 0.0f);
  }
  const float unit = static_cast<float>(1.0 / static_cast<double>(s.batch * d));
  std::vector<float> dh_acc(kDh ? static_cast<size_t>(4 * k * kLanes) : 0);
  double total = 0.0;
  // Rows four at a time (each load of w and each update of dW serves four rows), then a pair
  // and a single row for what is left of B.
  for (int64_t r = 0; r < s.batch;) {
    float* out = kDh ? dh_part + ((g * blocks + c) * s.batch + r) * k : nullptr;
    if (s.batch - r >= 4) {
      total += rows_of_block<kDh, kDw, 4>(h, x, wg, bg, s, g, r, cols, unit, dwg, dbg, dh_acc.data(), out);
      r += 4;
    } else if (s.batch - r >= 2) {
      total += rows_of_block<kDh, kDw, 2>(h, x, wg, bg, s, g, r, cols, unit, dwg, dbg, dh_acc.data(), out);
      r += 2;
    } else {
      total += rows_of_block<kDh, kDw, 1>(h, x, wg, bg, s, g, r, cols, unit, dwg, dbg, dh_acc.data(), out);
      r += 1;
    }
  }
  sq[g * blocks + c] = total;
}

SEMSEC_CPU_CLONES void block_task(const float* h, const float* w, const float* b, const float* x,
                                  const LinearLossShape& s, int64_t g, int64_t c, int64_t blocks, double* sq,
                                  float* dh_part, float* dw, float* db) {
  if (dh_part != nullptr && dw != nullptr) {
    block_rows<true, true>(h, w, b, x, s, g, c, blocks, sq, dh_part, dw, db);
  } else if (dh_part != nullptr) {
    block_rows<true, false>(h, w, b, x, s, g, c, blocks, sq, dh_part, dw, db);
  } else if (dw != nullptr) {
    block_rows<false, true>(h, w, b, x, s, g, c, blocks, sq, dh_part, dw, db);
  } else {
    block_rows<false, false>(h, w, b, x, s, g, c, blocks, sq, dh_part, dw, db);
  }
}

}  // namespace

int64_t linear_loss_blocks(int64_t d) {
  const int64_t vectors = (d + kLanes - 1) / kLanes;
  return (vectors + kBlockVectors - 1) / kBlockVectors;
}

void linear_sigmoid_mse_cpu(const float* h, const float* w, const float* b, const float* x, LinearLossShape s,
                            double* sq, float* dh_part, float* dw, float* db) {
  const int64_t blocks = linear_loss_blocks(s.d);
  at::parallel_for(0, s.points * blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t)
      block_task(h, w, b, x, s, t / blocks, t % blocks, blocks, sq, dh_part, dw, db);
  });
}

void linear_loss_reduce_dh(const float* dh_part, LinearLossShape s, float* dh) {
  const int64_t blocks = linear_loss_blocks(s.d), rows = s.points * s.batch;
  at::parallel_for(0, rows, 64, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t g = row / s.batch, r = row % s.batch;
      for (int64_t q = 0; q < s.k; ++q) {
        float t = 0.0f;
        for (int64_t c = 0; c < blocks; ++c) t += dh_part[((g * blocks + c) * s.batch + r) * s.k + q];
        dh[row * s.k + q] = t;
      }
    }
  });
}

}  // namespace semsec::kernels
