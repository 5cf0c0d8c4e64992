// Adam over grid-batched parameters: the state, and the fused update of kernels/optim/adam_op.h.
#include "trainers/engine/grid_adam.h"

#include "core/errors.h"
#include "kernels/optim/adam_op.h"

namespace semsec::trainers {

GridAdam::GridAdam(std::vector<torch::Tensor> params, const std::vector<double>& lr, AdamOptions options)
    : GridAdam(std::vector<ParamGroup>{ParamGroup{std::move(params), lr}}, options) {}

GridAdam::GridAdam(const std::vector<ParamGroup>& groups, AdamOptions options) : options_(options) {
  for (const ParamGroup& group : groups) {
    params_.insert(params_.end(), group.params.begin(), group.params.end());
    group_end_.push_back(params_.size());
  }
  if (params_.empty()) fail("GridAdam: no parameters to optimise");
  const auto num_points = static_cast<int64_t>(groups.front().lr.size());
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
  for (const ParamGroup& group : groups) {
    TORCH_CHECK(static_cast<int64_t>(group.lr.size()) == num_points, "GridAdam: a parameter group has ",
                group.lr.size(), " learning rates; expected one per grid point (", num_points, ")");
    lr_.push_back(torch::tensor(group.lr, torch::kFloat64).to(device));
  }
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
  const kernels::AdamHyper hyper{options_.beta1, options_.beta2, options_.eps};
  if (lr_.size() == 1) {
    kernels::adam_step(params_, exp_avg_, exp_avg_sq_, lr_.front(), step_, active_, hyper);
    return;
  }
  size_t begin = 0;
  for (size_t i = 0; i < lr_.size(); ++i) {
    const auto first = static_cast<std::ptrdiff_t>(begin), last = static_cast<std::ptrdiff_t>(group_end_[i]);
    const std::vector<torch::Tensor> params(params_.begin() + first, params_.begin() + last);
    std::vector<torch::Tensor> avg(exp_avg_.begin() + first, exp_avg_.begin() + last);
    std::vector<torch::Tensor> avg_sq(exp_avg_sq_.begin() + first, exp_avg_sq_.begin() + last);
    if (!params.empty()) kernels::adam_step(params, avg, avg_sq, lr_[i], step_, active_, hyper);
    begin = group_end_[i];
  }
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
