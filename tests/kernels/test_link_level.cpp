// Link-level BER kernels on the CPU: BER against the closed forms, the documented counter layout
// against an independent std::complex reference, zero-noise and determinism checks, and the link
// shapes. The geometric link and beamformed Alamouti on it: test_geometric_link.cpp.
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
#include "tests/kernels/link_level_util.h"
#include "tests/test_util.h"

namespace {

namespace sl = semsec::link;
namespace rng = semsec::rng;
using cd = std::complex<double>;
using semsec::testing::expect_error;
using sl::link_level_test::label;

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
  expect_error([] { sl::parse_scheme("alamouti_4x4"); },
               {"unknown link scheme 'alamouti_4x4': expected one of", "alamouti_2x2"});
  expect_error([] { sl::simulate_ber("awgn", {0.0}, 0, 1, torch::kCPU); },
               {"simulate_ber: n_bits must be >= 1, got 0"});
  expect_error([] { sl::link_shape(sl::Scheme::kBeamforming, 9, 1); }, {"link: num_tx must be in [1, 8], got 9"});
  expect_error([] { sl::link_shape(sl::Scheme::kBeamforming, 2, 3); }, {"link: num_rx must be in [1, 2], got 3"});
  expect_error([] { sl::ebn0_noise_std(std::nan("")); }, {"link: Eb/N0 is NaN"});
  for (const auto& name : sl::scheme_names()) EXPECT_EQ(sl::scheme_name(sl::parse_scheme(name)), name);
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
  const std::string bad_tx = "link: num_tx of beam_alamouti must be even in [2, 8]";
  for (int tx : {0, 1, 3, 7, 10}) {
    expect_error([&] { sl::link_shape(Scheme::kBeamAlamouti, tx, 1); }, {bad_tx, "got " + std::to_string(tx)});
  }
  for (int rx : {0, 3}) {
    expect_error([&] { sl::link_shape(Scheme::kBeamAlamouti, 4, rx); },
                 {"link: num_rx of beam_alamouti must be 1 or 2, got " + std::to_string(rx)});
  }
  expect_error([&] { sl::link_shape(Scheme::kBeamAlamouti, 4, 1, 0); }, {"link: num_beams must be >= 1, got 0"});
  sl::LinkConfig c;
  c.scheme = Scheme::kBeamAlamouti;
  c.num_tx = 5;
  expect_error([&] { sl::validate(c); }, {bad_tx, "got 5"});
  expect_error([&] { sl::generate_channels(c, 4, 1, 0, torch::kCPU); }, {bad_tx, "got 5"});
  c.num_tx = 4;
  c.num_rx = 3;
  expect_error([&] { sl::validate(c); }, {"link: num_rx of beam_alamouti must be 1 or 2, got 3"});
  c.num_rx = 2;
  EXPECT_NO_THROW(sl::validate(c));
}

}  // namespace
