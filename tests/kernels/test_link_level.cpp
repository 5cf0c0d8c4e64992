// Link-level kernels on the CPU: BER against the closed forms, the documented counter layout
// against an independent std::complex reference, zero-noise and determinism checks, the
// geometric link (path loss, beams, gains, errors) and beamformed Alamouti.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "kernels/link_level/ber_theory.h"
#include "kernels/link_level/link_level_op.h"
#include "kernels/philox.h"

namespace {

namespace sl = semsec::link;
namespace rng = semsec::rng;
using cd = std::complex<double>;

const double kInf = std::numeric_limits<double>::infinity();

std::vector<sl::LinkShape> all_shapes() {
  return {sl::link_shape(sl::Scheme::kAwgn),
          sl::link_shape(sl::Scheme::kRayleigh),
          sl::link_shape(sl::Scheme::kAlamouti2x1),
          sl::link_shape(sl::Scheme::kAlamouti2x2),
          sl::link_shape(sl::Scheme::kBeamforming, 2, 1),
          sl::link_shape(sl::Scheme::kBeamforming, 4, 2),
          sl::link_shape(sl::Scheme::kBeamAlamouti, 2, 1),
          sl::link_shape(sl::Scheme::kBeamAlamouti, 4, 2),
          sl::link_shape(sl::Scheme::kBeamAlamouti, 8, 1)};
}

std::string label(const sl::LinkShape& s) {
  return sl::scheme_name(s.scheme) + " " + std::to_string(s.num_tx) + "x" + std::to_string(s.num_rx);
}

// Closed-form BER of a BER-path link. Beamformed Alamouti: g_0 and g_1 combine disjoint sub-arrays
// of i.i.d. CN(0, 1) entries through a unit-norm beam, so they are independent CN(0, 1) (and
// independent across receive antennas), which is plain Alamouti with the same num_rx.
double theory_ber(const sl::LinkShape& s, double ebn0_db) {
  if (s.scheme == sl::Scheme::kBeamAlamouti) {
    const auto plain = s.num_rx == 1 ? sl::Scheme::kAlamouti2x1 : sl::Scheme::kAlamouti2x2;
    return sl::ber_theory(sl::link_shape(plain), ebn0_db);
  }
  return sl::ber_theory(s, ebn0_db);
}

// The BER of each point lies within 4 standard deviations of the closed form plus 1% of it.
// Bits of one block share the fading, so the trials are blocks: X = errors / 4 lies in [0, 1]
// with mean p, hence Var(X) <= p (1 - p) and sd(BER) <= sqrt(p (1 - p) / n_blocks).
void expect_ber_matches_theory(const sl::LinkShape& shape, const std::vector<double>& grid, int64_t n_bits) {
  const auto points = sl::simulate_ber(shape, grid, n_bits, 2024, torch::kCPU);
  ASSERT_EQ(points.size(), grid.size());
  for (const auto& p : points) {
    const double theory = theory_ber(shape, p.ebn0_db);
    const double n_blocks = static_cast<double>(p.n_bits) / sl::kBitsPerBlock;
    // The point must expect enough errors to be a meaningful check.
    ASSERT_GE(theory * static_cast<double>(p.n_bits), 200.0) << label(shape) << " at " << p.ebn0_db << " dB";
    const double tol = 4.0 * std::sqrt(theory * (1.0 - theory) / n_blocks) + 0.01 * theory;
    EXPECT_NEAR(p.ber(), theory, tol) << label(shape) << " at " << p.ebn0_db << " dB (" << p.bit_errors << " errors in "
                                      << p.n_bits << " bits)";
  }
}

TEST(BerTheory, ClosedFormsMatchHandComputedValues) {
  // AWGN at 0 dB: Q(sqrt(2)) = 0.0786496.
  EXPECT_NEAR(sl::ber_qpsk_awgn(1.0), 0.07864960352514258, 1e-12);
  // SISO Rayleigh at 10 dB: 0.5 (1 - sqrt(10 / 11)).
  EXPECT_NEAR(sl::ber_qpsk_rayleigh(10.0), 0.5 * (1.0 - std::sqrt(10.0 / 11.0)), 1e-15);
  // L = 2 at gb = 5: mu = sqrt(5/6); ((1-mu)/2)^2 (1 + 2 (1+mu)/2).
  const double mu = std::sqrt(5.0 / 6.0);
  EXPECT_NEAR(sl::ber_qpsk_mrc_rayleigh(2, 5.0), std::pow((1 - mu) / 2, 2) * (1 + (1 + mu)), 1e-15);
  // L = 4 at gb = 1: mu = sqrt(1/2); sum C(3+k, k) ((1+mu)/2)^k, k < 4, coefficients 1, 4, 10, 20.
  const double m4 = std::sqrt(0.5);
  const double q = (1 + m4) / 2;
  EXPECT_NEAR(sl::ber_qpsk_mrc_rayleigh(4, 1.0), std::pow((1 - m4) / 2, 4) * (1 + 4 * q + 10 * q * q + 20 * q * q * q),
              1e-15);
  // The scheme mapping: Alamouti 2x1 at Eb/N0 = 10 dB is L = 2 at 5; 2x2 is L = 4 at 5.
  EXPECT_DOUBLE_EQ(sl::ber_theory(sl::link_shape(sl::Scheme::kAlamouti2x1), 10.0), sl::ber_qpsk_mrc_rayleigh(2, 5.0));
  EXPECT_DOUBLE_EQ(sl::ber_theory(sl::link_shape(sl::Scheme::kAlamouti2x2), 10.0), sl::ber_qpsk_mrc_rayleigh(4, 5.0));
  EXPECT_DOUBLE_EQ(sl::ber_theory(sl::link_shape(sl::Scheme::kBeamforming, 4, 2), 10.0),
                   sl::ber_qpsk_mrc_rayleigh(2, 10.0));
  // Accurate at high SNR (no cancellation in 1 - mu): Rayleigh ~ 1 / (4 g).
  EXPECT_NEAR(sl::ber_qpsk_rayleigh(1e8) * 4e8, 1.0, 1e-6);
  for (const auto& s : all_shapes()) EXPECT_EQ(theory_ber(s, kInf), 0.0) << label(s);
}

TEST(LinkBer, QpskAwgnMatchesTheory) {
  expect_ber_matches_theory(sl::link_shape(sl::Scheme::kAwgn), {0, 2, 4, 6, 8}, 4000000);
}

TEST(LinkBer, SisoRayleighMatchesTheory) {
  expect_ber_matches_theory(sl::link_shape(sl::Scheme::kRayleigh), {0, 5, 10, 15, 20}, 2000000);
}

TEST(LinkBer, Alamouti2x1MatchesTheory) {
  expect_ber_matches_theory(sl::link_shape(sl::Scheme::kAlamouti2x1), {0, 4, 8, 12, 16}, 2000000);
}

TEST(LinkBer, Alamouti2x2MatchesTheory) {
  expect_ber_matches_theory(sl::link_shape(sl::Scheme::kAlamouti2x2), {0, 2, 4, 6, 8}, 2000000);
}

TEST(LinkBer, FixedBeamOnRayleighIsMrcOverReceiveAntennas) {
  expect_ber_matches_theory(sl::link_shape(sl::Scheme::kBeamforming, 2, 1), {0, 10}, 1000000);
  expect_ber_matches_theory(sl::link_shape(sl::Scheme::kBeamforming, 4, 2), {0, 6, 12}, 1000000);
}

TEST(LinkBer, BeamAlamoutiMatchesAlamoutiTheory) {
  // M = 1 (plain Alamouti through a one-element beam) and M = 2, 4, with 1 and 2 receive antennas.
  expect_ber_matches_theory(sl::link_shape(sl::Scheme::kBeamAlamouti, 2, 1), {0, 6, 12}, 1000000);
  expect_ber_matches_theory(sl::link_shape(sl::Scheme::kBeamAlamouti, 4, 1), {0, 6, 12}, 1000000);
  expect_ber_matches_theory(sl::link_shape(sl::Scheme::kBeamAlamouti, 2, 2), {0, 4, 8}, 1000000);
  expect_ber_matches_theory(sl::link_shape(sl::Scheme::kBeamAlamouti, 4, 2), {0, 4, 8}, 1000000);
  expect_ber_matches_theory(sl::link_shape(sl::Scheme::kBeamAlamouti, 8, 2), {2, 6}, 1000000);
}

TEST(LinkBer, DiversityOrdersAreDistinguishable) {
  // At 10 dB the four schemes differ by far more than the test tolerance above, so a scheme
  // mapped to the wrong combiner would fail its own theory test.
  const double r = sl::ber_theory(sl::link_shape(sl::Scheme::kRayleigh), 10.0);
  const double a21 = sl::ber_theory(sl::link_shape(sl::Scheme::kAlamouti2x1), 10.0);
  const double a22 = sl::ber_theory(sl::link_shape(sl::Scheme::kAlamouti2x2), 10.0);
  EXPECT_GT(r, 3.0 * a21);
  EXPECT_GT(a21, 5.0 * a22);
  const auto sim = sl::simulate_ber("alamouti_2x1", {10.0}, 400000, 5, torch::kCPU);
  EXPECT_LT(sim[0].ber(), 0.5 * r);
}

// Independent reference of one BER block following the counter layout of link_level.h.
void reference_block(const sl::LinkShape& s, double sigma, uint64_t seed, uint32_t step, uint32_t sample, uint8_t tx[4],
                     uint8_t rx[4]) {
  const rng::Key key = rng::make_key(seed);
  const uint32_t stream = rng::kStreamLink;
  const rng::Philox4 rb = rng::draw(key, stream, step, sample, 0u);
  for (int k = 0; k < 4; ++k) tx[k] = static_cast<uint8_t>(rb.v[k] >> 31);
  cd h[2][8];
  for (int e = 0; e < s.num_rx * s.num_tx; ++e) {
    double z[4];
    rng::normal4(rng::draw(key, stream, step, sample, (1u << 28) | static_cast<uint32_t>(e / 2)), z);
    const int half = 2 * (e % 2);
    h[e / s.num_tx][e % s.num_tx] =
        s.scheme == sl::Scheme::kAwgn ? cd(1.0, 0.0) : cd(z[half], z[half + 1]) / std::sqrt(2.0);
  }
  // Effective channel under beam 0 of the DFT codebook (every weight 1 / sqrt(beam length)).
  cd g[2][2] = {};
  for (int a = 0; a < s.num_rx; ++a) {
    if (s.scheme == sl::Scheme::kBeamforming) {
      for (int n = 0; n < s.num_tx; ++n) g[a][0] += h[a][n] / std::sqrt(static_cast<double>(s.num_tx));
    } else if (s.scheme == sl::Scheme::kBeamAlamouti) {
      const int m_size = s.num_tx / 2;
      for (int i = 0; i < 2; ++i) {
        for (int m = 0; m < m_size; ++m) g[a][i] += h[a][i * m_size + m] / std::sqrt(static_cast<double>(m_size));
      }
    } else {
      for (int n = 0; n < s.num_tx; ++n) g[a][n] = h[a][n];
    }
  }
  const bool alamouti = s.scheme == sl::Scheme::kAlamouti2x1 || s.scheme == sl::Scheme::kAlamouti2x2 ||
                        s.scheme == sl::Scheme::kBeamAlamouti;
  cd nz[2][2];
  for (int a = 0; a < s.num_rx; ++a) {
    double z[4];
    rng::normal4(rng::draw(key, stream, step, sample, (2u << 28) | static_cast<uint32_t>(a)), z);
    nz[a][0] = sigma * cd(z[0], z[1]);
    nz[a][1] = sigma * cd(z[2], z[3]);
  }
  auto sym = [](uint8_t b0, uint8_t b1) { return cd(1.0 - 2.0 * b0, 1.0 - 2.0 * b1) / std::sqrt(2.0); };
  const cd s0 = sym(tx[0], tx[1]);
  const cd s1 = sym(tx[2], tx[3]);
  cd z0 = 0.0;
  cd z1 = 0.0;
  for (int a = 0; a < s.num_rx; ++a) {
    if (alamouti) {
      const cd y0 = (g[a][0] * s0 + g[a][1] * s1) / std::sqrt(2.0) + nz[a][0];
      const cd y1 = (-g[a][0] * std::conj(s1) + g[a][1] * std::conj(s0)) / std::sqrt(2.0) + nz[a][1];
      z0 += std::conj(g[a][0]) * y0 + g[a][1] * std::conj(y1);
      z1 += std::conj(g[a][1]) * y0 - g[a][0] * std::conj(y1);
    } else {
      z0 += std::conj(g[a][0]) * (g[a][0] * s0 + nz[a][0]);
      z1 += std::conj(g[a][0]) * (g[a][0] * s1 + nz[a][1]);
    }
  }
  rx[0] = z0.real() < 0;
  rx[1] = z0.imag() < 0;
  rx[2] = z1.real() < 0;
  rx[3] = z1.imag() < 0;
}

TEST(LinkBer, CounterLayoutMatchesIndependentReference) {
  const int64_t n = 200;
  const uint32_t offset = 17;
  for (const auto& s : all_shapes()) {
    const auto out = sl::ber_bits(s, 0.6, n, 99, 3, torch::kCPU, offset);
    const auto tx = out.tx_bits.accessor<uint8_t, 1>();
    const auto rx = out.rx_bits.accessor<uint8_t, 1>();
    int64_t errors = 0;
    for (int64_t i = 0; i < n; ++i) {
      uint8_t rtx[4], rrx[4];
      reference_block(s, 0.6, 99, 3, offset + static_cast<uint32_t>(i), rtx, rrx);
      for (int k = 0; k < 4; ++k) {
        ASSERT_EQ(tx[4 * i + k], rtx[k]) << label(s) << " block " << i << " bit " << k;
        ASSERT_EQ(rx[4 * i + k], rrx[k]) << label(s) << " block " << i << " bit " << k;
        errors += tx[4 * i + k] != rx[4 * i + k];
      }
    }
    EXPECT_GT(errors, 0) << label(s) << ": sigma 0.6 must produce errors, else the decisions are not exercised";
  }
}

TEST(LinkBer, ZeroNoiseGivesZeroErrors) {
  for (const auto& s : all_shapes()) {
    const auto out = sl::ber_bits(s, 0.0, 5000, 1, 0, torch::kCPU);
    EXPECT_TRUE(torch::equal(out.tx_bits, out.rx_bits)) << label(s);
    const double ones = out.tx_bits.to(torch::kFloat64).mean().item<double>();
    EXPECT_NEAR(ones, 0.5, 0.02) << label(s) << ": transmitted bits must be fair coin flips";
    const auto pts = sl::simulate_ber(s, {kInf}, 20000, 1, torch::kCPU);
    EXPECT_EQ(pts[0].bit_errors, 0) << label(s);
    EXPECT_EQ(pts[0].n_bits, 20000);
  }
  EXPECT_EQ(sl::ebn0_noise_std(kInf), 0.0);
  EXPECT_NEAR(sl::ebn0_noise_std(0.0), 0.5, 1e-15);  // sigma^2 = 1 / (4 Eb/N0)
}

TEST(LinkBer, DeterministicForSeedAndChunkIndependent) {
  const auto s = sl::link_shape(sl::Scheme::kAlamouti2x2);
  const auto a = sl::simulate_ber(s, {0, 3}, 100003, 11, torch::kCPU);
  const auto b = sl::simulate_ber(s, {0, 3}, 100003, 11, torch::kCPU);
  const auto c = sl::simulate_ber(s, {0, 3}, 100003, 12, torch::kCPU);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].n_bits, 100004);  // rounded up to whole blocks
  for (size_t k = 0; k < a.size(); ++k) EXPECT_EQ(a[k].bit_errors, b[k].bit_errors);
  EXPECT_TRUE(a[0].bit_errors != c[0].bit_errors || a[1].bit_errors != c[1].bit_errors);
  // A later chunk (sample_offset) reproduces the tail of a longer draw exactly.
  const auto whole = sl::ber_bits(s, 0.5, 300, 11, 0, torch::kCPU);
  const auto tail = sl::ber_bits(s, 0.5, 100, 11, 0, torch::kCPU, 200);
  EXPECT_TRUE(torch::equal(whole.rx_bits.narrow(0, 800, 400), tail.rx_bits));
  EXPECT_TRUE(torch::equal(whole.tx_bits.narrow(0, 800, 400), tail.tx_bits));
  // Eb/N0 points use distinct steps: the same Eb/N0 twice in a grid gives independent draws.
  const auto twice = sl::simulate_ber(s, {0, 0}, 100000, 11, torch::kCPU);
  EXPECT_NE(twice[0].bit_errors, twice[1].bit_errors);
}

TEST(LinkBer, RejectsBadArguments) {
  EXPECT_THROW(sl::parse_scheme("alamouti_4x4"), semsec::Error);
  EXPECT_THROW(sl::simulate_ber("awgn", {0.0}, 0, 1, torch::kCPU), semsec::Error);
  EXPECT_THROW(sl::link_shape(sl::Scheme::kBeamforming, 9, 1), semsec::Error);
  EXPECT_THROW(sl::link_shape(sl::Scheme::kBeamforming, 2, 3), semsec::Error);
  EXPECT_THROW(sl::ebn0_noise_std(std::nan("")), semsec::Error);
  for (const auto& name : sl::scheme_names()) EXPECT_EQ(sl::scheme_name(sl::parse_scheme(name)), name);
}

// `call` must throw semsec::Error whose message names `field`.
template <typename F>
void expect_error_naming(F call, const std::string& field, const std::string& what) {
  try {
    call();
    ADD_FAILURE() << what << ": expected semsec::Error naming " << field;
  } catch (const semsec::Error& e) {
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << what << ": " << e.what();
  }
}

TEST(LinkBer, BeamAlamoutiShapes) {
  EXPECT_EQ(sl::parse_scheme("beam_alamouti"), sl::Scheme::kBeamAlamouti);
  EXPECT_EQ(sl::scheme_name(sl::Scheme::kBeamAlamouti), "beam_alamouti");
  EXPECT_TRUE(sl::is_alamouti(sl::Scheme::kBeamAlamouti));
  EXPECT_FALSE(sl::is_alamouti(sl::Scheme::kBeamforming));
  for (int tx : {2, 4, 6, 8}) {
    for (int rx : {1, 2}) {
      const auto s = sl::link_shape(sl::Scheme::kBeamAlamouti, tx, rx, 16);
      EXPECT_EQ(s.num_tx, tx);
      EXPECT_EQ(s.num_rx, rx);
      EXPECT_EQ(s.num_beams, 16);
      EXPECT_EQ(sl::beam_size(s), tx / 2);
    }
  }
  EXPECT_EQ(sl::beam_size(sl::link_shape(sl::Scheme::kBeamforming, 6, 1)), 6);
  EXPECT_EQ(sl::beam_size(sl::link_shape(sl::Scheme::kAlamouti2x2)), 0);
  EXPECT_EQ(sl::beam_size(sl::link_shape(sl::Scheme::kRayleigh)), 0);
  // Defaults (used by `simulate_ber(name, ...)`): the 2x1 link with one-element sub-arrays.
  const auto d = sl::link_shape(sl::Scheme::kBeamAlamouti);
  EXPECT_EQ(d.num_tx, 2);
  EXPECT_EQ(d.num_rx, 1);

  using sl::Scheme;
  for (int tx : {0, 1, 3, 7, 10}) {
    expect_error_naming([&] { sl::link_shape(Scheme::kBeamAlamouti, tx, 1); }, "num_tx",
                        "num_tx " + std::to_string(tx));
  }
  for (int rx : {0, 3}) {
    expect_error_naming([&] { sl::link_shape(Scheme::kBeamAlamouti, 4, rx); }, "num_rx",
                        "num_rx " + std::to_string(rx));
  }
  expect_error_naming([&] { sl::link_shape(Scheme::kBeamAlamouti, 4, 1, 0); }, "num_beams", "num_beams 0");
  sl::LinkConfig c;
  c.scheme = Scheme::kBeamAlamouti;
  c.num_tx = 5;
  expect_error_naming([&] { sl::validate(c); }, "num_tx", "validate num_tx 5");
  expect_error_naming([&] { sl::generate_channels(c, 4, 1, 0, torch::kCPU); }, "num_tx", "generate_channels");
  c.num_tx = 4;
  c.num_rx = 3;
  expect_error_naming([&] { sl::validate(c); }, "num_rx", "validate num_rx 3");
  c.num_rx = 2;
  EXPECT_NO_THROW(sl::validate(c));
}

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
  EXPECT_THROW(sl::validate(c), semsec::Error);
  c = paper_config(sl::Scheme::kBeamforming);
  c.rician_k = -1.0;
  EXPECT_THROW(sl::validate(c), semsec::Error);
  c = paper_config(sl::Scheme::kBeamforming);
  c.eves.assign(16, {100.0, 100.0});
  EXPECT_THROW(sl::validate(c), semsec::Error);
  c = paper_config(sl::Scheme::kBeamforming);
  c.d0_m = 0.0;
  EXPECT_THROW(sl::validate(c), semsec::Error);
  c = paper_config(sl::Scheme::kBeamforming);
  c.num_beams = 0;
  EXPECT_THROW(sl::validate(c), semsec::Error);

  c = paper_config(sl::Scheme::kBeamforming);
  const auto h = sl::generate_channels(c, 4, 1, 0, torch::kCPU);
  const auto bits = torch::zeros({4, 8}, torch::kUInt8);
  const auto beams = torch::zeros({4}, torch::kInt64);
  const auto tau = torch::ones({4}, torch::kFloat64);
  EXPECT_THROW(sl::transmit(c, bits, h, torch::full({4}, 8, torch::kInt64), tau, 1, 0), c10::Error);
  EXPECT_THROW(sl::transmit(c, bits, h, beams, torch::full({4}, -1.0, torch::kFloat64), 1, 0), c10::Error);
  EXPECT_THROW(sl::transmit(c, bits.to(torch::kInt64), h, beams, tau, 1, 0), c10::Error);
  EXPECT_THROW(sl::transmit(c, bits, h.narrow(1, 0, 3), beams, tau, 1, 0), c10::Error);
  EXPECT_THROW(sl::transmit(c, bits, h.to(torch::kFloat32), beams, tau, 1, 0), c10::Error);
  // No bits: the gains are still computed.
  const auto empty = sl::transmit(c, torch::zeros({4, 0}, torch::kUInt8), h, beams, tau, 1, 0);
  EXPECT_TRUE(torch::allclose(empty.gain, sl::beam_gains(c, h).select(2, 0)));
}

}  // namespace
