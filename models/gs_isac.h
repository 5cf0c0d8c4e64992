// The general semantic ISAC system (paper ss-isac-paired-arn, Sec. II, eq. 1-8):
// semantic transmitter SE -> JSCE at the BS, receivers JSCD -> SD at the BS (azimuth)
// and at the UE (image), all grid-batched.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "kernels/isac_link/isac_link_op.h"
#include "models/grid_linear.h"

namespace semsec::models {

struct GsIsacSizes {
  int64_t input_dim = 784;   // L_x (28 x 28 images)
  int64_t latent_dim = 23;   // L_z, real transmitted symbols
  int64_t feature_dim = 64;  // size of the semantic feature x' and of the JSCD outputs
  int64_t bs_hidden = 64;    // hidden width of SE, JSCE, JSCD_BS, SD_BS
  int64_t ue_hidden = 16;    // hidden width of JSCD_UE, SD_UE
};

class GsIsacImpl : public torch::nn::Module {
 public:
  GsIsacImpl(const std::vector<uint64_t>& seeds, const GsIsacSizes& sizes);

  // Semantic transmitter: z = JSCE(SE(x)), normalised to ||z||^2 = 1 per sample.
  torch::Tensor transmit(const torch::Tensor& x);
  torch::Tensor receive_bs(const torch::Tensor& y_bs);  // -> phi_hat [G, B]
  torch::Tensor receive_ue(const torch::Tensor& y_ue);  // -> x_hat [G, B, L_x]
  // Per point mean over (B, L_x) of (receive_ue(y_ue) - x)^2 (eq. 28), SD_UE's output layer and
  // the loss fused (GridMlp::sigmoid_mse) -> [G].
  torch::Tensor ue_mse(const torch::Tensor& y_ue, const torch::Tensor& x);

  const GsIsacSizes& sizes() const { return sizes_; }

  GridMlp se{nullptr}, jsce{nullptr}, jscd_bs{nullptr}, sd_bs{nullptr}, jscd_ue{nullptr}, sd_ue{nullptr};

 private:
  GsIsacSizes sizes_;
};
TORCH_MODULE(GsIsac);

// Per-sample power normalisation ||z||^2 = 1 (the paper's E||z||^2 = 1 enforced per codeword).
torch::Tensor normalize_power(const torch::Tensor& z);

}  // namespace semsec::models
