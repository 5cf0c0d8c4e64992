// Training of the CLSSR semantic codec (paper Sec. IV-A): VQ-VAE pretraining of f^E, f^C
// and g_u^D* (= Eve's decoder), then the learnable semantic noise Delta z with the
// noise-aware user decoder under constraint (9d) G_e > G_u, and per-image distortions.
// Both are stages of the shared stage runner (trainers/engine/stage.h), named codec_pretrain and
// codec_noise: their loss terms go to the run's metrics.csv and TensorBoard, their checkpoints to
// RUN_DIR/checkpoints/, and a stopped run resumes bit for bit. A point that diverges stops the
// run (every later CLSSR step needs every bit width b).
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "datasets/loader.h"
#include "models/semantic_codec.h"
#include "trainers/engine/run_context.h"

namespace semsec::trainers {

struct CodecTrainOptions {
  int64_t batch_size = 128;
  // Pretraining (VQ-VAE): reconstruction MSE + codebook + commitment * commitment loss.
  // Defaults chosen on Fashion-MNIST (n = 16, k = 4, b = 2..6; 6 + 5 epochs take ~130 s on
  // two CPU cores): lr 2e-3 reaches after 4 epochs what 1e-3 reaches after 5, and separates
  // user and Eve better after the noise stage; 3e-3 is worse at b = 2, 3.
  int64_t pretrain_epochs = 6;
  double lr = 2e-3;
  double commitment = 0.25;
  int64_t restart_every = 100;   // steps between dead-code restarts (0: never)
  int64_t restart_min_uses = 1;  // a valid codeword used fewer times in the window is restarted
  // Semantic noise: Delta z and the noise-aware decoder, everything else frozen.
  int64_t noise_epochs = 5;
  double noise_lr = 1e-2;       // Adam lr of Delta z
  double aware_lr = 1e-3;       // Adam lr of the noise-aware decoder
  double noise_init_std = 0.5;  // Delta z starts at N(0, noise_init_std^2)
  double eve_margin = 0.12;     // per-image Eve MSE below this is penalised
  double eve_weight = 4.0;
  // Weight of the noisy symbols' quantisation error |d + Delta z - Q(d + Delta z)|^2 per image:
  // keeps the noisy semantics inside the codebook's coverage, where the indices still carry
  // the image (the straight-through gradient alone lets Delta z run off to the codebook's hull,
  // which leaves nearly constant indices: the user then loses the image along with Eve).
  double noise_commitment = 1.0;
  bool log_progress = true;  // log::info lines per epoch
  // The stage runner's logging (metrics.csv, TensorBoard) and checkpoint intervals, in steps.
  int64_t log_every = 50;
  int64_t checkpoint_every = 500;
};

// VQ-VAE pretraining of encoder, codebooks and decoder_plain of every grid point; seeds (one
// per point) set the data order and the codebook initialisation / restarts. The codebooks
// start at encoder outputs of the first batch and valid codewords left unused for
// restart_every steps jump to an encoder output of the current batch. Ends with
// decoder_aware = copy of decoder_plain and Delta z = 0.
void pretrain_codec(models::SemanticCodec& codec, const data::Split& train, const CodecTrainOptions& options,
                    const std::vector<uint64_t>& seeds, RunContext& ctx);

// Trains Delta z (from Philox N(0, noise_init_std^2) per seed) and decoder_aware with
// encoder, codebooks and decoder_plain frozen: per image
//   loss = mse_user + eve_weight * relu(eve_margin - mse_eve) + noise_commitment * |d + dz - Q(d + dz)|^2,
// mse_user from decode_aware and mse_eve from decode_plain on the same noisy codewords,
// straight-through through the quantiser for Delta z. decoder_aware continues from its
// current weights (pretrain_codec leaves it a copy of decoder_plain).
void train_semantic_noise(models::SemanticCodec& codec, const data::Split& train, const CodecTrainOptions& options,
                          const std::vector<uint64_t>& seeds, RunContext& ctx);

// Per-image MSE [G, N] (on the images' device) of the three receivers:
//   user_plain = decode_plain(lookup(transmit_indices(x, false)))
//   user_aware = decode_aware(lookup(transmit_indices(x, true)))
//   eve_noisy  = decode_plain(lookup(transmit_indices(x, true)))
struct CodecDistortion {
  torch::Tensor user_plain, user_aware, eve_noisy;
};
CodecDistortion evaluate_codec(models::SemanticCodec& codec, const torch::Tensor& images, int64_t batch);

}  // namespace semsec::trainers
