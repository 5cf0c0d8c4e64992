// Adam over grid-batched parameters: the state, and the fused update of kernels/optim/adam_op.h.
#include "trainers/engine/grid_adam.h"

#include "core/errors.h"
#include "kernels/optim/adam_op.h"

namespace semsec::trainers {

GridAdam::GridAdam(std::vector<torch::Tensor> params, const std::vector<double>& lr, AdamOptions options)
    : params_(std::move(params)), options_(options) {
  if (params_.empty()) fail("GridAdam: no parameters to optimise");
  const auto num_points = static_cast<int64_t>(lr.size());
  const auto device = params_.front().device();
  for (const auto& p : params_) {
    TORCH_CHECK(p.scalar_type() == params_.front().scalar_type(), "GridAdam: all parameters must share one dtype");
    TORCH_CHECK(p.scalar_type() == torch::kFloat || p.scalar_type() == torch::kDouble,
                "GridAdam: parameters must be float32 or float64, got ", p.scalar_type());
    TORCH_CHECK(p.device() == device, "GridAdam: all parameters must be on one device");
    TORCH_CHECK(p.is_contiguous(), "GridAdam: parameters must be contiguous");
    TORCH_CHECK(p.dim() >= 1 && p.size(0) == num_points, "GridAdam: parameter of shape ", p.sizes(),
                " does not lead with the grid dimension G=", num_points);
    exp_avg_.push_back(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
    exp_avg_sq_.push_back(torch::zeros_like(p, torch::MemoryFormat::Contiguous));
  }
  lr_ = torch::tensor(lr, torch::kFloat64).to(device);
  step_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
}

void GridAdam::zero_grad(bool set_to_none) {
  for (auto& p : params_) {
    if (!p.grad().defined()) continue;
    if (set_to_none) {
      p.mutable_grad().reset();
    } else {
      p.mutable_grad().zero_();
    }
  }
}

void GridAdam::step() {
  torch::NoGradGuard no_grad;
  step_.add_(1.0);  // on the device: the kernels read it, so a captured graph replays with fresh bias corrections
  kernels::adam_step(params_, exp_avg_, exp_avg_sq_, lr_, step_, active_,
                     kernels::AdamHyper{options_.beta1, options_.beta2, options_.eps});
}

std::vector<torch::Tensor> GridAdam::state_tensors() const {
  std::vector<torch::Tensor> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out.push_back(exp_avg_[i]);
    out.push_back(exp_avg_sq_[i]);
  }
  out.push_back(step_);
  return out;
}

std::vector<std::string> GridAdam::state_names() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out.push_back(fmt::format("exp_avg.{}", i));
    out.push_back(fmt::format("exp_avg_sq.{}", i));
  }
  out.push_back("step");
  return out;
}

}  // namespace semsec::trainers
