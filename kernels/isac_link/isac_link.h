// Per-sample math of the SS-ISAC channel (eq. 3, 4, 11-13 of the SS-ISAC paper), written once
// for the CPU loop (isac_link_cpu.cpp) and the CUDA kernels (isac_link.cu). No torch in here.
#pragma once

#include <cstdint>

#include "kernels/philox.h"

namespace semsec::kernels {

inline constexpr int kIsacMaxAntennas = 64;
inline constexpr double kIsacPi = 3.141592653589793;

// A complex number usable on host and device (std::complex is not). R is double, or on the CPU a
// vector of doubles (one sample per lane: isac_link_cpu.cpp): every lane then runs the scalar's
// IEEE operations in the scalar's order, so the lanes give the scalar's bits.
template <typename R>
struct CplxT {
  R re, im;
};
using Cplx = CplxT<double>;
template <typename R>
SEMSEC_HD CplxT<R> cadd(CplxT<R> a, CplxT<R> b) {
  return CplxT<R>{a.re + b.re, a.im + b.im};
}
template <typename R>
SEMSEC_HD CplxT<R> cmul(CplxT<R> a, CplxT<R> b) {
  return CplxT<R>{a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re};
}
// a * (b_re + j b_im) for a constant b (the beamformer's weights): cmul's operations.
template <typename R>
SEMSEC_HD CplxT<R> cmul(CplxT<R> a, double b_re, double b_im) {
  return CplxT<R>{a.re * b_re - a.im * b_im, a.re * b_im + a.im * b_re};
}
template <typename R>
SEMSEC_HD CplxT<R> cscale(CplxT<R> a, double s) {
  return CplxT<R>{a.re * s, a.im * s};
}
// conj(a) * b, the building block of a^H w and h^H w.
template <typename R>
SEMSEC_HD CplxT<R> cconj_mul(CplxT<R> a, double b_re, double b_im) {
  return CplxT<R>{a.re * b_re + a.im * b_im, a.re * b_im - a.im * b_re};
}
SEMSEC_HD double cnorm2(Cplx a) { return a.re * a.re + a.im * a.im; }

// Channel constants, passed by value to every launch (about 1 KiB, well inside the kernel
// parameter limit) so a captured CUDA graph carries them without extra buffers.
struct IsacLinkArgs {
  int64_t num_grid;               // G
  int64_t batch;                  // B
  int64_t length;                 // L, real symbols per sample
  int32_t num_antennas;           // M <= kIsacMaxAntennas
  int32_t noise;                  // 0: noise switched off (tests, noiseless references)
  int32_t eval;                   // 1: evaluation draws (stream ids + kStreamEvalOffset)
  int32_t alpha_random_phase;     // 1: alpha e^{j theta} per sample, theta ~ U[0, 2 pi) (two more fading normals)
  double w_re[kIsacMaxAntennas];  // beamformer w, unit norm
  double w_im[kIsacMaxAntennas];
  double alpha_re, alpha_im;  // reflection coefficient of the target
  double si_power;            // rho: variance of the residual self-interference gain
  double eve_snr_offset_db;   // Eve's SNR relative to the BS receiver SNR
  double ref_gain_bs;         // mean |alpha a^H(phi) w|^2 over the sector; scales sensing noise
};

// Everything a sample's symbols need, computed once per (g, b) in double.
struct IsacSample {
  Cplx s_bs;                             // alpha a^H(phi) w + s_si
  Cplx s_ue;                             // c h', the UE's equalised channel (real up to rounding)
  Cplx s_eve;                            // alpha a^H(phi) w
  Cplx c_ue;                             // MMSE equaliser conj(h') / (|h'|^2 + 1/snr)
  double sigma_bs, sigma_ue, sigma_eve;  // std of each real noise component (before equalising)
};
// Eleven doubles, no padding: a state tensor holds the records as float64 [G, B, kIsacSampleDoubles].
inline constexpr int64_t kIsacSampleDoubles = 11;
static_assert(sizeof(IsacSample) == kIsacSampleDoubles * sizeof(double), "IsacSample must be 11 packed doubles");

SEMSEC_HD uint32_t isac_stream(const IsacLinkArgs& a, uint32_t stream) {
  return a.eval ? stream + static_cast<uint32_t>(rng::kStreamEvalOffset) : stream;
}

// The per-sample rotation of the steering vector: conj(a_m) = rot^m with a(phi)_m = exp(j pi m
// sin(phi)) (half-wavelength spacing), so rot = exp(-j pi sin(phi)) (one sincos per sample, not M).
SEMSEC_HD Cplx isac_steering_rotation(double phi) {
  const double t = kIsacPi * sin(phi);
  return Cplx{cos(t), -sin(t)};
}

// a^H(phi) w = sum_m conj(a_m) w_m, conj(a_m) by repeated rotation.
template <typename R>
SEMSEC_HD CplxT<R> isac_steering_sum(const IsacLinkArgs& a, CplxT<R> rot) {
  CplxT<R> conj_a{R{} + 1.0, R{}}, acc{R{}, R{}};  // R{} is +0 in every lane
  for (int m = 0; m < a.num_antennas; ++m) {
    acc = cadd(acc, cmul(conj_a, a.w_re[m], a.w_im[m]));
    conj_a = cmul(conj_a, rot);
  }
  return acc;
}

// alpha a^H(phi) w from the sum above.
SEMSEC_HD Cplx isac_sensing_from(const IsacLinkArgs& a, Cplx steering_sum) {
  return cmul(Cplx{a.alpha_re, a.alpha_im}, steering_sum);
}

SEMSEC_HD Cplx isac_sensing_gain(const IsacLinkArgs& a, double phi) {
  return isac_sensing_from(a, isac_steering_sum(a, isac_steering_rotation(phi)));
}

struct IsacFading {
  Cplx h_eff;  // h' = h^H w, h ~ CN(0, I_M)
  Cplx s_si;   // residual self-interference gain ~ CN(0, rho)
  Cplx phase;  // e^{j theta} of the target's reflection (1 unless alpha_random_phase)
};

// h (2M normals), s_si (2), and with a random alpha phase two more: the sample's fading normals.
// The first 2M + 2 are the same draws with or without the phase, so switching it on changes no
// other value of a sample.
SEMSEC_HD int isac_fading_normals(const IsacLinkArgs& a) {
  return 2 * a.num_antennas + 2 + (a.alpha_random_phase ? 2 : 0);
}
SEMSEC_HD int isac_fading_blocks(const IsacLinkArgs& a) { return (isac_fading_normals(a) + 3) / 4; }

// h' = h^H w with h_m = (n_{2m} + j n_{2m+1}) / sqrt(2), from the sample's fading normals;
// normal(i) returns n_i widened to R.
template <typename R, typename Normal>
SEMSEC_HD CplxT<R> isac_h_eff(const IsacLinkArgs& a, Normal normal) {
  const double inv_sqrt2 = 0.7071067811865476;
  CplxT<R> h{R{}, R{}};
  for (int m = 0; m < a.num_antennas; ++m) {
    const CplxT<R> v{normal(2 * m), normal(2 * m + 1)};
    h = cadd(h, cconj_mul(cscale(v, inv_sqrt2), a.w_re[m], a.w_im[m]));
  }
  return h;
}

// s_si = sqrt(rho / 2) (n_{2M} + j n_{2M+1}).
SEMSEC_HD Cplx isac_si_gain(const IsacLinkArgs& a, const float* n) {
  const int k = 2 * a.num_antennas;
  return cscale(Cplx{static_cast<double>(n[k]), static_cast<double>(n[k + 1])}, sqrt(0.5 * a.si_power));
}

// e^{j theta} = (n_{2M+2} + j n_{2M+3}) / |.|: the direction of a circularly symmetric Gaussian is
// uniform, so theta ~ U[0, 2 pi) exactly (1 when the phase is fixed, or for a zero pair).
SEMSEC_HD Cplx isac_alpha_phase(const IsacLinkArgs& a, const float* n) {
  if (!a.alpha_random_phase) return Cplx{1.0, 0.0};
  const int k = 2 * a.num_antennas + 2;
  const double re = static_cast<double>(n[k]), im = static_cast<double>(n[k + 1]);
  const double r = sqrt(re * re + im * im);
  return r > 0.0 ? Cplx{re / r, im / r} : Cplx{1.0, 0.0};
}

// The sample's fading from its fading normals n (isac_fading_normals(a) of them).
SEMSEC_HD IsacFading isac_fading_from(const IsacLinkArgs& a, const float* n) {
  const Cplx h = isac_h_eff<double>(a, [n](int i) { return static_cast<double>(n[i]); });
  return IsacFading{h, isac_si_gain(a, n), isac_alpha_phase(a, n)};
}

// The sensing gain alpha a^H(phi) w of a sample with its reflection phase (unchanged when fixed).
SEMSEC_HD Cplx isac_sensing_with_phase(const IsacLinkArgs& a, const IsacFading& f, Cplx sens) {
  return a.alpha_random_phase ? cmul(f.phase, sens) : sens;
}

// Fading of one sample: standard normals n_0, n_1, ... (rng::normal4f) from kStreamFading, block
// k holding n_{4k..4k+3}.
SEMSEC_HD IsacFading isac_fading(const IsacLinkArgs& a, rng::Key key, uint32_t step, uint32_t sample) {
  float n[2 * kIsacMaxAntennas + 4];
  const uint32_t stream = isac_stream(a, rng::kStreamFading);
  for (int k = 0; k < isac_fading_blocks(a); ++k) {
    rng::normal4f(rng::draw(key, stream, step, sample, static_cast<uint32_t>(k)), n + 4 * k);
  }
  return isac_fading_from(a, n);
}

SEMSEC_HD double isac_db_to_linear(double db) { return pow(10.0, db / 10.0); }

// What a sample's state needs of its grid point's SNR: computed once per point on the CPU.
struct IsacPoint {
  double inv_snr;                        // 1 / snr, snr the BS and UE receiver SNR (linear)
  double sigma_bs, sigma_ue, sigma_eve;  // std of each real noise component (before equalising)
};
SEMSEC_HD IsacPoint isac_point(const IsacLinkArgs& a, double snr_db) {
  const double snr = isac_db_to_linear(snr_db);
  const double snr_eve = isac_db_to_linear(snr_db + a.eve_snr_offset_db);
  const double symbol_power = 1.0 / static_cast<double>(a.length);  // ||z||^2 = 1 over L symbols
  IsacPoint p;
  p.inv_snr = 1.0 / snr;
  // CN(0, s2): each real component N(0, s2 / 2). E|h'|^2 = ||w||^2 = 1 for the UE.
  p.sigma_bs = sqrt(0.5 * a.ref_gain_bs * symbol_power / snr);
  p.sigma_ue = sqrt(0.5 * symbol_power / snr);
  p.sigma_eve = sqrt(0.5 * a.ref_gain_bs * symbol_power / snr_eve);
  return p;
}

SEMSEC_HD IsacSample isac_sample_from(const IsacFading& f, Cplx sens, const IsacPoint& p) {
  const double h2 = cnorm2(f.h_eff);
  const double denom = h2 + p.inv_snr;
  IsacSample s;
  s.s_bs = cadd(sens, f.s_si);
  s.s_eve = sens;
  s.c_ue = Cplx{f.h_eff.re / denom, -f.h_eff.im / denom};
  // c h' = |h'|^2 / (|h'|^2 + 1/snr) exactly real; computed directly so no rounding leaks into Im.
  s.s_ue = Cplx{h2 / denom, 0.0};
  s.sigma_bs = p.sigma_bs;
  s.sigma_ue = p.sigma_ue;
  s.sigma_eve = p.sigma_eve;
  return s;
}

SEMSEC_HD IsacSample isac_sample(const IsacLinkArgs& a, const IsacFading& f, double phi, double snr_db) {
  return isac_sample_from(f, isac_sensing_with_phase(a, f, isac_sensing_gain(a, phi)), isac_point(a, snr_db));
}

// The four standard normals of symbol pair k (block k) of one receiver's noise stream: symbol
// 2k + j takes (n[2j], n[2j+1]). Zeros when the noise is switched off.
SEMSEC_HD void isac_noise_block(const IsacLinkArgs& a, uint32_t stream, rng::Key key, uint32_t step, uint32_t sample,
                                int64_t k, float n[4]) {
  if (a.noise) {
    rng::normal4f(rng::draw(key, isac_stream(a, stream), step, sample, static_cast<uint32_t>(k)), n);
  } else {
    n[0] = n[1] = n[2] = n[3] = 0.0f;
  }
}

// One received symbol: (y_re, y_im) = s z_l + e sigma (n_re + j n_im), with e = 1 (BS, Eve) or
// the UE's equaliser.
template <typename T>
SEMSEC_HD void isac_symbol(Cplx s, Cplx e, double sigma, float n_re, float n_im, T z_l, T& y_re, T& y_im) {
  const Cplx noise = cmul(e, Cplx{sigma * static_cast<double>(n_re), sigma * static_cast<double>(n_im)});
  const double zl = static_cast<double>(z_l);
  y_re = static_cast<T>(s.re * zl + noise.re);
  y_im = static_cast<T>(s.im * zl + noise.im);
}

// One receiver's symbols 2k, 2k+1 of one sample (pointers at the start of the sample's rows).
template <typename T>
SEMSEC_HD void isac_apply_pair(int64_t length, Cplx s, Cplx e, double sigma, const float n[4], int64_t k,
                               const T* __restrict__ z, T* __restrict__ y) {
  for (int j = 0; j < 2; ++j) {
    const int64_t l = 2 * k + j;
    if (l >= length) break;
    isac_symbol(s, e, sigma, n[2 * j], n[2 * j + 1], z[l], y[2 * l], y[2 * l + 1]);
  }
}

// Writes the three receivers' symbol pair k of one sample; row pointers as in isac_apply_pair.
template <typename T>
SEMSEC_HD void isac_apply_sample_pair(const IsacLinkArgs& a, const IsacSample& s, rng::Key key, uint32_t step,
                                      uint32_t sample, int64_t k, const T* __restrict__ z, T* __restrict__ y_bs,
                                      T* __restrict__ y_ue, T* __restrict__ y_eve) {
  const Cplx one{1.0, 0.0};
  float n[4];
  isac_noise_block(a, rng::kStreamNoiseBs, key, step, sample, k, n);
  isac_apply_pair(a.length, s.s_bs, one, s.sigma_bs, n, k, z, y_bs);
  isac_noise_block(a, rng::kStreamNoiseUe, key, step, sample, k, n);
  isac_apply_pair(a.length, s.s_ue, s.c_ue, s.sigma_ue, n, k, z, y_ue);
  isac_noise_block(a, rng::kStreamNoiseEve, key, step, sample, k, n);
  isac_apply_pair(a.length, s.s_eve, one, s.sigma_eve, n, k, z, y_eve);
}

// gains row [3, 2] = (re, im) of s_bs, s_ue, s_eve.
template <typename T>
SEMSEC_HD void isac_store_gains(const IsacSample& s, T* __restrict__ gains) {
  gains[0] = static_cast<T>(s.s_bs.re);
  gains[1] = static_cast<T>(s.s_bs.im);
  gains[2] = static_cast<T>(s.s_ue.re);
  gains[3] = static_cast<T>(s.s_ue.im);
  gains[4] = static_cast<T>(s.s_eve.re);
  gains[5] = static_cast<T>(s.s_eve.im);
}

// d/dz_l of sum_r <gy_r, y_r> = sum_r Re(s_r) gy_r[2l] + Im(s_r) gy_r[2l+1]; the noise does not
// depend on z. gains is the sample's [3, 2] row, gy_* the sample's [2L] rows.
template <typename T>
SEMSEC_HD T isac_grad_z(const T* __restrict__ gains, const T* __restrict__ gy_bs, const T* __restrict__ gy_ue,
                        const T* __restrict__ gy_eve, int64_t l) {
  const T* gy[3] = {gy_bs, gy_ue, gy_eve};
  double acc = 0.0;
  for (int r = 0; r < 3; ++r) {
    acc += static_cast<double>(gains[2 * r]) * static_cast<double>(gy[r][2 * l]) +
           static_cast<double>(gains[2 * r + 1]) * static_cast<double>(gy[r][2 * l + 1]);
  }
  return static_cast<T>(acc);
}

SEMSEC_HD int64_t isac_num_pairs(int64_t length) { return (length + 1) / 2; }

// CPU launchers (isac_link_cpu.cpp), parallel over samples; all tensors contiguous, row-major:
// z [G,B,L], phi [G,B], snr_db [G], seeds [G], y_* [G,B,2L], gains [G,B,3,2]. T = float or double.
template <typename T>
void isac_link_forward_cpu(const IsacLinkArgs& a, const T* z, const T* phi, const T* snr_db, const int64_t* seeds,
                           int64_t step, T* y_bs, T* y_ue, T* y_eve, T* gains);
// Whether the CPU launcher may use its hand-written AVX-512 Philox loop where the CPU has AVX-512
// (the default) or must take the portable loop every other CPU runs; returns the previous setting.
// Both give the same bits: tests compare them on machines that have AVX-512.
bool isac_link_cpu_allow_avx512(bool allowed);
// The forward in two halves (generate / apply): the states samples [G*B] and gains of every sample
// from its fading draws, then the symbols through those states with the noise draws of the same
// step. Together they give isac_link_forward_cpu's bits; one state can carry several z.
template <typename T>
void isac_link_generate_cpu(const IsacLinkArgs& a, const T* phi, const T* snr_db, const int64_t* seeds, int64_t step,
                            IsacSample* samples, T* gains);
template <typename T>
void isac_link_apply_cpu(const IsacLinkArgs& a, const T* z, const IsacSample* samples, const int64_t* seeds,
                         int64_t step, T* y_bs, T* y_ue, T* y_eve);
template <typename T>
void isac_link_backward_cpu(int64_t num_grid, int64_t batch, int64_t length, const T* gains, const T* gy_bs,
                            const T* gy_ue, const T* gy_eve, T* grad_z);

}  // namespace semsec::kernels
