// The semantic codec of the CLSSR paper (Sec. II and IV-A): encoder f^E, vector-quantiser
// codebook f^C with 2^b entries, pretrained decoder g_u^D* (also Eve's) and the noise-aware
// user decoder, grid-batched over the number of index bits b (point g has b = b_min + g).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "models/grid_linear.h"

namespace semsec::models {

struct CodecSizes {
  int64_t image_dim = 784;   // D
  int64_t hidden = 256;      // hidden width of the encoder and of both decoders
  int64_t num_symbols = 16;  // n, semantic symbols (codeword indices) per image
  int64_t symbol_dim = 4;    // k, dimension of one semantic symbol / codeword
  int64_t b_min = 2;         // index bits of grid point 0
  int64_t b_max = 6;         // index bits of the last grid point
  // Semantic noise Delta z: 0 = one learnable shift per b (constant over images); > 0 = that
  // shift plus a per-b MLP n k -> noise_hidden -> n k of the image's codeword, Delta z(d)
  // (input-dependent noise; the MLP's output layer starts at zero, so training starts from the
  // constant shift).
  int64_t noise_hidden = 0;

  // Throws semsec::Error naming the first bad field.
  void validate() const;
  int64_t grid_size() const { return b_max - b_min + 1; }
  int64_t max_codes() const { return int64_t{1} << b_max; }  // rows of the padded codebook
};

class SemanticCodecImpl : public torch::nn::Module {
 public:
  // seeds: one per grid point (size G = b_max - b_min + 1); point g's weights are drawn from
  // Philox keyed by seeds[g] only, so a point is the same alone or inside a grid.
  SemanticCodecImpl(const CodecSizes& sizes, const std::vector<uint64_t>& seeds);

  const CodecSizes& sizes() const { return sizes_; }
  int64_t grid_size() const { return sizes_.grid_size(); }
  int64_t bits(int64_t g) const;                                        // b of point g
  int64_t num_codes(int64_t g) const { return int64_t{1} << bits(g); }  // 2^b of point g

  // The inference methods change no state and are const, so a const codec can be evaluated.
  torch::Tensor encode(const torch::Tensor& x) const;  // f^E: x [G, B, D] -> d [G, B, n, k]
  // f^C: index of the nearest codeword (squared Euclidean, ties to the lower index) among the
  // 2^b_g valid rows of point g's codebook: d [G, B, n, k] -> int64 [G, B, n]. No gradient.
  torch::Tensor quantize(const torch::Tensor& d) const;
  torch::Tensor lookup(const torch::Tensor& idx) const;  // codebook rows: int64 [G, B, n] -> [G, B, n, k]
  // lookup(quantize(d)) in value, identity gradient to d (straight-through estimator).
  torch::Tensor straight_through(const torch::Tensor& d) const;
  // Delta z of codewords d [G, B, n, k] -> [G, B, n, k]: semantic_noise, plus noise_net(d) when
  // sizes().noise_hidden > 0. Differentiable in the noise parameters.
  torch::Tensor noise(const torch::Tensor& d) const;
  // quantize(encode(x) + (with_noise ? noise(encode(x)) : 0)) under NoGradGuard: int64 [G, B, n].
  torch::Tensor transmit_indices(const torch::Tensor& x, bool with_noise) const;
  // g_u^D*, the pretrained user decoder, which is also every Eve's decoder (g_e^D = g_u^D*, the
  // worst case of Sec. IV-A): q [G, B, n, k] -> x_hat [G, B, D] in [0, 1].
  torch::Tensor decode_plain(const torch::Tensor& q) const;
  // \hat g_u^D, the noise-aware user decoder: q [G, B, n, k] -> [G, B, D] in [0, 1].
  torch::Tensor decode_aware(const torch::Tensor& q) const;
  // Point g alone: codeword indices int64 [B, n] (in [0, 2^b_g)) -> reconstructions [B, D] with
  // the aware or the plain decoder (what decode_* computes for that point, without the others).
  torch::Tensor decode_point(int64_t g, const torch::Tensor& idx, bool aware) const;
  // decoder_aware := copy of decoder_plain (the start of the noise-aware fine-tuning).
  void copy_plain_to_aware();

  // bool [G, 2^b_max]: row j of point g is a codeword iff j < 2^b_g.
  const torch::Tensor& valid_codes() const { return valid_; }

  GridMlp encoder{nullptr};        // D -> hidden -> n*k, linear output
  GridMlp decoder_plain{nullptr};  // n*k -> hidden -> D, sigmoid output
  GridMlp decoder_aware{nullptr};  // same shape as decoder_plain
  torch::Tensor codebook;          // [G, 2^b_max, k]; rows >= 2^b_g are zero and never selected
  torch::Tensor semantic_noise;    // learnable Delta z [G, n, k], zero until train_semantic_noise
  GridMlp noise_net{nullptr};      // n*k -> noise_hidden -> n*k, linear output; only when noise_hidden > 0

 private:
  torch::Tensor check_symbols(const torch::Tensor& t, const char* what) const;

  CodecSizes sizes_;
  torch::Tensor valid_;  // buffer, see valid_codes()
};
TORCH_MODULE(SemanticCodec);

// Codeword indices to bits, most significant bit first: int64 [..., n] -> uint8 [..., n*b].
// Indices must lie in [0, 2^b); higher bits are dropped. b in [1, 62].
torch::Tensor indices_to_bits(const torch::Tensor& idx, int64_t b);
// Inverse of indices_to_bits: bits [..., n*b] (any integer or bool dtype, nonzero = 1) ->
// int64 [..., n] in [0, 2^b).
torch::Tensor bits_to_indices(const torch::Tensor& bits, int64_t b);

}  // namespace semsec::models
