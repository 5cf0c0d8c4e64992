// CUDA kernels of the link level: one thread per element, calling the same per-element functions
// as the CPU loop (link_level.h), so both devices decide the same bits for the same counters.
#include "kernels/launch.cuh"
#include "kernels/link_level/link_level_cuda.h"

namespace semsec::link {

namespace {

using kernels::launch_linear;
using kernels::thread_index;

__global__ void ber_kernel(int64_t n, BerArgs b, uint8_t* __restrict__ tx_bits, uint8_t* __restrict__ rx_bits,
                           uint8_t* __restrict__ errors) {
  const int64_t i = thread_index();
  if (i >= n) return;
  errors[i] = static_cast<uint8_t>(ber_element(i, b, tx_bits, rx_bits));
}

__global__ void channel_kernel(int64_t n, ChannelArgs c, double* __restrict__ h) {
  const int64_t i = thread_index();
  if (i >= n) return;
  channel_element(i, c, h);
}

__global__ void transmit_kernel(int64_t n, TransmitArgs t, const uint8_t* __restrict__ bits,
                                const double* __restrict__ h, const int64_t* __restrict__ beams,
                                const double* __restrict__ tau, uint8_t* __restrict__ rx_bits,
                                double* __restrict__ gain) {
  const int64_t i = thread_index();
  if (i >= n) return;
  transmit_element(i, t, bits, h, beams, tau, rx_bits, gain);
}

}  // namespace

void ber_blocks_cuda(int64_t n, const BerArgs& b, uint8_t* tx_bits, uint8_t* rx_bits, uint8_t* errors,
                     cudaStream_t stream) {
  launch_linear(ber_kernel, n, stream, b, tx_bits, rx_bits, errors);
}

void generate_channels_cuda(const ChannelArgs& c, double* h, cudaStream_t stream) {
  const int64_t n = static_cast<int64_t>(c.receivers.count) * c.num_samples;
  launch_linear(channel_kernel, n, stream, c, h);
}

void transmit_cuda(const TransmitArgs& t, const uint8_t* bits, const double* h, const int64_t* beams, const double* tau,
                   uint8_t* rx_bits, double* gain, cudaStream_t stream) {
  const int64_t n = t.num_receivers * t.num_samples * t.num_blocks;
  launch_linear(transmit_kernel, n, stream, t, bits, h, beams, tau, rx_bits, gain);
}

}  // namespace semsec::link
