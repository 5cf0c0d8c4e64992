// Adam over grid-batched parameters: the fused update of kernels/adam.h, one pass per parameter.
#include "trainers/grid_adam.h"

#include "core/errors.h"
#include "kernels/adam.h"

#ifdef SEMSEC_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include "kernels/adam_cuda.h"
#endif

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

namespace {

template <typename T>
void fused_step(const std::vector<torch::Tensor>& params, std::vector<torch::Tensor>& exp_avg,
                std::vector<torch::Tensor>& exp_avg_sq, const torch::Tensor& lr, const torch::Tensor& step,
                const AdamOptions& o) {
  std::vector<kernels::AdamTensor<T>> list;
  std::vector<torch::Tensor> keep;  // contiguous copies of non-contiguous gradients, alive until launched
  for (size_t i = 0; i < params.size(); ++i) {
    const torch::Tensor& p = params[i];
    if (!p.grad().defined()) continue;
    keep.push_back(p.grad().contiguous());
    list.push_back({p.data_ptr<T>(), keep.back().data_ptr<T>(), exp_avg[i].data_ptr<T>(), exp_avg_sq[i].data_ptr<T>(),
                    p.numel(), p.numel() / std::max<int64_t>(p.size(0), 1)});
  }
  const kernels::AdamHyper h{o.beta1, o.beta2, o.eps};
  if (params.front().is_cuda()) {
#ifdef SEMSEC_WITH_CUDA
    const c10::cuda::CUDAGuard guard(params.front().device());
    kernels::adam_step_cuda(list.data(), static_cast<int64_t>(list.size()), lr.data_ptr<double>(),
                            step.data_ptr<double>(), h, at::cuda::getCurrentCUDAStream());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
#else
    fail("GridAdam: parameters on {} but this build has no CUDA kernels", params.front().device().str());
#endif
  } else {
    kernels::adam_step_cpu(list.data(), static_cast<int64_t>(list.size()), lr.data_ptr<double>(),
                           step.data_ptr<double>(), h);
  }
}

}  // namespace

void GridAdam::step() {
  torch::NoGradGuard no_grad;
  step_.add_(1.0);  // on the device: the kernels read it, so a captured graph replays with fresh bias corrections
  if (params_.front().scalar_type() == torch::kDouble) {
    fused_step<double>(params_, exp_avg_, exp_avg_sq_, lr_, step_, options_);
  } else {
    fused_step<float>(params_, exp_avg_, exp_avg_sq_, lr_, step_, options_);
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
