// The CLSSR experiment's semantic codec: trained (or loaded) once per run, evaluated into
// codec.csv, with every test image's indices precomputed for each b so that the allocator only
// sends and decodes them.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/semantic_codec.h"
#include "trainers/clssr/metrics.h"
#include "trainers/engine/run_context.h"

namespace semsec::trainers::clssr {

// The task rules: Definition 1's threshold epsilon, eq. 4's d_max, the timeliness deadline and
// the reading of eq. 7 (clssr.omega) that the CLSSR, the reward and timeliness use.
struct Rules {
  double epsilon;
  double d_max;
  double deadline_s;
  semsec::clssr::OmegaReading omega = semsec::clssr::OmegaReading::kMonotone;
};

// The trained codec and what the allocator needs from it, all indices precomputed per b.
struct Codec {
  models::CodecSizes sizes;
  models::SemanticCodec net{nullptr};
  torch::Tensor images;  // test images [N, D] on the device
  std::vector<int64_t> labels;
  std::vector<std::vector<int64_t>> by_class;
  torch::Tensor idx_plain;                            // [G, N, n] int64, no semantic noise
  torch::Tensor idx_noisy;                            // [G, N, n] int64, with Delta z
  std::vector<double> mean_g_user_aware, mean_g_eve;  // normalised distortion per b, train subset (AO)
  int64_t grid() const { return sizes.b_max - sizes.b_min + 1; }
  int64_t bits(int64_t g) const { return sizes.b_min + g; }
};

// The codec.* sizes; semsec::Error when codec.b_max is below codec.b_min (image_dim comes from
// the data).
models::CodecSizes codec_sizes(const config::Config& cfg);

// Trains (or loads) the codec in ctx's run (the stages codec_pretrain and codec_noise, resumed from
// their checkpoints when ctx's run resumes), evaluates it and precomputes every test image's indices.
Codec build_codec(const config::Config& cfg, const Rules& rules, RunContext& ctx);

}  // namespace semsec::trainers::clssr
