// `semsec sweep`: a Hydra-style multirun over the Cartesian product of key=a,b,c axes.
// Points that differ only in grid keys (grid.h: seed, train.snr_db, train.lr, security.psr_db,
// the loss weights) train together as one grid-batched ensemble; other keys split ensembles.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/config.h"
#include "trainers/ss_isac/grid.h"

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

// The resume protocol: DIR/sweep.txt records CONFIG and every argument, one per line, so that
// `semsec sweep --resume DIR` reruns exactly the same sweep; finished ensembles are skipped
// stage by stage from their checkpoints.
void save_sweep_record(const SweepOptions& options);
// Fills config_file and args from options.sweep_dir's sweep.txt.
void load_sweep_record(SweepOptions& options);

// One grid-batched ensemble of a sweep: the configuration its points share, and each point.
struct SweepEnsemble {
  config::Config cfg;
  std::vector<GridPoint> points;
  std::vector<config::Config> point_configs;  // each point's full configuration
};

// What a sweep trains, decided before anything trains: the axes, the ensembles in order
// (ensembleNNN), and the swept keys that get a leading column in summary.csv.
struct SweepPlan {
  std::vector<SweepAxis> axes;
  std::vector<SweepEnsemble> ensembles;
  std::vector<std::string> extra_columns;
  size_t num_points = 0, num_groups = 0;
  int64_t max_grid = 0;
};

// Reads and validates the configuration and the axes, and plans the ensembles (sweep.max_grid,
// or with 0 as many points as the device's memory allows).
SweepPlan plan_sweep(const SweepOptions& options);

// Runs every ensemble of the plan (plan_sweep(options), made before the sweep directory exists)
// and writes sweep_dir/summary.csv (one row per grid point and test condition, with a leading
// column per swept key).
void run_sweep(const SweepOptions& options, const SweepPlan& plan);

}  // namespace semsec::trainers
