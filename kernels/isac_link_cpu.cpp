// CPU launchers of the ISAC channel: the shared math of isac_link.h in a loop over samples.
// All Philox blocks of a sample are drawn in one list, Philox words first and Box-Muller second,
// in plain loops the compiler vectorises, compiled for AVX-512, AVX2 and baseline x86-64 and
// picked at load time (kernels/cpu_clones.h). Every version runs the same IEEE operations (no
// contraction), so all give the same bits.
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "kernels/isac_link.h"
#include "kernels/cpu_clones.h"

namespace semsec::kernels {

namespace {
// A sample costs ~10 Philox blocks plus L/2 per receiver: enough work per task at 64 samples.
constexpr int64_t kSampleGrain = 64;
constexpr size_t kLanes = 16;  // floats in an AVX-512 register

// Every Philox block one sample draws, in one list so that a single loop (vectorised across
// blocks) draws them all: the fading blocks, then the noise blocks of the BS, UE and Eve.
struct BlockList {
  std::vector<uint32_t> stream, block;
  int64_t fading = 0, pairs = 0;  // number of fading blocks; noise blocks (symbol pairs) per receiver
  std::vector<uint32_t> w0, w1, w2, w3;
  std::vector<float> normals;  // 4 per block, block-major: exactly normal4f of each block
  std::vector<float> zeros;    // the noise normals when the noise is off

  explicit BlockList(const IsacLinkArgs& a) : fading(isac_fading_blocks(a)), pairs(isac_num_pairs(a.length)) {
    for (int64_t k = 0; k < fading; ++k) {
      stream.push_back(isac_stream(a, rng::kStreamFading));
      block.push_back(static_cast<uint32_t>(k));
    }
    if (a.noise) {
      for (const uint32_t s : {rng::kStreamNoiseBs, rng::kStreamNoiseUe, rng::kStreamNoiseEve}) {
        for (int64_t k = 0; k < pairs; ++k) {
          stream.push_back(isac_stream(a, s));
          block.push_back(static_cast<uint32_t>(k));
        }
      }
    }
    // Padded to whole vectors of 16 lanes with unused blocks: the scalar remainder loop would
    // otherwise cost as much as the vector loop.
    while (stream.size() % kLanes != 0) {
      stream.push_back(0);
      block.push_back(0);
    }
    const size_t n = stream.size();
    w0.resize(n), w1.resize(n), w2.resize(n), w3.resize(n);
    normals.assign(4 * n, 0.0f);
    if (!a.noise) zeros.assign(4 * pairs, 0.0f);
  }
  // The 2L normals of receiver r (0 BS, 1 UE, 2 Eve): symbol l takes [2l], [2l + 1].
  const float* noise(int r) const { return zeros.empty() ? normals.data() + 4 * (fading + r * pairs) : zeros.data(); }
};

// The Philox words of n blocks, and then their normals: plain loops over blocks, each its own
// cloned function so the compiler vectorises it across blocks for the CPU it runs on.
SEMSEC_CPU_CLONES void philox_words(rng::Key key, const uint32_t* __restrict__ stream,
                                    const uint32_t* __restrict__ block, uint32_t step, uint32_t sample, int64_t n,
                                    uint32_t* __restrict__ w0, uint32_t* __restrict__ w1, uint32_t* __restrict__ w2,
                                    uint32_t* __restrict__ w3) {
  for (int64_t j = 0; j < n; ++j) {
    const rng::Philox4 r = rng::draw(key, stream[j], step, sample, block[j]);
    w0[j] = r.v[0];
    w1[j] = r.v[1];
    w2[j] = r.v[2];
    w3[j] = r.v[3];
  }
}

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

void draw_blocks(BlockList& list, rng::Key key, uint32_t step, uint32_t sample) {
  const auto n = static_cast<int64_t>(list.stream.size());
  philox_words(key, list.stream.data(), list.block.data(), step, sample, n, list.w0.data(), list.w1.data(),
               list.w2.data(), list.w3.data());
  box_muller_words(n, list.w0.data(), list.w1.data(), list.w2.data(), list.w3.data(), list.normals.data());
}

template <typename T>
SEMSEC_ALWAYS_INLINE void apply_receiver(int64_t length, Cplx s, Cplx e, double sigma, const float* __restrict__ n,
                                         const T* __restrict__ z, T* __restrict__ y) {
  for (int64_t l = 0; l < length; ++l) isac_symbol(s, e, sigma, n[2 * l], n[2 * l + 1], z[l], y[2 * l], y[2 * l + 1]);
}

template <typename T>
SEMSEC_ALWAYS_INLINE void forward_range(const IsacLinkArgs& a, const T* z, const T* phi, const T* snr_db,
                                        const int64_t* seeds, uint32_t step, T* y_bs, T* y_ue, T* y_eve, T* gains,
                                        int64_t begin, int64_t end) {
  BlockList list(a);
  const Cplx one{1.0, 0.0};
  for (int64_t i = begin; i < end; ++i) {
    const int64_t g = i / a.batch;
    const auto b = static_cast<uint32_t>(i % a.batch);
    draw_blocks(list, rng::make_key(static_cast<uint64_t>(seeds[g])), step, b);
    const IsacSample s = isac_sample(a, isac_fading_from(a, list.normals.data()), static_cast<double>(phi[i]),
                                     static_cast<double>(snr_db[g]));
    isac_store_gains(s, gains + 6 * i);
    const int64_t row = 2 * a.length * i;
    const T* zi = z + a.length * i;
    apply_receiver(a.length, s.s_bs, one, s.sigma_bs, list.noise(0), zi, y_bs + row);
    apply_receiver(a.length, s.s_ue, s.c_ue, s.sigma_ue, list.noise(1), zi, y_ue + row);
    apply_receiver(a.length, s.s_eve, one, s.sigma_eve, list.noise(2), zi, y_eve + row);
  }
}

SEMSEC_CPU_CLONES void forward_range_float(const IsacLinkArgs& a, const float* z, const float* phi,
                                           const float* snr_db, const int64_t* seeds, uint32_t step, float* y_bs,
                                           float* y_ue, float* y_eve, float* gains, int64_t begin, int64_t end) {
  forward_range(a, z, phi, snr_db, seeds, step, y_bs, y_ue, y_eve, gains, begin, end);
}

SEMSEC_CPU_CLONES void forward_range_double(const IsacLinkArgs& a, const double* z, const double* phi,
                                            const double* snr_db, const int64_t* seeds, uint32_t step,
                                            double* y_bs, double* y_ue, double* y_eve, double* gains, int64_t begin,
                                            int64_t end) {
  forward_range(a, z, phi, snr_db, seeds, step, y_bs, y_ue, y_eve, gains, begin, end);
}

void forward_range_any(const IsacLinkArgs& a, const float* z, const float* phi, const float* snr_db,
                       const int64_t* seeds, uint32_t step, float* y_bs, float* y_ue, float* y_eve, float* gains,
                       int64_t begin, int64_t end) {
  forward_range_float(a, z, phi, snr_db, seeds, step, y_bs, y_ue, y_eve, gains, begin, end);
}

void forward_range_any(const IsacLinkArgs& a, const double* z, const double* phi, const double* snr_db,
                       const int64_t* seeds, uint32_t step, double* y_bs, double* y_ue, double* y_eve,
                       double* gains, int64_t begin, int64_t end) {
  forward_range_double(a, z, phi, snr_db, seeds, step, y_bs, y_ue, y_eve, gains, begin, end);
}

}  // namespace

template <typename T>
void isac_link_forward_cpu(const IsacLinkArgs& a, const T* z, const T* phi, const T* snr_db, const int64_t* seeds,
                           int64_t step, T* y_bs, T* y_ue, T* y_eve, T* gains) {
  const auto step32 = static_cast<uint32_t>(step);
  at::parallel_for(0, a.num_grid * a.batch, kSampleGrain, [&](int64_t begin, int64_t end) {
    forward_range_any(a, z, phi, snr_db, seeds, step32, y_bs, y_ue, y_eve, gains, begin, end);
  });
}

template <typename T>
void isac_link_backward_cpu(int64_t num_grid, int64_t batch, int64_t length, const T* gains, const T* gy_bs,
                            const T* gy_ue, const T* gy_eve, T* grad_z) {
  const int64_t n = num_grid * batch;
  at::parallel_for(0, n, kSampleGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t row = 2 * length * i;
      for (int64_t l = 0; l < length; ++l) {
        grad_z[length * i + l] = isac_grad_z(gains + 6 * i, gy_bs + row, gy_ue + row, gy_eve + row, l);
      }
    }
  });
}

template void isac_link_forward_cpu<float>(const IsacLinkArgs&, const float*, const float*, const float*,
                                           const int64_t*, int64_t, float*, float*, float*, float*);
template void isac_link_forward_cpu<double>(const IsacLinkArgs&, const double*, const double*, const double*,
                                            const int64_t*, int64_t, double*, double*, double*, double*);
template void isac_link_backward_cpu<float>(int64_t, int64_t, int64_t, const float*, const float*, const float*,
                                            const float*, float*);
template void isac_link_backward_cpu<double>(int64_t, int64_t, int64_t, const double*, const double*,
                                             const double*, const double*, double*);

}  // namespace semsec::kernels
