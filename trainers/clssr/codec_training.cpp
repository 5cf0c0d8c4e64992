// VQ-VAE pretraining, semantic-noise training (two stages of the stage runner) and per-image
// evaluation of the CLSSR codec.
#include "trainers/clssr/codec_training.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include "core/errors.h"
#include "core/progress.h"
#include "kernels/philox.h"
#include "trainers/engine/parameters.h"
#include "trainers/engine/stage.h"

namespace semsec::trainers {
namespace {

// Counters of the codec's data-dependent draws on kStreamInit, clear of the model's weight
// init counters (2 * module id < 512): the first-batch codebook picks, Delta z, restarts.
constexpr uint32_t kDrawCodebookFromData = 0x1000;
constexpr uint32_t kDrawSemanticNoise = 0x1001;
constexpr uint32_t kDrawRestartBase = 0x40000000;  // + restart round

void check_options(const models::SemanticCodec& codec, const data::Split& train, const CodecTrainOptions& o,
                   const std::vector<uint64_t>& seeds, const char* who) {
  if (static_cast<int64_t>(seeds.size()) != codec->grid_size())
    fail("{}: {} seeds given; expected one per grid point ({})", who, seeds.size(), codec->grid_size());
  if (!train.images.defined() || train.images.dim() != 2 || train.images.size(1) != codec->sizes().image_dim)
    fail("{}: training images must be [N, {}]", who, codec->sizes().image_dim);
  if (o.batch_size < 1) fail("codec.batch_size is {}; expected a positive count", o.batch_size);
  if (o.pretrain_epochs < 0) fail("codec.pretrain_epochs is {}; expected 0 or more", o.pretrain_epochs);
  if (o.noise_epochs < 0) fail("codec.noise_epochs is {}; expected 0 or more", o.noise_epochs);
  if (!(o.lr > 0)) fail("codec.lr is {}; expected a positive learning rate", o.lr);
  if (!(o.noise_lr > 0)) fail("codec.noise_lr is {}; expected a positive learning rate", o.noise_lr);
  if (!(o.aware_lr > 0)) fail("codec.aware_lr is {}; expected a positive learning rate", o.aware_lr);
  if (!(o.commitment >= 0)) fail("codec.commitment is {}; expected 0 or more", o.commitment);
  if (!(o.noise_init_std >= 0)) fail("codec.noise_init_std is {}; expected 0 or more", o.noise_init_std);
  if (!(o.eve_weight >= 0)) fail("codec.eve_weight is {}; expected 0 or more", o.eve_weight);
  if (o.restart_every < 0) fail("codec.restart_every is {}; expected 0 (never) or a step count", o.restart_every);
}

std::string per_point(const torch::Tensor& v, const char* fmt_spec) {
  const torch::Tensor c = v.to(torch::kCPU, torch::kFloat64).contiguous();
  std::string out;
  for (int64_t g = 0; g < c.numel(); ++g) {
    if (g > 0) out += ' ';
    out += fmt::format(fmt::runtime(fmt_spec), c.data_ptr<double>()[g]);
  }
  return out;
}

// Row j of point g: flat position pick[g][j] of the first batch's B*n encoder outputs, distinct
// positions in a Philox order (the first 2^b_g picks do not depend on the padding).
torch::Tensor first_batch_picks(const std::vector<uint64_t>& seeds, int64_t positions, int64_t rows) {
  const auto num_points = static_cast<int64_t>(seeds.size());
  torch::Tensor picks = torch::empty({num_points, rows}, torch::kInt64);
  int64_t* p = picks.data_ptr<int64_t>();
  std::vector<std::pair<uint64_t, int64_t>> order(static_cast<size_t>(positions));
  for (int64_t g = 0; g < num_points; ++g) {
    const rng::Key key = rng::make_key(seeds[g]);
    for (int64_t i = 0; i < positions; ++i) {
      const rng::Philox4 r = rng::draw(key, rng::kStreamInit, kDrawCodebookFromData, static_cast<uint32_t>(i), 0);
      order[i] = {(uint64_t{r.v[0]} << 32) | r.v[1], i};
    }
    std::sort(order.begin(), order.end());
    for (int64_t j = 0; j < rows; ++j) p[g * rows + j] = order[j % positions].second;
  }
  return picks;
}

// Replacement position of every row at restart `round` (with replacement; only dead rows use it).
torch::Tensor restart_picks(const std::vector<uint64_t>& seeds, int64_t positions, int64_t rows, int64_t round) {
  const auto num_points = static_cast<int64_t>(seeds.size());
  torch::Tensor picks = torch::empty({num_points, rows}, torch::kInt64);
  int64_t* p = picks.data_ptr<int64_t>();
  for (int64_t g = 0; g < num_points; ++g) {
    const rng::Key key = rng::make_key(seeds[g]);
    for (int64_t j = 0; j < rows; ++j) {
      const auto counter = kDrawRestartBase + static_cast<uint32_t>(round);
      const rng::Philox4 r = rng::draw(key, rng::kStreamInit, counter, static_cast<uint32_t>(j), 0);
      p[g * rows + j] = static_cast<int64_t>(((uint64_t{r.v[0]} << 32) | r.v[1]) % static_cast<uint64_t>(positions));
    }
  }
  return picks;
}

// Rows `picks` [G, K] of the encoder outputs d [G, B, n, k] -> [G, K, k].
torch::Tensor gather_symbols(const torch::Tensor& d, const torch::Tensor& picks) {
  const int64_t num_points = d.size(0), k = d.size(3);
  const torch::Tensor flat = d.reshape({num_points, -1, k});
  const torch::Tensor idx = picks.to(d.device()).unsqueeze(-1).expand({num_points, picks.size(1), k});
  return flat.gather(1, idx);
}

// Per-image MSE [G, B] between reconstructions and images.
torch::Tensor image_mse(const torch::Tensor& x_hat, const torch::Tensor& x) { return (x_hat - x).square().mean(-1); }

// Switches requires_grad off on the frozen parameters for the scope (no weight gradients are
// computed for them, while gradients still flow through them to Delta z).
class FreezeGuard {
 public:
  explicit FreezeGuard(std::vector<torch::Tensor> params) : params_(std::move(params)) {
    for (auto& p : params_) {
      flags_.push_back(p.requires_grad());
      p.requires_grad_(false);
    }
  }
  ~FreezeGuard() {
    for (size_t i = 0; i < params_.size(); ++i) params_[i].requires_grad_(flags_[i]);
  }
  FreezeGuard(const FreezeGuard&) = delete;
  FreezeGuard& operator=(const FreezeGuard&) = delete;

 private:
  std::vector<torch::Tensor> params_;
  std::vector<bool> flags_;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The stage runner's settings that the two codec stages share.
StageSpec codec_stage(const char* name, int64_t steps, double lr, int64_t num_points, const CodecTrainOptions& o) {
  StageSpec spec;
  spec.name = name;
  spec.total_steps = steps;
  spec.log_every = o.log_every;
  spec.checkpoint_every = o.checkpoint_every;
  spec.lr.assign(static_cast<size_t>(num_points), lr);
  spec.every_point_needed = true;
  return spec;
}

}  // namespace

void pretrain_codec(models::SemanticCodec& codec, const data::Split& train, const CodecTrainOptions& options,
                    const std::vector<uint64_t>& seeds, RunContext& ctx) {
  check_options(codec, train, options, seeds, "pretrain_codec");
  const auto device = codec->codebook.device();
  const int64_t num_points = codec->grid_size(), kmax = codec->sizes().max_codes();
  const int64_t positions = options.batch_size * codec->sizes().num_symbols;
  data::BatchSampler sampler(train.images.size(0), options.batch_size, seeds);
  const int64_t spe = sampler.steps_per_epoch();
  StageSpec spec = codec_stage("codec_pretrain", options.pretrain_epochs * spe, options.lr, num_points, options);
  add_parameters(spec.params, *codec->encoder, "encoder.");
  add_parameters(spec.params, *codec->decoder_plain, "decoder_plain.");
  spec.params.emplace_back("codebook", codec->codebook);

  const torch::Tensor valid = codec->valid_codes();
  const auto fopts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  // Code uses since the last restart check, and the epoch's statistics of the log line: saved with
  // the stage, so a resumed run restarts and logs as one that never stopped.
  torch::Tensor window_uses = torch::zeros({num_points, kmax}, fopts);
  torch::Tensor epoch_uses = torch::zeros({num_points, kmax}, fopts);
  torch::Tensor epoch_rec = torch::zeros({num_points}, fopts);
  torch::Tensor epoch_restarts = torch::zeros({num_points}, fopts);
  spec.extra = {{"window_uses", window_uses},
                {"epoch_uses", epoch_uses},
                {"epoch_rec", epoch_rec},
                {"epoch_restarts", epoch_restarts}};
  torch::Tensor x, d, idx;  // the step's batch, and what loss_fn keeps of it for after_step
  const auto t0 = std::chrono::steady_clock::now();

  spec.prepare = [&](int64_t step) {
    x = data::make_batch(train, sampler, seeds, step, 0.0, 0.0, device).x;
    if (step != 0) return;
    // The codebooks start at encoder outputs of the first batch.
    torch::NoGradGuard no_grad;
    const torch::Tensor init = gather_symbols(codec->encode(x), first_batch_picks(seeds, positions, kmax));
    codec->codebook.copy_(init * valid.unsqueeze(-1).to(init.dtype()));
  };
  spec.loss_fn = [&]() -> NamedTensors {
    d = codec->encode(x);
    idx = codec->quantize(d);
    const torch::Tensor e = codec->lookup(idx);
    const torch::Tensor x_hat = codec->decode_plain(d + (e - d).detach());
    const torch::Tensor rec = image_mse(x_hat, x).mean(1);  // [G]
    const torch::Tensor codebook_loss = (d.detach() - e).square().mean({1, 2, 3});
    const torch::Tensor commit_loss = (d - e.detach()).square().mean({1, 2, 3});
    // Per-point means: point g's gradient does not depend on the grid.
    return {{"loss", rec + codebook_loss + options.commitment * commit_loss},
            {"recon_mse", rec.detach()},
            {"codebook", codebook_loss.detach()},
            {"commitment", commit_loss.detach()}};
  };
  spec.after_step = [&](int64_t step, const NamedTensors& terms) {
    torch::NoGradGuard no_grad;
    const torch::Tensor flat_idx = idx.reshape({num_points, -1});
    const torch::Tensor ones = torch::ones(flat_idx.sizes(), fopts);
    window_uses.scatter_add_(1, flat_idx, ones);
    epoch_uses.scatter_add_(1, flat_idx, ones);
    epoch_rec += terms[1].second;  // recon_mse
    if (options.restart_every > 0 && (step + 1) % options.restart_every == 0) {
      // Valid codewords left unused since the last check jump to encoder outputs of this batch.
      const int64_t round = (step + 1) / options.restart_every;
      const torch::Tensor dead = valid.logical_and(window_uses < static_cast<double>(options.restart_min_uses));
      const torch::Tensor fresh = gather_symbols(d.detach(), restart_picks(seeds, positions, kmax, round));
      codec->codebook.copy_(torch::where(dead.unsqueeze(-1), fresh, codec->codebook));
      epoch_restarts += dead.sum(1).to(torch::kFloat32);
      window_uses.zero_();
    }
    if ((step + 1) % spe != 0) return;
    if (options.log_progress) {
      const torch::Tensor used = (epoch_uses > 0).sum(1);
      log::info("codec pretrain epoch {}/{} ({:.0f} s): recon MSE per b [{}], codewords used [{}], restarted [{}]",
                (step + 1) / spe, options.pretrain_epochs, seconds_since(t0), per_point(epoch_rec / spe, "{:.4f}"),
                per_point(used, "{:.0f}"), per_point(epoch_restarts, "{:.0f}"));
    }
    epoch_uses.zero_();
    epoch_rec.zero_();
    epoch_restarts.zero_();
  };
  run_stage(spec, ctx);
  codec->copy_plain_to_aware();
  torch::NoGradGuard no_grad;
  codec->semantic_noise.zero_();
}

void train_semantic_noise(models::SemanticCodec& codec, const data::Split& train, const CodecTrainOptions& options,
                          const std::vector<uint64_t>& seeds, RunContext& ctx) {
  check_options(codec, train, options, seeds, "train_semantic_noise");
  const auto device = codec->codebook.device();
  const int64_t num_points = codec->grid_size();
  const int64_t n = codec->sizes().num_symbols, k = codec->sizes().symbol_dim;

  {  // Delta z ~ N(0, noise_init_std^2) from Philox, per grid seed (a resumed stage restores its own).
    const torch::Tensor init = models::philox_normal(seeds, n * k, options.noise_init_std, kDrawSemanticNoise);
    torch::NoGradGuard no_grad;
    codec->semantic_noise.copy_(init.view({num_points, n, k}));
  }

  // The codebook is common knowledge (Eve has it too) and decoder_plain is Eve's decoder:
  // both stay fixed, as does the encoder.
  std::vector<torch::Tensor> frozen = codec->encoder->parameters();
  for (const auto& p : codec->decoder_plain->parameters()) frozen.push_back(p);
  frozen.push_back(codec->codebook);
  FreezeGuard freeze(frozen);

  data::BatchSampler sampler(train.images.size(0), options.batch_size, seeds);
  const int64_t spe = sampler.steps_per_epoch();
  // Delta z (and its network) at codec.noise_lr, the noise-aware decoder at codec.aware_lr.
  StageSpec spec = codec_stage("codec_noise", options.noise_epochs * spe, options.noise_lr, num_points, options);
  spec.params.emplace_back("semantic_noise", codec->semantic_noise);
  if (codec->noise_net) add_parameters(spec.params, *codec->noise_net, "noise_net.");
  spec.more_params.push_back({{}, std::vector<double>(static_cast<size_t>(num_points), options.aware_lr)});
  add_parameters(spec.more_params.back().params, *codec->decoder_aware, "decoder_aware.");

  const auto fopts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  torch::Tensor epoch_user = torch::zeros({num_points}, fopts), epoch_eve = torch::zeros({num_points}, fopts);
  torch::Tensor epoch_below = torch::zeros({num_points}, fopts), epoch_dz = torch::zeros({num_points}, fopts);
  spec.extra = {
      {"epoch_user", epoch_user}, {"epoch_eve", epoch_eve}, {"epoch_below", epoch_below}, {"epoch_dz", epoch_dz}};
  torch::Tensor x;
  const auto t0 = std::chrono::steady_clock::now();

  spec.prepare = [&](int64_t step) { x = data::make_batch(train, sampler, seeds, step, 0.0, 0.0, device).x; };
  spec.loss_fn = [&]() -> NamedTensors {
    const torch::Tensor d = codec->encode(x);  // no graph: the encoder is frozen
    const torch::Tensor dz = codec->noise(d);
    const torch::Tensor noisy = d + dz;
    const torch::Tensor e = codec->lookup(codec->quantize(noisy));
    const torch::Tensor q = noisy + (e - noisy).detach();
    const torch::Tensor mse_user = image_mse(codec->decode_aware(q), x);  // [G, B]
    const torch::Tensor mse_eve = image_mse(codec->decode_plain(q), x);
    torch::Tensor per_image = mse_user + options.eve_weight * torch::relu(options.eve_margin - mse_eve);
    if (options.noise_commitment > 0)
      per_image = per_image + options.noise_commitment * (noisy - e).square().mean({2, 3});
    return {{"loss", per_image.mean(1)},
            {"user_mse", mse_user.detach().mean(1)},
            {"eve_mse", mse_eve.detach().mean(1)},
            {"eve_below_margin", (mse_eve.detach() < options.eve_margin).to(torch::kFloat32).mean(1)},
            {"dz_rms", dz.detach().square().mean({1, 2, 3}).sqrt()}};
  };
  spec.after_step = [&](int64_t step, const NamedTensors& terms) {
    torch::NoGradGuard no_grad;
    epoch_user += terms[1].second;
    epoch_eve += terms[2].second;
    epoch_below += terms[3].second;
    epoch_dz += terms[4].second;
    if ((step + 1) % spe != 0) return;
    if (options.log_progress)
      log::info(
          "codec noise epoch {}/{} ({:.0f} s): user MSE per b [{}], Eve MSE [{}], Eve below margin {} [{}], "
          "|dz| rms [{}]",
          (step + 1) / spe, options.noise_epochs, seconds_since(t0), per_point(epoch_user / spe, "{:.4f}"),
          per_point(epoch_eve / spe, "{:.4f}"), options.eve_margin, per_point(epoch_below / spe, "{:.3f}"),
          per_point(epoch_dz / spe, "{:.2f}"));
    epoch_user.zero_();
    epoch_dz.zero_();
    epoch_eve.zero_();
    epoch_below.zero_();
  };
  run_stage(spec, ctx);
}

CodecDistortion evaluate_codec(models::SemanticCodec& codec, const torch::Tensor& images, int64_t batch) {
  const int64_t num_points = codec->grid_size(), dim = codec->sizes().image_dim;
  if (!images.defined() || images.dim() != 2 || images.size(1) != dim)
    fail("evaluate_codec: images must be [N, {}]", dim);
  if (batch < 1) fail("evaluate_codec: batch is {}; expected a positive count", batch);
  torch::NoGradGuard no_grad;
  const auto device = codec->codebook.device();
  std::vector<torch::Tensor> plain, aware, eve;
  for (int64_t start = 0; start < images.size(0); start += batch) {
    const int64_t count = std::min(batch, images.size(0) - start);
    const torch::Tensor one = images.narrow(0, start, count).to(device, torch::kFloat32);
    const torch::Tensor x = one.unsqueeze(0).expand({num_points, count, dim}).contiguous();
    const torch::Tensor d = codec->encode(x);
    const torch::Tensor q_clean = codec->lookup(codec->quantize(d));
    const torch::Tensor q_noisy = codec->lookup(codec->quantize(d + codec->noise(d)));
    plain.push_back(image_mse(codec->decode_plain(q_clean), x));
    aware.push_back(image_mse(codec->decode_aware(q_noisy), x));
    eve.push_back(image_mse(codec->decode_plain(q_noisy), x));
  }
  const auto to_out = [&](const std::vector<torch::Tensor>& parts) {
    if (parts.empty()) return torch::empty({num_points, 0}, images.options().dtype(torch::kFloat32));
    return torch::cat(parts, 1).to(images.device());
  };
  return CodecDistortion{to_out(plain), to_out(aware), to_out(eve)};
}

}  // namespace semsec::trainers
