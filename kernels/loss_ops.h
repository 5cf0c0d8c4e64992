// Torch-facing fused losses.
#pragma once

#include <torch/torch.h>

namespace semsec::kernels {

// Per grid point mean over (B, D) of (sigmoid(logits) - target)^2: logits, target [G, B, D] ->
// [G]. Equal to (torch::sigmoid(logits) - target).square().mean({1, 2}) up to float rounding
// (tested, with a finite-difference gradient check). On the CPU with float32 it is one fused pass
// forward and one backward (no [G, B, D] temporaries, gradient only w.r.t. logits); other devices
// and dtypes run the composed ATen ops.
torch::Tensor sigmoid_mse(const torch::Tensor& logits, const torch::Tensor& target);

}  // namespace semsec::kernels
