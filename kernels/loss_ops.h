// Torch-facing fused losses.
#pragma once

#include <torch/torch.h>

namespace semsec::kernels {

// Per grid point mean over (B, D) of (sigmoid(logits + bias) - target)^2: logits, target
// [G, B, D], bias [G, 1, D] or undefined -> [G]. Equal to
// (torch::sigmoid(logits + bias) - target).square().mean({1, 2}) up to float rounding (tested,
// with a finite-difference gradient check). On the CPU with float32 it is one fused pass forward
// and one backward, which also yields the bias gradient (no [G, B, D] temporaries; the output
// layer's bias need not be broadcast into its GEMM); gradients flow to logits and bias, not to
// target. Other devices and dtypes run the composed ATen ops.
torch::Tensor sigmoid_mse(const torch::Tensor& logits, const torch::Tensor& target,
                          const torch::Tensor& bias = torch::Tensor());

}  // namespace semsec::kernels
