// The stage runner: trains a set of grid-batched parameters with GridAdam for a fixed number
// of steps, logs every loss term, writes resumable checkpoints, and on resume continues
// bit-for-bit where the checkpoint left off.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "core/tensorboard.h"
#include "trainers/grid_adam.h"

namespace semsec::trainers {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Long-format metrics (stage, step, point, term, value), rewritten atomically as metrics.csv.
class MetricsLog {
 public:
  explicit MetricsLog(std::string path);
  void load_existing();                                   // keeps what an interrupted run wrote
  void truncate(const std::string& stage, int64_t step);  // drops rows of `stage` after `step`
  void add(const std::string& stage, int64_t step, int64_t point, const std::string& term, double value);
  void save() const;

 private:
  struct Row {
    std::string stage;
    int64_t step, point;
    std::string term;
    double value;
  };
  std::string path_;
  std::vector<Row> rows_;
};

struct RunContext {
  std::string run_dir;
  torch::Device device = torch::kCPU;
  std::unique_ptr<tb::EventWriter> tb;  // may be null
  std::unique_ptr<MetricsLog> metrics;
  bool quiet = false;
};

// The context of a run directory (created if missing): its metrics.csv, holding the rows already
// there when resuming, and TensorBoard event files when asked.
RunContext open_run(const std::string& run_dir, torch::Device device, bool resume, bool tensorboard);

// One optimisation step: zero the gradients, evaluate the losses, back-propagate the summed first
// term (the per-point losses are independent, so the sum trains every point at once) and update.
// run_stage and `semsec bench` both step through here.
// keep_grads: zero the gradient buffers instead of dropping them (a captured CUDA graph reads
// them at fixed addresses).
NamedTensors train_step(GridAdam& opt, const std::function<NamedTensors()>& losses, bool keep_grads = false);

struct StageSpec {
  std::string name;
  int64_t total_steps = 0;
  int64_t log_every = 50;
  int64_t checkpoint_every = 500;
  NamedTensors params;     // trainable, each [G, ...]
  NamedTensors extra;      // further state saved with the stage (e.g. frozen weights), restored on resume
  std::vector<double> lr;  // per grid point
  AdamOptions adam;
  // Loss terms of one step, each [G] (one value per grid point); the first one is minimised.
  std::function<NamedTensors(int64_t step)> loss_fn;
  // Host-side work of a step, run before it: the batch into the stage's buffers and the channel
  // counter set. With a prepare, loss_fn must read only those buffers (not its step argument).
  std::function<void(int64_t step)> prepare;
  // Capture the step (loss_fn, backward, Adam) as a CUDA graph and replay it (GraphedStep);
  // needs `prepare` and a CUDA device. Config key train.cuda_graph.
  bool cuda_graph = false;
};

// Path of a stage's checkpoint inside the run directory.
std::string stage_checkpoint_path(const std::string& run_dir, const std::string& stage);

// Runs (or resumes, or skips when already complete) one stage.
void run_stage(const StageSpec& spec, RunContext& ctx);

}  // namespace semsec::trainers
