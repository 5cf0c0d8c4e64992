// Philox 4x32-10 counter-based random numbers, written once for host and device.
// Every random draw in semsec is a pure function of (key, counter), so CPU and
// GPU produce the same channel realisations and a run resumes from counters alone.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/hd.h"

namespace semsec::rng {

struct Philox4 {
  uint32_t v[4];
};

// Stream ids: which quantity a draw belongs to. Never renumber: results depend on them.
enum Stream : uint32_t {
  kStreamInit = 1,            // weight initialisation
  kStreamShuffle = 2,         // data order
  kStreamAngle = 3,           // target azimuth phi
  kStreamFading = 4,          // Rayleigh h, residual self-interference
  kStreamNoiseBs = 5,         // n_BS
  kStreamNoiseUe = 6,         // n_UE
  kStreamNoiseEve = 7,        // n_Eve
  kStreamLink = 8,            // link-level (CLSSR) bits, fading and noise
  kStreamSource = 9,          // CLSSR source chain: task classes and images
  kStreamPolicy = 10,         // CLSSR exploration (epsilon-greedy) draws
  kStreamKey = 11,            // the keyed ARNs' secret frame keys (seeded by keyed.secret)
  kStreamThreat = 12,         // the threat model: Eve's sample subsets and her batches
  kStreamEvalOffset = 0x100,  // added to a stream id for evaluation draws
};

SEMSEC_HD void mulhilo32(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

// Philox4x32 with 10 rounds (Salmon et al., SC'11; Random123 constants: multipliers, Weyl key
// increments).
inline constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
inline constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;

SEMSEC_HD Philox4 philox4x32_10(Philox4 ctr, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo32(kPhiloxM0, ctr.v[0], hi0, lo0);
    mulhilo32(kPhiloxM1, ctr.v[2], hi1, lo1);
    ctr = Philox4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
  }
  return ctr;
}

// A 64-bit seed spread into a Philox key (splitmix64 finaliser), so that
// neighbouring seeds give unrelated streams.
SEMSEC_HD uint64_t mix_seed(uint64_t seed) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

struct Key {
  uint32_t k0, k1;
};

SEMSEC_HD Key make_key(uint64_t seed) {
  const uint64_t m = mix_seed(seed);
  return Key{static_cast<uint32_t>(m), static_cast<uint32_t>(m >> 32)};
}

// The counter layout used everywhere: (block, sample, step, stream).
SEMSEC_HD Philox4 draw(Key key, uint32_t stream, uint32_t step, uint32_t sample, uint32_t block) {
  return philox4x32_10(Philox4{{block, sample, step, stream}}, key.k0, key.k1);
}

// Uniform in the open interval (0, 1), computed in double so host and device agree.
SEMSEC_HD double to_unit(uint32_t x) { return (static_cast<double>(x) + 0.5) * 2.3283064365386963e-10; }

// Two independent standard normals from two uniform words (Box-Muller, double).
SEMSEC_HD void box_muller(uint32_t a, uint32_t b, double& n0, double& n1) {
  const double u1 = to_unit(a);
  const double u2 = to_unit(b);
  const double r = ::sqrt(-2.0 * ::log(u1));
  const double t = 6.283185307179586 * u2;
  n0 = r * ::cos(t);
  n1 = r * ::sin(t);
}

// Four standard normals for one counter.
SEMSEC_HD void normal4(Philox4 r, double out[4]) {
  box_muller(r.v[0], r.v[1], out[0], out[1]);
  box_muller(r.v[2], r.v[3], out[2], out[3]);
}

// ---- Single-precision normals: the hot path of the ISAC channel ----
// Built from IEEE +, -, *, /, sqrt and conversions only, in a fixed order, so that host and device
// give the same bits when neither contracts a * b + c into an FMA (kernels/CMakeLists.txt
// compiles with -ffp-contract=off and nvcc --fmad=false). Branch-free, so the CPU loops vectorise.

SEMSEC_HD uint32_t float_to_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
#endif
}

SEMSEC_HD float bits_to_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
#endif
}

// ln x for a finite normal x > 0: x = m 2^e with m in [sqrt(1/2), sqrt(2)), then the Cephes
// logf polynomial in f = m - 1 (relative error about 1e-7).
SEMSEC_HD float log_f(float x) {
  const uint32_t ix = float_to_bits(x);
  const float m = bits_to_float((ix & 0x007fffffu) | 0x3f000000u);  // [0.5, 1)
  const bool low = m < 0.70710678f;
  const float e = static_cast<float>(static_cast<int32_t>(ix >> 23) - (low ? 127 : 126));
  const float f = (low ? m + m : m) - 1.0f;
  const float z = f * f;
  float y = 7.0376836292e-2f;
  y = y * f - 1.1514610310e-1f;
  y = y * f + 1.1676998740e-1f;
  y = y * f - 1.2420140846e-1f;
  y = y * f + 1.4249322787e-1f;
  y = y * f - 1.6668057665e-1f;
  y = y * f + 2.0000714765e-1f;
  y = y * f - 2.4999993993e-1f;
  y = y * f + 3.3333331174e-1f;
  y = (y * f) * z;
  y = y + -2.12194440e-4f * e;  // ln 2 = 0.693359375 - 2.12194440e-4, split for accuracy
  y = y - 0.5f * z;
  return (f + y) + 0.693359375f * e;
}

// sin and cos of 2 pi u for u in [0, 1]: reduced exactly in turns to a quarter turn q and
// r in [-1/8, 1/8], then the Cephes sinf / cosf polynomials on [-pi/4, pi/4].
SEMSEC_HD void sincos_turns_f(float u, float& s, float& c) {
  const float t = u - static_cast<float>(static_cast<int32_t>(u + 0.5f));  // [-0.5, 0.5]
  const int32_t k = static_cast<int32_t>(4.0f * t + 2.5f) - 2;             // round(4 t), -2..2
  const float r = t - 0.25f * static_cast<float>(k);                       // exact
  const float x = 6.28318531f * r;
  const float x2 = x * x;
  float ps = -1.9515295891e-4f;
  ps = ps * x2 + 8.3321608736e-3f;
  ps = ps * x2 - 1.6666654611e-1f;
  const float sn = x + (x * x2) * ps;
  float pc = 2.443315711809948e-5f;
  pc = pc * x2 - 1.388731625493765e-3f;
  pc = pc * x2 + 4.166664568298827e-2f;
  const float cs = (1.0f - 0.5f * x2) + (x2 * x2) * pc;
  const int32_t q = k & 3;  // the angle is x + q pi / 2
  const float s_abs = (q & 1) ? cs : sn;
  const float c_abs = (q & 1) ? sn : cs;
  s = (q & 2) ? -s_abs : s_abs;
  c = ((q + 1) & 2) ? -c_abs : c_abs;
}

// Uniform in (0, 1] from one word: (x + 1/2) 2^-32 rounded to float (1.0 only for the top 128
// words, where it only rounds r = sqrt(-2 ln u) ~ 1e-4 to 0).
SEMSEC_HD float to_unit_f(uint32_t x) { return static_cast<float>(x) * 2.3283064e-10f + 1.1641532e-10f; }

// Two standard normals from two words (Box-Muller in float; tail to 7.1 sigma like the double one).
SEMSEC_HD void box_muller_f(uint32_t a, uint32_t b, float& n0, float& n1) {
  const float r = ::sqrtf(-2.0f * log_f(to_unit_f(a)));
  float s, c;
  sincos_turns_f(to_unit_f(b), s, c);
  n0 = r * c;
  n1 = r * s;
}

SEMSEC_HD void normal4f(Philox4 r, float out[4]) {
  box_muller_f(r.v[0], r.v[1], out[0], out[1]);
  box_muller_f(r.v[2], r.v[3], out[2], out[3]);
}

}  // namespace semsec::rng
