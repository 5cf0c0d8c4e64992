// Per-element math of the CLSSR link level (QPSK over AWGN, SISO Rayleigh, Alamouti 2x1/2x2,
// codebook-beamformed MISO/MIMO and beamformed Alamouti), written once for the CPU loop
// (link_level_cpu.cpp) and the CUDA kernels (link_level.cu). No torch in here; the torch-facing API
// is kernels/link_level/link_level_op.h.
//
// Signal model (all links): QPSK with Gray mapping, s = ((1 - 2 b0) + j (1 - 2 b1)) / sqrt(2),
// E|s|^2 = 1, two symbols (4 bits) per "block" = one Alamouti codeword of two symbol periods.
// The channel is flat and constant over a block (and, on the geometric link, over a whole sample).
// Total transmit power is fixed: Alamouti sends s / sqrt(2) on each of its two branches, a beam
// f has ||f|| = 1. Receivers know their channel perfectly and decide by ML, which for Gray QPSK
// after matched (MRC / Alamouti) combining is the sign of the real and imaginary parts.
// Beamformed Alamouti (the paper's "Alamouti + transmit beamforming f_u"): the num_tx = 2 M
// antennas form two sub-arrays of M consecutive elements (sub-array i holds antennas i M .. i M +
// M - 1); Alamouti branch i goes through the M-element DFT beam f_k on sub-array i, so the
// detector sees the two-branch channel g[a][i] = sum_m h[a][i M + m] f_k[m] and runs the plain
// Alamouti combiner over it. Each branch carries s / sqrt(2) with ||f_k|| = 1: total power 1.
// M = 1 (f_k = 1) is plain Alamouti.
// Noise is CN(0, 2 sigma^2): sigma is the standard deviation of each real component.
//
// Counter layout (Philox words (block, sample, step, stream), stream rng::kStreamLink, or
// kStreamLink + kStreamEvalOffset for evaluation draws). The `block` word carries a kind tag:
//   bits    (0 << 28) | j                          4 random bits of a BER block (word k >> 31)
//   channel (1 << 28) | (r << 20) | j              receiver r's channel, draw j holds the
//                                                  entries e = 2j, 2j+1 (e = a * num_tx + n)
//   noise   (2 << 28) | (r << 20) | (2 p + a)      receiver r, block p, receive antenna a:
//                                                  (re, im) of symbol period 0, then period 1
// `sample` is the BER block index (BER path) or the sample / codeword index n (geometric link);
// `step` is the Eb/N0 point (BER path) or the caller's step (e.g. the RL time stamp t).
// Hence r < 256, p < 2^19 blocks (2^21 bits) per sample.
#pragma once

#include <cstdint>

#include "kernels/philox.h"

namespace semsec::link {

enum class Scheme : int32_t {
  kAwgn = 0,          // SISO, no fading (geometric link: path loss only)
  kRayleigh = 1,      // SISO, flat Rayleigh, coherent detection
  kAlamouti2x1 = 2,   // Alamouti STBC, 2 transmit, 1 receive antenna
  kAlamouti2x2 = 3,   // Alamouti STBC, 2 transmit, 2 receive antennas
  kBeamforming = 4,   // single stream through a DFT-codebook beam f, num_tx x num_rx, MRC receiver
  kBeamAlamouti = 5,  // Alamouti over two sub-arrays of num_tx / 2 antennas, each steered by the same
                      // DFT beam f (num_tx / 2 elements), num_rx in {1, 2}, Alamouti combiner
};

inline constexpr int kMaxTx = 8;
inline constexpr int kMaxRx = 2;
inline constexpr int kMaxReceivers = 16;  // user + up to 15 Eves
inline constexpr int kBitsPerBlock = 4;
inline constexpr int64_t kMaxBlocksPerSample = int64_t{1} << 19;
inline constexpr uint32_t kKindBits = 0;
inline constexpr uint32_t kKindChannel = 1;
inline constexpr uint32_t kKindNoise = 2;

// A complex number usable on host and device (std::complex is not).
struct Cplx {
  double re, im;
};
SEMSEC_HD Cplx cadd(Cplx a, Cplx b) { return Cplx{a.re + b.re, a.im + b.im}; }
SEMSEC_HD Cplx csub(Cplx a, Cplx b) { return Cplx{a.re - b.re, a.im - b.im}; }
SEMSEC_HD Cplx cmul(Cplx a, Cplx b) { return Cplx{a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re}; }
SEMSEC_HD Cplx cconj(Cplx a) { return Cplx{a.re, -a.im}; }
SEMSEC_HD Cplx cscale(Cplx a, double s) { return Cplx{a.re * s, a.im * s}; }
SEMSEC_HD double cabs2(Cplx a) { return a.re * a.re + a.im * a.im; }

// Antenna counts of a link. For kBeamforming and kBeamAlamouti num_tx/num_rx come from the
// configuration, every other scheme has fixed counts (see link_shape in link_level_op.h). num_beams is
// the DFT codebook size.
struct LinkShape {
  Scheme scheme;
  int32_t num_tx;
  int32_t num_rx;
  int32_t num_beams;
};

// Schemes whose detector runs the Alamouti combiner over two branches g[a][0], g[a][1].
SEMSEC_HD bool is_alamouti(Scheme s) {
  return s == Scheme::kAlamouti2x1 || s == Scheme::kAlamouti2x2 || s == Scheme::kBeamAlamouti;
}

// Elements of one codebook beam f_k: num_tx for kBeamforming, the sub-array size M = num_tx / 2
// for kBeamAlamouti, 0 for schemes that send no beam (their beam index is ignored).
SEMSEC_HD int32_t beam_size(const LinkShape& s) {
  if (s.scheme == Scheme::kBeamforming) return s.num_tx;
  if (s.scheme == Scheme::kBeamAlamouti) return s.num_tx / 2;
  return 0;
}

SEMSEC_HD uint32_t bits_block(uint32_t j) { return (kKindBits << 28) | j; }
SEMSEC_HD uint32_t channel_block(uint32_t r, uint32_t j) { return (kKindChannel << 28) | (r << 20) | j; }
SEMSEC_HD uint32_t noise_block(uint32_t r, uint32_t p, uint32_t a) {
  return (kKindNoise << 28) | (r << 20) | (2u * p + a);
}

// Large-scale parameters of one receiver, in units where the noise floor P0 = N0 B is 1:
// amp = sqrt(P_tx PL(d) / P0). sin_theta is the sine of its angle seen from the BS array.
struct Receiver {
  double amp;
  double sin_theta;
};

// All receivers of a geometric link (index 0 = user, 1.. = Eves) plus the Rician split
// h = amp (los_w a(theta) + nlos_w w), los_w = sqrt(K / (K + 1)), nlos_w = sqrt(1 / (K + 1)).
struct ReceiverSet {
  int32_t count;
  double los_w;
  double nlos_w;
  Receiver r[kMaxReceivers];
};

// Line-of-sight response of transmit antenna n of a half-wavelength ULA: exp(-j pi n sin(theta)),
// so the DFT beam f_k below points at sin(theta) = 2k / num_beams (wrapped into [-1, 1)).
SEMSEC_HD Cplx los_response(int n, double sin_theta) {
  const double t = 3.141592653589793 * static_cast<double>(n) * sin_theta;
  return Cplx{cos(t), -sin(t)};
}

// DFT codebook: f_k[n] = exp(j 2 pi n k / num_beams) / sqrt(num_tx), k < num_beams, ||f_k|| = 1.
// num_tx here is the beam's element count, beam_size(shape): the sub-array size for kBeamAlamouti.
// A one-element beam is exactly 1 (phase index 0), which makes M = 1 beamformed Alamouti
// bit-identical to plain Alamouti.
SEMSEC_HD Cplx beam_weight(int64_t k, int32_t num_beams, int32_t num_tx, int n) {
  const int64_t phase_index = (static_cast<int64_t>(n) * k) % num_beams;
  const double t = 6.283185307179586 * static_cast<double>(phase_index) / static_cast<double>(num_beams);
  const double scale = 1.0 / sqrt(static_cast<double>(num_tx));
  return Cplx{cos(t) * scale, sin(t) * scale};
}

// Receiver r's channel h[a][n] (receive antenna a, transmit antenna n) for one sample.
// kAwgn: h = amp (no fading, no phase). Faded schemes: amp (los_w a(theta) + nlos_w w) with
// w ~ CN(0, 1) i.i.d. per entry.
SEMSEC_HD void draw_channel(const LinkShape& s, rng::Key key, uint32_t stream, uint32_t step, uint32_t sample,
                            uint32_t r, double amp, double sin_theta, double los_w, double nlos_w,
                            Cplx h[kMaxRx][kMaxTx]) {
  if (s.scheme == Scheme::kAwgn) {
    for (int a = 0; a < s.num_rx; ++a) {
      for (int n = 0; n < s.num_tx; ++n) h[a][n] = Cplx{amp, 0.0};
    }
    return;
  }
  const double inv_sqrt2 = 0.7071067811865476;
  const int num_entries = s.num_rx * s.num_tx;
  double z[4];
  for (int e = 0; e < num_entries; ++e) {
    if (e % 2 == 0)
      rng::normal4(rng::draw(key, stream, step, sample, channel_block(r, static_cast<uint32_t>(e / 2))), z);
    const int a = e / s.num_tx;
    const int n = e % s.num_tx;
    const int half = 2 * (e % 2);
    const Cplx w{z[half] * inv_sqrt2, z[half + 1] * inv_sqrt2};
    const Cplx los = los_response(n, sin_theta);
    h[a][n] = cscale(cadd(cscale(los, los_w), cscale(w, nlos_w)), amp);
  }
}

// What the detector of each receive antenna sees: g[a][0] (and g[a][1] for Alamouti, the second
// branch). kBeamforming applies beam k: g[a][0] = sum_n h[a][n] f_k[n]; kBeamAlamouti applies the
// M-element beam k to each sub-array: g[a][i] = sum_m h[a][i M + m] f_k[m], M = num_tx / 2; plain
// Alamouti takes the two antennas as they are.
SEMSEC_HD void effective_channel(const LinkShape& s, const Cplx h[kMaxRx][kMaxTx], int64_t beam, Cplx g[kMaxRx][2]) {
  for (int a = 0; a < s.num_rx; ++a) {
    if (s.scheme == Scheme::kBeamforming) {
      Cplx acc{0.0, 0.0};
      for (int n = 0; n < s.num_tx; ++n) acc = cadd(acc, cmul(h[a][n], beam_weight(beam, s.num_beams, s.num_tx, n)));
      g[a][0] = acc;
      g[a][1] = Cplx{0.0, 0.0};
    } else if (s.scheme == Scheme::kBeamAlamouti) {
      const int m_size = s.num_tx / 2;
      for (int i = 0; i < 2; ++i) {
        Cplx acc{0.0, 0.0};
        for (int m = 0; m < m_size; ++m) {
          acc = cadd(acc, cmul(h[a][i * m_size + m], beam_weight(beam, s.num_beams, m_size, m)));
        }
        g[a][i] = acc;
      }
    } else if (is_alamouti(s.scheme)) {
      g[a][0] = h[a][0];
      g[a][1] = h[a][1];
    } else {
      g[a][0] = h[a][0];
      g[a][1] = Cplx{0.0, 0.0};
    }
  }
}

// Post-combining SNR per unit noise variance (complex), i.e. SNR = gain / (2 sigma^2):
// single stream sum_a |g_a0|^2 (= ||H f||^2, the |h f|^2 of eq. 2); Alamouti (plain or
// beamformed) sum_a (|g_a0|^2 + |g_a1|^2) / 2 since each branch carries half the power.
SEMSEC_HD double effective_gain(const LinkShape& s, const Cplx g[kMaxRx][2]) {
  double acc = 0.0;
  for (int a = 0; a < s.num_rx; ++a) {
    acc += is_alamouti(s.scheme) ? 0.5 * (cabs2(g[a][0]) + cabs2(g[a][1])) : cabs2(g[a][0]);
  }
  return acc;
}

SEMSEC_HD Cplx qpsk_map(uint8_t b0, uint8_t b1) {
  const double inv_sqrt2 = 0.7071067811865476;
  return Cplx{b0 ? -inv_sqrt2 : inv_sqrt2, b1 ? -inv_sqrt2 : inv_sqrt2};
}

SEMSEC_HD void qpsk_decide(Cplx z, uint8_t& b0, uint8_t& b1) {
  b0 = z.re < 0.0 ? 1 : 0;
  b1 = z.im < 0.0 ? 1 : 0;
}

// Noise of receiver r, block p: nz[a][0..3] = (re, im) of period 0, then of period 1.
SEMSEC_HD void draw_noise(const LinkShape& s, rng::Key key, uint32_t stream, uint32_t step, uint32_t sample, uint32_t r,
                          uint32_t p, double nz[kMaxRx][4]) {
  for (int a = 0; a < s.num_rx; ++a) {
    rng::normal4(rng::draw(key, stream, step, sample, noise_block(r, p, static_cast<uint32_t>(a))), nz[a]);
  }
}

// One block of 4 bits through the effective channel g with noise sigma * nz, decided by ML.
//   single stream: y_{a,t} = g_a0 s_t + n_{a,t}, z_t = sum_a conj(g_a0) y_{a,t}
//   Alamouti: period 0 sends (s_0, s_1) / sqrt2 on branches (0, 1), period 1 (-conj(s_1), conj(s_0)) / sqrt2;
//     z_0 = sum_a conj(g_a0) y_a0 + g_a1 conj(y_a1), z_1 = sum_a conj(g_a1) y_a0 - g_a0 conj(y_a1),
//     which equals (sum |g|^2 / sqrt2) s_t plus circular noise.
SEMSEC_HD void transmit_block(const LinkShape& s, const Cplx g[kMaxRx][2], double sigma, const double nz[kMaxRx][4],
                              const uint8_t in[kBitsPerBlock], uint8_t out[kBitsPerBlock]) {
  const Cplx s0 = qpsk_map(in[0], in[1]);
  const Cplx s1 = qpsk_map(in[2], in[3]);
  Cplx z0{0.0, 0.0};
  Cplx z1{0.0, 0.0};
  for (int a = 0; a < s.num_rx; ++a) {
    const Cplx n0{sigma * nz[a][0], sigma * nz[a][1]};
    const Cplx n1{sigma * nz[a][2], sigma * nz[a][3]};
    if (is_alamouti(s.scheme)) {
      const double inv_sqrt2 = 0.7071067811865476;
      const Cplx y0 = cadd(cscale(cadd(cmul(g[a][0], s0), cmul(g[a][1], s1)), inv_sqrt2), n0);
      const Cplx y1 = cadd(cscale(csub(cmul(g[a][1], cconj(s0)), cmul(g[a][0], cconj(s1))), inv_sqrt2), n1);
      z0 = cadd(z0, cadd(cmul(cconj(g[a][0]), y0), cmul(g[a][1], cconj(y1))));
      z1 = cadd(z1, csub(cmul(cconj(g[a][1]), y0), cmul(g[a][0], cconj(y1))));
    } else {
      const Cplx y0 = cadd(cmul(g[a][0], s0), n0);
      const Cplx y1 = cadd(cmul(g[a][0], s1), n1);
      z0 = cadd(z0, cmul(cconj(g[a][0]), y0));
      z1 = cadd(z1, cmul(cconj(g[a][0]), y1));
    }
  }
  qpsk_decide(z0, out[0], out[1]);
  qpsk_decide(z1, out[2], out[3]);
}

// ---- BER path: normalised link (unit-mean channel gain per entry, unit symbol energy) ----

struct BerArgs {
  LinkShape shape;
  double sigma;  // noise std per real component; sigma^2 = 1 / (4 Eb/N0)
  rng::Key key;
  uint32_t stream;
  uint32_t step;           // Eb/N0 point index
  uint32_t sample_offset;  // index of the first block (chunks of one point continue the count)
  int64_t beam;            // kBeamforming and kBeamAlamouti only
};

// Block i: random bits, channel and noise drawn from their counters, decided bits out.
// Writes tx/rx bits [4] (when non-null) and returns the number of bit errors.
SEMSEC_HD int ber_element(int64_t i, const BerArgs& b, uint8_t* tx_bits, uint8_t* rx_bits) {
  const uint32_t sample = b.sample_offset + static_cast<uint32_t>(i);
  const rng::Philox4 rb = rng::draw(b.key, b.stream, b.step, sample, bits_block(0));
  uint8_t in[kBitsPerBlock];
  uint8_t out[kBitsPerBlock];
  for (int k = 0; k < kBitsPerBlock; ++k) in[k] = static_cast<uint8_t>(rb.v[k] >> 31);
  Cplx h[kMaxRx][kMaxTx];
  draw_channel(b.shape, b.key, b.stream, b.step, sample, 0, 1.0, 0.0, 0.0, 1.0, h);
  Cplx g[kMaxRx][2];
  effective_channel(b.shape, h, b.beam, g);
  double nz[kMaxRx][4];
  draw_noise(b.shape, b.key, b.stream, b.step, sample, 0, 0, nz);
  transmit_block(b.shape, g, b.sigma, nz, in, out);
  int errors = 0;
  for (int k = 0; k < kBitsPerBlock; ++k) {
    errors += in[k] != out[k] ? 1 : 0;
    if (tx_bits != nullptr) tx_bits[kBitsPerBlock * i + k] = in[k];
    if (rx_bits != nullptr) rx_bits[kBitsPerBlock * i + k] = out[k];
  }
  return errors;
}

// ---- Geometric link: per-sample channels of the user and the Eves, caller-given bits ----

struct ChannelArgs {
  LinkShape shape;
  ReceiverSet receivers;
  rng::Key key;
  uint32_t stream;
  uint32_t step;
  int64_t num_samples;  // N
};

// Element i = r * N + n writes h [R, N, num_rx, num_tx, 2] (re, im) for receiver r, sample n.
SEMSEC_HD void channel_element(int64_t i, const ChannelArgs& c, double* __restrict__ h_out) {
  const int64_t r = i / c.num_samples;
  const int64_t n = i % c.num_samples;
  Cplx h[kMaxRx][kMaxTx];
  const Receiver& rc = c.receivers.r[r];
  draw_channel(c.shape, c.key, c.stream, c.step, static_cast<uint32_t>(n), static_cast<uint32_t>(r), rc.amp,
               rc.sin_theta, c.receivers.los_w, c.receivers.nlos_w, h);
  double* dst = h_out + i * 2 * c.shape.num_rx * c.shape.num_tx;
  for (int a = 0; a < c.shape.num_rx; ++a) {
    for (int t = 0; t < c.shape.num_tx; ++t) {
      dst[2 * (a * c.shape.num_tx + t)] = h[a][t].re;
      dst[2 * (a * c.shape.num_tx + t) + 1] = h[a][t].im;
    }
  }
}

struct TransmitArgs {
  LinkShape shape;
  rng::Key key;
  uint32_t stream;
  uint32_t step;
  int64_t num_receivers;  // R
  int64_t num_samples;    // N
  int64_t num_bits;       // bits per sample
  int64_t num_blocks;     // ceil(num_bits / 4)
  // Counter index of row n's noise (int64 [N] on the kernel's device, values < 2^32), or null for
  // n itself: a subset of rows sent with their original indices sees exactly the noise it would
  // have seen in the whole batch.
  const int64_t* sample_ids;
};

// Element i = (r * N + n) * P + p sends block p of sample n to receiver r:
//   bits [N, num_bits] uint8 (0/1), h [R, N, num_rx, num_tx, 2], beams [N] int64 (read by
//   the beamformed schemes only), tau [N]
//   (noise variance in units of P0, complex) -> rx_bits [R, N, num_bits], and for p == 0
//   gain [R, N] = effective_gain (in units of P0, so the SNR is gain / tau).
// A last partial block is padded with zero bits that are sent but not written back.
SEMSEC_HD void transmit_element(int64_t i, const TransmitArgs& t, const uint8_t* __restrict__ bits,
                                const double* __restrict__ h_in, const int64_t* __restrict__ beams,
                                const double* __restrict__ tau, uint8_t* __restrict__ rx_bits,
                                double* __restrict__ gain) {
  const int64_t p = i % t.num_blocks;
  const int64_t rn = i / t.num_blocks;
  const int64_t n = rn % t.num_samples;
  const int64_t r = rn / t.num_samples;
  const LinkShape& s = t.shape;
  Cplx h[kMaxRx][kMaxTx];
  const double* src = h_in + rn * 2 * s.num_rx * s.num_tx;
  for (int a = 0; a < s.num_rx; ++a) {
    for (int k = 0; k < s.num_tx; ++k) {
      h[a][k] = Cplx{src[2 * (a * s.num_tx + k)], src[2 * (a * s.num_tx + k) + 1]};
    }
  }
  Cplx g[kMaxRx][2];
  effective_channel(s, h, beams[n], g);
  if (p == 0) gain[rn] = effective_gain(s, g);
  const double sigma = sqrt(0.5 * tau[n]);
  double nz[kMaxRx][4];
  const auto counter = static_cast<uint32_t>(t.sample_ids != nullptr ? t.sample_ids[n] : n);
  draw_noise(s, t.key, t.stream, t.step, counter, static_cast<uint32_t>(r), static_cast<uint32_t>(p), nz);
  uint8_t in[kBitsPerBlock];
  uint8_t out[kBitsPerBlock];
  const int64_t first = p * kBitsPerBlock;
  for (int k = 0; k < kBitsPerBlock; ++k) {
    in[k] = first + k < t.num_bits ? static_cast<uint8_t>(bits[n * t.num_bits + first + k] != 0) : uint8_t{0};
  }
  transmit_block(s, g, sigma, nz, in, out);
  for (int k = 0; k < kBitsPerBlock && first + k < t.num_bits; ++k) rx_bits[rn * t.num_bits + first + k] = out[k];
}

// ---- CPU launchers (link_level_cpu.cpp); raw contiguous buffers, parallel over elements ----

// n blocks; tx_bits/rx_bits [4n] may be null; errors [n] (bit errors per block).
void ber_blocks_cpu(int64_t n, const BerArgs& b, uint8_t* tx_bits, uint8_t* rx_bits, uint8_t* errors);
// h [R, N, num_rx, num_tx, 2].
void generate_channels_cpu(const ChannelArgs& c, double* h);
void transmit_cpu(const TransmitArgs& t, const uint8_t* bits, const double* h, const int64_t* beams, const double* tau,
                  uint8_t* rx_bits, double* gain);

}  // namespace semsec::link
