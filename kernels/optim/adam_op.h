// The torch-facing launcher of the fused Adam update (optim/adam.h): one pass per parameter on
// the CPU or the GPU. GridAdam (trainers/engine/grid_adam.h) owns the state and calls this.
#pragma once

#include <vector>

#include <torch/torch.h>

#include "kernels/optim/adam.h"

namespace semsec::kernels {

// One Adam step of every parameter with a gradient: params, exp_avg and exp_avg_sq contiguous,
// float32 or float64, leading grid dimension G; lr [G] and step (a scalar, already incremented)
// float64 on the parameters' device; active: undefined (every point) or [G] uint8 on that device,
// 0 for the points to leave untouched.
void adam_step(const std::vector<torch::Tensor>& params, std::vector<torch::Tensor>& exp_avg,
               std::vector<torch::Tensor>& exp_avg_sq, const torch::Tensor& lr, const torch::Tensor& step,
               const torch::Tensor& active, const AdamHyper& h);

}  // namespace semsec::kernels
