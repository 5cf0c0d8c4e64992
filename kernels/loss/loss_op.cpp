// Fused losses: checks, the autograd Function around the CPU loops of loss.h, and the composed
// fallback.
#include "kernels/loss/loss_op.h"

#include "kernels/loss/loss.h"

namespace semsec::kernels {

namespace {

bool wants_grad(const torch::Tensor& t) { return torch::GradMode::is_enabled() && t.requires_grad(); }

// Forward forms the loss and the gradients of the loss itself that are needed (of h; of W and
// b); backward scales them by each point's upstream gradient.
class LinearSigmoidMseFunction : public torch::autograd::Function<LinearSigmoidMseFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& h,
                               const torch::Tensor& weight, const torch::Tensor& bias, const torch::Tensor& target,
                               bool grad_h, bool grad_wb) {
    const torch::Tensor hc = h.contiguous(), wc = weight.contiguous(), bc = bias.contiguous();
    const torch::Tensor xc = target.contiguous();
    const LinearLossShape s{h.size(0), h.size(1), h.size(2), weight.size(2)};
    const int64_t blocks = linear_loss_blocks(s.d);
    torch::Tensor sq = torch::empty({s.points, blocks}, torch::kFloat64);
    torch::Tensor dh, dw, db, dh_part;
    if (grad_h) dh_part = torch::empty({s.points, blocks, s.batch, s.k}, torch::kFloat32);
    if (grad_wb) {
      dw = torch::empty_like(wc);
      db = torch::empty_like(bc);
    }
    linear_sigmoid_mse_cpu(hc.data_ptr<float>(), wc.data_ptr<float>(), bc.data_ptr<float>(), xc.data_ptr<float>(), s,
                           sq.data_ptr<double>(), grad_h ? dh_part.data_ptr<float>() : nullptr,
                           grad_wb ? dw.data_ptr<float>() : nullptr, grad_wb ? db.data_ptr<float>() : nullptr);
    if (grad_h) {
      dh = torch::empty_like(hc);
      linear_loss_reduce_dh(dh_part.data_ptr<float>(), s, dh.data_ptr<float>());
    }
    ctx->save_for_backward({dh, dw, db});
    // Blocks summed in order per point (a fixed order, independent of the thread count).
    return (sq.sum(1) / static_cast<double>(s.batch * s.d)).to(torch::kFloat32);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor up = grad_outputs[0].to(torch::kFloat32).view({-1, 1, 1});
    torch::autograd::variable_list grads(6);
    for (size_t i = 0; i < 3; ++i) {
      if (saved[i].defined()) grads[i] = saved[i] * up;
    }
    return grads;
  }
};

}  // namespace

torch::Tensor linear_sigmoid_mse(const torch::Tensor& h, const torch::Tensor& weight, const torch::Tensor& bias,
                                 const torch::Tensor& target) {
  TORCH_CHECK(h.dim() == 3 && weight.dim() == 3 && weight.size(0) == h.size(0) && weight.size(1) == h.size(2),
              "linear_sigmoid_mse: expected h [G, B, K] and weight [G, K, D] with the same G and K, got ", h.sizes(),
              " and ", weight.sizes());
  const int64_t g = h.size(0), batch = h.size(1), d = weight.size(2);
  TORCH_CHECK(bias.dim() == 3 && bias.size(0) == g && bias.size(1) == 1 && bias.size(2) == d,
              "linear_sigmoid_mse: bias must be [G, 1, D] = [", g, ", 1, ", d, "], got ", bias.sizes());
  TORCH_CHECK(target.dim() == 3 && target.size(0) == g && target.size(1) == batch && target.size(2) == d,
              "linear_sigmoid_mse: target must be [G, B, D] = [", g, ", ", batch, ", ", d, "], got ", target.sizes());
  for (const torch::Tensor* t : {&weight, &bias, &target}) {
    TORCH_CHECK(t->device() == h.device() && t->scalar_type() == h.scalar_type(),
                "linear_sigmoid_mse: h, weight, bias and target must share device and dtype");
  }
  if (h.device().is_cpu() && h.scalar_type() == torch::kFloat && !wants_grad(target) && h.numel() > 0 &&
      target.numel() > 0) {
    return LinearSigmoidMseFunction::apply(h, weight, bias, target, wants_grad(h),
                                           wants_grad(weight) || wants_grad(bias));
  }
  return (torch::sigmoid(torch::baddbmm(bias, h, weight)) - target).square().mean({1, 2});
}

}  // namespace semsec::kernels
