// A stage's training step (forward, backward, fused Adam) captured once as a CUDA graph and
// replayed, so a step costs one graph launch instead of hundreds of kernel launches. Everything a
// replay reads lives at fixed device addresses: the batch buffers and the channel counter (set by
// the stage's `prepare` before each step), the parameters, gradients and Adam state, and Adam's
// device step counter. Needs a CUDA build and device.
#pragma once

#include <functional>
#include <memory>

#include <torch/torch.h>

#include "trainers/engine/stage.h"

namespace semsec::trainers {

class GraphedStep {
 public:
  // From construction to destruction a side stream of `device` is the current stream (the
  // stage's prepare and the replays both run on it, in order).
  GraphedStep(torch::Device device, int warmup_steps = 3);
  ~GraphedStep();
  GraphedStep(const GraphedStep&) = delete;
  GraphedStep& operator=(const GraphedStep&) = delete;

  // The first `warmup_steps` calls run `step` eagerly (cuBLAS and the autograd engine set up
  // outside the capture); the next captures it and replays it, later calls replay. Returns
  // the loss terms of this step (graph-owned tensors on replays, rewritten by the next replay).
  NamedTensors run(const std::function<NamedTensors()>& step);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace semsec::trainers
