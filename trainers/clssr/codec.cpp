// The CLSSR codec: training or loading, codec.csv, and the precomputed indices of the test images.
#include "trainers/clssr/codec.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "core/checkpoint.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/progress.h"
#include "core/rundir.h"
#include "datasets/loader.h"
#include "trainers/clssr/codec_training.h"

namespace semsec::trainers::clssr {

namespace {

std::vector<double> per_point_mean(const torch::Tensor& per_image, double d_max) {
  const auto m = (per_image.to(torch::kFloat64) / d_max).clamp(0.0, 1.0).mean(1).to(torch::kCPU).contiguous();
  return std::vector<double>(m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
}

double quantile_of(const torch::Tensor& v, double q) {
  return torch::quantile(v.to(torch::kFloat64).flatten(), q).item<double>();
}

// The codec.* training settings.
CodecTrainOptions codec_train_options(const config::Config& cfg) {
  CodecTrainOptions o;
  o.batch_size = cfg.get_int("codec.batch_size");
  o.pretrain_epochs = cfg.get_int("codec.pretrain_epochs");
  o.lr = cfg.get_float("codec.lr");
  o.commitment = cfg.get_float("codec.commitment");
  o.noise_epochs = cfg.get_int("codec.noise_epochs");
  o.noise_lr = cfg.get_float("codec.noise_lr");
  o.aware_lr = cfg.get_float("codec.aware_lr");
  o.noise_commitment = cfg.get_float("codec.noise_commitment");
  o.noise_init_std = cfg.get_float("codec.noise_init_std");
  o.eve_margin = cfg.get_float("codec.eve_margin");
  o.eve_weight = cfg.get_float("codec.eve_weight");
  return o;
}

// Restores the codec from `init` (codec.init_from) or, when it is empty, pretrains it, trains its
// semantic noise and saves it as RUN_DIR/codec.ckpt.
void train_or_load(models::SemanticCodec& net, const std::string& init, const data::Split& train,
                   const CodecTrainOptions& o, const std::vector<uint64_t>& seeds, RunContext& ctx) {
  if (!init.empty()) {
    const TensorMap saved = load_tensors(init);
    // A codec trained with the other codec.noise holds other tensors: refuse it rather than drop
    // or miss the noise network silently.
    size_t known = 0;
    for (const auto& p : net->named_parameters()) known += saved.count(p.key());
    for (const auto& b : net->named_buffers()) known += saved.count(b.key());
    const bool has_net = saved.count("noise_net.fc0.weight") > 0;
    if (has_net != static_cast<bool>(net->noise_net) || known != saved.size()) {
      fail(
          "codec.init_from: {} was trained with codec.noise={}, this run has codec.noise={} (set codec.noise and "
          "codec.noise_hidden as that codec was trained)",
          init, has_net ? "input" : "constant", net->noise_net ? "input" : "constant");
    }
    for (const auto& p : net->named_parameters()) restore_tensor(saved, p.key(), p.value(), init);
    for (const auto& b : net->named_buffers()) restore_tensor(saved, b.key(), b.value(), init);
    log::info("codec: loaded {} (codec.init_from)", init);
  } else {
    data::Split train_dev = train;
    train_dev.images = train.images.to(ctx.device);
    pretrain_codec(net, train_dev, o, seeds, ctx);
    train_semantic_noise(net, train_dev, o, seeds, ctx);
    TensorMap state;
    for (const auto& p : net->named_parameters()) state[p.key()] = p.value().detach();
    for (const auto& b : net->named_buffers()) state[b.key()] = b.value().detach();
    save_tensors(fs::join(ctx.run_dir, "codec.ckpt"), state);
  }
}

// The test images with their classes, and their indices with and without semantic noise at every b.
void index_test_images(Codec& c, const data::Split& test, torch::Device device) {
  c.images = test.images.to(device);
  c.labels.assign(test.labels.data_ptr<int64_t>(), test.labels.data_ptr<int64_t>() + test.labels.numel());
  const int64_t num_classes = *std::max_element(c.labels.begin(), c.labels.end()) + 1;
  c.by_class.assign(static_cast<size_t>(num_classes), {});
  for (size_t i = 0; i < c.labels.size(); ++i) {
    c.by_class[static_cast<size_t>(c.labels[i])].push_back(static_cast<int64_t>(i));
  }
  for (size_t k = 0; k < c.by_class.size(); ++k) {
    if (c.by_class[k].empty()) fail("data: the test split has no image of class {} (data.test_limit too small?)", k);
  }
  {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> plain, noisy;
    const int64_t chunk = 2048;
    for (int64_t s = 0; s < c.images.size(0); s += chunk) {
      const auto x = c.images.slice(0, s, std::min(s + chunk, c.images.size(0)));
      const auto xg = x.unsqueeze(0).expand({c.grid(), x.size(0), x.size(1)}).contiguous();
      plain.push_back(c.net->transmit_indices(xg, false));
      noisy.push_back(c.net->transmit_indices(xg, true));
    }
    c.idx_plain = torch::cat(plain, 1);
    c.idx_noisy = torch::cat(noisy, 1);
  }
}

// RUN_DIR/codec.csv: one row per b of the test split's distortions `dt`, each also logged.
// eve_not_above_user: the share of images Eve reconstructs at least as well as the user (the
// overlap of the two distortion tails).
void write_codec_csv(const Codec& c, const CodecDistortion& dt, const Rules& rules, uint64_t seed,
                     const std::string& run_dir) {
  CsvWriter csv(fs::join(run_dir, "codec.csv"),
                "seed,b,mse_user_plain_mean,mse_user_aware_mean,mse_user_aware_p99,mse_user_aware_max,mse_eve_mean,"
                "mse_eve_p1,mse_eve_min,user_below_eps,eve_at_or_above_eps,eve_not_above_user");
  for (int64_t g = 0; g < c.grid(); ++g) {
    const auto ua = dt.user_aware[g].to(torch::kFloat64) / rules.d_max;
    const auto ev = dt.eve_noisy[g].to(torch::kFloat64) / rules.d_max;
    const double below = (ua < rules.epsilon).to(torch::kFloat64).mean().item<double>();
    const double above = (ev >= rules.epsilon).to(torch::kFloat64).mean().item<double>();
    const double overlap = (ev <= ua).to(torch::kFloat64).mean().item<double>();
    csv.row(fmt::format("{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}", seed, c.bits(g),
                        dt.user_plain[g].mean().item<double>(), dt.user_aware[g].mean().item<double>(),
                        quantile_of(dt.user_aware[g], 0.99), dt.user_aware[g].max().item<double>(),
                        dt.eve_noisy[g].mean().item<double>(), quantile_of(dt.eve_noisy[g], 0.01),
                        dt.eve_noisy[g].min().item<double>(), below, above, overlap));
    log::info(
        "codec b={}: MSE user plain {:.4f}, user aware {:.4f} (max {:.4f}), Eve {:.4f} (min {:.4f}); "
        "G_u < eps {:.1f}%, G_e >= eps {:.1f}%",
        c.bits(g), dt.user_plain[g].mean().item<double>(), dt.user_aware[g].mean().item<double>(),
        dt.user_aware[g].max().item<double>(), dt.eve_noisy[g].mean().item<double>(),
        dt.eve_noisy[g].min().item<double>(), 100 * below, 100 * above);
  }
  csv.close();
}

}  // namespace

models::CodecSizes codec_sizes(const config::Config& cfg) {
  models::CodecSizes sizes;
  sizes.num_symbols = cfg.get_int("codec.num_symbols");
  sizes.symbol_dim = cfg.get_int("codec.symbol_dim");
  sizes.hidden = cfg.get_int("codec.hidden");
  sizes.b_min = cfg.get_int("codec.b_min");
  sizes.b_max = cfg.get_int("codec.b_max");
  sizes.noise_hidden = cfg.get_string("codec.noise") == "input" ? cfg.get_int("codec.noise_hidden") : 0;
  if (sizes.b_max < sizes.b_min) {
    fail("codec.b_max: expected >= codec.b_min ({}), got {} ({})", sizes.b_min, sizes.b_max, cfg.origin("codec.b_max"));
  }
  return sizes;
}

Codec build_codec(const config::Config& cfg, const Rules& rules, RunContext& ctx) {
  const torch::Device device = ctx.device;
  const std::string& run_dir = ctx.run_dir;
  Codec c;
  c.sizes = codec_sizes(cfg);
  const std::string root =
      cfg.get_string("data.root").empty() ? data::default_data_root() : cfg.get_string("data.root");
  const data::Split train = data::load_split(root, "train", cfg.get_int("data.train_limit"));
  const data::Split test = data::load_split(root, "test", cfg.get_int("data.test_limit"));
  c.sizes.image_dim = train.images.size(1);
  const auto seed = static_cast<uint64_t>(cfg.get_int("seed"));
  std::vector<uint64_t> seeds;
  for (int64_t g = 0; g <= c.sizes.b_max - c.sizes.b_min; ++g) {
    seeds.push_back(seed * 1000 + static_cast<uint64_t>(c.sizes.b_min + g));
  }
  c.net = models::SemanticCodec(c.sizes, seeds);
  c.net->to(device);

  const CodecTrainOptions o = codec_train_options(cfg);
  const std::string init = cfg.get_string("codec.init_from");
  const auto t0 = std::chrono::steady_clock::now();
  train_or_load(c.net, init, train, o, seeds, ctx);
  const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  index_test_images(c, test, device);

  // AO's distortion model from training images (not the test tasks), and codec.csv from the test split.
  const int64_t n_model = std::min<int64_t>(train.images.size(0), 4096);
  const CodecDistortion dm = evaluate_codec(c.net, train.images.slice(0, 0, n_model).to(device), 512);
  c.mean_g_user_aware = per_point_mean(dm.user_aware, rules.d_max);
  c.mean_g_eve = per_point_mean(dm.eve_noisy, rules.d_max);
  const CodecDistortion dt = evaluate_codec(c.net, c.images, 512);
  write_codec_csv(c, dt, rules, seed, run_dir);
  log::info("codec ready in {:.1f} s", train_s);
  return c;
}

}  // namespace semsec::trainers::clssr
