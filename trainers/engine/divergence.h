// Divergence of grid points during a stage. A point whose loss terms or gradients stop being
// finite, or whose minimised loss blows up, is frozen: GridAdam leaves its parameters and Adam
// moments unchanged from then on, while the other points train on exactly as they would without
// it (their arithmetic never reads another point's values). run_stage marks the point
// diverged@STAGE:STEP in the run's statuses (summary.csv's status column) and stops the run
// once every point is frozen.
//
// The rules, checked for every point:
//   - non-finite: at every step, after backward and before the update, a loss term that is NaN or
//     +-inf, or a parameter gradient whose per-point sum is not finite (NaN, inf, or beyond float's
//     range). The step that produced it is not applied.
//   - blow-up: at every log step, a minimised loss L that is finite but
//     |L| > kBlowupFactor * max(m, 1), with m the smallest |L| logged for the point in this stage
//     before (so a loss that rose a thousandfold from its best, or to above 1000 when its best was
//     below 1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/checkpoint.h"
#include "trainers/engine/grid_adam.h"
#include "trainers/engine/run_context.h"

namespace semsec::trainers {

inline constexpr double kBlowupFactor = 1e3;

class DivergenceGuard {
 public:
  // `frozen`: points frozen from the start (they diverged in an earlier stage). Installs its mask
  // in `opt`.
  DivergenceGuard(GridAdam& opt, std::string stage, const std::vector<bool>& frozen);

  // After backward, before the update: device work only (no synchronisation, CUDA-graph safe).
  void observe(const NamedTensors& terms);

  // At a log or checkpoint step `step` (synchronises): learns which points the non-finite rule
  // froze since the last review, applies the blow-up rule to `loss` (each point's minimised loss
  // at this step) against `best` (each point's smallest |loss| logged before; NaN: none yet), and
  // logs a warning for every newly frozen point.
  void review(int64_t step, const std::vector<double>& loss, const std::vector<double>& best);

  // The step at which each point diverged in this stage, 0 for points that did not (as of the last
  // review or load).
  const std::vector<int64_t>& diverged_at() const { return diverged_at_host_; }
  bool all_frozen() const;
  // "point 2 diverged at step 7: a loss term or gradient is not finite (loss=nan, ...)" and the like.
  std::string describe(int64_t point) const;

  // Checkpoint state, written only while some point is frozen (so a healthy run's checkpoints hold
  // exactly the tensors they held before this guard existed); load() without it: none frozen here.
  void save(TensorMap& m) const;
  void load(const TensorMap& m, const std::string& path);

 private:
  void freeze(int64_t point, int64_t step, const std::string& why);
  GridAdam& opt_;
  std::string stage_;
  torch::Tensor active_;       // [G] uint8, read by GridAdam
  torch::Tensor diverged_at_;  // [G] int64, 0 = not diverged in this stage
  torch::Tensor terms_at_;     // [T, G] float64: the loss terms at the step that diverged
  std::vector<std::string> term_names_;
  std::vector<bool> frozen_;  // host view as of the last review
  std::vector<int64_t> diverged_at_host_;
  std::vector<std::string> why_;
};

}  // namespace semsec::trainers
