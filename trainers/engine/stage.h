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

#include "trainers/engine/grid_adam.h"
#include "trainers/engine/run_context.h"

namespace semsec::trainers {

// One optimisation step: zero the gradients, evaluate the losses, back-propagate the summed first
// term (the per-point losses are independent, so the sum trains every point at once) and update.
// run_stage and `semsec bench` both step through here.
// keep_grads: zero the gradient buffers instead of dropping them (a captured CUDA graph reads
// them at fixed addresses).
// guard: when given, it checks the terms and gradients of every point before the update and
// freezes the points that diverged (DivergenceGuard).
class DivergenceGuard;
NamedTensors train_step(GridAdam& opt, const std::function<NamedTensors()>& losses, bool keep_grads = false,
                        DivergenceGuard* guard = nullptr);

struct StageSpec {
  std::string name;
  int64_t total_steps = 0;
  int64_t log_every = 50;
  int64_t checkpoint_every = 500;
  NamedTensors params;     // trainable, each [G, ...]
  NamedTensors extra;      // further state saved with the stage (e.g. frozen weights), restored on resume
  std::vector<double> lr;  // per grid point
  // Further trainable parameters with learning rates of their own (one per grid point), stepped by
  // the same optimizer (e.g. the CLSSR noise stage: Delta z at codec.noise_lr next to the user's
  // decoder at codec.aware_lr).
  struct Group {
    NamedTensors params;
    std::vector<double> lr;
  };
  std::vector<Group> more_params;
  AdamOptions adam;
  // Host-side work of step `step`, run before it: the batch into the stage's buffers and the
  // channel counter set.
  std::function<void(int64_t step)> prepare;
  // Loss terms of the prepared step, each [G] (one value per grid point); the first one is
  // minimised. It reads only what prepare set, so a CUDA graph can replay it.
  std::function<NamedTensors()> loss_fn;
  // The other player of a min-max stage: its own updates of step `step`, run before `prepare`
  // (the stage's optimizer sees none of its parameters; its state belongs in `extra` so a resume
  // continues it). The terms it returns, each [G], are logged after the step's own.
  std::function<NamedTensors(int64_t step)> inner;
  // Work after step `step`'s update, given the step's terms, and before the step is reviewed,
  // logged or saved (state it changes belongs in `params` or `extra`, so a resume continues it):
  // e.g. the CLSSR codebook's dead-code restarts, and per-epoch statistics.
  std::function<void(int64_t step, const NamedTensors& terms)> after_step;
  // The points are parts of one result, not results of their own (the CLSSR codec: every later
  // step needs every bit width): a point that diverges fails the stage instead of being frozen
  // and left out.
  bool every_point_needed = false;
  // Capture the step (loss_fn, backward, Adam) as a CUDA graph and replay it (GraphedStep);
  // needs `prepare` and a CUDA device. Config key train.cuda_graph.
  bool cuda_graph = false;
};

// Path of a stage's checkpoint inside the run directory.
std::string stage_checkpoint_path(const std::string& run_dir, const std::string& stage);

// Runs (or resumes, or skips when already complete) one stage. Every step is checked for
// divergence (DivergenceGuard): a diverged point is frozen and recorded in ctx.point_status; when
// every point has stopped, the stage fails and the last checkpoint stays as it was. After a
// SIGINT/SIGTERM (core/interrupt.h) it writes a checkpoint at the step that just ended and throws
// interrupt::Interrupted with ctx.resume_command.
void run_stage(const StageSpec& spec, RunContext& ctx);

}  // namespace semsec::trainers
