// Adam over grid-batched parameters.
#include "trainers/grid_adam.h"

#include "core/errors.h"

namespace semsec::trainers {

GridAdam::GridAdam(std::vector<torch::Tensor> params, const std::vector<double>& lr, AdamOptions options)
    : params_(std::move(params)), options_(options) {
  if (params_.empty()) fail("GridAdam: no parameters to optimise");
  const auto num_points = static_cast<int64_t>(lr.size());
  const auto device = params_.front().device();
  torch::Tensor lr_t = torch::tensor(lr, torch::kFloat64).to(device);
  for (const auto& p : params_) {
    TORCH_CHECK(p.scalar_type() == params_.front().scalar_type(), "GridAdam: all parameters must share one dtype");
    TORCH_CHECK(p.dim() >= 1 && p.size(0) == num_points, "GridAdam: parameter of shape ", p.sizes(),
                " does not lead with the grid dimension G=", num_points);
    exp_avg_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    exp_avg_sq_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    std::vector<int64_t> shape(p.dim(), 1);
    shape[0] = num_points;
    lr_.push_back(lr_t.to(p.scalar_type()).view(shape));
  }
  step_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
}

void GridAdam::zero_grad() {
  for (auto& p : params_) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
}

void GridAdam::step() {
  torch::NoGradGuard no_grad;
  step_.add_(1.0);
  const double b1 = options_.beta1, b2 = options_.beta2;
  // Bias corrections computed on the device from the device step counter.
  const auto dtype = params_.front().scalar_type();
  const torch::Tensor bc1 = (1.0 - torch::pow(b1, step_)).to(dtype);
  const torch::Tensor bc2_sqrt = torch::sqrt(1.0 - torch::pow(b2, step_)).to(dtype);
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    const torch::Tensor& grad = p.grad();
    if (!grad.defined()) continue;
    exp_avg_[i].lerp_(grad, 1.0 - b1);
    exp_avg_sq_[i].mul_(b2).addcmul_(grad, grad, 1.0 - b2);
    const torch::Tensor denom = (exp_avg_sq_[i].sqrt() / bc2_sqrt).add_(options_.eps);
    const torch::Tensor step_size = lr_[i] / bc1;
    p.sub_(step_size * exp_avg_[i] / denom);
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
