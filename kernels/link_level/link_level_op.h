// Torch-facing API of the CLSSR link level (kernels/link_level/link_level.h holds the per-element math and
// the signal model): Monte-Carlo BER curves on a normalised link, and a batched geometric link
// (BS, user, Eves, path loss, Rayleigh/Rician fading, DFT-codebook beams, optionally under
// Alamouti coding) for the RL allocator.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/link_level/link_level.h"
#include "kernels/philox.h"

namespace semsec::link {

// "awgn", "rayleigh", "alamouti_2x1", "alamouti_2x2", "beamforming", "beam_alamouti";
// parse_scheme throws semsec::Error naming the accepted names.
Scheme parse_scheme(const std::string& name);
std::string scheme_name(Scheme scheme);
const std::vector<std::string>& scheme_names();

// Antenna counts of `scheme`: awgn/rayleigh 1x1, alamouti_2x1 2x1, alamouti_2x2 2x2; beamforming
// takes bf_num_tx (<= kMaxTx) x bf_num_rx (<= kMaxRx); beam_alamouti takes an even bf_num_tx in
// [2, kMaxTx] (two sub-arrays of M = bf_num_tx / 2) x bf_num_rx in {1, 2} ("2x1" / "2x2"
// Alamouti with beamforming). num_beams: DFT codebook size (>= 1). Throws semsec::Error naming
// num_tx, num_rx or num_beams. The beam length is beam_size(shape) (link_level.h).
LinkShape link_shape(Scheme scheme, int bf_num_tx = 2, int bf_num_rx = 1, int num_beams = 8);

// ---------------------------------------------------------------------------------------------
// BER path. Each entry of the channel is CN(0, 1) (awgn: 1), symbols have unit energy, the total
// transmit power is fixed, and the fading is independent from block to block (a block = two QPSK
// symbols = 4 bits = one Alamouti codeword). Eb/N0 is per information bit (2 bits per symbol).
// A beamforming link uses beam 0; on i.i.d. Rayleigh entries any unit-norm beam gives h f ~
// CN(0, 1), so its BER is that of MRC over num_rx Rayleigh branches. A beam_alamouti link also
// uses beam 0: its two branches see disjoint sub-arrays, so g_0, g_1 are independent CN(0, 1)
// and its BER is that of plain Alamouti with num_rx receive antennas (2 num_rx-branch MRC at
// Eb/N0 / 2 per branch), whatever M.

// Noise std per real component for Eb/N0 in dB: sigma^2 = 1 / (4 Eb/N0); +inf dB gives 0.
double ebn0_noise_std(double ebn0_db);

struct BerBits {
  torch::Tensor tx_bits;  // [4 n_blocks] uint8, drawn from the counters
  torch::Tensor rx_bits;  // [4 n_blocks] uint8, decided at the receiver
};
// Blocks sample_offset .. sample_offset + n_blocks - 1 of Eb/N0 point `step`, on `device`.
BerBits ber_bits(const LinkShape& shape, double noise_std, int64_t n_blocks, uint64_t seed, uint32_t step,
                 torch::Device device, uint32_t sample_offset = 0, uint32_t stream = rng::kStreamLink);

struct BerPoint {
  double ebn0_db;
  int64_t bit_errors;
  int64_t n_bits;
  double ber() const { return n_bits > 0 ? static_cast<double>(bit_errors) / static_cast<double>(n_bits) : 0.0; }
};

// Monte-Carlo bit errors of `scheme` at each Eb/N0 (dB). n_bits per point is rounded up to a
// multiple of 4 (reported in BerPoint::n_bits), at most 2^34. Point k uses step = k, so points are
// independent and the result depends on (scheme, grid, n_bits, seed) only, on either device.
std::vector<BerPoint> simulate_ber(const std::string& scheme, const std::vector<double>& ebn0_db, int64_t n_bits,
                                   uint64_t seed, torch::Device device);
std::vector<BerPoint> simulate_ber(const LinkShape& shape, const std::vector<double>& ebn0_db, int64_t n_bits,
                                   uint64_t seed, torch::Device device);

// ---------------------------------------------------------------------------------------------
// Geometric link (Sec. V of the CLSSR paper). Receiver 0 is the user, receivers 1.. the Eves.
// Large scale: PL(d) = (d / d0)^-eta, P0 = N0 B, received signal power P_tx PL(d) |g f|^2.
// Small scale per sample (constant over the sample's bits): g = los_w a(theta) + nlos_w w with
// w ~ CN(0, I), K = rician_k (0 = Rayleigh, the paper's setting; K > 0 adds a line-of-sight
// component so that a beam's direction matters on average, not only per realisation).
// Array: half-wavelength ULA along the y axis at the BS, theta measured from the x axis, so
// sin(theta) = (y - y_bs) / d. Beams: DFT codebook f_k[n] = exp(j 2 pi n k / num_beams) /
// sqrt(L), n < L = beam_size(shape), k = 0 .. num_beams - 1, pointing at sin(theta) =
// 2k / num_beams (wrapped into [-1, 1)); ||f_k|| = 1, so P_tx is the whole transmit power (xi of
// eq. 9b). beamforming: L = num_tx, one stream through f_k. beam_alamouti: L = M = num_tx / 2,
// Alamouti branch i through f_k on antennas i M .. i M + M - 1 (each branch at P_tx / 2); the
// sub-arrays' line-of-sight responses differ by the phase exp(-j pi M sin(theta)) only, which the
// Alamouti combiner ignores, so the beam steers both branches alike.
// Channels are expressed in units of sqrt(P0): |h f|^2 is the SNR at tau = 1, and with noise
// power P = tau P0 the SNR of a sample is gain / tau.
// With the defaults below (eta = 3, d0 = 1 m, 20 dBm, -174 dBm/Hz, 1 MHz) the mean SNR of one
// fading entry at tau = 1 is 48.5 dB at the user, 50.6 dB at Eve 1 and 46.0 dB at Eve 2, so bit
// errors are rare unless tau is large; eta or d0 set how hard the link is.

struct Position {
  double x_m;
  double y_m;
};

struct LinkConfig {
  Scheme scheme = Scheme::kBeamforming;
  int num_tx = 2;     // beamforming (any in [1, kMaxTx]) and beam_alamouti (even, 2 sub-arrays of
                      // num_tx / 2); others have fixed counts (link_shape)
  int num_rx = 1;     // beamforming ([1, kMaxRx]) and beam_alamouti (1 or 2) only
  int num_beams = 8;  // DFT codebook size (beamforming, beam_alamouti)
  Position bs{0.0, 0.0};
  Position user{500.0, 500.0};
  std::vector<Position> eves{{400.0, 450.0}, {800.0, 300.0}};
  double d0_m = 1.0;                // reference distance of the path loss
  double path_loss_exponent = 3.0;  // eta; 3 is a common urban macro-cell value (the paper gives none)
  double p_tx_dbm = 20.0;
  double bandwidth_hz = 1e6;
  double n0_dbm_per_hz = -174.0;
  double rician_k = 0.0;
};

// Throws semsec::Error naming the bad field (antenna counts, codebook, distances, K, ...).
void validate(const LinkConfig& cfg);
LinkShape link_shape(const LinkConfig& cfg);
int64_t num_receivers(const LinkConfig& cfg);  // 1 + number of Eves
double dbm_to_watt(double dbm);
double path_loss(double d_m, double d0_m, double eta);  // (d / d0)^-eta
double noise_floor_w(const LinkConfig& cfg);            // P0 = N0 B in watts
// P_tx PL(d_r) / P0 per receiver: the mean SNR of one fading entry at tau = 1.
std::vector<double> large_scale_gains(const LinkConfig& cfg);

// The DFT codebook [num_beams, num_tx, 2] (re, im), float64; num_tx is the beam length, i.e.
// beam_size(link_shape(cfg)): the whole array for beamforming, one sub-array of num_tx / 2
// elements for beam_alamouti.
torch::Tensor beam_codebook(int num_tx, int num_beams, torch::Device device = torch::kCPU);

// Draws every receiver's channel for samples 0 .. num_samples - 1 of `step`:
// h [R, N, num_rx, num_tx, 2] float64 on `device` (in units of sqrt(P0), see above).
torch::Tensor generate_channels(const LinkConfig& cfg, int64_t num_samples, uint64_t seed, uint32_t step,
                                torch::Device device, uint32_t stream = rng::kStreamLink);

// Effective gain of every codebook beam: [R, N, num_beams] float64 (ATen ops, any device).
// beamforming: ||H f_k||^2; beam_alamouti: 0.5 sum_a sum_i |H[a, iM:(i+1)M] f_k|^2 (M = num_tx / 2);
// alamouti: ||H||_F^2 / 2; awgn/rayleigh: sum_a |h_a|^2 (the last two beam-independent).
torch::Tensor beam_gains(const LinkConfig& cfg, const torch::Tensor& h);

struct LinkOutput {
  torch::Tensor rx_bits;  // [R, N, num_bits] uint8: decided bits at the user (r = 0) and each Eve
  torch::Tensor gain;     // [R, N] float64: effective gain (in units of P0) of the beam used
};

// Sends bits [N, num_bits] (uint8 0/1, num_bits <= 2^21) of each sample over its own channel
// h [R, N, num_rx, num_tx, 2] (from generate_channels) with beam beams[n] (int64 [N], in
// [0, num_beams); read by beamforming and beam_alamouti, ignored by the schemes without a beam)
// and noise power tau[n] P0 (float64 [N], >= 0) to every receiver. All tensors on one device.
// Noise draws depend on (seed, stream, step, n, r, block) only, so the same call with another
// beam sees the same noise. `sample_ids` (int64 [N], values in [0, 2^32), optional) replaces n in
// those counters: sending rows 3 and 7 of a batch with sample_ids {3, 7} gives exactly rows 3 and
// 7 of the whole batch's output, at a fraction of the work.
// LinkOutput::gain is the effective gain of the beam used: |h f|^2 for beamforming, the
// Alamouti 0.5 sum_a sum_i |g_ai|^2 for the Alamouti schemes (= beam_gains at beams[n]).
LinkOutput transmit(const LinkConfig& cfg, const torch::Tensor& bits, const torch::Tensor& h,
                    const torch::Tensor& beams, const torch::Tensor& tau, uint64_t seed, uint32_t step,
                    uint32_t stream = rng::kStreamLink, const torch::Tensor& sample_ids = {});

}  // namespace semsec::link
