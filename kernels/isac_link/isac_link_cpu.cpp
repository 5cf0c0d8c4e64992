// CPU launchers of the ISAC channel: the shared math of isac_link.h in a loop over chunks of
// kChunk samples of one grid point. A chunk's Philox blocks are drawn in one list (Philox words,
// then Box-Muller normals: long loops vectorised across blocks), its steering sums and effective
// channels are formed with one sample per vector lane, and its symbols in loops vectorised across
// symbols. The loops are compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time
// (kernels/cpu_clones.h); every version runs the same IEEE operations in the same order (no
// contraction), so all give the same bits, and the bits of the per-sample path the CUDA kernels
// take (a test checks).
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "kernels/cpu_clones.h"
#include "kernels/isac_link/isac_link.h"

#if SEMSEC_X86_GNU
#include <immintrin.h>
#endif

namespace semsec::kernels {

namespace {
// A sample costs ~10 Philox blocks plus L/2 per receiver: enough work per task at 64 samples.
constexpr int64_t kSampleGrain = 64;
constexpr size_t kLanes = 16;  // floats in an AVX-512 register
constexpr int64_t kChunk = 8;  // samples per chunk: doubles in an AVX-512 register

std::atomic<bool> avx512_allowed{true};  // isac_link_cpu_allow_avx512

// kChunk doubles, one sample each (GCC vector extension: element-wise IEEE operations).
using Lanes = double __attribute__((vector_size(kChunk * sizeof(double))));

// What a chunk draws: the whole link (the fused forward), the fading only (generate) or the
// noise only (apply). Each block keeps its counter, so a part's normals are the whole's.
enum class Part { kAll, kFading, kNoise };

// The Philox blocks of one chunk, sample-major: each sample's fading blocks, then the noise
// blocks of the BS, UE and Eve (one per symbol pair), padded to whole vectors of 16 lanes.
struct ChunkDraws {
  int64_t fading = 0, pairs = 0, per_sample = 0;
  std::vector<uint32_t> stream, block, sample;
  std::vector<uint32_t> w0, w1, w2, w3;
  std::vector<float> normals;  // 4 per block: exactly normal4f of each block
  std::vector<float> zeros;    // the noise normals when the noise is off

  ChunkDraws(const IsacLinkArgs& a, Part part)
      : fading(part == Part::kNoise ? 0 : isac_fading_blocks(a)),
        pairs(isac_num_pairs(a.length)),
        per_sample(fading + (a.noise && part != Part::kFading ? 3 * pairs : 0)) {
    for (int64_t c = 0; c < kChunk; ++c) {
      for (int64_t k = 0; k < fading; ++k) {
        stream.push_back(isac_stream(a, rng::kStreamFading));
        block.push_back(static_cast<uint32_t>(k));
      }
      if (a.noise && part != Part::kFading) {
        for (const uint32_t st : {rng::kStreamNoiseBs, rng::kStreamNoiseUe, rng::kStreamNoiseEve}) {
          for (int64_t k = 0; k < pairs; ++k) {
            stream.push_back(isac_stream(a, st));
            block.push_back(static_cast<uint32_t>(k));
          }
        }
      }
    }
    while (stream.size() % kLanes != 0) {
      stream.push_back(0);
      block.push_back(0);
    }
    const size_t n = stream.size();
    sample.assign(n, 0);
    w0.resize(n), w1.resize(n), w2.resize(n), w3.resize(n);
    normals.assign(4 * n, 0.0f);
    if (!a.noise) zeros.assign(4 * pairs, 0.0f);
  }
  // Blocks to draw for the first `count` samples, whole vectors.
  int64_t blocks_for(int64_t count) const {
    return (count * per_sample + static_cast<int64_t>(kLanes) - 1) / static_cast<int64_t>(kLanes) *
           static_cast<int64_t>(kLanes);
  }
  const float* fading_normals(int64_t c) const { return normals.data() + 4 * per_sample * c; }
  // The 2L normals of receiver r (0 BS, 1 UE, 2 Eve) of sample c: symbol l takes [2l], [2l + 1].
  const float* noise(int64_t c, int r) const {
    return zeros.empty() ? fading_normals(c) + 4 * (fading + r * pairs) : zeros.data();
  }
};

// The Philox words of n blocks, and then their normals: plain loops over blocks, each its own
// cloned function so the compiler vectorises it across blocks for the CPU it runs on.
SEMSEC_CPU_CLONES void philox_words(rng::Key key, const uint32_t* __restrict__ stream,
                                    const uint32_t* __restrict__ block, const uint32_t* __restrict__ sample,
                                    uint32_t step, int64_t n, uint32_t* __restrict__ w0, uint32_t* __restrict__ w1,
                                    uint32_t* __restrict__ w2, uint32_t* __restrict__ w3) {
  for (int64_t j = 0; j < n; ++j) {
    const rng::Philox4 r = rng::draw(key, stream[j], step, sample[j], block[j]);
    w0[j] = r.v[0];
    w1[j] = r.v[1];
    w2[j] = r.v[2];
    w3[j] = r.v[3];
  }
}

#if SEMSEC_X86_GNU
// GCC 12's AVX-512 intrinsics trip -Wmaybe-uninitialized on their own _mm512_undefined operands
// (GCC bug 105593, fixed in 13).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// hi and lo words of m * x in each 32-bit lane.
__attribute__((target("avx512f"), always_inline)) inline void mulhilo_avx512(__m512i m, __m512i x, __m512i& hi,
                                                                             __m512i& lo) {
  const __mmask16 odd = 0xAAAA;
  const __m512i even = _mm512_mul_epu32(x, m);                         // lanes 0, 2, ...: 64-bit products
  const __m512i oddp = _mm512_mul_epu32(_mm512_srli_epi64(x, 32), m);  // lanes 1, 3, ...
  hi = _mm512_mask_blend_epi32(odd, _mm512_srli_epi64(even, 32), oddp);
  lo = _mm512_mask_blend_epi32(odd, even, _mm512_slli_epi64(oddp, 32));
}

// philox_words for AVX-512 by hand, 16 blocks per iteration (n a multiple of 16): GCC's vector
// code for the 32 x 32 -> 64-bit products of the scalar loop widens every word to 64 bits and
// back, three times the instructions of two vpmuludq and two blends per product. Integer
// arithmetic only, so the words are exactly those of rng::draw.
__attribute__((target("avx512f"))) void philox_words_avx512(rng::Key key, const uint32_t* __restrict__ stream,
                                                            const uint32_t* __restrict__ block,
                                                            const uint32_t* __restrict__ sample, uint32_t step,
                                                            int64_t n, uint32_t* __restrict__ w0,
                                                            uint32_t* __restrict__ w1, uint32_t* __restrict__ w2,
                                                            uint32_t* __restrict__ w3) {
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(rng::kPhiloxM0));
  const __m512i m1 = _mm512_set1_epi32(static_cast<int>(rng::kPhiloxM1));
  for (int64_t j = 0; j < n; j += 16) {
    __m512i c0 = _mm512_loadu_si512(block + j);
    __m512i c1 = _mm512_loadu_si512(sample + j);
    __m512i c2 = _mm512_set1_epi32(static_cast<int>(step));
    __m512i c3 = _mm512_loadu_si512(stream + j);
    uint32_t k0 = key.k0, k1 = key.k1;
    for (int round = 0; round < 10; ++round) {
      if (round > 0) {
        k0 += rng::kPhiloxW0;
        k1 += rng::kPhiloxW1;
      }
      __m512i hi0, lo0, hi1, lo1;
      mulhilo_avx512(m0, c0, hi0, lo0);
      mulhilo_avx512(m1, c2, hi1, lo1);
      c0 = _mm512_ternarylogic_epi32(hi1, c1, _mm512_set1_epi32(static_cast<int>(k0)), 0x96);  // a ^ b ^ c
      c1 = lo1;
      c2 = _mm512_ternarylogic_epi32(hi0, c3, _mm512_set1_epi32(static_cast<int>(k1)), 0x96);
      c3 = lo0;
    }
    _mm512_storeu_si512(w0 + j, c0);
    _mm512_storeu_si512(w1 + j, c1);
    _mm512_storeu_si512(w2 + j, c2);
    _mm512_storeu_si512(w3 + j, c3);
  }
}
#pragma GCC diagnostic pop

// Whether this CPU (and its OS) runs AVX-512; asked once. __builtin_cpu_init first, since this may
// run before libgcc's own constructor has filled in the CPU model.
bool cpu_has_avx512() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return yes;
}

bool has_avx512() { return avx512_allowed.load(std::memory_order_relaxed) && cpu_has_avx512(); }
#endif

SEMSEC_CPU_CLONES void box_muller_words(int64_t n, const uint32_t* __restrict__ w0, const uint32_t* __restrict__ w1,
                                        const uint32_t* __restrict__ w2, const uint32_t* __restrict__ w3,
                                        float* __restrict__ out) {
  for (int64_t j = 0; j < n; ++j) {
    float n0, n1, n2, n3;
    rng::box_muller_f(w0[j], w1[j], n0, n1);
    rng::box_muller_f(w2[j], w3[j], n2, n3);
    out[4 * j] = n0;
    out[4 * j + 1] = n1;
    out[4 * j + 2] = n2;
    out[4 * j + 3] = n3;
  }
}

// Draws the blocks of samples first .. first + count - 1 (count <= kChunk) of one grid point.
void draw_chunk(ChunkDraws& d, rng::Key key, uint32_t step, uint32_t first, int64_t count) {
  for (int64_t c = 0; c < count; ++c) {
    std::fill_n(d.sample.begin() + c * d.per_sample, d.per_sample, first + static_cast<uint32_t>(c));
  }
  const int64_t n = d.blocks_for(count);
#if SEMSEC_X86_GNU
  if (has_avx512()) {
    philox_words_avx512(key, d.stream.data(), d.block.data(), d.sample.data(), step, n, d.w0.data(), d.w1.data(),
                        d.w2.data(), d.w3.data());
  } else
#endif
    philox_words(key, d.stream.data(), d.block.data(), d.sample.data(), step, n, d.w0.data(), d.w1.data(), d.w2.data(),
                 d.w3.data());
  box_muller_words(n, d.w0.data(), d.w1.data(), d.w2.data(), d.w3.data(), d.normals.data());
}

template <typename T>
SEMSEC_ALWAYS_INLINE void apply_receiver(int64_t length, Cplx s, Cplx e, double sigma, const float* __restrict__ n,
                                         const T* __restrict__ z, T* __restrict__ y) {
  for (int64_t l = 0; l < length; ++l) isac_symbol(s, e, sigma, n[2 * l], n[2 * l + 1], z[l], y[2 * l], y[2 * l + 1]);
}

// Calls fn(g, i, count) for consecutive chunks i .. i + count - 1 of samples [begin, end), each
// inside one grid point g and at most kChunk long, after drawing the chunk's blocks into d.
template <typename Fn>
SEMSEC_ALWAYS_INLINE void for_each_chunk(const IsacLinkArgs& a, const int64_t* seeds, uint32_t step, ChunkDraws& d,
                                         int64_t begin, int64_t end, Fn fn) {
  int64_t g = -1;
  rng::Key key{};
  for (int64_t i = begin; i < end;) {
    if (i / a.batch != g) {
      g = i / a.batch;
      key = rng::make_key(static_cast<uint64_t>(seeds[g]));
    }
    const int64_t count = std::min({kChunk, end - i, (g + 1) * a.batch - i});
    draw_chunk(d, key, step, static_cast<uint32_t>(i - g * a.batch), count);
    fn(g, i, count);
    i += count;
  }
}

// The states of a chunk's samples i .. i + count - 1 from their fading normals in d: steering
// sums and effective channels with one sample per lane (unused lanes: rot = 1, n = 0).
template <typename T>
SEMSEC_ALWAYS_INLINE void chunk_samples(const IsacLinkArgs& a, const ChunkDraws& d, const T* phi, const T* snr_db,
                                        int64_t g, int64_t i, int64_t count, IsacSample* __restrict__ out,
                                        T* __restrict__ gains) {
  const IsacPoint point = isac_point(a, static_cast<double>(snr_db[g]));
  CplxT<Lanes> rot{Lanes{} + 1.0, Lanes{}};
  for (int64_t c = 0; c < count; ++c) {
    const Cplx r = isac_steering_rotation(static_cast<double>(phi[i + c]));
    rot.re[c] = r.re;
    rot.im[c] = r.im;
  }
  const CplxT<Lanes> steer = isac_steering_sum(a, rot);
  const CplxT<Lanes> h_eff = isac_h_eff<Lanes>(a, [&](int k) {
    Lanes v{};
    for (int64_t c = 0; c < count; ++c) v[c] = static_cast<double>(d.fading_normals(c)[k]);
    return v;
  });
  for (int64_t c = 0; c < count; ++c) {
    const IsacFading f{Cplx{h_eff.re[c], h_eff.im[c]}, isac_si_gain(a, d.fading_normals(c)),
                       isac_alpha_phase(a, d.fading_normals(c))};
    out[c] =
        isac_sample_from(f, isac_sensing_with_phase(a, f, isac_sensing_from(a, Cplx{steer.re[c], steer.im[c]})), point);
    isac_store_gains(out[c], gains + 6 * (i + c));
  }
}

// The symbols of samples i .. i + count - 1 through their states s[0 .. count), noise from d.
template <typename T>
SEMSEC_ALWAYS_INLINE void chunk_apply(const IsacLinkArgs& a, const ChunkDraws& d, const IsacSample* s, const T* z,
                                      int64_t i, int64_t count, T* y_bs, T* y_ue, T* y_eve) {
  const Cplx one{1.0, 0.0};
  for (int64_t c = 0; c < count; ++c) {
    const int64_t row = 2 * a.length * (i + c);
    const T* zi = z + a.length * (i + c);
    apply_receiver(a.length, s[c].s_bs, one, s[c].sigma_bs, d.noise(c, 0), zi, y_bs + row);
    apply_receiver(a.length, s[c].s_ue, s[c].c_ue, s[c].sigma_ue, d.noise(c, 1), zi, y_ue + row);
    apply_receiver(a.length, s[c].s_eve, one, s[c].sigma_eve, d.noise(c, 2), zi, y_eve + row);
  }
}

// The fused forward: each chunk's fading and noise drawn in one list, its states kept on the stack.
template <typename T>
SEMSEC_ALWAYS_INLINE void forward_range(const IsacLinkArgs& a, const T* z, const T* phi, const T* snr_db,
                                        const int64_t* seeds, uint32_t step, T* y_bs, T* y_ue, T* y_eve, T* gains,
                                        int64_t begin, int64_t end) {
  ChunkDraws d(a, Part::kAll);
  for_each_chunk(a, seeds, step, d, begin, end, [&](int64_t g, int64_t i, int64_t count) {
    IsacSample s[kChunk];
    chunk_samples(a, d, phi, snr_db, g, i, count, s, gains);
    chunk_apply(a, d, s, z, i, count, y_bs, y_ue, y_eve);
  });
}

template <typename T>
SEMSEC_ALWAYS_INLINE void generate_range(const IsacLinkArgs& a, const T* phi, const T* snr_db, const int64_t* seeds,
                                         uint32_t step, IsacSample* samples, T* gains, int64_t begin, int64_t end) {
  ChunkDraws d(a, Part::kFading);
  for_each_chunk(a, seeds, step, d, begin, end, [&](int64_t g, int64_t i, int64_t count) {
    chunk_samples(a, d, phi, snr_db, g, i, count, samples + i, gains);
  });
}

template <typename T>
SEMSEC_ALWAYS_INLINE void apply_range(const IsacLinkArgs& a, const T* z, const IsacSample* samples,
                                      const int64_t* seeds, uint32_t step, T* y_bs, T* y_ue, T* y_eve, int64_t begin,
                                      int64_t end) {
  ChunkDraws d(a, Part::kNoise);
  for_each_chunk(a, seeds, step, d, begin, end, [&](int64_t, int64_t i, int64_t count) {
    chunk_apply(a, d, samples + i, z, i, count, y_bs, y_ue, y_eve);
  });
}

// Each loop once per scalar type, as its own cloned function (cpu_clones.h: target_clones takes
// no templates); the overloads let the launchers below stay templates.
#define SEMSEC_ISAC_CPU_LOOPS(T)                                                                                    \
  SEMSEC_CPU_CLONES void forward_loop(const IsacLinkArgs& a, const T* z, const T* phi, const T* snr_db,             \
                                      const int64_t* seeds, uint32_t step, T* y_bs, T* y_ue, T* y_eve, T* gains,    \
                                      int64_t begin, int64_t end) {                                                 \
    forward_range(a, z, phi, snr_db, seeds, step, y_bs, y_ue, y_eve, gains, begin, end);                            \
  }                                                                                                                 \
  SEMSEC_CPU_CLONES void generate_loop(const IsacLinkArgs& a, const T* phi, const T* snr_db, const int64_t* seeds,  \
                                       uint32_t step, IsacSample* samples, T* gains, int64_t begin, int64_t end) {  \
    generate_range(a, phi, snr_db, seeds, step, samples, gains, begin, end);                                        \
  }                                                                                                                 \
  SEMSEC_CPU_CLONES void apply_loop(const IsacLinkArgs& a, const T* z, const IsacSample* samples,                   \
                                    const int64_t* seeds, uint32_t step, T* y_bs, T* y_ue, T* y_eve, int64_t begin, \
                                    int64_t end) {                                                                  \
    apply_range(a, z, samples, seeds, step, y_bs, y_ue, y_eve, begin, end);                                         \
  }
SEMSEC_ISAC_CPU_LOOPS(float)
SEMSEC_ISAC_CPU_LOOPS(double)
#undef SEMSEC_ISAC_CPU_LOOPS

// grad_z of samples [begin, end): loops over symbols, vectorised across them.
template <typename T>
SEMSEC_ALWAYS_INLINE void backward_range(int64_t length, const T* gains, const T* gy_bs, const T* gy_ue,
                                         const T* gy_eve, T* __restrict__ grad_z, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const int64_t row = 2 * length * i;
    T* __restrict__ out = grad_z + length * i;
    for (int64_t l = 0; l < length; ++l) out[l] = isac_grad_z(gains + 6 * i, gy_bs + row, gy_ue + row, gy_eve + row, l);
  }
}

SEMSEC_CPU_CLONES void backward_range_any(int64_t length, const float* gains, const float* gy_bs, const float* gy_ue,
                                          const float* gy_eve, float* grad_z, int64_t begin, int64_t end) {
  backward_range(length, gains, gy_bs, gy_ue, gy_eve, grad_z, begin, end);
}

SEMSEC_CPU_CLONES void backward_range_any(int64_t length, const double* gains, const double* gy_bs, const double* gy_ue,
                                          const double* gy_eve, double* grad_z, int64_t begin, int64_t end) {
  backward_range(length, gains, gy_bs, gy_ue, gy_eve, grad_z, begin, end);
}

}  // namespace

bool isac_link_cpu_allow_avx512(bool allowed) { return avx512_allowed.exchange(allowed); }

template <typename T>
void isac_link_forward_cpu(const IsacLinkArgs& a, const T* z, const T* phi, const T* snr_db, const int64_t* seeds,
                           int64_t step, T* y_bs, T* y_ue, T* y_eve, T* gains) {
  const auto step32 = static_cast<uint32_t>(step);
  at::parallel_for(0, a.num_grid * a.batch, kSampleGrain, [&](int64_t begin, int64_t end) {
    forward_loop(a, z, phi, snr_db, seeds, step32, y_bs, y_ue, y_eve, gains, begin, end);
  });
}

template <typename T>
void isac_link_generate_cpu(const IsacLinkArgs& a, const T* phi, const T* snr_db, const int64_t* seeds, int64_t step,
                            IsacSample* samples, T* gains) {
  const auto step32 = static_cast<uint32_t>(step);
  at::parallel_for(0, a.num_grid * a.batch, kSampleGrain, [&](int64_t begin, int64_t end) {
    generate_loop(a, phi, snr_db, seeds, step32, samples, gains, begin, end);
  });
}

template <typename T>
void isac_link_apply_cpu(const IsacLinkArgs& a, const T* z, const IsacSample* samples, const int64_t* seeds,
                         int64_t step, T* y_bs, T* y_ue, T* y_eve) {
  const auto step32 = static_cast<uint32_t>(step);
  at::parallel_for(0, a.num_grid * a.batch, kSampleGrain, [&](int64_t begin, int64_t end) {
    apply_loop(a, z, samples, seeds, step32, y_bs, y_ue, y_eve, begin, end);
  });
}

template <typename T>
void isac_link_backward_cpu(int64_t num_grid, int64_t batch, int64_t length, const T* gains, const T* gy_bs,
                            const T* gy_ue, const T* gy_eve, T* grad_z) {
  const int64_t n = num_grid * batch;
  at::parallel_for(0, n, kSampleGrain, [&](int64_t begin, int64_t end) {
    backward_range_any(length, gains, gy_bs, gy_ue, gy_eve, grad_z, begin, end);
  });
}

template void isac_link_forward_cpu<float>(const IsacLinkArgs&, const float*, const float*, const float*,
                                           const int64_t*, int64_t, float*, float*, float*, float*);
template void isac_link_forward_cpu<double>(const IsacLinkArgs&, const double*, const double*, const double*,
                                            const int64_t*, int64_t, double*, double*, double*, double*);
template void isac_link_generate_cpu<float>(const IsacLinkArgs&, const float*, const float*, const int64_t*, int64_t,
                                            IsacSample*, float*);
template void isac_link_generate_cpu<double>(const IsacLinkArgs&, const double*, const double*, const int64_t*, int64_t,
                                             IsacSample*, double*);
template void isac_link_apply_cpu<float>(const IsacLinkArgs&, const float*, const IsacSample*, const int64_t*, int64_t,
                                         float*, float*, float*);
template void isac_link_apply_cpu<double>(const IsacLinkArgs&, const double*, const IsacSample*, const int64_t*,
                                          int64_t, double*, double*, double*);
template void isac_link_backward_cpu<float>(int64_t, int64_t, int64_t, const float*, const float*, const float*,
                                            const float*, float*);
template void isac_link_backward_cpu<double>(int64_t, int64_t, int64_t, const double*, const double*, const double*,
                                             const double*, double*);

}  // namespace semsec::kernels
