// The geometric link on the CPU: path loss and large-scale gains, Rayleigh/Rician channels, beam
// gains against direct computation, line-of-sight beams, zero noise, user BER against theory,
// beamformed Alamouti and configuration errors. The BER path: test_link_level.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "kernels/link_level/ber_theory.h"
#include "kernels/link_level/link_level_op.h"
#include "tests/test_util.h"

namespace {

namespace sl = semsec::link;
using cd = std::complex<double>;
using semsec::testing::expect_error;

// ---- geometric link ----

sl::LinkConfig paper_config(sl::Scheme scheme) {
  sl::LinkConfig c;
  c.scheme = scheme;
  return c;
}

TEST(GeometricLink, LargeScaleGainsFollowThePaperGeometry) {
  const sl::LinkConfig c = paper_config(sl::Scheme::kBeamforming);
  const auto g = sl::large_scale_gains(c);
  ASSERT_EQ(g.size(), 3u);
  // P_tx = 20 dBm = 0.1 W, P0 = -174 dBm/Hz + 60 dB = 10^-14.4 W, PL = d^-3 (d0 = 1 m).
  const double p0 = std::pow(10.0, -14.4);
  EXPECT_NEAR(sl::noise_floor_w(c) / p0, 1.0, 1e-12);
  const double d[3] = {std::hypot(500.0, 500.0), std::hypot(400.0, 450.0), std::hypot(800.0, 300.0)};
  for (int r = 0; r < 3; ++r) EXPECT_NEAR(g[r] / (0.1 * std::pow(d[r], -3.0) / p0), 1.0, 1e-12) << "receiver " << r;
  // 48.5 dB at the user with the defaults.
  EXPECT_NEAR(10.0 * std::log10(g[0]), 48.51, 0.01);
  sl::LinkConfig c2 = c;
  c2.d0_m = 10.0;
  c2.path_loss_exponent = 2.0;
  EXPECT_NEAR(sl::large_scale_gains(c2)[0] / (0.1 * std::pow(d[0] / 10.0, -2.0) / p0), 1.0, 1e-12);
}

TEST(GeometricLink, RayleighChannelsHaveTheLargeScaleMean) {
  const sl::LinkConfig c = paper_config(sl::Scheme::kBeamforming);
  const int64_t n = 40000;
  const auto h = sl::generate_channels(c, n, 3, 0, torch::kCPU);
  ASSERT_EQ(h.sizes(), (std::vector<int64_t>{3, n, 1, 2, 2}));
  const auto g = sl::large_scale_gains(c);
  const auto power = h.square().sum(-1);  // |h|^2, [R, N, 1, 2]
  for (int r = 0; r < 3; ++r) {
    // |h|^2 / gain ~ Exp(1): mean 1, sd 1 / sqrt(2N) over both antennas.
    const double m = power[r].mean().item<double>() / g[r];
    EXPECT_NEAR(m, 1.0, 4.0 / std::sqrt(2.0 * n)) << "receiver " << r;
  }
  // Same counters, same channels; another step, others.
  EXPECT_TRUE(torch::equal(h, sl::generate_channels(c, n, 3, 0, torch::kCPU)));
  EXPECT_FALSE(torch::equal(h, sl::generate_channels(c, n, 3, 1, torch::kCPU)));
}

TEST(GeometricLink, TransmitGainsEqualDirectComputationAndBeamGains) {
  sl::LinkConfig c = paper_config(sl::Scheme::kBeamforming);
  c.num_tx = 4;
  c.num_rx = 2;
  c.num_beams = 8;
  c.rician_k = 2.0;
  const int64_t n = 64;
  const auto h = sl::generate_channels(c, n, 5, 2, torch::kCPU);
  const auto beams = torch::arange(n, torch::kInt64).remainder(c.num_beams);
  const auto tau = torch::ones({n}, torch::kFloat64);
  const auto bits = torch::randint(0, 2, {n, 10}, torch::kUInt8);
  const auto out = sl::transmit(c, bits, h, beams, tau, 5, 2);
  const auto all = sl::beam_gains(c, h);
  ASSERT_EQ(all.sizes(), (std::vector<int64_t>{3, n, 8}));
  const auto ha = h.accessor<double, 5>();
  const double pi = 3.141592653589793;
  for (int r = 0; r < 3; ++r) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = i % 8;
      double direct = 0.0;  // ||H f_k||^2 with f_k[t] = exp(j 2 pi t k / 8) / 2
      for (int a = 0; a < 2; ++a) {
        cd acc = 0.0;
        for (int t = 0; t < 4; ++t)
          acc += cd(ha[r][i][a][t][0], ha[r][i][a][t][1]) * std::polar(0.5, 2 * pi * t * k / 8.0);
        direct += std::norm(acc);
      }
      EXPECT_NEAR(out.gain[r][i].item<double>(), direct, 1e-9 * direct) << r << "," << i;
      EXPECT_NEAR(all[r][i][k].item<double>(), direct, 1e-9 * direct) << r << "," << i;
    }
  }
  // Alamouti: ||H||_F^2 / 2 for every beam.
  const sl::LinkConfig ca = paper_config(sl::Scheme::kAlamouti2x2);
  const auto h2 = sl::generate_channels(ca, n, 5, 2, torch::kCPU);
  const auto out2 = sl::transmit(ca, bits, h2, torch::zeros({n}, torch::kInt64), tau, 5, 2);
  const auto expect2 = h2.square().sum({2, 3, 4}) / 2.0;
  EXPECT_TRUE(torch::allclose(out2.gain, expect2, 1e-12, 0.0));
  EXPECT_TRUE(torch::allclose(sl::beam_gains(ca, h2).select(2, 5), expect2, 1e-12, 0.0));
}

TEST(GeometricLink, LineOfSightBeamPointsAtItsDirection) {
  // Nearly pure line of sight: the beam nearest to sin(theta_user) = 0.707 (k = 3 of 8 points at
  // 0.75) beats the one at -0.25 (k = 7) by the array factor, and matches |a^H f|^2 amp^2.
  sl::LinkConfig c = paper_config(sl::Scheme::kBeamforming);
  c.num_tx = 8;
  c.num_beams = 8;
  c.rician_k = 1e9;
  const auto h = sl::generate_channels(c, 4, 1, 0, torch::kCPU);
  const auto g = sl::beam_gains(c, h);
  const double amp2 = sl::large_scale_gains(c)[0];
  const double pi = 3.141592653589793;
  const double st = std::sqrt(0.5);
  for (int k : {3, 7}) {
    cd af = 0.0;
    for (int t = 0; t < 8; ++t)
      af += std::polar(1.0, -pi * t * st) * std::polar(1.0 / std::sqrt(8.0), 2 * pi * t * k / 8.0);
    EXPECT_NEAR(g[0][0][k].item<double>() / amp2, std::norm(af), 1e-3) << "beam " << k;
  }
  EXPECT_GT(g[0][0][3].item<double>(), 20.0 * g[0][0][7].item<double>());
  // The best user beam is also the best for Eve 1 at sin = 0.747 (close by), not for Eve 2 at 0.351.
  EXPECT_EQ(g[0][0].argmax().item<int64_t>(), 3);
  EXPECT_EQ(g[1][0].argmax().item<int64_t>(), 3);
  EXPECT_EQ(g[2][0].argmax().item<int64_t>(), 1);
}

TEST(GeometricLink, ZeroNoiseDeliversEveryBitAndNoiseIsCommonAcrossBeams) {
  for (auto scheme : {sl::Scheme::kAwgn, sl::Scheme::kRayleigh, sl::Scheme::kAlamouti2x1, sl::Scheme::kAlamouti2x2,
                      sl::Scheme::kBeamforming, sl::Scheme::kBeamAlamouti}) {
    const sl::LinkConfig c = paper_config(scheme);
    const int64_t n = 300;
    const auto h = sl::generate_channels(c, n, 8, 4, torch::kCPU);
    const auto bits = torch::randint(0, 2, {n, 13}, torch::kUInt8);  // 13: a partial last block
    const auto beams = torch::randint(0, c.num_beams, {n}, torch::kInt64);
    const auto out = sl::transmit(c, bits, h, beams, torch::zeros({n}, torch::kFloat64), 8, 4);
    ASSERT_EQ(out.rx_bits.sizes(), (std::vector<int64_t>{3, n, 13}));
    for (int r = 0; r < 3; ++r) EXPECT_TRUE(torch::equal(out.rx_bits[r], bits)) << sl::scheme_name(scheme) << " r" << r;
  }
  // AWGN geometric link: the gain is exactly the large-scale gain.
  const sl::LinkConfig ca = paper_config(sl::Scheme::kAwgn);
  const auto ha = sl::generate_channels(ca, 3, 1, 0, torch::kCPU);
  const auto oa = sl::transmit(ca, torch::zeros({3, 4}, torch::kUInt8), ha, torch::zeros({3}, torch::kInt64),
                               torch::ones({3}, torch::kFloat64), 1, 0);
  const auto lg = sl::large_scale_gains(ca);
  for (int r = 0; r < 3; ++r) EXPECT_NEAR(oa.gain[r][1].item<double>() / lg[r], 1.0, 1e-12);
  // Same counters -> same decisions; the noise does not depend on the beam, so a beam change on an
  // AWGN-like (single antenna) link changes nothing.
  const sl::LinkConfig cr = paper_config(sl::Scheme::kRayleigh);
  const int64_t n = 500;
  const auto h = sl::generate_channels(cr, n, 2, 0, torch::kCPU);
  const auto bits = torch::randint(0, 2, {n, 16}, torch::kUInt8);
  const auto tau = torch::full({n}, sl::large_scale_gains(cr)[0], torch::kFloat64);  // mean SNR 0 dB at the user
  const auto o1 = sl::transmit(cr, bits, h, torch::zeros({n}, torch::kInt64), tau, 2, 0);
  const auto o2 = sl::transmit(cr, bits, h, torch::full({n}, 5, torch::kInt64), tau, 2, 0);
  const auto o3 = sl::transmit(cr, bits, h, torch::zeros({n}, torch::kInt64), tau, 3, 0);
  EXPECT_TRUE(torch::equal(o1.rx_bits, o2.rx_bits));
  EXPECT_FALSE(torch::equal(o1.rx_bits, o3.rx_bits));
  EXPECT_FALSE(torch::equal(o1.rx_bits[0], bits));  // 0 dB: errors happen
}

// sample_ids: a subset of rows sent with their batch indices (and their own tau and beam) gives
// exactly those rows of the whole batch's output; the ids, not the row positions, pick the noise.
TEST(GeometricLink, SampleIdsSendASubsetWithTheWholeBatchsNoise) {
  for (auto scheme : {sl::Scheme::kRayleigh, sl::Scheme::kBeamforming, sl::Scheme::kBeamAlamouti}) {
    SCOPED_TRACE(sl::scheme_name(scheme));
    sl::LinkConfig c = paper_config(scheme);
    c.num_rx = 2;
    const int64_t n = 400;
    const auto h = sl::generate_channels(c, n, 5, 3, torch::kCPU);
    const auto bits = torch::randint(0, 2, {n, 22}, torch::kUInt8);
    const auto beams = torch::randint(0, c.num_beams, {n}, torch::kInt64);
    // Mean SNR 3 dB at the user, halved again for odd rows: every receiver makes errors.
    const auto tau =
        sl::large_scale_gains(c)[0] / 2.0 * (1.0 + torch::arange(n, torch::kInt64).remainder(2).to(torch::kFloat64));
    const auto whole = sl::transmit(c, bits, h, beams, tau, 5, 3);
    ASSERT_GT(whole.rx_bits[0].ne(bits).sum().item<int64_t>(), 0);
    // Rows in an order of their own, one repeated.
    const auto rows = torch::tensor(std::vector<int64_t>{399, 7, 8, 200, 7, 0}, torch::kInt64);
    const auto part = sl::transmit(c, bits.index_select(0, rows), h.index_select(1, rows), beams.index_select(0, rows),
                                   tau.index_select(0, rows), 5, 3, semsec::rng::kStreamLink, rows);
    EXPECT_TRUE(torch::equal(part.rx_bits, whole.rx_bits.index_select(1, rows)));
    EXPECT_TRUE(torch::equal(part.gain, whole.gain.index_select(1, rows)));
    // Without the ids the subset draws the noise of rows 0..5.
    const auto plain = sl::transmit(c, bits.index_select(0, rows), h.index_select(1, rows),
                                    beams.index_select(0, rows), tau.index_select(0, rows), 5, 3);
    EXPECT_FALSE(torch::equal(plain.rx_bits, part.rx_bits));
    // Identity ids are the default.
    const auto ids = sl::transmit(c, bits, h, beams, tau, 5, 3, semsec::rng::kStreamLink, torch::arange(n));
    EXPECT_TRUE(torch::equal(ids.rx_bits, whole.rx_bits));
  }
}

TEST(GeometricLink, UserBerMatchesRayleighTheoryAtItsMeanSnr) {
  // Rayleigh SISO, tau set so that the user's mean Es/N0 is 2 Eb/N0 with Eb/N0 = 10 dB. Each
  // sample (8 bits) is one trial with error fraction in [0, 1]: sd(BER) <= sqrt(p (1 - p) / N).
  for (auto scheme : {sl::Scheme::kRayleigh, sl::Scheme::kAlamouti2x1}) {
    const sl::LinkConfig c = paper_config(scheme);
    const int64_t n = 60000;
    const double ebn0 = 10.0;
    const auto h = sl::generate_channels(c, n, 21, 0, torch::kCPU);
    const auto bits = torch::randint(0, 2, {n, 8}, torch::kUInt8);
    const auto tau = torch::full({n}, sl::large_scale_gains(c)[0] / (2.0 * ebn0), torch::kFloat64);
    const auto out = sl::transmit(c, bits, h, torch::zeros({n}, torch::kInt64), tau, 21, 0);
    const double ber = out.rx_bits[0].ne(bits).to(torch::kFloat64).mean().item<double>();
    const double p = sl::ber_theory(sl::link_shape(scheme), 10.0);
    EXPECT_NEAR(ber, p, 4.0 * std::sqrt(p * (1 - p) / n) + 0.01 * p) << sl::scheme_name(scheme);
  }
}

// ---- beamformed Alamouti on the geometric link ----

sl::LinkConfig beam_alamouti_config(int num_tx, int num_rx, double rician_k) {
  sl::LinkConfig c = paper_config(sl::Scheme::kBeamAlamouti);
  c.num_tx = num_tx;
  c.num_rx = num_rx;
  c.num_beams = 8;
  c.rician_k = rician_k;
  return c;
}

// 0.5 sum_a sum_i |sum_m h[a][i M + m] f_k[m]|^2 with f_k[m] = exp(j 2 pi m k / B) / sqrt(M).
double direct_beam_alamouti_gain(const at::TensorAccessor<double, 3>& h, int num_tx, int num_rx, int64_t k, int B) {
  const double pi = 3.141592653589793;
  const int m_size = num_tx / 2;
  double gain = 0.0;
  for (int a = 0; a < num_rx; ++a) {
    for (int i = 0; i < 2; ++i) {
      cd acc = 0.0;
      for (int m = 0; m < m_size; ++m) {
        const int n = i * m_size + m;
        acc += cd(h[a][n][0], h[a][n][1]) * std::polar(1.0 / std::sqrt(m_size), 2 * pi * m * k / B);
      }
      gain += 0.5 * std::norm(acc);
    }
  }
  return gain;
}

TEST(GeometricLink, BeamAlamoutiGainIsTheChosenBeamsAlamoutiGain) {
  for (auto [tx, rx] : {std::pair{4, 2}, std::pair{8, 1}, std::pair{6, 2}, std::pair{2, 2}}) {
    const sl::LinkConfig c = beam_alamouti_config(tx, rx, 2.0);
    const std::string what = "beam_alamouti " + std::to_string(tx) + "x" + std::to_string(rx);
    const int64_t n = 48;
    const auto h = sl::generate_channels(c, n, 5, 2, torch::kCPU);
    ASSERT_EQ(h.sizes(), (std::vector<int64_t>{3, n, rx, tx, 2}));
    const auto beams = torch::arange(n, torch::kInt64).remainder(c.num_beams);  // every beam, 6 times
    const auto bits = torch::randint(0, 2, {n, 10}, torch::kUInt8);
    const auto out = sl::transmit(c, bits, h, beams, torch::ones({n}, torch::kFloat64), 5, 2);
    const auto all = sl::beam_gains(c, h);
    ASSERT_EQ(all.sizes(), (std::vector<int64_t>{3, n, 8}));
    const auto ha = h.accessor<double, 5>();
    for (int r = 0; r < 3; ++r) {
      for (int64_t i = 0; i < n; ++i) {
        const int64_t k = i % 8;
        const double direct = direct_beam_alamouti_gain(ha[r][i], tx, rx, k, 8);
        EXPECT_NEAR(out.gain[r][i].item<double>(), direct, 1e-9 * direct) << what << " " << r << "," << i;
        EXPECT_NEAR(all[r][i][k].item<double>(), direct, 1e-9 * direct) << what << " " << r << "," << i;
        if (i < 2) {  // every beam of a few samples
          for (int b = 0; b < 8; ++b) {
            const double d = direct_beam_alamouti_gain(ha[r][i], tx, rx, b, 8);
            EXPECT_NEAR(all[r][i][b].item<double>(), d, 1e-9 * d) << what << " beam " << b;
          }
        }
      }
    }
    const auto chosen = all.gather(2, beams.view({1, n, 1}).expand({3, n, 1})).squeeze(2);
    EXPECT_TRUE(torch::allclose(out.gain, chosen, 1e-12, 0.0)) << what;
    // With M > 1 the beam matters for every sample; with M = 1 it cannot.
    const auto spread = all.amax(2) - all.amin(2);
    if (tx > 2) {
      EXPECT_GT(spread.min().item<double>(), 0.0) << what;
    } else {
      EXPECT_EQ(spread.max().item<double>(), 0.0) << what;
    }
  }
}

TEST(GeometricLink, BeamAlamoutiLineOfSightBeamSteersBothSubArrays) {
  // Pure line of sight with two 4-element sub-arrays: the sub-arrays' responses differ by a phase
  // only, which the Alamouti combiner ignores, so the gain is amp^2 |a_4^H f_k|^2 (each branch
  // carries half the power through a beam of full array gain on its 4 elements).
  const sl::LinkConfig c = beam_alamouti_config(8, 1, 1e9);
  const auto h = sl::generate_channels(c, 4, 1, 0, torch::kCPU);
  const auto g = sl::beam_gains(c, h);
  const double amp2 = sl::large_scale_gains(c)[0];
  const double pi = 3.141592653589793;
  const double st = std::sqrt(0.5);
  for (int k = 0; k < 8; ++k) {
    cd af = 0.0;
    for (int m = 0; m < 4; ++m) af += std::polar(1.0, -pi * m * st) * std::polar(0.5, 2 * pi * m * k / 8.0);
    EXPECT_NEAR(g[0][0][k].item<double>() / amp2, std::norm(af), 1e-3) << "beam " << k;
  }
  EXPECT_EQ(g[0][0].argmax().item<int64_t>(), 3);  // points at 0.75, nearest to sin(theta_user) = 0.707
}

TEST(GeometricLink, BeamAlamoutiWithOneElementSubArraysIsPlainAlamouti) {
  const int64_t n = 400;
  for (auto [rx, plain] : {std::pair{1, sl::Scheme::kAlamouti2x1}, std::pair{2, sl::Scheme::kAlamouti2x2}}) {
    const std::string what = "beam_alamouti 2x" + std::to_string(rx);
    const sl::LinkConfig cb = beam_alamouti_config(2, rx, 1.0);
    sl::LinkConfig cp = paper_config(plain);
    cp.rician_k = 1.0;
    const auto hb = sl::generate_channels(cb, n, 13, 6, torch::kCPU);
    const auto hp = sl::generate_channels(cp, n, 13, 6, torch::kCPU);
    ASSERT_TRUE(torch::equal(hb, hp)) << what;
    const auto bits = torch::randint(0, 2, {n, 21}, torch::kUInt8);
    const auto beams = torch::randint(0, cb.num_beams, {n}, torch::kInt64);
    // Mean SNR near 3 dB per entry at the user: every receiver makes errors.
    const auto tau = torch::full({n}, sl::large_scale_gains(cb)[0] / 2.0, torch::kFloat64);
    const auto ob = sl::transmit(cb, bits, hb, beams, tau, 13, 6);
    const auto op = sl::transmit(cp, bits, hp, torch::zeros({n}, torch::kInt64), tau, 13, 6);
    EXPECT_TRUE(torch::equal(ob.rx_bits, op.rx_bits)) << what;
    EXPECT_TRUE(torch::equal(ob.gain, op.gain)) << what;
    for (int r = 0; r < 3; ++r) EXPECT_TRUE(ob.rx_bits[r].ne(bits).any().item<bool>()) << what << " r" << r;
    EXPECT_TRUE(torch::allclose(sl::beam_gains(cb, hb), sl::beam_gains(cp, hp), 1e-12, 0.0)) << what;
    // The BER path draws the same channels and noise too.
    const auto bb = sl::ber_bits(sl::link_shape(sl::Scheme::kBeamAlamouti, 2, rx), 0.6, 5000, 4, 1, torch::kCPU);
    const auto bp = sl::ber_bits(sl::link_shape(plain), 0.6, 5000, 4, 1, torch::kCPU);
    EXPECT_TRUE(torch::equal(bb.tx_bits, bp.tx_bits)) << what;
    EXPECT_TRUE(torch::equal(bb.rx_bits, bp.rx_bits)) << what;
    EXPECT_TRUE(bb.rx_bits.ne(bb.tx_bits).any().item<bool>()) << what;
  }
}

TEST(GeometricLink, BeamAlamoutiZeroNoiseDeliversEveryBit) {
  for (auto [tx, rx] : {std::pair{4, 1}, std::pair{6, 2}, std::pair{8, 2}}) {
    const sl::LinkConfig c = beam_alamouti_config(tx, rx, 0.5);
    const int64_t n = 300;
    const auto h = sl::generate_channels(c, n, 8, 4, torch::kCPU);
    const auto bits = torch::randint(0, 2, {n, 13}, torch::kUInt8);
    const auto beams = torch::randint(0, c.num_beams, {n}, torch::kInt64);
    const auto out = sl::transmit(c, bits, h, beams, torch::zeros({n}, torch::kFloat64), 8, 4);
    for (int r = 0; r < 3; ++r) {
      EXPECT_TRUE(torch::equal(out.rx_bits[r], bits)) << "beam_alamouti " << tx << "x" << rx << " r" << r;
    }
  }
}

TEST(GeometricLink, RejectsBadConfigurationsAndTensors) {
  sl::LinkConfig c = paper_config(sl::Scheme::kBeamforming);
  c.eves.push_back({0.0, 0.0});  // at the BS
  expect_error([&] { sl::validate(c); },
               {"link: eve 2 at (0, 0) m must be a finite point away from the BS at (0, 0) m"});
  c = paper_config(sl::Scheme::kBeamforming);
  c.rician_k = -1.0;
  expect_error([&] { sl::validate(c); }, {"link: Rician K must be >= 0, got -1"});
  c = paper_config(sl::Scheme::kBeamforming);
  c.eves.assign(16, {100.0, 100.0});
  expect_error([&] { sl::validate(c); }, {"link: at most 15 eavesdroppers are supported, got 16"});
  c = paper_config(sl::Scheme::kBeamforming);
  c.d0_m = 0.0;
  expect_error([&] { sl::validate(c); }, {"link: path-loss reference distance d0 must be > 0 m, got 0"});
  c = paper_config(sl::Scheme::kBeamforming);
  c.num_beams = 0;
  expect_error([&] { sl::validate(c); }, {"link: num_beams must be >= 1, got 0"});

  c = paper_config(sl::Scheme::kBeamforming);
  const auto h = sl::generate_channels(c, 4, 1, 0, torch::kCPU);
  const auto bits = torch::zeros({4, 8}, torch::kUInt8);
  const auto beams = torch::zeros({4}, torch::kInt64);
  const auto tau = torch::ones({4}, torch::kFloat64);
  expect_error<c10::Error>([&] { sl::transmit(c, bits, h, torch::full({4}, 8, torch::kInt64), tau, 1, 0); },
                           {"transmit: every beam index must be in [0, 8)"});
  expect_error<c10::Error>([&] { sl::transmit(c, bits, h, beams, torch::full({4}, -1.0, torch::kFloat64), 1, 0); },
                           {"transmit: every tau must be >= 0"});
  expect_error<c10::Error>([&] { sl::transmit(c, bits.to(torch::kInt64), h, beams, tau, 1, 0); },
                           {"transmit: bits must be uint8, got Long"});
  expect_error<c10::Error>([&] { sl::transmit(c, bits, h.narrow(1, 0, 3), beams, tau, 1, 0); },
                           {"transmit: h has 3 samples but bits has 4"});
  expect_error<c10::Error>([&] { sl::transmit(c, bits, h.to(torch::kFloat32), beams, tau, 1, 0); },
                           {"transmit: h must be float64, got Float"});
  expect_error<c10::Error>(
      [&] { sl::transmit(c, bits, h, beams, tau, 1, 0, semsec::rng::kStreamLink, torch::zeros({3}, torch::kInt64)); },
      {"transmit: sample_ids must be int64 [4], got Long [3]"});
  expect_error<c10::Error>(
      [&] { sl::transmit(c, bits, h, beams, tau, 1, 0, semsec::rng::kStreamLink, torch::zeros({4}, torch::kInt32)); },
      {"transmit: sample_ids must be int64 [4], got Int [4]"});
  expect_error<c10::Error>(
      [&] {
        sl::transmit(c, bits, h, beams, tau, 1, 0, semsec::rng::kStreamLink, torch::full({4}, -1, torch::kInt64));
      },
      {"transmit: every sample id must be in [0, 2^32)"});
  expect_error<c10::Error>(
      [&] {
        sl::transmit(c, bits, h, beams, tau, 1, 0, semsec::rng::kStreamLink,
                     torch::full({4}, int64_t{1} << 32, torch::kInt64));
      },
      {"transmit: every sample id must be in [0, 2^32)"});
  // No bits: the gains are still computed.
  const auto empty = sl::transmit(c, torch::zeros({4, 0}, torch::kUInt8), h, beams, tau, 1, 0);
  EXPECT_TRUE(torch::allclose(empty.gain, sl::beam_gains(c, h).select(2, 0)));
}

}  // namespace
