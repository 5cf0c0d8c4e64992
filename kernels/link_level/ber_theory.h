// Closed-form bit error rates of the link-level schemes (kernels/link_level/link_level.h), as functions of
// Eb/N0 per information bit: the reference curves of link.csv and of the BER tests.
#pragma once

#include <cmath>
#include <limits>

#include "kernels/link_level/link_level.h"

namespace semsec::link {

inline double q_function(double x) { return 0.5 * std::erfc(x / std::sqrt(2.0)); }

inline double db_to_linear(double db) { return std::pow(10.0, db / 10.0); }

// Gray QPSK over AWGN: Q(sqrt(2 Eb/N0)).
inline double ber_qpsk_awgn(double ebn0) { return q_function(std::sqrt(2.0 * ebn0)); }

// Gray QPSK with L-branch maximal-ratio combining over i.i.d. Rayleigh branches of mean SNR per
// bit gb (Proakis, eq. 14.4-15): ((1 - mu) / 2)^L sum_{k<L} C(L-1+k, k) ((1 + mu) / 2)^k with
// mu = sqrt(gb / (1 + gb)). 1 - mu is formed as 1 / ((1 + gb)(1 + mu)) to stay accurate at
// high SNR. L = 1 is SISO Rayleigh, 0.5 (1 - sqrt(g / (1 + g))).
inline double ber_qpsk_mrc_rayleigh(int num_branches, double gb) {
  if (gb == std::numeric_limits<double>::infinity()) return 0.0;
  const double mu = std::sqrt(gb / (1.0 + gb));
  const double one_minus_mu = 1.0 / ((1.0 + gb) * (1.0 + mu));
  double sum = 0.0;
  double binom = 1.0;  // C(L-1+k, k), updated incrementally
  for (int k = 0; k < num_branches; ++k) {
    if (k > 0) binom = binom * static_cast<double>(num_branches - 1 + k) / static_cast<double>(k);
    sum += binom * std::pow((1.0 + mu) / 2.0, k);
  }
  return std::pow(one_minus_mu / 2.0, num_branches) * sum;
}

inline double ber_qpsk_rayleigh(double ebn0) { return ber_qpsk_mrc_rayleigh(1, ebn0); }

// Theory for a link of the BER path (link_level_op.h: unit-variance fading entries, fixed total
// power): Alamouti with N_r receive antennas is 2 N_r-branch MRC with per-branch SNR Eb/N0 / 2
// (each antenna sends half the power); a unit-norm beam on i.i.d. Rayleigh entries is N_r-branch
// MRC at Eb/N0.
inline double ber_theory(const LinkShape& shape, double ebn0_db) {
  const double g = ebn0_db == std::numeric_limits<double>::infinity() ? ebn0_db : db_to_linear(ebn0_db);
  switch (shape.scheme) {
    case Scheme::kAwgn:
      return ber_qpsk_awgn(g);
    case Scheme::kRayleigh:
      return ber_qpsk_rayleigh(g);
    case Scheme::kAlamouti2x1:
      return ber_qpsk_mrc_rayleigh(2, g / 2.0);
    case Scheme::kAlamouti2x2:
      return ber_qpsk_mrc_rayleigh(4, g / 2.0);
    case Scheme::kBeamforming:
      return ber_qpsk_mrc_rayleigh(shape.num_rx, g);
    case Scheme::kBeamAlamouti:  // each sub-array's beamformed branch is CN(0, 1): Alamouti over 2 N_r branches
      return ber_qpsk_mrc_rayleigh(2 * shape.num_rx, g / 2.0);
  }
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace semsec::link
