// Philox 4x32-10 against the Random123 known-answer vectors, and the single-precision normals
// of the ISAC channel (log, sincos, Box-Muller) against double-precision libm and theory.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/philox.h"

namespace rng = semsec::rng;

namespace {

TEST(Philox, MatchesRandom123KnownAnswers) {
  struct Kat {
    rng::Philox4 ctr;
    uint32_t k0, k1;
    rng::Philox4 expect;
  };
  const Kat kats[] = {
      {{{0u, 0u, 0u, 0u}}, 0u, 0u, {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}}},
      {{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}},
       0xffffffffu,
       0xffffffffu,
       {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}}},
      {{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}},
       0xa4093822u,
       0x299f31d0u,
       {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}}},
  };
  for (const auto& k : kats) {
    const rng::Philox4 r = rng::philox4x32_10(k.ctr, k.k0, k.k1);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(r.v[i], k.expect.v[i]) << "word " << i;
  }
}

TEST(FloatNormals, LogIsAccurateOverTheUniformRange) {
  // Every power of two the uniforms reach, and a dense sweep of mantissas at each.
  double worst = 0.0;
  for (int e = -34; e <= 0; ++e) {
    for (int i = 0; i < 4096; ++i) {
      const float x = std::ldexp(1.0f + static_cast<float>(i) / 4096.0f, e);
      if (x > 1.0f) continue;
      const double want = std::log(static_cast<double>(x));
      const double got = rng::log_f(x);
      // Relative error where ln x is away from 0, absolute near x = 1.
      worst = std::max(worst, std::abs(got - want) / std::max(std::abs(want), 1e-3));
    }
  }
  EXPECT_LT(worst, 4e-7);
  EXPECT_EQ(rng::log_f(1.0f), 0.0f);
}

TEST(FloatNormals, SinCosOfTurnsAreAccurateAndSigned) {
  double worst = 0.0;
  for (int i = 0; i <= (1 << 20); ++i) {
    const float u = static_cast<float>(i) / static_cast<float>(1 << 20);
    float s, c;
    rng::sincos_turns_f(u, s, c);
    const double t = 2.0 * 3.141592653589793 * static_cast<double>(u);
    worst = std::max({worst, std::abs(s - std::sin(t)), std::abs(c - std::cos(t))});
  }
  EXPECT_LT(worst, 3e-7);
}

TEST(FloatNormals, BoxMullerMomentsAndTails) {
  // 2^21 normals from consecutive counters: mean 0, variance 1, kurtosis 3 within ~5 standard
  // errors; the extreme words give finite values inside the 7.1 sigma tail.
  const rng::Key key = rng::make_key(12345);
  const int blocks = 1 << 19;
  double s1 = 0, s2 = 0, s4 = 0;
  int64_t beyond3 = 0;
  for (int b = 0; b < blocks; ++b) {
    float n[4];
    rng::normal4f(rng::draw(key, rng::kStreamFading, 0, 0, static_cast<uint32_t>(b)), n);
    for (float v : n) {
      s1 += v;
      s2 += static_cast<double>(v) * v;
      s4 += std::pow(static_cast<double>(v), 4);
      beyond3 += std::abs(v) > 3.0f;
    }
  }
  const double count = 4.0 * blocks;
  EXPECT_NEAR(s1 / count, 0.0, 5.0 / std::sqrt(count));
  EXPECT_NEAR(s2 / count, 1.0, 5.0 * std::sqrt(2.0 / count));
  EXPECT_NEAR(s4 / count, 3.0, 5.0 * std::sqrt(96.0 / count));
  // P(|N| > 3) = 2.6998e-3.
  const double p3 = 2.6997960632601e-3;
  EXPECT_NEAR(static_cast<double>(beyond3) / count, p3, 5.0 * std::sqrt(p3 / count));

  float a, b;
  rng::box_muller_f(0u, 0u, a, b);
  EXPECT_TRUE(std::isfinite(a) && std::isfinite(b));
  EXPECT_NEAR(a, std::sqrt(-2.0 * std::log(std::ldexp(1.0, -33))), 1e-5);  // the largest value
  EXPECT_LT(a, 7.2f);
  rng::box_muller_f(0xffffffffu, 0xffffffffu, a, b);
  EXPECT_TRUE(std::isfinite(a) && std::isfinite(b));
  EXPECT_EQ(a, 0.0f);
}

TEST(FloatNormals, AgreeWithTheDoublePrecisionNormalsOfTheSameWords) {
  // Same words, same transform: the float normals are the double ones up to float rounding
  // (a guard that the float path draws the same realisation, not just the same law). The
  // largest gap is near 0, where u1 -> 1 is resolved to 2^-24 in float: |dn| ~ 1e-5.
  const rng::Key key = rng::make_key(7);
  double worst = 0.0;
  for (uint32_t b = 0; b < 100000; ++b) {
    const rng::Philox4 r = rng::draw(key, rng::kStreamNoiseBs, 3, b, 0);
    float f[4];
    double d[4];
    rng::normal4f(r, f);
    rng::normal4(r, d);
    for (int i = 0; i < 4; ++i) worst = std::max(worst, std::abs(f[i] - d[i]) / std::max(1.0, std::abs(d[i])));
  }
  EXPECT_LT(worst, 3e-5);
}

}  // namespace
