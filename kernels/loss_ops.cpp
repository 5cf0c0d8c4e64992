// Fused losses: checks, the autograd Function around the CPU loops of loss.h, and the composed
// fallback.
#include "kernels/loss_ops.h"

#include "kernels/loss.h"

namespace semsec::kernels {

namespace {

class SigmoidMseFunction : public torch::autograd::Function<SigmoidMseFunction> {
 public:
  // bias: [G, 1, D].
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& logits,
                               const torch::Tensor& target, const torch::Tensor& bias) {
    const torch::Tensor a = logits.contiguous(), x = target.contiguous(), b = bias.contiguous();
    const int64_t g = a.size(0), batch = a.size(1), d = a.size(2);
    torch::Tensor row_sums = torch::empty({g, batch}, torch::kFloat64);
    sigmoid_mse_rows_cpu(a.data_ptr<float>(), b.data_ptr<float>(), x.data_ptr<float>(), g, batch, d,
                         row_sums.data_ptr<double>());
    ctx->save_for_backward({a, x, b});
    // Rows summed in order per point (a fixed order, independent of the thread count).
    return (row_sums.sum(1) / static_cast<double>(batch * d)).to(torch::kFloat32);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &a = saved[0], &x = saved[1], &b = saved[2];
    const int64_t g = a.size(0), batch = a.size(1), d = a.size(2);
    // dL/de of every element of point g: grad_out[g] / (B D).
    const torch::Tensor scale = (grad_outputs[0].to(torch::kFloat32) / static_cast<double>(batch * d)).contiguous();
    torch::Tensor grad = torch::empty_like(a);
    torch::Tensor grad_bias = torch::empty_like(b);
    sigmoid_mse_grad_cpu(a.data_ptr<float>(), b.data_ptr<float>(), x.data_ptr<float>(), scale.data_ptr<float>(), g,
                         batch, d, grad.data_ptr<float>(), grad_bias.data_ptr<float>());
    return {grad, torch::Tensor(), grad_bias};
  }
};

}  // namespace

torch::Tensor sigmoid_mse(const torch::Tensor& logits, const torch::Tensor& target, const torch::Tensor& bias) {
  TORCH_CHECK(logits.dim() == 3 && target.sizes() == logits.sizes(), "sigmoid_mse: logits and target must be the "
              "same [G, B, D], got ", logits.sizes(), " and ", target.sizes());
  TORCH_CHECK(logits.device() == target.device() && logits.scalar_type() == target.scalar_type(),
              "sigmoid_mse: logits and target must share device and dtype");
  if (bias.defined()) {
    TORCH_CHECK(bias.dim() == 3 && bias.size(0) == logits.size(0) && bias.size(1) == 1 && bias.size(2) == logits.size(2),
                "sigmoid_mse: bias must be [G, 1, D] = [", logits.size(0), ", 1, ", logits.size(2), "], got ",
                bias.sizes());
    TORCH_CHECK(bias.device() == logits.device() && bias.scalar_type() == logits.scalar_type(),
                "sigmoid_mse: bias must share the logits' device and dtype");
  }
  if (logits.device().is_cpu() && logits.scalar_type() == torch::kFloat && !target.requires_grad() &&
      logits.numel() > 0) {
    // The Function takes a defined bias: zeros when there is none (G x D floats).
    const torch::Tensor b = bias.defined() ? bias : torch::zeros({logits.size(0), 1, logits.size(2)}, logits.options());
    return SigmoidMseFunction::apply(logits, target, b);
  }
  const torch::Tensor full = bias.defined() ? logits + bias : logits;
  return (torch::sigmoid(full) - target).square().mean({1, 2});
}

}  // namespace semsec::kernels
