// Adam over grid-batched parameters: every parameter has a leading grid dimension G and
// each grid point has its own learning rate; the step counter lives in a device tensor that the
// fused update (kernels/optim/adam.h, one pass per parameter on CPU or GPU) reads, so the step can be
// captured in a CUDA graph. Parameters must be contiguous float32 or float64 on one device.
#pragma once

#include <vector>

#include <torch/torch.h>

namespace semsec::trainers {

struct AdamOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

// Parameters that share one learning rate per grid point.
struct ParamGroup {
  std::vector<torch::Tensor> params;
  std::vector<double> lr;  // [G]
};

class GridAdam {
 public:
  // lr: one learning rate per grid point ([G]).
  GridAdam(std::vector<torch::Tensor> params, const std::vector<double>& lr, AdamOptions options);
  // Several groups, each with its own learning rates (every group has G of them); one step updates
  // them all, with one step count. The state is numbered over the groups' parameters in order.
  GridAdam(const std::vector<ParamGroup>& groups, AdamOptions options);

  // set_to_none: drop the gradients, so backward writes fresh ones instead of adding to zeros
  // (fewer passes; the same values). A captured CUDA graph needs them kept and zeroed (false).
  void zero_grad(bool set_to_none = true);
  void step();  // the same arithmetic as torch.optim.Adam (no weight decay, no amsgrad)

  // State for checkpoints: exp_avg and exp_avg_sq per parameter, and the step count.
  std::vector<torch::Tensor> state_tensors() const;
  std::vector<std::string> state_names() const;  // "exp_avg.<i>", "exp_avg_sq.<i>", "step"
  const torch::Tensor& step_count() const { return step_; }
  const std::vector<torch::Tensor>& params() const { return params_; }
  int64_t num_points() const { return lr_.front().numel(); }
  // A [G] uint8 mask on the parameters' device, read by every step: points with 0 keep their
  // parameters and moments unchanged (DivergenceGuard). Undefined (the default): every point steps.
  void set_active(torch::Tensor active) { active_ = std::move(active); }

 private:
  std::vector<torch::Tensor> params_;
  std::vector<torch::Tensor> exp_avg_, exp_avg_sq_;
  std::vector<torch::Tensor> lr_;  // per group: [G] float64 on the parameters' device
  std::vector<size_t> group_end_;  // params_[group_end_[i - 1], group_end_[i]) are group i's
  torch::Tensor step_;             // float64 scalar on the parameters' device
  torch::Tensor active_;
  AdamOptions options_;
};

}  // namespace semsec::trainers
