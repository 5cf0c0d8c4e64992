// Tests of the SS-ISAC link kernel on the CPU: exact noiseless outputs, channel and noise
// statistics against theory, counter determinism, the sensing gain and beamformers, and input errors.
// Gradients and agreement with the per-sample path and the ATen reference: test_isac_link_reference.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/isac_link/isac_link.h"
#include "kernels/isac_link/isac_link_op.h"
#include "kernels/philox.h"
#include "tests/kernels/isac_link_util.h"
#include "tests/test_util.h"

namespace {

namespace sk = semsec::kernels;
namespace rng = semsec::rng;
using Complex = std::complex<double>;

using semsec::testing::expect_error;
using sk::isac_link_test::Inputs;
using sk::isac_link_test::kPi;
using sk::isac_link_test::kSector;
using sk::isac_link_test::make_inputs;
using sk::isac_link_test::make_params;
using sk::isac_link_test::run;

// alpha a^H(phi) w written independently of the kernel header, with std::complex.
Complex sensing_gain(const sk::IsacLinkParams& p, double phi) {
  Complex acc = 0.0;
  for (int64_t m = 0; m < p.num_antennas; ++m) {
    acc += std::conj(std::exp(Complex(0.0, kPi * static_cast<double>(m) * std::sin(phi)))) * p.w[m];
  }
  return p.alpha * acc;
}

// h' and s_si from the documented counter layout: normal k of kStreamFading in block k / 4.
std::pair<Complex, Complex> fading(const sk::IsacLinkParams& p, int64_t seed, int64_t step, int64_t b) {
  const auto key = rng::make_key(static_cast<uint64_t>(seed));
  const uint32_t stream = rng::kStreamFading + (p.eval ? static_cast<uint32_t>(rng::kStreamEvalOffset) : 0u);
  std::vector<double> n;
  for (uint32_t block = 0; static_cast<int64_t>(n.size()) < 2 * p.num_antennas + 2; ++block) {
    float v[4];
    rng::normal4f(rng::draw(key, stream, static_cast<uint32_t>(step), static_cast<uint32_t>(b), block), v);
    n.insert(n.end(), v, v + 4);
  }
  Complex h_eff = 0.0;
  for (int64_t m = 0; m < p.num_antennas; ++m) {
    h_eff += std::conj(Complex(n[2 * m], n[2 * m + 1]) / std::sqrt(2.0)) * p.w[m];
  }
  const int64_t k = 2 * p.num_antennas;
  return {h_eff, Complex(n[k], n[k + 1]) * std::sqrt(p.si_residual_power / 2.0)};
}

TEST(IsacLink, NoiselessOutputsEqualGainTimesSymbols) {
  for (auto dtype : {torch::kFloat, torch::kDouble}) {
    auto p = make_params();
    p.alpha = {0.8, 0.3};
    p.si_residual_power = 0.1;
    p.noise = false;
    const int64_t num_grid = 2, batch = 5, length = 7;  // odd L: the last symbol pair is half used
    const auto in = make_inputs(num_grid, batch, length, dtype);
    const auto out = run(in, p);
    const auto z = in.z.to(torch::kDouble);
    const auto phi = in.phi.to(torch::kDouble);
    const auto snr_db = in.snr_db.to(torch::kDouble);
    const auto y_bs = out.y_bs.to(torch::kDouble), y_ue = out.y_ue.to(torch::kDouble);
    const auto y_eve = out.y_eve.to(torch::kDouble), gains = out.gains.to(torch::kDouble);
    // float32: the kernel rounds its double result once, so the values are identical. float64: the
    // test's independent arithmetic (e.g. x / sqrt2 vs x * (1 / sqrt2)) may differ in the last bit.
    const bool is_float = dtype == torch::kFloat;
    auto round = [&](double v) { return is_float ? static_cast<double>(static_cast<float>(v)) : v; };
    auto expect_same = [&](double got, double want, const std::string& what) {
      if (is_float) {
        EXPECT_EQ(got, want) << what;
      } else {
        EXPECT_NEAR(got, want, 1e-14 * (1.0 + std::abs(want))) << what;
      }
    };
    for (int64_t g = 0; g < num_grid; ++g) {
      const double snr = std::pow(10.0, snr_db[g].item<double>() / 10.0);
      for (int64_t b = 0; b < batch; ++b) {
        const Complex sens = sensing_gain(p, phi[g][b].item<double>());
        const auto [h_eff, s_si] = fading(p, in.seeds[g].item<int64_t>(), 3, b);
        const Complex s[3] = {sens + s_si, std::norm(h_eff) / (std::norm(h_eff) + 1.0 / snr), sens};
        const torch::Tensor* y[3] = {&y_bs, &y_ue, &y_eve};
        for (int r = 0; r < 3; ++r) {
          const std::string where = "r=" + std::to_string(r) + " g=" + std::to_string(g) + " b=" + std::to_string(b);
          expect_same(gains[g][b][r][0].item<double>(), round(s[r].real()), where);
          expect_same(gains[g][b][r][1].item<double>(), round(s[r].imag()), where);
          for (int64_t l = 0; l < length; ++l) {
            const double zl = z[g][b][l].item<double>();
            expect_same((*y[r])[g][b][2 * l].item<double>(), round(s[r].real() * zl), where);
            expect_same((*y[r])[g][b][2 * l + 1].item<double>(), round(s[r].imag() * zl), where);
          }
        }
      }
    }
  }
}

TEST(IsacLink, RayleighEffectiveChannelMoments) {
  auto p = make_params();
  p.si_residual_power = 0.25;
  const auto a = sk::isac_link_args(p);
  const auto key = rng::make_key(123);
  const int64_t n = 100000;
  Complex mean = 0.0, si_mean = 0.0;
  double m2 = 0.0, m4 = 0.0, si_m2 = 0.0;
  for (int64_t b = 0; b < n; ++b) {
    const sk::IsacFading f = sk::isac_fading(a, key, 5, static_cast<uint32_t>(b));
    const Complex h(f.h_eff.re, f.h_eff.im), s(f.s_si.re, f.s_si.im);
    mean += h;
    m2 += std::norm(h);
    m4 += std::norm(h) * std::norm(h);
    si_mean += s;
    si_m2 += std::norm(s);
  }
  mean /= n;
  m2 /= n;
  m4 /= n;
  si_mean /= n;
  si_m2 /= n;
  // h' ~ CN(0, ||w||^2 = 1): Re, Im ~ N(0, 1/2) (std error 0.0022), |h'|^2 ~ Exp(1) (std error
  // 0.0032), E|h'|^4 = 2 (std error sqrt(20 / n) = 0.014). Tolerances are about 6 std errors.
  EXPECT_NEAR(mean.real(), 0.0, 0.015);
  EXPECT_NEAR(mean.imag(), 0.0, 0.015);
  EXPECT_NEAR(m2, 1.0, 0.02);
  EXPECT_NEAR(m4, 2.0, 0.09);
  // Residual self-interference ~ CN(0, rho = 0.25).
  EXPECT_NEAR(std::abs(si_mean), 0.0, 0.01);
  EXPECT_NEAR(si_m2, 0.25, 0.005);
}

// channel.alpha_phase = random: s_eve = alpha e^{j theta} a^H(phi) w with theta ~ U[0, 2 pi) per
// sample, from two extra fading normals; the sample's other draws stay what they were.
TEST(IsacLink, RandomAlphaPhaseIsUniformAndLeavesTheOtherDrawsAlone) {
  auto p = make_params();
  p.si_residual_power = 0.25;
  const auto fixed = sk::isac_link_args(p);
  p.alpha_random_phase = true;
  const auto random = sk::isac_link_args(p);
  const auto key = rng::make_key(321);
  const int64_t n = 100000;
  Complex m1 = 0.0, m2 = 0.0;
  double below_half_pi = 0.0;
  for (int64_t b = 0; b < n; ++b) {
    const auto f = sk::isac_fading(random, key, 9, static_cast<uint32_t>(b));
    const auto f0 = sk::isac_fading(fixed, key, 9, static_cast<uint32_t>(b));
    ASSERT_EQ(f.h_eff.re, f0.h_eff.re);
    ASSERT_EQ(f.h_eff.im, f0.h_eff.im);
    ASSERT_EQ(f.s_si.re, f0.s_si.re);
    ASSERT_EQ(f0.phase.re, 1.0);
    ASSERT_EQ(f0.phase.im, 0.0);
    const Complex u(f.phase.re, f.phase.im);
    ASSERT_NEAR(std::abs(u), 1.0, 1e-12);
    m1 += u;
    m2 += u * u;
    const double theta = std::arg(u) < 0 ? std::arg(u) + 2 * kPi : std::arg(u);
    below_half_pi += theta < 0.5 * kPi ? 1.0 : 0.0;
    if (b < 100) {  // the sample's sensing gain is the fixed one turned by theta
      const double phi = 0.2;
      const auto s = sk::isac_sample(random, f, phi, 10.0), s0 = sk::isac_sample(fixed, f0, phi, 10.0);
      const Complex turned = Complex(s0.s_eve.re, s0.s_eve.im) * u;
      EXPECT_NEAR(s.s_eve.re, turned.real(), 1e-14);
      EXPECT_NEAR(s.s_eve.im, turned.imag(), 1e-14);
      EXPECT_EQ(s.s_ue.re, s0.s_ue.re);  // the UE's link has no target
    }
  }
  // Uniform theta: E e^{j theta} = E e^{2 j theta} = 0 (std error 1/sqrt(2n) = 0.0022 per part),
  // P(theta < pi/2) = 1/4 (std error 0.0014). About 6 std errors.
  EXPECT_LT(std::abs(m1 / static_cast<double>(n)), 0.015);
  EXPECT_LT(std::abs(m2 / static_cast<double>(n)), 0.015);
  EXPECT_NEAR(below_half_pi / n, 0.25, 0.008);
}

TEST(IsacLink, NoiseMomentsMatchTheSpecifiedVariances) {
  auto p = make_params();
  p.eve_snr_offset_db = -3.0;
  const int64_t num_grid = 2, batch = 2000, length = 16;
  auto in = make_inputs(num_grid, batch, length, torch::kDouble, 9, 0.0, 10.0);
  in.z.zero_();  // outputs are pure noise
  const auto out = run(in, p);
  for (int64_t g = 0; g < num_grid; ++g) {
    const double snr = std::pow(10.0, in.snr_db[g].item<double>() / 10.0);
    const double snr_eve = snr * std::pow(10.0, -0.3);
    // UE noise is seen through the equaliser c; undo it to get n_ue.
    auto c = torch::empty({batch, 1, 2}, torch::kDouble);
    for (int64_t b = 0; b < batch; ++b) {
      const Complex h = fading(p, in.seeds[g].item<int64_t>(), 9, b).first;
      const Complex cb = std::conj(h) / (std::norm(h) + 1.0 / snr);
      c[b][0][0] = cb.real();
      c[b][0][1] = cb.imag();
    }
    const auto y_ue = torch::view_as_complex(out.y_ue[g].reshape({batch, length, 2}).contiguous());
    const auto n_ue = torch::view_as_real(y_ue / torch::view_as_complex(c));
    const std::tuple<const char*, torch::Tensor, double> cases[] = {
        {"bs", out.y_bs[g], p.ref_gain_bs / length / snr},
        {"ue", n_ue, 1.0 / length / snr},
        {"eve", out.y_eve[g], p.ref_gain_bs / length / snr_eve},
    };
    for (const auto& [name, y, power] : cases) {
      const auto v = y.reshape({-1, 2});
      const double count = static_cast<double>(v.size(0));
      const double var = power / 2.0;  // per real component
      for (int comp = 0; comp < 2; ++comp) {
        const auto x = v.select(1, comp);
        // Mean: std error sqrt(var / N); variance: relative std error sqrt(2 / N) = 0.56%.
        EXPECT_NEAR(x.mean().item<double>(), 0.0, 5.0 * std::sqrt(var / count)) << name;
        EXPECT_NEAR(x.square().mean().item<double>() / var, 1.0, 0.03) << name << " g=" << g;
        // Gaussian kurtosis 3 (std error sqrt(96 / N) = 0.04).
        EXPECT_NEAR(x.pow(4).mean().item<double>() / (var * var), 3.0, 0.25) << name;
      }
      // Circular: Re and Im uncorrelated.
      const double corr = (v.select(1, 0) * v.select(1, 1)).mean().item<double>() / var;
      EXPECT_NEAR(corr, 0.0, 5.0 / std::sqrt(count)) << name;
    }
    // The receivers' noises are independent of each other.
    const double cross = (out.y_bs[g] * out.y_eve[g]).mean().item<double>() /
                         std::sqrt(p.ref_gain_bs / length / snr * p.ref_gain_bs / length / snr_eve) * 2.0;
    EXPECT_NEAR(cross, 0.0, 5.0 / std::sqrt(batch * length * 2.0));
  }
}

TEST(IsacLink, MeasuredSnrMatchesRequested) {
  auto p = make_params();
  p.alpha = {0.6, -0.5};  // |alpha|^2 != 1: the reference gain must absorb it
  p.ref_gain_bs = sk::mean_sensing_gain(p, -kSector, kSector);
  p.eve_snr_offset_db = -6.0;
  const int64_t num_grid = 3, batch = 4096, length = 16;
  const auto in = make_inputs(num_grid, batch, length, torch::kFloat, 4, 0.0, 20.0);
  auto quiet = p;
  quiet.noise = false;
  const auto clean = run(in, quiet);
  const auto noisy = run(in, p);
  for (int64_t g = 0; g < num_grid; ++g) {
    const double snr = std::pow(10.0, in.snr_db[g].item<double>() / 10.0);
    auto measured = [&](const torch::Tensor& y_clean, const torch::Tensor& y_noisy) {
      const auto s = y_clean[g].to(torch::kDouble);
      const auto n = y_noisy[g].to(torch::kDouble) - s;
      return s.square().sum().item<double>() / n.square().sum().item<double>();
    };
    // Noise power: relative std error 1 / sqrt(B L) = 0.4%; the signal average over phi adds less.
    EXPECT_NEAR(measured(clean.y_bs, noisy.y_bs) / snr, 1.0, 0.03) << "g=" << g;
    EXPECT_NEAR(measured(clean.y_eve, noisy.y_eve) / (snr * std::pow(10.0, -0.6)), 1.0, 0.03) << "g=" << g;
  }
}

TEST(IsacLink, DrawsAreAFunctionOfSeedStepSampleOnly) {
  const auto p = make_params();
  const int64_t batch = 6, length = 10;
  const auto in = make_inputs(4, batch, length, torch::kFloat, 17);
  const auto a = run(in, p), b = run(in, p);
  EXPECT_TRUE(torch::equal(a.y_bs, b.y_bs));
  EXPECT_TRUE(torch::equal(a.y_ue, b.y_ue));
  EXPECT_TRUE(torch::equal(a.y_eve, b.y_eve));

  auto other_step = in;
  other_step.counter = in.counter + 1;
  const auto c = run(other_step, p);
  auto other_seed = in;
  other_seed.seeds = in.seeds + 1000;
  const auto d = run(other_seed, p);
  auto eval = p;
  eval.eval = true;
  const auto e = run(in, eval);
  for (const auto* o : {&c, &d, &e}) {
    // Every sample changes: compare per (g, b) row.
    EXPECT_TRUE((o->y_bs - a.y_bs).abs().amax(-1).gt(0).all().item<bool>());
    EXPECT_TRUE((o->y_ue - a.y_ue).abs().amax(-1).gt(0).all().item<bool>());
    EXPECT_TRUE((o->y_eve - a.y_eve).abs().amax(-1).gt(0).all().item<bool>());
  }

  // Grid point 2 of a G = 4 call equals the same configuration run alone.
  Inputs alone;
  alone.z = in.z.slice(0, 2, 3);
  alone.phi = in.phi.slice(0, 2, 3);
  alone.snr_db = in.snr_db.slice(0, 2, 3);
  alone.seeds = in.seeds.slice(0, 2, 3);
  alone.counter = in.counter;
  const auto single = run(alone, p);
  EXPECT_TRUE(torch::equal(single.y_bs[0], a.y_bs[2]));
  EXPECT_TRUE(torch::equal(single.y_ue[0], a.y_ue[2]));
  EXPECT_TRUE(torch::equal(single.y_eve[0], a.y_eve[2]));
  EXPECT_TRUE(torch::equal(single.gains[0], a.gains[2]));
}

TEST(IsacLink, MeanSensingGainMatchesMonteCarlo) {
  torch::manual_seed(5);
  const auto phis = ((torch::rand({200000}, torch::kDouble) * 2.0 - 1.0) * kSector).contiguous();
  const std::vector<std::pair<std::string, int64_t>> beams = {{"wide2", 16}, {"uniform", 8}, {"steer", 16}};
  for (const auto& [kind, m] : beams) {
    auto p = make_params(m, kind);
    p.alpha = {0.5, 0.5};
    const double quad = sk::mean_sensing_gain(p, -kSector, kSector);
    double sum = 0.0, sum2 = 0.0;
    for (int64_t i = 0; i < phis.numel(); ++i) {
      const double g = std::norm(sensing_gain(p, phis.data_ptr<double>()[i]));
      sum += g;
      sum2 += g * g;
    }
    const double n = static_cast<double>(phis.numel());
    const double mc = sum / n, se = std::sqrt((sum2 / n - mc * mc) / n);
    EXPECT_NEAR(quad, mc, 5.0 * se + 1e-12) << kind;
    // A dense midpoint rule agrees far more tightly than Monte-Carlo can show.
    double mid = 0.0;
    const int steps = 200000;
    for (int i = 0; i < steps; ++i) {
      mid += std::norm(sensing_gain(p, -kSector + 2.0 * kSector * (i + 0.5) / steps));
    }
    EXPECT_NEAR(quad, mid / steps, 1e-7 * quad) << kind;
  }
  // wide2 with alpha = 1: |a^H w|^2 = 1 + cos(pi sin phi), so the mean lies in (1, 2].
  const double wide = sk::mean_sensing_gain(make_params(), -kSector, kSector);
  EXPECT_GT(wide, 1.0);
  EXPECT_LT(wide, 2.0);
  EXPECT_NEAR(sk::mean_sensing_gain(make_params(), 0.0, 0.0), 2.0, 1e-15);
  expect_error([] { sk::mean_sensing_gain(make_params(), 0.3, 0.1); },
               {"mean_sensing_gain: need a finite sector phi_lo <= phi_hi, got [0.3, 0.1]"});
}

// The "sector" beam over the paper's [-20, 20] deg: across the sector the magnitude of a^H(phi) w
// rises and its (unwrapped) phase falls strictly, close to the designed response: magnitude ratio
// 3 between the ends, phase span 1.5 pi; so phi is identifiable from the phase, and from the
// magnitude alone when alpha's phase is random. wide2's magnitude is symmetric in phi instead.
TEST(IsacLink, SectorBeamIsMonotoneInMagnitudeAndPhaseOverItsSector) {
  auto p = make_params(16, "sector");
  const int points = 201;
  std::vector<double> mag, phase;
  for (int i = 0; i < points; ++i) {
    const Complex g = sensing_gain(p, -kSector + 2.0 * kSector * i / (points - 1));
    mag.push_back(std::abs(g));
    double ph = std::arg(g);
    if (!phase.empty()) {  // unwrap
      while (ph - phase.back() > kPi) ph -= 2 * kPi;
      while (ph - phase.back() < -kPi) ph += 2 * kPi;
    }
    phase.push_back(ph);
  }
  for (int i = 1; i < points; ++i) {
    EXPECT_GT(mag[i], mag[i - 1]) << "magnitude not rising at sample " << i;
    EXPECT_LT(phase[i], phase[i - 1]) << "phase not falling at sample " << i;
  }
  EXPECT_NEAR(mag.back() / mag.front(), 3.0, 0.3);
  EXPECT_NEAR(phase.front() - phase.back(), 1.5 * kPi, 0.15);
  auto wide = make_params(16, "wide2");
  EXPECT_NEAR(std::abs(sensing_gain(wide, -0.2)), std::abs(sensing_gain(wide, 0.2)), 1e-12);
  expect_error([] { sk::make_beamformer("sector", 16, 0.0, {10.0, 10.0}); },
               {"channel.beamformer 'sector' needs an azimuth range with phi_min < phi_max, got [10, 10] deg"});
}

TEST(IsacLink, BeamformersAreUnitNorm) {
  for (const std::string kind : {"wide2", "uniform", "steer", "sector"}) {
    const auto w = sk::make_beamformer(kind, 16, 15.0);
    double norm2 = 0.0;
    for (const auto& v : w) norm2 += std::norm(v);
    EXPECT_NEAR(norm2, 1.0, 1e-14) << kind;
  }
  // "steer" puts the beam peak |a^H w|^2 = M on the steering angle.
  auto p = make_params(16, "steer");
  EXPECT_NEAR(std::norm(sensing_gain(p, 10.0 * kPi / 180.0)), 16.0, 1e-9);
  expect_error([] { sk::make_beamformer("bogus", 16, 0.0); },
               {"channel.beamformer: unknown beamformer 'bogus'", "wide2, uniform, steer, sector"});
  expect_error([] { sk::make_beamformer("wide2", 1, 0.0); },
               {"channel.beamformer 'wide2' needs num_antennas >= 2, got 1"});
}

TEST(IsacLink, EmptyBatchGivesEmptyOutputs) {
  const auto in = make_inputs(2, 0, 8, torch::kFloat);
  const auto out = run(in, make_params());
  EXPECT_EQ(out.y_bs.sizes(), (std::vector<int64_t>{2, 0, 16}));
  EXPECT_EQ(out.gains.sizes(), (std::vector<int64_t>{2, 0, 3, 2}));
}

TEST(IsacLink, BadInputsGiveClearErrors) {
  const auto p = make_params();
  const auto in = make_inputs(2, 3, 4, torch::kFloat);
  auto call = [&](Inputs x, sk::IsacLinkParams q) {
    return [x, q] { sk::isac_link(x.z, x.phi, x.snr_db, x.seeds, x.counter, q); };
  };
  auto with = [&](auto edit) {
    Inputs x = in;
    edit(x);
    return x;
  };
  expect_error<c10::Error>(call(with([](Inputs& x) { x.z = x.z[0]; }), p),
                           {"isac_link: z must be [G, B, L], got [3, 4]"});
  expect_error<c10::Error>(call(with([](Inputs& x) { x.z = x.z.to(torch::kInt); }), p),
                           {"isac_link: z must be float32 or float64, got Int"});
  expect_error<c10::Error>(call(with([](Inputs& x) { x.phi = x.phi.t(); }), p),
                           {"isac_link: phi must be [G, B] = [2, 3], got [3, 2]"});
  expect_error<c10::Error>(call(with([](Inputs& x) { x.snr_db = x.snr_db.slice(0, 0, 1); }), p),
                           {"isac_link: snr_db must be [G] = [2], got [1]"});
  expect_error<c10::Error>(call(with([](Inputs& x) { x.seeds = x.seeds.to(torch::kInt); }), p),
                           {"isac_link: seeds and counter must be int64, got Int and Long"});
  expect_error<c10::Error>(call(with([](Inputs& x) { x.counter = torch::zeros({2}, torch::kLong); }), p),
                           {"isac_link: counter must hold one step, got shape [2]"});
  expect_error<c10::Error>(call(with([](Inputs& x) { x.phi = x.phi.to(torch::kDouble); }), p),
                           {"isac_link: phi and snr_db must have z's dtype Float, got Double and Float"});
  const auto meta = torch::dtype(torch::kLong).device(torch::kMeta);
  expect_error<c10::Error>(call(with([&](Inputs& x) { x.counter = torch::zeros({1}, meta); }), p),
                           {"isac_link: all inputs must be on z's device cpu, got a tensor on meta"});
  auto q = p;
  q.num_antennas = 65;
  expect_error(call(in, q), {"isac_link: num_antennas = 65 out of range"});
  q = p;
  q.w.pop_back();
  expect_error(call(in, q), {"isac_link: beamformer w has 15 weights, expected num_antennas = 16"});
  q = p;
  q.ref_gain_bs = 0.0;
  expect_error(call(in, q), {"isac_link: ref_gain_bs = 0 must be finite and > 0"});
  q = p;
  q.si_residual_power = -1.0;
  expect_error(call(in, q), {"isac_link: si_residual_power = -1 must be finite and >= 0"});
}

}  // namespace
