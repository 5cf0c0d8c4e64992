// VQ-VAE pretraining, semantic-noise training and per-image evaluation of the CLSSR codec.
#include "trainers/clssr/codec_training.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "core/errors.h"
#include "core/interrupt.h"
#include "core/progress.h"
#include "kernels/philox.h"
#include "trainers/engine/divergence.h"
#include "trainers/engine/grid_adam.h"

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

// The codec's stages keep no checkpoint (the whole codec trains in about two minutes on two CPU
// cores): a signal stops them after the current step with a message saying so, and a grid point
// whose epoch loss is not finite, or blew up by the stage runner's rule (trainers/engine/
// divergence.h: above kBlowupFactor times its best epoch, or above kBlowupFactor when its best was
// below 1), stops the command: every later CLSSR step needs every bit width b, so a point cannot be
// frozen and left out as a sweep point is. Checked once per epoch, where the logs synchronise.
void stop_if_signalled(const char* stage, int64_t step, int64_t steps) {
  interrupt::test_hooks_at_step(stage, step);
  interrupt::stop_if_pending(fmt::format("after step {} of {} of {}", step, steps, stage),
                             "the CLSSR codec keeps no checkpoint: run the command again");
}

class EpochLossCheck {
 public:
  EpochLossCheck(const char* stage, const char* loss, double lr) : stage_(stage), loss_(loss), lr_(lr) {}
  // `per_point`: each point's mean loss of `epoch`.
  void check(const torch::Tensor& per_point, int64_t epoch) {
    const torch::Tensor host = per_point.detach().to(torch::kCPU, torch::kFloat64).contiguous();
    const double* v = host.data_ptr<double>();
    best_.resize(static_cast<size_t>(host.numel()), std::numeric_limits<double>::infinity());
    for (int64_t g = 0; g < host.numel(); ++g) {
      double& best = best_[static_cast<size_t>(g)];
      if (!std::isfinite(v[g]))
        fail("{}: the {} of grid point {} is {} in epoch {} (learning rate {}); the run diverged", stage_, loss_, g,
             v[g], epoch, lr_);
      if (std::abs(v[g]) > kBlowupFactor * std::max(best, 1.0) && std::isfinite(best))
        fail("{}: the {} of grid point {} blew up to {:.4g} in epoch {} (best epoch {:.4g}; limit {} x max(best, 1); "
             "learning rate {}); the run diverged",
             stage_, loss_, g, v[g], epoch, best, kBlowupFactor, lr_);
      best = std::min(best, std::abs(v[g]));
    }
  }

 private:
  const char* stage_;
  const char* loss_;
  double lr_;
  std::vector<double> best_;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

void pretrain_codec(models::SemanticCodec& codec, const data::Split& train, const CodecTrainOptions& options,
                    const std::vector<uint64_t>& seeds) {
  check_options(codec, train, options, seeds, "pretrain_codec");
  const auto device = codec->codebook.device();
  const int64_t num_points = codec->grid_size(), kmax = codec->sizes().max_codes();
  const int64_t positions = options.batch_size * codec->sizes().num_symbols;
  data::BatchSampler sampler(train.images.size(0), options.batch_size, seeds);
  const int64_t spe = sampler.steps_per_epoch(), steps = options.pretrain_epochs * spe;

  std::vector<torch::Tensor> params = codec->encoder->parameters();
  for (const auto& p : codec->decoder_plain->parameters()) params.push_back(p);
  params.push_back(codec->codebook);
  GridAdam optimizer(params, std::vector<double>(static_cast<size_t>(num_points), options.lr), AdamOptions{});
  const torch::Tensor valid = codec->valid_codes();
  const auto fopts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  torch::Tensor window_uses = torch::zeros({num_points, kmax}, fopts);  // since the last restart check
  torch::Tensor epoch_uses = torch::zeros({num_points, kmax}, fopts);
  torch::Tensor epoch_rec = torch::zeros({num_points}, fopts);
  torch::Tensor epoch_restarts = torch::zeros({num_points}, fopts);
  const auto t0 = std::chrono::steady_clock::now();
  EpochLossCheck rec_check("codec pretraining", "reconstruction MSE", options.lr);

  for (int64_t step = 0; step < steps; ++step) {
    stop_if_signalled("codec_pretrain", step, steps);
    const torch::Tensor x = data::make_batch(train, sampler, seeds, step, 0.0, 0.0, device).x;
    const torch::Tensor d = codec->encode(x);
    if (step == 0) {
      torch::NoGradGuard no_grad;
      const torch::Tensor init = gather_symbols(d, first_batch_picks(seeds, positions, kmax));
      codec->codebook.copy_(init * valid.unsqueeze(-1).to(init.dtype()));
    }
    const torch::Tensor idx = codec->quantize(d);
    const torch::Tensor e = codec->lookup(idx);
    const torch::Tensor x_hat = codec->decode_plain(d + (e - d).detach());
    const torch::Tensor rec = image_mse(x_hat, x).mean(1);  // [G]
    const torch::Tensor codebook_loss = (d.detach() - e).square().mean({1, 2, 3});
    const torch::Tensor commit_loss = (d - e.detach()).square().mean({1, 2, 3});
    // A sum over points of per-point means: point g's gradient does not depend on the grid.
    const torch::Tensor loss = (rec + codebook_loss + options.commitment * commit_loss).sum();
    optimizer.zero_grad(/*set_to_none=*/false);
    loss.backward();
    optimizer.step();

    torch::NoGradGuard no_grad;
    const torch::Tensor flat_idx = idx.reshape({num_points, -1});
    const torch::Tensor ones = torch::ones(flat_idx.sizes(), fopts);
    window_uses.scatter_add_(1, flat_idx, ones);
    epoch_uses.scatter_add_(1, flat_idx, ones);
    epoch_rec += rec.detach();
    if (options.restart_every > 0 && (step + 1) % options.restart_every == 0) {
      const int64_t round = (step + 1) / options.restart_every;
      const torch::Tensor dead = valid.logical_and(window_uses < static_cast<double>(options.restart_min_uses));
      const torch::Tensor fresh = gather_symbols(d.detach(), restart_picks(seeds, positions, kmax, round));
      codec->codebook.copy_(torch::where(dead.unsqueeze(-1), fresh, codec->codebook));
      epoch_restarts += dead.sum(1).to(torch::kFloat32);
      window_uses.zero_();
    }
    if ((step + 1) % spe == 0) rec_check.check(epoch_rec / spe, (step + 1) / spe);
    if (options.log_progress && (step + 1) % spe == 0) {
      const torch::Tensor used = (epoch_uses > 0).sum(1);
      log::info("codec pretrain epoch {}/{} ({:.0f} s): recon MSE per b [{}], codewords used [{}], restarted [{}]",
                (step + 1) / spe, options.pretrain_epochs, seconds_since(t0), per_point(epoch_rec / spe, "{:.4f}"),
                per_point(used, "{:.0f}"), per_point(epoch_restarts, "{:.0f}"));
    }
    if ((step + 1) % spe == 0) {
      epoch_uses.zero_();
      epoch_rec.zero_();
      epoch_restarts.zero_();
    }
  }
  codec->copy_plain_to_aware();
  torch::NoGradGuard no_grad;
  codec->semantic_noise.zero_();
}

void train_semantic_noise(models::SemanticCodec& codec, const data::Split& train, const CodecTrainOptions& options,
                          const std::vector<uint64_t>& seeds) {
  check_options(codec, train, options, seeds, "train_semantic_noise");
  const auto device = codec->codebook.device();
  const int64_t num_points = codec->grid_size();
  const int64_t n = codec->sizes().num_symbols, k = codec->sizes().symbol_dim;

  {  // Delta z ~ N(0, noise_init_std^2) from Philox, per grid seed.
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
  const int64_t spe = sampler.steps_per_epoch(), steps = options.noise_epochs * spe;
  const std::vector<double> noise_lr(static_cast<size_t>(num_points), options.noise_lr);
  const std::vector<double> aware_lr(static_cast<size_t>(num_points), options.aware_lr);
  std::vector<torch::Tensor> noise_params = {codec->semantic_noise};
  if (codec->noise_net) {
    for (const auto& p : codec->noise_net->parameters()) noise_params.push_back(p);
  }
  GridAdam noise_opt(noise_params, noise_lr, AdamOptions{});
  GridAdam aware_opt(codec->decoder_aware->parameters(), aware_lr, AdamOptions{});
  const auto fopts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  torch::Tensor epoch_user = torch::zeros({num_points}, fopts), epoch_eve = torch::zeros({num_points}, fopts);
  torch::Tensor epoch_below = torch::zeros({num_points}, fopts), epoch_dz = torch::zeros({num_points}, fopts);
  const auto t0 = std::chrono::steady_clock::now();
  EpochLossCheck user_check("codec semantic-noise training", "user MSE", options.noise_lr);
  EpochLossCheck eve_check("codec semantic-noise training", "Eve MSE", options.noise_lr);

  for (int64_t step = 0; step < steps; ++step) {
    stop_if_signalled("codec_noise", step, steps);
    const torch::Tensor x = data::make_batch(train, sampler, seeds, step, 0.0, 0.0, device).x;
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
    const torch::Tensor loss = per_image.mean(1).sum();
    noise_opt.zero_grad(/*set_to_none=*/false);
    aware_opt.zero_grad(/*set_to_none=*/false);
    loss.backward();
    noise_opt.step();
    aware_opt.step();

    torch::NoGradGuard no_grad;
    epoch_user += mse_user.mean(1);
    epoch_eve += mse_eve.mean(1);
    epoch_below += (mse_eve < options.eve_margin).to(torch::kFloat32).mean(1);
    epoch_dz += dz.square().mean({1, 2, 3}).sqrt();
    if ((step + 1) % spe == 0) {
      user_check.check(epoch_user / spe, (step + 1) / spe);
      eve_check.check(epoch_eve / spe, (step + 1) / spe);
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
    }
  }
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
