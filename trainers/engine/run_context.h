// A run directory's live outputs: metrics.csv (long format, appended at every checkpoint; a
// resumed run cuts it back to its checkpoints' steps once), TensorBoard event files, and each
// grid point's status. Every command that trains (train, each sweep ensemble, clssr's codec)
// opens one.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "core/tensorboard.h"

namespace semsec::trainers {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Long-format metrics (stage, step, point, term, value) in metrics.csv. save() appends the rows
// added since the last save (fsynced), so a run's total cost of logging grows with its length,
// not with its square. The rows of an interrupted run are read back on resume; truncate() drops
// those past the checkpoint and rewrites the file once (atomically), as does an unterminated last
// line left by a failed append.
class MetricsLog {
 public:
  explicit MetricsLog(std::string path);
  void load_existing();                                   // keeps what an interrupted run wrote
  void truncate(const std::string& stage, int64_t step);  // drops rows of `stage` after `step`
  void add(const std::string& stage, int64_t step, int64_t point, const std::string& term, double value);
  void save();
  // The smallest |value| logged for (stage, point, term); NaN when there is none.
  double min_abs(const std::string& stage, int64_t point, const std::string& term) const;

 private:
  struct Row {
    std::string stage;
    int64_t step, point;
    std::string term;
    double value;
  };
  std::string path_;
  std::vector<Row> rows_;
  size_t written_ = 0;    // rows_[0, written_) are in the file
  bool rewrite_ = false;  // the file must be rewritten whole at the next save
};

struct RunContext {
  std::string run_dir;
  torch::Device device = torch::kCPU;
  std::unique_ptr<tb::EventWriter> tb;  // may be null: no TensorBoard
  // TensorBoard of a grid (G > 1): one run per point in RUN_DIR/tb/p<g>, so their curves overlay;
  // made by tb_point on first use.
  std::vector<std::unique_ptr<tb::EventWriter>> tb_points;
  // TensorBoard's step of a stage's step 0: the steps of the stages before it (one global step per
  // run, so a SessionLog START at a resumed step drops only what comes after it).
  int64_t tb_step_offset = 0;
  std::unique_ptr<MetricsLog> metrics;
  bool quiet = false;
  // Per grid point: "ok" or "diverged@STAGE:STEP" (the first stage where it diverged); sized by the
  // first stage that runs. summary.csv's status column.
  std::vector<std::string> point_status;
  // HParams that every point of the run shares, written to TensorBoard next to each point's grid
  // values (a sweep's swept keys that are not grid keys, set by the sweep).
  std::vector<tb::HParam> tb_hparams;
  // The command that continues this run after an interruption ("semsec train --resume DIR"), in
  // the message of a run stopped by SIGINT/SIGTERM.
  std::string resume_command;
};

// The event writer of grid point g of `num_points` (the run's own for a single point); null when
// the run writes no TensorBoard.
tb::EventWriter* tb_point(RunContext& ctx, int64_t g, int64_t num_points);
// Flushes every event writer of the run.
void tb_flush(RunContext& ctx);

// The context of a run directory (created if missing): its metrics.csv, holding the rows already
// there when resuming, and TensorBoard event files when asked.
RunContext open_run(const std::string& run_dir, torch::Device device, bool resume, bool tensorboard);

}  // namespace semsec::trainers
