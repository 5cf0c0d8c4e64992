// The ISAC link's beamformers and the mean sensing gain over a sector (isac_link_op.h): built once
// per run from the configuration's channel section, apart from the per-step kernels.
#include <cmath>
#include <complex>
#include <string>
#include <utility>
#include <vector>

#include "core/errors.h"
#include "kernels/isac_link/isac_link.h"
#include "kernels/isac_link/isac_link_op.h"

namespace semsec::kernels {

namespace {

constexpr double kPi = 3.141592653589793;
constexpr int kSimpsonPoints = 2001;

// The "sector" beam: w minimising sum_k |a^H(phi_k) w - d(phi_k)|^2 + mu ||w||^2 over 401 azimuths
// spread evenly over the sector, then scaled to unit norm, for the target response
//   d(phi) = (1 + t / 2) exp(-j 0.75 pi t),  t = (phi - centre) / half-width in [-1, 1]:
// a magnitude that rises by a factor 3 across the sector and a phase that falls by 1.5 pi, both
// monotone, so the echo identifies phi through its phase and, when the reflection's phase is
// random and only |alpha a^H w| is informative, through its magnitude. mu (1e-3 of the mean
// diagonal of A^H A) keeps w from the large, oscillating solutions a narrow sector invites.
std::vector<std::complex<double>> sector_beamformer(int64_t num_antennas, std::pair<double, double> sector_deg) {
  const auto [lo_deg, hi_deg] = sector_deg;
  if (!(hi_deg > lo_deg))
    fail("channel.beamformer 'sector' needs an azimuth range with phi_min < phi_max, got [{}, {}] deg", lo_deg, hi_deg);
  constexpr int64_t kPoints = 401;
  const auto cd = torch::TensorOptions().dtype(torch::kComplexDouble);
  const torch::Tensor t = torch::linspace(-1.0, 1.0, kPoints, torch::kDouble);
  const double centre = 0.5 * (lo_deg + hi_deg) * kPi / 180.0, half = 0.5 * (hi_deg - lo_deg) * kPi / 180.0;
  const torch::Tensor u = torch::sin(centre + half * t);                                         // sin(phi_k)
  const torch::Tensor ph = -kPi * u.unsqueeze(1) * torch::arange(num_antennas, torch::kDouble);  // [K, M]
  const torch::Tensor a = torch::polar(torch::ones_like(ph), ph);                                // conj(a_m(phi_k))
  const torch::Tensor d = torch::polar(1.0 + 0.5 * t, -0.75 * kPi * t).to(cd);
  const torch::Tensor gram = a.conj().t().matmul(a);
  const double mu = 1e-3 * torch::real(gram.diagonal()).mean().item<double>();
  const torch::Tensor eye = torch::eye(num_antennas, torch::kDouble).to(cd);
  torch::Tensor w = torch::linalg_solve(gram + mu * eye, a.conj().t().matmul(d), true);
  w = w / w.abs().square().sum().sqrt();
  std::vector<std::complex<double>> out(static_cast<size_t>(num_antennas));
  const auto* p = w.data_ptr<c10::complex<double>>();
  for (size_t m = 0; m < out.size(); ++m) out[m] = {p[m].real(), p[m].imag()};
  return out;
}

}  // namespace

std::vector<std::complex<double>> make_beamformer(const std::string& kind, int64_t num_antennas, double steer_deg,
                                                  std::pair<double, double> sector_deg) {
  if (num_antennas < 1 || num_antennas > kIsacMaxAntennas) {
    fail("channel.num_antennas = {} out of range, expected 1..{}", num_antennas, kIsacMaxAntennas);
  }
  const auto m_count = static_cast<size_t>(num_antennas);
  std::vector<std::complex<double>> w(m_count, {0.0, 0.0});
  if (kind == "wide2") {
    if (num_antennas < 2) fail("channel.beamformer 'wide2' needs num_antennas >= 2, got {}", num_antennas);
    w[0] = w[1] = {1.0 / std::sqrt(2.0), 0.0};
  } else if (kind == "uniform") {
    for (auto& v : w) v = {1.0 / std::sqrt(static_cast<double>(num_antennas)), 0.0};
  } else if (kind == "steer") {
    const double s = std::sin(steer_deg * kPi / 180.0);
    for (size_t m = 0; m < m_count; ++m) {
      w[m] = std::polar(1.0 / std::sqrt(static_cast<double>(num_antennas)), kPi * static_cast<double>(m) * s);
    }
  } else if (kind == "sector") {
    w = sector_beamformer(num_antennas, sector_deg);
  } else {
    fail("channel.beamformer: unknown beamformer '{}', expected one of: wide2, uniform, steer, sector", kind);
  }
  return w;
}

double mean_sensing_gain(const IsacLinkParams& p, double phi_lo, double phi_hi) {
  const IsacLinkArgs a = isac_link_args(p);
  if (!std::isfinite(phi_lo) || !std::isfinite(phi_hi) || phi_hi < phi_lo) {
    fail("mean_sensing_gain: need a finite sector phi_lo <= phi_hi, got [{}, {}]", phi_lo, phi_hi);
  }
  if (phi_hi == phi_lo) return cnorm2(isac_sensing_gain(a, phi_lo));
  const int intervals = kSimpsonPoints - 1;
  const double h = (phi_hi - phi_lo) / intervals;
  double sum = 0.0;
  for (int i = 0; i <= intervals; ++i) {
    const double weight = (i == 0 || i == intervals) ? 1.0 : (i % 2 == 1 ? 4.0 : 2.0);
    sum += weight * cnorm2(isac_sensing_gain(a, phi_lo + h * i));
  }
  return sum * h / 3.0 / (phi_hi - phi_lo);
}

}  // namespace semsec::kernels
