// Fused losses: checks, the autograd Function around the CPU loops of loss.h, and the composed
// fallback.
#include "kernels/loss_ops.h"

#include "kernels/loss.h"

namespace semsec::kernels {

namespace {

class SigmoidMseFunction : public torch::autograd::Function<SigmoidMseFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& logits,
                               const torch::Tensor& target) {
    const torch::Tensor a = logits.contiguous(), x = target.contiguous();
    const int64_t g = a.size(0), rows = a.size(0) * a.size(1), d = a.size(2);
    torch::Tensor row_sums = torch::empty({g, a.size(1)}, torch::kFloat64);
    sigmoid_mse_rows_cpu(a.data_ptr<float>(), x.data_ptr<float>(), rows, d, row_sums.data_ptr<double>());
    ctx->save_for_backward({a, x});
    // Rows summed in order per point (a fixed order, independent of the thread count).
    const double n = static_cast<double>(a.size(1) * d);
    return (row_sums.sum(1) / n).to(torch::kFloat32);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& a = saved[0];
    const torch::Tensor& x = saved[1];
    const int64_t b = a.size(1), d = a.size(2);
    // dL/de per row: grad_out[g] / (B D), repeated over the point's B rows.
    const torch::Tensor scale =
        (grad_outputs[0].to(torch::kFloat32) / static_cast<double>(b * d)).unsqueeze(1).expand({a.size(0), b}).contiguous();
    torch::Tensor grad = torch::empty_like(a);
    sigmoid_mse_grad_cpu(a.data_ptr<float>(), x.data_ptr<float>(), scale.data_ptr<float>(), a.size(0) * b, d,
                         grad.data_ptr<float>());
    return {grad, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor sigmoid_mse(const torch::Tensor& logits, const torch::Tensor& target) {
  TORCH_CHECK(logits.dim() == 3 && target.sizes() == logits.sizes(), "sigmoid_mse: logits and target must be the "
              "same [G, B, D], got ", logits.sizes(), " and ", target.sizes());
  TORCH_CHECK(logits.device() == target.device() && logits.scalar_type() == target.scalar_type(),
              "sigmoid_mse: logits and target must share device and dtype");
  if (logits.device().is_cpu() && logits.scalar_type() == torch::kFloat && !target.requires_grad() &&
      logits.numel() > 0) {
    return SigmoidMseFunction::apply(logits, target);
  }
  return (torch::sigmoid(logits) - target).square().mean({1, 2});
}

}  // namespace semsec::kernels
