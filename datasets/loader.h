// Image data sets as tensors, and the per-grid-point data order and target azimuths:
// every draw is a pure function of (seed of grid point g, step), so grid point g sees
// the same batches whether it trains alone or inside an ensemble, and after a resume.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/philox.h"

namespace semsec::data {

// Where the Debian package dataset-fashion-mnist installs its IDX files.
std::string default_data_root();

struct Split {
  torch::Tensor images;  // [N, rows*cols] float32 in [0, 1]
  torch::Tensor labels;  // [N] int64 in [0, num_classes)
  int64_t rows = 0, cols = 0;
};

// Loads `split` ("train": train-images-idx3-ubyte + train-labels-idx1-ubyte, "test":
// t10k-*) from `root`, each file raw or with a .gz suffix. limit > 0 keeps the first
// `limit` samples (all of them when the split is smaller). Tensors are on the CPU.
Split load_split(const std::string& root, const std::string& split, int64_t limit = 0, int64_t num_classes = 10);

// The cheap part of load_split's checks, for validating a configuration before a run starts:
// `root` is a directory that holds the image and label files of both splits (contents unread).
void check_data_root(const std::string& root);

// Data order of a grid: in epoch e, grid point g visits the samples in the order of
// their Philox words draw(make_key(seed_g), kStreamShuffle, e, i, 0) (64-bit key
// v[0]:v[1], ties by index), batch_size at a time; the incomplete last batch of an
// epoch is dropped. Only the permutations of the last epoch asked for are cached,
// and they are recomputed from the seeds, so any step can be asked for in any order.
// Not thread-safe (the cache).
class BatchSampler {
 public:
  BatchSampler(int64_t num_samples, int64_t batch_size, std::vector<uint64_t> seeds);

  int64_t steps_per_epoch() const { return num_samples_ / batch_size_; }
  int64_t num_samples() const { return num_samples_; }
  int64_t batch_size() const { return batch_size_; }
  const std::vector<uint64_t>& seeds() const { return seeds_; }

  // Sample indices of `step`: [G, B] int64 on the CPU.
  torch::Tensor indices(int64_t step);

 private:
  int64_t num_samples_, batch_size_;
  std::vector<uint64_t> seeds_;
  int64_t cached_epoch_ = -1;
  torch::Tensor perms_;  // [G, N] int64, permutations of cached_epoch_
};

// Target azimuth per sample: phi[g, b] = lo + (hi - lo) * to_unit(draw(make_key(seeds[g]),
// stream, step, b, 0).v[0]). [G, B] float32 on the CPU.
torch::Tensor sample_phi(const std::vector<uint64_t>& seeds, int64_t step, int64_t batch, double lo_rad, double hi_rad,
                         uint32_t stream = rng::kStreamAngle);

struct Batch {
  torch::Tensor x;       // [G, B, D] float32
  torch::Tensor labels;  // [G, B] int64
  torch::Tensor phi;     // [G, B] float32, radians
};

// Training batch of `step` on `device`. The rows are gathered on the device the
// split lives on (CPU or already moved by the caller), then copied once. `seeds`
// must be the sampler's seeds.
Batch make_batch(const Split& split, BatchSampler& sampler, const std::vector<uint64_t>& seeds, int64_t step,
                 double phi_lo, double phi_hi, torch::Device device, uint32_t phi_stream = rng::kStreamAngle);

// Evaluation batch: samples [start, start + batch) of the split, the same images for
// every grid point (the last batch is shorter when the split ends first), phi from
// stream kStreamAngle + kStreamEvalOffset with step = start / batch.
Batch eval_batch(const Split& split, int64_t start, int64_t batch, const std::vector<uint64_t>& seeds, double phi_lo,
                 double phi_hi, torch::Device device);

}  // namespace semsec::data
