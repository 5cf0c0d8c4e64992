// The SS-ISAC security modules (paper ss-isac-paired-arn, Sec. III): paired adversarial
// residual networks (encryption at the BS transmitter, decryption at the BS and UE
// receivers) and the eavesdropper's classifiers, all grid-batched.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "models/grid_linear.h"

namespace semsec::models {

struct ArnSizes {
  int64_t latent_dim = 23;                 // L_z
  int64_t enc_h1 = 23, enc_h2 = 64;        // H_enc hidden layers (eq. 19)
  int64_t dec_bs_h1 = 23, dec_bs_h2 = 64;  // H_dec at the BS (eq. 21)
  int64_t dec_ue_h1 = 23, dec_ue_h2 = 16;  // H_dec at the UE (eq. 23)
};

// The three residual blocks. Their last layers start at zero, so a freshly plugged pair is
// exactly the identity and training starts from the unplugged system's performance.
class PairedArnImpl : public torch::nn::Module {
 public:
  PairedArnImpl(const std::vector<uint64_t>& seeds, const ArnSizes& sizes);

  torch::Tensor delta(const torch::Tensor& z);          // delta = H_enc(z), [G, B, L]
  torch::Tensor decrypt_bs(const torch::Tensor& y_bs);  // z_hat = y - H_dec_bs(y), eq. 21
  torch::Tensor decrypt_ue(const torch::Tensor& y_ue);  // eq. 23

  GridMlp enc{nullptr}, dec_bs{nullptr}, dec_ue{nullptr};
};
TORCH_MODULE(PairedArn);

// Module ids of the Eves' weight initialisation (each layer draws from its own id and index on
// rng::kStreamInit). Never renumber: results depend on them.
inline constexpr uint32_t kInitEveWhitebox = 192, kInitEveSubstitute = 208, kInitEveAdaptive = 224,
                          kInitEveClean = 256;

// Eve's classifier on y_Eve: 2L -> hidden... -> num_classes logits (ReLU hidden layers).
// The paper's P_Eve uses {64, 32, 32}; the black-box substitute {16, 16}.
class EveClassifierImpl : public torch::nn::Module {
 public:
  EveClassifierImpl(const std::vector<uint64_t>& seeds, int64_t input_dim, const std::vector<int64_t>& hidden,
                    int64_t num_classes, uint32_t module_id);
  torch::Tensor forward(const torch::Tensor& y);  // [G, B, 2L] -> logits [G, B, K]

  GridMlp net{nullptr};
};
TORCH_MODULE(EveClassifier);

}  // namespace semsec::models
