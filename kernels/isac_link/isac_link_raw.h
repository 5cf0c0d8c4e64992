// The ISAC link's forward and backward without autograd: argument checks and CPU/CUDA dispatch only.
// isac_link() (isac_link_op.h) wraps them in an autograd Function for semsec's trainers; the torch
// op library (kernels/torch_library.cpp) registers them per dispatch key (CPU, CUDA) under its own
// Autograd kernel. Both routes run these two functions, so they give the same numbers.
#pragma once

#include <torch/torch.h>

#include "kernels/isac_link/isac_link_op.h"

namespace semsec::kernels {

// Same arguments and outputs as isac_link, with no autograd graph recorded.
IsacLinkOut isac_link_forward(const torch::Tensor& z, const torch::Tensor& phi, const torch::Tensor& snr_db,
                              const torch::Tensor& seeds, const torch::Tensor& counter, const IsacLinkParams& p);

// dL/dz [G, B, L] from the forward's gains [G, B, 3, 2] and the outputs' gradients gy_* [G, B, 2L]
// (any of them undefined: no gradient through that output; at least one defined).
torch::Tensor isac_link_backward(const torch::Tensor& gains, const torch::Tensor& gy_bs, const torch::Tensor& gy_ue,
                                 const torch::Tensor& gy_eve);

}  // namespace semsec::kernels
