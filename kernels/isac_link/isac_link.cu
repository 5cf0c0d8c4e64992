// CUDA kernels of the ISAC channel: the shared math of isac_link.h, one thread per sample for the
// channel state (generate), then one thread per (sample, symbol pair) for the outputs (apply).
#include "kernels/isac_link/isac_link_cuda.h"
#include "kernels/launch.cuh"

namespace semsec::kernels {

namespace {

template <typename T>
__global__ void isac_sample_kernel(int64_t n, IsacLinkArgs a, const T* __restrict__ phi, const T* __restrict__ snr_db,
                                   const int64_t* __restrict__ seeds, const int64_t* __restrict__ counter,
                                   IsacSample* __restrict__ samples, T* __restrict__ gains) {
  const int64_t i = thread_index();
  if (i >= n) return;
  const int64_t g = i / a.batch;
  const auto b = static_cast<uint32_t>(i % a.batch);
  const rng::Key key = rng::make_key(static_cast<uint64_t>(seeds[g]));
  const IsacSample s = isac_sample(a, isac_fading(a, key, static_cast<uint32_t>(counter[0]), b),
                                   static_cast<double>(phi[i]), static_cast<double>(snr_db[g]));
  samples[i] = s;
  isac_store_gains(s, gains + 6 * i);
}

template <typename T>
__global__ void isac_apply_kernel(int64_t n, IsacLinkArgs a, const T* __restrict__ z,
                                  const IsacSample* __restrict__ samples, const int64_t* __restrict__ seeds,
                                  const int64_t* __restrict__ counter, T* __restrict__ y_bs, T* __restrict__ y_ue,
                                  T* __restrict__ y_eve) {
  const int64_t i = thread_index();
  if (i >= n) return;
  const int64_t num_pairs = isac_num_pairs(a.length);
  const int64_t sample = i / num_pairs;
  const int64_t k = i % num_pairs;
  const int64_t g = sample / a.batch;
  const auto b = static_cast<uint32_t>(sample % a.batch);
  const rng::Key key = rng::make_key(static_cast<uint64_t>(seeds[g]));
  const int64_t row = 2 * a.length * sample;
  isac_apply_sample_pair(a, samples[sample], key, static_cast<uint32_t>(counter[0]), b, k, z + a.length * sample,
                         y_bs + row, y_ue + row, y_eve + row);
}

template <typename T>
__global__ void isac_backward_kernel(int64_t n, int64_t length, const T* __restrict__ gains,
                                     const T* __restrict__ gy_bs, const T* __restrict__ gy_ue,
                                     const T* __restrict__ gy_eve, T* __restrict__ grad_z) {
  const int64_t i = thread_index();
  if (i >= n) return;
  const int64_t sample = i / length;
  const int64_t l = i % length;
  const int64_t row = 2 * length * sample;
  grad_z[i] = isac_grad_z(gains + 6 * sample, gy_bs + row, gy_ue + row, gy_eve + row, l);
}

}  // namespace

template <typename T>
void isac_link_generate_cuda(const IsacLinkArgs& a, const T* phi, const T* snr_db, const int64_t* seeds,
                             const int64_t* counter, IsacSample* samples, T* gains, cudaStream_t stream) {
  launch_linear(isac_sample_kernel<T>, a.num_grid * a.batch, stream, a, phi, snr_db, seeds, counter, samples, gains);
}

template <typename T>
void isac_link_apply_cuda(const IsacLinkArgs& a, const T* z, const IsacSample* samples, const int64_t* seeds,
                          const int64_t* counter, T* y_bs, T* y_ue, T* y_eve, cudaStream_t stream) {
  launch_linear(isac_apply_kernel<T>, a.num_grid * a.batch * isac_num_pairs(a.length), stream, a, z, samples, seeds,
                counter, y_bs, y_ue, y_eve);
}

template <typename T>
void isac_link_backward_cuda(int64_t num_grid, int64_t batch, int64_t length, const T* gains, const T* gy_bs,
                             const T* gy_ue, const T* gy_eve, T* grad_z, cudaStream_t stream) {
  launch_linear(isac_backward_kernel<T>, num_grid * batch * length, stream, length, gains, gy_bs, gy_ue, gy_eve,
                grad_z);
}

template void isac_link_generate_cuda<float>(const IsacLinkArgs&, const float*, const float*, const int64_t*,
                                             const int64_t*, IsacSample*, float*, cudaStream_t);
template void isac_link_generate_cuda<double>(const IsacLinkArgs&, const double*, const double*, const int64_t*,
                                              const int64_t*, IsacSample*, double*, cudaStream_t);
template void isac_link_apply_cuda<float>(const IsacLinkArgs&, const float*, const IsacSample*, const int64_t*,
                                          const int64_t*, float*, float*, float*, cudaStream_t);
template void isac_link_apply_cuda<double>(const IsacLinkArgs&, const double*, const IsacSample*, const int64_t*,
                                           const int64_t*, double*, double*, double*, cudaStream_t);
template void isac_link_backward_cuda<float>(int64_t, int64_t, int64_t, const float*, const float*, const float*,
                                             const float*, float*, cudaStream_t);
template void isac_link_backward_cuda<double>(int64_t, int64_t, int64_t, const double*, const double*, const double*,
                                              const double*, double*, cudaStream_t);

}  // namespace semsec::kernels
