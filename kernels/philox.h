// Philox 4x32-10 counter-based random numbers, written once for host and device.
// Every random draw in semsec is a pure function of (key, counter), so CPU and
// GPU produce the same channel realisations and a run resumes from counters alone.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define SEMSEC_HD __host__ __device__ __forceinline__
#else
#define SEMSEC_HD inline
#endif

namespace semsec::rng {

struct Philox4 {
  uint32_t v[4];
};

// Stream ids: which quantity a draw belongs to. Never renumber: results depend on them.
enum Stream : uint32_t {
  kStreamInit = 1,        // weight initialisation
  kStreamShuffle = 2,     // data order
  kStreamAngle = 3,       // target azimuth phi
  kStreamFading = 4,      // Rayleigh h, residual self-interference
  kStreamNoiseBs = 5,     // n_BS
  kStreamNoiseUe = 6,     // n_UE
  kStreamNoiseEve = 7,    // n_Eve
  kStreamLink = 8,        // link-level (CLSSR) bits, fading and noise
  kStreamSource = 9,      // CLSSR source chain: task classes and images
  kStreamPolicy = 10,     // CLSSR exploration (epsilon-greedy) draws
  kStreamEvalOffset = 0x100,  // added to a stream id for evaluation draws
};

SEMSEC_HD void mulhilo32(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

// Philox4x32 with 10 rounds (Salmon et al., SC'11; Random123 constants).
SEMSEC_HD Philox4 philox4x32_10(Philox4 ctr, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo32(kM0, ctr.v[0], hi0, lo0);
    mulhilo32(kM1, ctr.v[2], hi1, lo1);
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

}  // namespace semsec::rng
