// Torch-facing API of the channel kernels: argument checks, CPU/CUDA dispatch, autograd, and
// an ATen reference of the SS-ISAC link (eq. 3, 4, 11-13 of the SS-ISAC paper) for tests.
#pragma once

#include <complex>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "kernels/isac_link/isac_link.h"

namespace semsec::kernels {

struct IsacLinkParams {
  int64_t num_antennas = 16;             // M, at most 64
  std::vector<std::complex<double>> w;   // beamformer [M], unit norm (see make_beamformer)
  std::complex<double> alpha{1.0, 0.0};  // reflection coefficient of the target
  double si_residual_power = 0.0;        // rho: residual self-interference gain ~ CN(0, rho)
  double eve_snr_offset_db = 0.0;        // SNR at Eve minus the BS receiver SNR
  double ref_gain_bs = 1.0;              // mean sensing gain over the sector (mean_sensing_gain)
  bool noise = true;                     // false: noiseless outputs (tests)
  bool eval = false;                     // true: evaluation streams (+ rng::kStreamEvalOffset)
  // true: the target reflects with alpha e^{j theta}, theta ~ U[0, 2 pi) drawn per sample (config
  // channel.alpha_phase: random), so only |alpha a^H(phi) w| carries the azimuth.
  bool alpha_random_phase = false;
};

// Beamformer of M unit-norm complex weights. kind (config key `channel.beamformer`):
//   "wide2"   (e_0 + e_1) / sqrt(2): a wide beam whose phase -pi sin(phi) / 2 is monotone over the
//             sector, so the azimuth is identifiable from the echo; needs M >= 2.
//   "uniform" ones / sqrt(M).
//   "steer"   a(steer_deg) / sqrt(M).
//   "sector"  all M antennas, designed by regularised least squares over the azimuth range
//             sector_deg (phi_min, phi_max) for a response whose magnitude rises threefold and
//             whose phase falls by 1.5 pi across it, both monotone (isac_link_op.cpp).
std::vector<std::complex<double>> make_beamformer(const std::string& kind, int64_t num_antennas, double steer_deg = 0.0,
                                                  std::pair<double, double> sector_deg = {-20.0, 20.0});

// The validated kernel argument block of p (G, B, L left 0; isac_link fills them from z).
// Errors name the bad field. Exposed so tests can call the shared math of isac_link.h directly.
IsacLinkArgs isac_link_args(const IsacLinkParams& p);

// Mean over phi uniform in [phi_lo, phi_hi] (radians) of |alpha a^H(phi) w|^2, by 2001-point
// Simpson quadrature; the value to put into IsacLinkParams::ref_gain_bs.
double mean_sensing_gain(const IsacLinkParams& p, double phi_lo, double phi_hi);

struct IsacLinkOut {
  torch::Tensor y_bs;   // [G, B, 2L] interleaved (re, im) at the BS receiver
  torch::Tensor y_ue;   // [G, B, 2L] at the UE, after its MMSE equaliser
  torch::Tensor y_eve;  // [G, B, 2L] at Eve (the target)
  torch::Tensor gains;  // [G, B, 3, 2] (re, im) of s_bs, s_ue, s_eve; carries no gradient
};

// The SS-ISAC link, one realisation per sample (g, b):
//   z [G,B,L] real symbols (float32 or float64, ||z_gb||^2 = 1), phi [G,B] azimuth (rad),
//   snr_db [G] receiver SNR, seeds [G] int64 (Philox key per grid point), counter [1] int64 step,
//   all on z's device, phi and snr_db of z's dtype. Draws depend on (seed_g, step, b, element)
//   only, so a grid point gives the same outputs alone or inside a grid. Differentiable w.r.t. z
//   (analytic backward); no gradient flows to phi or snr_db.
IsacLinkOut isac_link(const torch::Tensor& z, const torch::Tensor& phi, const torch::Tensor& snr_db,
                      const torch::Tensor& seeds, const torch::Tensor& counter, const IsacLinkParams& p);

// The same link in two halves, as the CLSSR link's generate_channels and transmit: generate draws
// the channel of one step before any codeword is sent (per sample the fading, the sensing gain,
// the UE's equaliser and the noise levels of codewords of length L), and apply sends codewords
// through it with the noise draws of the same step. apply(z, generate(...)) equals isac_link bit
// for bit on either device, and several z applied to one state see common channel draws (the
// evaluation's variants do: trainers/ss_isac/security.cpp).
struct IsacLinkState {
  torch::Tensor samples;  // [G, B, kIsacSampleDoubles] float64: each sample's IsacSample (isac_link.h)
  torch::Tensor gains;    // [G, B, 3, 2] of phi's dtype: (re, im) of s_bs, s_ue, s_eve; no gradient
  torch::Tensor seeds;    // [G] int64: the keys of the draws
  torch::Tensor counter;  // [1] int64: a copy of the step drawn at; apply's noise uses it too
  IsacLinkArgs args{};    // the validated parameters, with G, B and L
};
// phi [G, B] (float32 or float64), snr_db [G] of phi's dtype, seeds [G] and counter [1] int64,
// all on phi's device; length L of the codewords to come. Errors as isac_link's.
IsacLinkState isac_link_generate(const torch::Tensor& phi, const torch::Tensor& snr_db, const torch::Tensor& seeds,
                                 const torch::Tensor& counter, int64_t length, const IsacLinkParams& p);
// z [G, B, L] of the state's shape, dtype and device; differentiable w.r.t. z. gains: the state's.
IsacLinkOut isac_link_apply(const torch::Tensor& z, const IsacLinkState& state);

// The standard normals isac_link draws, generated on the host with the same Philox counters:
// fading [G,B,2M+2] (h_m = (n_2m + j n_2m+1)/sqrt2, then s_si's two; two more, the reflection's
// phase, with alpha_random_phase), noise_* [G,B,L,2] (re, im
// per symbol, unit variance each). float64, on the host.
struct IsacLinkDraws {
  torch::Tensor fading, noise_bs, noise_ue, noise_eve;
};
IsacLinkDraws isac_link_draws(const torch::Tensor& seeds, const torch::Tensor& counter, int64_t batch, int64_t length,
                              const IsacLinkParams& p);

// The same channel composed from ATen complex ops on isac_link_draws (reference for tests and
// benchmarks; differentiable through ordinary autograd). Same arguments and outputs as isac_link.
IsacLinkOut isac_link_reference(const torch::Tensor& z, const torch::Tensor& phi, const torch::Tensor& snr_db,
                                const torch::Tensor& seeds, const torch::Tensor& counter, const IsacLinkParams& p);

}  // namespace semsec::kernels
