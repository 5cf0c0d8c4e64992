// Synthetic 28x28 images: each class a signed-distance stroke pattern rendered with
// a soft edge, per-sample geometric jitter and Philox pixel noise.
#include "datasets/synthetic.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/errors.h"
#include "core/fs.h"
#include "datasets/idx.h"
#include "kernels/philox.h"

namespace semsec::data {
namespace {

// Outside the rng::Stream ids used by training, so synthetic data never shares
// draws with shuffling, angles or channels keyed by the same seed.
constexpr uint32_t kStreamSynthetic = 0x200;
constexpr int64_t kSide = 28;
constexpr int64_t kNumClasses = 10;
constexpr double kHalfSize = 9.0;     // pattern half-size in pixels at scale 1
constexpr double kNoiseSigma = 0.08;  // pixel noise, in units of full intensity

struct Vec {
  double x, y;
};

double segment_distance(Vec p, Vec a, Vec b) {
  const double vx = b.x - a.x, vy = b.y - a.y;
  const double t = std::clamp(((p.x - a.x) * vx + (p.y - a.y) * vy) / (vx * vx + vy * vy), 0.0, 1.0);
  return std::hypot(p.x - a.x - t * vx, p.y - a.y - t * vy);
}

double disc_distance(Vec p, Vec c, double r) { return std::max(0.0, std::hypot(p.x - c.x, p.y - c.y) - r); }

// Distance (in pattern units, half-size 1) from p to the strokes of class c.
double class_distance(int64_t c, Vec p) {
  switch (c) {
    case 0:
      return std::abs(std::hypot(p.x, p.y) - 0.65);  // ring
    case 1:
      return segment_distance(p, {0, -0.8}, {0, 0.8});  // vertical bar
    case 2:
      return segment_distance(p, {-0.8, 0}, {0.8, 0});  // horizontal bar
    case 3:
      return segment_distance(p, {-0.65, 0.65}, {0.65, -0.65});  // diagonal, bottom left to top right
    case 4:
      return segment_distance(p, {-0.65, -0.65}, {0.65, 0.65});  // diagonal, top left to bottom right
    case 5:
      return std::min(segment_distance(p, {0, -0.8}, {0, 0.8}), segment_distance(p, {-0.8, 0}, {0.8, 0}));
    case 6:
      return std::min(segment_distance(p, {-0.65, 0.65}, {0.65, -0.65}),
                      segment_distance(p, {-0.65, -0.65}, {0.65, 0.65}));
    case 7:
      return disc_distance(p, {0, 0}, 0.4);  // filled disc
    case 8:
      return std::min(disc_distance(p, {-0.5, 0}, 0.25), disc_distance(p, {0.5, 0}, 0.25));
    default: {  // square outline
      const double h = 0.6;
      return std::min({segment_distance(p, {-h, -h}, {h, -h}), segment_distance(p, {h, -h}, {h, h}),
                       segment_distance(p, {h, h}, {-h, h}), segment_distance(p, {-h, h}, {-h, -h})});
    }
  }
}

// Draws of sample i of split s: block 0 and 1 the label and geometry, blocks 2..
// the pixel noise (four normals per block).
void render_split(uint64_t seed, uint32_t split_id, int64_t n, std::vector<uint8_t>& images,
                  std::vector<uint8_t>& labels) {
  const rng::Key key = rng::make_key(seed);
  images.assign(static_cast<size_t>(n * kSide * kSide), 0);
  labels.assign(static_cast<size_t>(n), 0);
  for (int64_t i = 0; i < n; ++i) {
    const auto sample = static_cast<uint32_t>(i);
    const rng::Philox4 r0 = rng::draw(key, kStreamSynthetic, split_id, sample, 0);
    const rng::Philox4 r1 = rng::draw(key, kStreamSynthetic, split_id, sample, 1);
    const int64_t label = r0.v[0] % kNumClasses;
    const double dx = -2.0 + 4.0 * rng::to_unit(r0.v[1]);
    const double dy = -2.0 + 4.0 * rng::to_unit(r0.v[2]);
    const double amp = 0.75 + 0.25 * rng::to_unit(r0.v[3]);
    const double width = 1.2 + 0.8 * rng::to_unit(r1.v[0]);  // stroke half-width, pixels
    const double scale = kHalfSize * (0.85 + 0.25 * rng::to_unit(r1.v[1]));
    const double angle = -0.15 + 0.3 * rng::to_unit(r1.v[2]);
    const double cs = std::cos(angle), sn = std::sin(angle);
    labels[i] = static_cast<uint8_t>(label);
    uint8_t* img = images.data() + i * kSide * kSide;
    double noise[4];
    for (int64_t px = 0; px < kSide * kSide; ++px) {
      if (px % 4 == 0) rng::normal4(rng::draw(key, kStreamSynthetic, split_id, sample, 2 + px / 4), noise);
      const double x = static_cast<double>(px % kSide) - 13.5 - dx;
      const double y = static_cast<double>(px / kSide) - 13.5 - dy;
      const Vec p{(cs * x + sn * y) / scale, (-sn * x + cs * y) / scale};
      const double d = class_distance(label, p) * scale / width;
      const double v = std::clamp(amp * std::exp(-d * d) + kNoiseSigma * noise[px % 4], 0.0, 1.0);
      img[px] = static_cast<uint8_t>(std::lround(255.0 * v));
    }
  }
}

}  // namespace

void write_synthetic_dataset(const std::string& dir, int64_t n_train, int64_t n_test, uint64_t seed, bool gzip) {
  if (n_train < 1 || n_train > int64_t{UINT32_MAX})
    fail("synthetic data: n_train is {}; expected a positive count", n_train);
  if (n_test < 1 || n_test > int64_t{UINT32_MAX})
    fail("synthetic data: n_test is {}; expected a positive count", n_test);
  if (const std::string err = fs::create_directories(dir); !err.empty())
    fail("synthetic data: cannot create directory '{}': {}", dir, err);
  const std::string ext = gzip ? ".gz" : "";
  std::vector<uint8_t> images, labels;
  struct Part {
    const char* prefix;
    int64_t n;
    uint32_t split_id;
  };
  for (const Part part : {Part{"train", n_train, 0}, Part{"t10k", n_test, 1}}) {
    render_split(seed, part.split_id, part.n, images, labels);
    const std::string prefix = fs::join(dir, part.prefix);
    write_idx(prefix + "-images-idx3-ubyte" + ext, {part.n, kSide, kSide}, images, gzip);
    write_idx(prefix + "-labels-idx1-ubyte" + ext, {part.n}, labels, gzip);
  }
}

}  // namespace semsec::data
