// The fused Adam update's launcher.
#include "kernels/optim/adam_op.h"

#include "core/errors.h"
#include "kernels/device.h"
#include "kernels/optim/adam_cuda.h"

namespace semsec::kernels {
namespace {

template <typename T>
void fused_step(const std::vector<torch::Tensor>& params, std::vector<torch::Tensor>& exp_avg,
                std::vector<torch::Tensor>& exp_avg_sq, const torch::Tensor& lr, const torch::Tensor& step,
                const torch::Tensor& active, const AdamHyper& h) {
  if (active.defined()) {
    TORCH_CHECK(active.scalar_type() == torch::kUInt8 && active.is_contiguous() &&
                    active.device() == params.front().device() && active.numel() == lr.numel(),
                "GridAdam: the active mask must be a contiguous uint8 [G] tensor on the parameters' device");
  }
  const uint8_t* mask = active.defined() ? active.data_ptr<uint8_t>() : nullptr;
  std::vector<AdamTensor<T>> list;
  std::vector<torch::Tensor> keep;  // contiguous copies of non-contiguous gradients, alive until launched
  for (size_t i = 0; i < params.size(); ++i) {
    const torch::Tensor& p = params[i];
    if (!p.grad().defined()) continue;
    keep.push_back(p.grad().contiguous());
    list.push_back({p.data_ptr<T>(), keep.back().data_ptr<T>(), exp_avg[i].data_ptr<T>(), exp_avg_sq[i].data_ptr<T>(),
                    p.numel(), p.numel() / std::max<int64_t>(p.size(0), 1)});
  }
  const auto count = static_cast<int64_t>(list.size());
  on_device(
      params.front().device(), "GridAdam",
      [&] { adam_step_cpu(list.data(), count, lr.data_ptr<double>(), step.data_ptr<double>(), mask, h); },
      [&](CudaStream stream) {
        adam_step_cuda(list.data(), count, lr.data_ptr<double>(), step.data_ptr<double>(), mask, h, stream);
      });
}

}  // namespace

void adam_step(const std::vector<torch::Tensor>& params, std::vector<torch::Tensor>& exp_avg,
               std::vector<torch::Tensor>& exp_avg_sq, const torch::Tensor& lr, const torch::Tensor& step,
               const torch::Tensor& active, const AdamHyper& h) {
  if (params.front().scalar_type() == torch::kDouble) {
    fused_step<double>(params, exp_avg, exp_avg_sq, lr, step, active, h);
  } else {
    fused_step<float>(params, exp_avg, exp_avg_sq, lr, step, active, h);
  }
}

}  // namespace semsec::kernels
