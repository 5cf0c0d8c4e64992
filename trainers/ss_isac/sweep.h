// `semsec sweep`: a Hydra-style multirun over the Cartesian product of key=a,b,c axes.
// Points that differ only in grid-batchable keys (seed, train.snr_db, train.lr,
// security.psr_db) train together as one grid-batched ensemble; other keys split ensembles.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/config.h"

namespace semsec::trainers {

struct SweepAxis {
  std::string key;
  std::vector<std::string> values;  // YAML text of each value
};

// Splits command-line overrides into sweep axes (a top-level comma outside brackets/quotes)
// and plain overrides.
void split_sweep_args(const std::vector<std::string>& args, std::vector<SweepAxis>& axes,
                      std::vector<std::string>& plain);

// Keys that may differ between the points of one ensemble.
bool is_grid_batchable(const std::string& key);

struct SweepOptions {
  std::string config_file;
  std::vector<std::string> args;  // overrides and axes as given
  std::string sweep_dir;
  torch::Device device = torch::kCPU;
  bool resume = false;
};

// Runs every ensemble of the sweep and writes sweep_dir/summary.csv (one row per grid point and
// test condition, with a leading column per swept key).
void run_sweep(const SweepOptions& options);

}  // namespace semsec::trainers
