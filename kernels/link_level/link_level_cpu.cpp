// CPU launchers of the link-level kernels: the shared math of link_level.h in parallel loops.
#include <ATen/Parallel.h>

#include "kernels/link_level/link_level.h"

namespace semsec::link {

namespace {
// A block costs a handful of Philox draws: a few thousand per task amortise the thread hand-off.
constexpr int64_t kBlockGrain = 4096;
constexpr int64_t kSampleGrain = 256;
}  // namespace

void ber_blocks_cpu(int64_t n, const BerArgs& b, uint8_t* tx_bits, uint8_t* rx_bits, uint8_t* errors) {
  at::parallel_for(0, n, kBlockGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) errors[i] = static_cast<uint8_t>(ber_element(i, b, tx_bits, rx_bits));
  });
}

void generate_channels_cpu(const ChannelArgs& c, double* h) {
  const int64_t n = static_cast<int64_t>(c.receivers.count) * c.num_samples;
  at::parallel_for(0, n, kSampleGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) channel_element(i, c, h);
  });
}

void transmit_cpu(const TransmitArgs& t, const uint8_t* bits, const double* h, const int64_t* beams, const double* tau,
                  uint8_t* rx_bits, double* gain) {
  const int64_t n = t.num_receivers * t.num_samples * t.num_blocks;
  at::parallel_for(0, n, kBlockGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) transmit_element(i, t, bits, h, beams, tau, rx_bits, gain);
  });
}

}  // namespace semsec::link
