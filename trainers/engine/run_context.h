// A run directory's live outputs: metrics.csv (long format, rewritten atomically at every
// checkpoint, keeping the rows of an interrupted run when resuming) and TensorBoard event files.
// Every command that trains (train, each sweep ensemble, clssr's codec) opens one.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "core/tensorboard.h"

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

}  // namespace semsec::trainers
