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
  // Bits of the secret frame key of a keyed pair (0: the paper's unkeyed pair), at least
  // latent_dim. The key k (entries +-1) enters every block as extra inputs, and its first L_z bits
  // sign the blocks' outputs: delta = k_L * H_enc(z, k), and each receiver subtracts
  // k_L * H_dec(y, k) with k_L repeated over a symbol's (re, im). Without the key the sign of every
  // perturbed symbol is a fair coin.
  int64_t key_dim = 0;
};

// The three residual blocks. Their last layers start at zero, so a freshly plugged pair is
// exactly the identity and training starts from the unplugged system's performance.
class PairedArnImpl : public torch::nn::Module {
 public:
  PairedArnImpl(const std::vector<uint64_t>& seeds, const ArnSizes& sizes);

  // key: the frame keys [G, B, key_dim] of a keyed pair; undefined for an unkeyed one.
  torch::Tensor delta(const torch::Tensor& z, const torch::Tensor& key = {});          // H_enc(z[, k]), [G, B, L]
  torch::Tensor decrypt_bs(const torch::Tensor& y_bs, const torch::Tensor& key = {});  // y - H_dec_bs(y[, k]), eq. 21
  torch::Tensor decrypt_ue(const torch::Tensor& y_ue, const torch::Tensor& key = {});  // eq. 23
  int64_t key_dim() const { return key_dim_; }

  GridMlp enc{nullptr}, dec_bs{nullptr}, dec_ue{nullptr};

 private:
  torch::Tensor keyed(const torch::Tensor& x, const torch::Tensor& key) const;  // [x, k] for a keyed pair
  // out * the key's first L bits (each repeated `repeat` times); out itself for an unkeyed pair.
  torch::Tensor sign(const torch::Tensor& out, const torch::Tensor& key, int64_t repeat) const;
  int64_t latent_dim_ = 0;
  int64_t key_dim_ = 0;
};
TORCH_MODULE(PairedArn);

// Module ids of the Eves' weight initialisation (each layer draws from its own id and index on
// rng::kStreamInit). Never renumber: results depend on them.
inline constexpr uint32_t kInitEveWhitebox = 192, kInitEveSubstitute = 208, kInitEveAdaptive = 224, kInitEveClean = 256,
                          kInitEveMinmax = 272, kInitEveKeyed = 288, kInitEveThreat = 304, kInitEveThreatLarge = 320,
                          kInitEveConfusion = 336;

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
