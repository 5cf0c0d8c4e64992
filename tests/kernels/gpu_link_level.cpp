// CPU == CUDA for the link-level kernels: the same counters give the same bits, channels, gains
// and decisions on both devices. Skips without a GPU.
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/link_level/link_level_op.h"
#include "tests/kernels/link_level_util.h"
#include "tests/test_util.h"

namespace {

namespace sl = semsec::link;

using sl::link_level_test::label;

std::vector<sl::LinkShape> all_shapes() {
  return {sl::link_shape(sl::Scheme::kAwgn),
          sl::link_shape(sl::Scheme::kRayleigh),
          sl::link_shape(sl::Scheme::kAlamouti2x1),
          sl::link_shape(sl::Scheme::kAlamouti2x2),
          sl::link_shape(sl::Scheme::kBeamforming, 2, 1),
          sl::link_shape(sl::Scheme::kBeamforming, 8, 2),
          sl::link_shape(sl::Scheme::kBeamAlamouti, 2, 1),
          sl::link_shape(sl::Scheme::kBeamAlamouti, 8, 2)};
}

// Decisions can differ only when a combiner output sits within rounding of zero (the two devices
// round transcendental functions differently in the last ulp); with 4e5 bits per case that does
// not happen, so the bits must match exactly.
TEST(GpuLinkLevel, BerBitsMatchCpu) {
  SEMSEC_SKIP_WITHOUT_CUDA();
  const torch::Device gpu(torch::kCUDA, 0);
  for (const auto& s : all_shapes()) {
    const auto cpu = sl::ber_bits(s, 0.6, 100000, 77, 5, torch::kCPU, 1000);
    const auto dev = sl::ber_bits(s, 0.6, 100000, 77, 5, gpu, 1000);
    EXPECT_TRUE(torch::equal(cpu.tx_bits, dev.tx_bits.cpu())) << label(s);
    const int64_t differ = cpu.rx_bits.ne(dev.rx_bits.cpu()).sum().item<int64_t>();
    EXPECT_EQ(differ, 0) << label(s);
    EXPECT_GT(cpu.rx_bits.ne(cpu.tx_bits).sum().item<int64_t>(), 0) << label(s) << ": the case must have errors";
  }
}

TEST(GpuLinkLevel, SimulateBerMatchesCpu) {
  SEMSEC_SKIP_WITHOUT_CUDA();
  const torch::Device gpu(torch::kCUDA, 0);
  for (const auto& s : all_shapes()) {
    const auto cpu = sl::simulate_ber(s, {0, 6, 12}, 400000, 3, torch::kCPU);
    const auto dev = sl::simulate_ber(s, {0, 6, 12}, 400000, 3, gpu);
    for (size_t k = 0; k < cpu.size(); ++k) {
      EXPECT_EQ(cpu[k].bit_errors, dev[k].bit_errors) << label(s) << " point " << k;
      EXPECT_EQ(cpu[k].n_bits, dev[k].n_bits);
    }
  }
}

TEST(GpuLinkLevel, GeometricLinkMatchesCpu) {
  SEMSEC_SKIP_WITHOUT_CUDA();
  const torch::Device gpu(torch::kCUDA, 0);
  for (auto scheme : {sl::Scheme::kAwgn, sl::Scheme::kRayleigh, sl::Scheme::kAlamouti2x1, sl::Scheme::kAlamouti2x2,
                      sl::Scheme::kBeamforming, sl::Scheme::kBeamAlamouti}) {
    sl::LinkConfig c;  // beam_alamouti: two 2-element sub-arrays, 2 receive antennas
    c.scheme = scheme;
    c.num_tx = 4;
    c.num_rx = 2;
    c.num_beams = 16;
    c.rician_k = 1.5;
    const int64_t n = 3000;
    const auto h_cpu = sl::generate_channels(c, n, 41, 9, torch::kCPU);
    const auto h_gpu = sl::generate_channels(c, n, 41, 9, gpu);
    EXPECT_TRUE(torch::allclose(h_cpu, h_gpu.cpu(), 1e-12, 1e-12)) << sl::scheme_name(scheme);
    const auto bits = torch::randint(0, 2, {n, 37}, torch::kUInt8);
    const auto beams = torch::randint(0, c.num_beams, {n}, torch::kInt64);
    // Mean SNR near 3 dB at the user so that every receiver makes errors.
    const auto tau = torch::full({n}, sl::large_scale_gains(c)[0] / 2.0, torch::kFloat64);
    const auto o_cpu = sl::transmit(c, bits, h_cpu, beams, tau, 41, 9);
    const auto o_gpu = sl::transmit(c, bits.to(gpu), h_cpu.to(gpu), beams.to(gpu), tau.to(gpu), 41, 9);
    EXPECT_EQ(o_cpu.rx_bits.ne(o_gpu.rx_bits.cpu()).sum().item<int64_t>(), 0) << sl::scheme_name(scheme);
    EXPECT_TRUE(torch::allclose(o_cpu.gain, o_gpu.gain.cpu(), 1e-12, 0.0)) << sl::scheme_name(scheme);
    EXPECT_GT(o_cpu.rx_bits[0].ne(bits).sum().item<int64_t>(), 0) << sl::scheme_name(scheme);
    // A subset of rows with their batch indices as sample_ids: the same rows on the GPU.
    const auto rows = torch::tensor(std::vector<int64_t>{2999, 5, 1000, 5}, torch::kInt64);
    const auto p_gpu = sl::transmit(c, bits.index_select(0, rows).to(gpu), h_cpu.index_select(1, rows).to(gpu),
                                    beams.index_select(0, rows).to(gpu), tau.index_select(0, rows).to(gpu), 41, 9,
                                    semsec::rng::kStreamLink, rows.to(gpu));
    EXPECT_TRUE(torch::equal(p_gpu.rx_bits.cpu(), o_cpu.rx_bits.index_select(1, rows))) << sl::scheme_name(scheme);
    EXPECT_TRUE(torch::allclose(sl::beam_gains(c, h_cpu), sl::beam_gains(c, h_cpu.to(gpu)).cpu(), 1e-12, 0.0));
  }
}

TEST(GpuLinkLevel, RejectsMixedDevices) {
  SEMSEC_SKIP_WITHOUT_CUDA();
  const torch::Device gpu(torch::kCUDA, 0);
  sl::LinkConfig c;
  const auto h = sl::generate_channels(c, 4, 1, 0, gpu);
  semsec::testing::expect_error<c10::Error>(
      [&] {
        sl::transmit(c, torch::zeros({4, 4}, torch::kUInt8), h, torch::zeros({4}, torch::kInt64),
                     torch::ones({4}, torch::kFloat64), 1, 0);
      },
      {"transmit: bits, h, beams and tau must be on one device"});
}

}  // namespace
