// `semsec sweep`: a Hydra-style multirun over the Cartesian product of key=a,b,c axes.
// Points that differ only in grid keys (grid.h: seed, train.snr_db, train.lr, security.psr_db,
// the loss weights) train together as one grid-batched ensemble; other keys split ensembles.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/config.h"
#include "core/distributed.h"
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
  // Shared sweep directory (--shard, or a multi-process job): several processes train the
  // ensembles of one plan; an ensemble directory that exists is resumed, a finished one skipped.
  bool shared = false;
  // --shard I/N: this process trains the ensembles e with e mod N = I.
  int64_t shard_index = 0, shard_count = 1;
  // The chunk size of an adopted plan.csv (0: sweep.max_grid, or free memory when that is 0).
  int64_t max_grid_override = 0;
  // How the message of an interrupted ensemble tells the user to continue.
  std::string resume_hint;
};

// The resume protocol: DIR/sweep.txt records CONFIG and every argument, one per line, so that
// `semsec sweep --resume DIR` reruns exactly the same sweep; finished ensembles are skipped
// stage by stage from their checkpoints.
void save_sweep_record(const SweepOptions& options);
// What save_sweep_record writes.
std::string sweep_record_text(const SweepOptions& options);
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

// Reads and validates the configuration and the axes, and plans the ensembles (max_grid_override,
// sweep.max_grid, or with 0 as many points as the device's memory allows).
SweepPlan plan_sweep(const SweepOptions& options);
// plan_sweep with the ensemble size of the sweep directory's plan.csv (which must exist).
SweepPlan plan_sweep_from_record(SweepOptions& options);

// A swept key's value in a point's configuration, as summary.csv's leading columns and plan.csv
// print it.
std::string swept_value_text(const config::Config& cfg, const std::string& key);
// The size of the largest ensemble of a plan.csv's text (`what` names it in errors).
int64_t plan_largest_ensemble(const std::string& csv, const std::string& what);

// The plan as DIR/plan.csv: one row per grid point (ensemble, point, the value of every axis).
std::string plan_csv(const SweepPlan& plan);

// Makes the plan the sweep directory's: writes plan.csv when the directory has none (atomically,
// and only if no other process published one first), or adopts the plan.csv there, re-planning
// with its ensemble size so that every process and every resume trains the same ensembles
// whatever its free memory. Fails, naming plan.csv, when the file does not match this sweep.
SweepPlan settle_plan(SweepOptions& options, SweepPlan plan);

// Trains (or resumes) ensemble `index` in SWEEP_DIR/ensembleNNN, under its own lock; a finished
// ensemble (its summary.csv exists) is skipped. Returns false when it was skipped.
bool train_ensemble(const SweepOptions& options, const SweepPlan& plan, size_t index);

// The ensembles whose summary.csv is missing (not finished), in order.
std::vector<size_t> unfinished_ensembles(const SweepOptions& options, const SweepPlan& plan);

// Writes SWEEP_DIR/summary.csv from the ensembles' own summary.csv files (one row per grid point
// and test condition, with a leading column per swept key and the ensemble index); fails, naming
// them, while any ensemble is unfinished.
void merge_sweep_summary(const SweepOptions& options, const SweepPlan& plan);

// Runs this process's ensembles of the plan (all of them, or its --shard) and, once every ensemble
// of the plan is finished, writes the sweep's summary.csv. Returns true when it did.
bool run_sweep(const SweepOptions& options, const SweepPlan& plan);

// Runs the sweep as one rank of a multi-process job (torchrun, srun). Rank 0 settles the plan
// (plan.csv) and publishes it through the store; the others check that their own plan of the same
// command matches it. Every rank then claims ensembles one at a time from a counter in the store
// (unequal ensembles balance; a finished one is skipped, an interrupted one resumed), and rank 0
// writes the summary once every rank has run out of work. Returns true on the rank that wrote it.
bool run_sweep_job(SweepOptions& options, SweepPlan plan, const dist::JobEnv& env, dist::Store& store);

}  // namespace semsec::trainers
