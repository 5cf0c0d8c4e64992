// CPU launchers of the ISAC channel: the shared math of isac_link.h in a loop over samples.
#include <ATen/Parallel.h>

#include "kernels/isac_link.h"

namespace semsec::kernels {

namespace {
// A sample costs ~10 Philox blocks plus L/2 per receiver: enough work per task at 64 samples.
constexpr int64_t kSampleGrain = 64;
}  // namespace

template <typename T>
void isac_link_forward_cpu(const IsacLinkArgs& a, const T* z, const T* phi, const T* snr_db, const int64_t* seeds,
                           int64_t step, T* y_bs, T* y_ue, T* y_eve, T* gains) {
  const int64_t n = a.num_grid * a.batch;
  const int64_t num_pairs = isac_num_pairs(a.length);
  const auto step32 = static_cast<uint32_t>(step);
  at::parallel_for(0, n, kSampleGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t g = i / a.batch;
      const auto b = static_cast<uint32_t>(i % a.batch);
      const rng::Key key = rng::make_key(static_cast<uint64_t>(seeds[g]));
      const IsacSample s = isac_sample(a, key, step32, b, static_cast<double>(phi[i]), static_cast<double>(snr_db[g]));
      isac_store_gains(s, gains + 6 * i);
      const int64_t row = 2 * a.length * i;
      for (int64_t k = 0; k < num_pairs; ++k) {
        isac_apply_sample_pair(a, s, key, step32, b, k, z + a.length * i, y_bs + row, y_ue + row, y_eve + row);
      }
    }
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
