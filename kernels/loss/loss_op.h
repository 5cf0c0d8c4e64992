// Torch-facing fused losses.
#pragma once

#include <torch/torch.h>

namespace semsec::kernels {

// The UE's output layer and its loss in one op (eq. 28 with SD_UE's last layer and sigmoid
// output): per grid point the mean over (B, D) of (sigmoid(h W + b) - target)^2 with h [G, B, K],
// weight [G, K, D], bias [G, 1, D], target [G, B, D] -> [G]. Equal to
// (torch::sigmoid(torch::baddbmm(bias, h, weight)) - target).square().mean({1, 2}) up to float
// rounding (tested, with finite-difference gradient checks). On the CPU with float32 it is one
// pass that reads only h, W, b and the target: the logits, the sigmoid and their gradient live in
// cache, and the gradients of h, W and b (those that require grad) are formed in the same pass
// and scaled by the upstream gradient in backward. Gradients flow to h, weight and bias, not to
// target. Other devices and dtypes run the composed ATen ops.
torch::Tensor linear_sigmoid_mse(const torch::Tensor& h, const torch::Tensor& weight, const torch::Tensor& bias,
                                 const torch::Tensor& target);

}  // namespace semsec::kernels
