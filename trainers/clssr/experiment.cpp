// `semsec clssr`: codec training, the policy-iteration allocator with its baselines, and the
// Fig. 2 / Fig. 3 outputs of the CLSSR paper.
#include "trainers/clssr_experiment.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <numeric>

#include "core/checkpoint.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/progress.h"
#include "core/rundir.h"
#include "datasets/loader.h"
#include "kernels/link_ops.h"
#include "kernels/philox.h"
#include "models/semantic_codec.h"
#include "trainers/clssr_metrics.h"
#include "trainers/clssr_rl.h"
#include "trainers/codec_training.h"
#include "trainers/link_command.h"

namespace semsec::trainers {

namespace {

enum class Method { kClSs, kPlSs, kAo };

Method parse_method(const std::string& m) {
  if (m == "cl_ss") return Method::kClSs;
  if (m == "pl_ss") return Method::kPlSs;
  return Method::kAo;  // the schema restricts the choices
}

// The experiment's defaults for the geometric link: the paper's Sec. V positions and powers, the
// beamformed Alamouti scheme on 2 x 2 transmit antennas, 4 DFT beams per sub-array, and a path-loss
// exponent of 4 so that the user's mean SNR (20 dB at tau = 1) leaves bit errors that tau controls.
link::LinkConfig default_clssr_link() {
  link::LinkConfig c;
  c.scheme = link::Scheme::kBeamAlamouti;
  c.num_tx = 4;
  c.num_rx = 2;
  c.num_beams = 4;
  c.path_loss_exponent = 4.0;
  return c;
}

struct Rules {
  double epsilon;
  double d_max;
  double deadline_s;
};

// The trained codec and what the allocator needs from it, all indices precomputed per b.
struct Codec {
  models::CodecSizes sizes;
  models::SemanticCodec net{nullptr};
  torch::Tensor images;  // test images [N, D] on the device
  std::vector<int64_t> labels;
  std::vector<std::vector<int64_t>> by_class;
  torch::Tensor idx_plain;  // [G, N, n] int64, no semantic noise
  torch::Tensor idx_noisy;  // [G, N, n] int64, with Delta z
  std::vector<double> mean_g_user_aware, mean_g_eve;  // normalised distortion per b, train subset (AO)
  int64_t grid() const { return sizes.b_max - sizes.b_min + 1; }
  int64_t bits(int64_t g) const { return sizes.b_min + g; }
};

struct Env {
  link::LinkConfig link;
  std::string antennas;
  double tau = 1.0;
  int64_t num_beams = 1;
  int64_t num_receivers = 1;
  double user_mean_gain = 1.0;
  std::vector<double> snr_levels_db;
  uint64_t seed = 0;
  int64_t images_per_task = 1;  // K
  // (user's best beam, best beam of the strongest Eve, user SNR level).
  int64_t num_channel_states() const {
    return num_beams * num_beams * (static_cast<int64_t>(snr_levels_db.size()) + 1);
  }
};

// A batch of tasks: classes, images and the channel of every receiver.
struct Tasks {
  std::vector<int64_t> cls;
  torch::Tensor image;  // [T, K] int64 (test indices of the task's K images), on the device
  torch::Tensor h;      // [R, T, num_rx, num_tx, 2]
  torch::Tensor gains;  // [R, T, K] float64 on the CPU (every beam)
  int64_t size() const { return static_cast<int64_t>(cls.size()); }
};

struct Outcome {
  std::vector<double> reward, omega, g_user, b;
  std::vector<double> g_eve_min, r_u;
  std::vector<uint8_t> secure, timely;
};

struct Summary {
  double clssr_ksut = 0, reliability = 0, secure = 0, timely = 0, mean_b = 0, g_user = 0, g_eve = 0, r_u_mbps = 0,
         reward = 0;
};

Summary summarise(const Outcome& o) {
  Summary s;
  const auto n = static_cast<double>(o.omega.size());
  int64_t ok = 0;
  for (size_t t = 0; t < o.omega.size(); ++t) {
    s.clssr_ksut += o.omega[t] / 1e3;
    s.secure += o.secure[t];
    s.timely += o.timely[t];
    ok += (o.secure[t] && o.timely[t]) ? 1 : 0;
    s.mean_b += o.b[t];
    s.g_user += o.g_user[t];
    s.g_eve += o.g_eve_min[t];
    s.r_u_mbps += o.r_u[t] / 1e6;
    s.reward += o.reward[t];
  }
  s.reliability = clssr::task_reliability(ok, static_cast<int64_t>(o.omega.size()));
  for (double* v : {&s.clssr_ksut, &s.secure, &s.timely, &s.mean_b, &s.g_user, &s.g_eve, &s.r_u_mbps, &s.reward})
    *v /= n;
  return s;
}

// floor(u n) for u in (0, 1) from rng::to_unit, kept inside [0, n).
int64_t uniform_index(double u, int64_t n) {
  return std::min(n - 1, static_cast<int64_t>(u * static_cast<double>(n)));
}

// Tasks t = 0 .. T-1 of (stream, step): the class chain P^S and the images, then the channels.
Tasks draw_tasks(const Codec& codec, const Env& env, int64_t count, double stay_prob, uint32_t source_stream,
                 uint32_t link_stream, uint32_t step, torch::Device device) {
  const rng::Key key = rng::make_key(env.seed);
  const auto num_classes = static_cast<int64_t>(codec.by_class.size());
  const int64_t k_images = env.images_per_task;
  Tasks t;
  t.cls.resize(static_cast<size_t>(count));
  std::vector<int64_t> image(static_cast<size_t>(count * k_images));
  int64_t c = 0;
  for (int64_t i = 0; i < count; ++i) {
    const rng::Philox4 w = rng::draw(key, source_stream, step, static_cast<uint32_t>(i), 0);
    const double u0 = rng::to_unit(w.v[0]), u1 = rng::to_unit(w.v[1]);
    if (i == 0) {
      c = uniform_index(u1, num_classes);
    } else if (u0 >= stay_prob && num_classes > 1) {
      c = (c + 1 + uniform_index(u1, num_classes - 1)) % num_classes;
    }
    const auto& members = codec.by_class[static_cast<size_t>(c)];
    for (int64_t j = 0; j < k_images; ++j) {  // image j from word j % 4 of block 1 + j / 4
      const rng::Philox4 wj = rng::draw(key, source_stream, step, static_cast<uint32_t>(i), static_cast<uint32_t>(1 + j / 4));
      const int64_t pick = uniform_index(rng::to_unit(wj.v[j % 4]), static_cast<int64_t>(members.size()));
      image[static_cast<size_t>(i * k_images + j)] = members[static_cast<size_t>(pick)];
    }
    t.cls[static_cast<size_t>(i)] = c;
  }
  t.image = torch::tensor(image, torch::kInt64).view({count, k_images}).to(device);
  t.h = link::generate_channels(env.link, count, env.seed, step, device, link_stream);
  t.gains = link::beam_gains(env.link, t.h).to(torch::kCPU).contiguous();
  return t;
}

// Quantised channel state of each task (h_u and h_e of the MDP): the user's best beam, the best
// beam of the strongest Eve (the one with the largest best-beam gain) and the user's SNR level at
// its best beam against rl.snr_levels_db.
std::vector<int64_t> channel_states(const Env& env, const Tasks& t) {
  const int64_t n = t.size(), k = env.num_beams, r_count = env.num_receivers;
  const auto idx = t.gains.argmax(2).contiguous();  // [R, T]
  const auto best = t.gains.amax(2).contiguous();   // [R, T]
  const int64_t* ip = idx.data_ptr<int64_t>();
  const double* bp = best.data_ptr<double>();
  std::vector<int64_t> h(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t strongest = 1;
    for (int64_t r = 2; r < r_count; ++r) {
      if (bp[r * n + i] > bp[strongest * n + i]) strongest = r;
    }
    const int64_t s = ip[i] * k + ip[strongest * n + i];
    const double snr_db = 10.0 * std::log10(std::max(bp[i] / env.tau, 1e-300));
    int64_t level = 0;
    for (double th : env.snr_levels_db) level += snr_db >= th ? 1 : 0;
    h[static_cast<size_t>(i)] = s * static_cast<int64_t>(env.snr_levels_db.size() + 1) + level;
  }
  return h;
}

// Decodes image m's received indices idx [M, n] with codec point g[m]: each point decodes its own
// images only (GridMlp::forward_point) -> [M, D] in the original order.
torch::Tensor decode_tasks(const Codec& codec, bool aware, const torch::Tensor& idx, const std::vector<int64_t>& g) {
  const int64_t m = idx.size(0);
  auto out = torch::empty({m, codec.sizes.image_dim}, codec.images.options());
  for (int64_t p = 0; p < codec.grid(); ++p) {
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < m; ++i) {
      if (g[static_cast<size_t>(i)] == p) rows.push_back(i);
    }
    if (rows.empty()) continue;
    const auto rows_t = torch::tensor(rows, torch::kInt64).to(idx.device());
    out.index_copy_(0, rows_t, codec.net->decode_point(p, idx.index_select(0, rows_t), aware));
  }
  return out;
}

// Sends every task with its beam and b, decodes at the user and the Eves, and scores it.
Outcome run_tasks(const Codec& codec, const Env& env, const Rules& rules, Method method, const Tasks& t,
                  const std::vector<int64_t>& beams, const std::vector<int64_t>& gsel, double gain_weight,
                  uint32_t link_stream, uint32_t step) {
  torch::NoGradGuard no_grad;
  const int64_t n_tasks = t.size(), r_count = env.num_receivers, k_img = env.images_per_task;
  const int64_t n_img = codec.sizes.num_symbols, n_sym = k_img * n_img;  // symbols per image, per task
  const torch::Device device = t.h.device();
  const auto beams_t = torch::tensor(beams, torch::kInt64).to(device);
  const auto tau_t = torch::full({n_tasks}, env.tau, torch::dtype(torch::kFloat64).device(device));
  const torch::Tensor& source = method == Method::kPlSs ? codec.idx_plain : codec.idx_noisy;
  auto rx_idx = torch::zeros({r_count, n_tasks, n_sym}, torch::dtype(torch::kInt64).device(device));
  torch::Tensor gain;
  for (int64_t g = 0; g < codec.grid(); ++g) {
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < n_tasks; ++i) {
      if (gsel[static_cast<size_t>(i)] == g) rows.push_back(i);
    }
    if (rows.empty()) continue;
    // Every task is sent with this b so that a task's noise does not depend on the others' b.
    const auto bits =
        models::indices_to_bits(source[g].index_select(0, t.image.flatten()).view({n_tasks, n_sym}), codec.bits(g));
    const link::LinkOutput out = link::transmit(env.link, bits, t.h, beams_t, tau_t, env.seed, step, link_stream);
    const auto rows_t = torch::tensor(rows, torch::kInt64).to(device);
    rx_idx.index_copy_(1, rows_t, models::bits_to_indices(out.rx_bits, codec.bits(g)).index_select(1, rows_t));
    gain = out.gain;
  }
  const auto images = codec.images.index_select(0, t.image.flatten());  // [T K, D]
  // A task's distortion: the per-image MSE averaged over its K images -> [tasks].
  auto mse = [&](const torch::Tensor& recon, const torch::Tensor& target) {
    return (recon - target).pow(2).mean(-1).view({-1, k_img}).mean(1).to(torch::kFloat64).to(torch::kCPU).contiguous();
  };
  // Codec point of every image of every task, receiver by receiver.
  std::vector<int64_t> g_img;
  for (int64_t i = 0; i < n_tasks; ++i) g_img.insert(g_img.end(), k_img, gsel[static_cast<size_t>(i)]);
  const bool aware = method != Method::kPlSs;
  const auto mse_user = mse(decode_tasks(codec, aware, rx_idx[0].reshape({n_tasks * k_img, n_img}), g_img), images);
  std::vector<int64_t> g_eves;
  for (int64_t r = 1; r < r_count; ++r) g_eves.insert(g_eves.end(), g_img.begin(), g_img.end());
  const auto mse_eve =
      mse(decode_tasks(codec, false, rx_idx.slice(0, 1).reshape({(r_count - 1) * n_tasks * k_img, n_img}), g_eves),
          images.repeat({r_count - 1, 1}));
  const auto gain_cpu = gain.to(torch::kCPU).contiguous();
  const double* gp = gain_cpu.data_ptr<double>();
  const double* mu = mse_user.data_ptr<double>();
  const double* me = mse_eve.data_ptr<double>();
  const double bw = env.link.bandwidth_hz;

  Outcome o;
  for (int64_t i = 0; i < n_tasks; ++i) {
    clssr::TaskInputs in;
    in.r_u = clssr::rate_from_snr(bw, gp[i] / env.tau);
    in.g_u = clssr::normalized_distortion(mu[i], rules.d_max);
    in.n = n_sym;
    in.b = codec.bits(gsel[static_cast<size_t>(i)]);
    in.epsilon = rules.epsilon;
    in.deadline_s = rules.deadline_s;
    double channel_term = 0.0, g_eve_min = 1.0;
    for (int64_t r = 1; r < r_count; ++r) {
      const double g_e = clssr::normalized_distortion(me[(r - 1) * n_tasks + i], rules.d_max);
      g_eve_min = std::min(g_eve_min, g_e);
      // PL-SS: no application-layer branch, Eve is taken to complete the task whenever R^S = 0.
      in.eves.push_back({clssr::rate_from_snr(bw, gp[r * n_tasks + i] / env.tau), method == Method::kPlSs ? 0.0 : g_e});
      channel_term += (gp[i] - gp[r * n_tasks + i]) / env.user_mean_gain;
    }
    const clssr::TaskEvaluation ev = clssr::evaluate_task(in);
    o.omega.push_back(ev.omega);
    o.reward.push_back(ev.omega / 1e3 + gain_weight * channel_term);
    o.secure.push_back(ev.secure ? 1 : 0);
    o.timely.push_back(ev.timely ? 1 : 0);
    o.g_user.push_back(in.g_u);
    o.g_eve_min.push_back(g_eve_min);
    o.b.push_back(static_cast<double>(in.b));
    o.r_u.push_back(in.r_u);
  }
  return o;
}

// Alternating optimisation of (beam, b) per task on the predicted CLSSR: exact CSI, the codec's
// mean distortions per b; beam given b, then b given beam, until neither changes.
void ao_actions(const Codec& codec, const Env& env, const Rules& rules, const Tasks& t, std::vector<int64_t>& beams,
                std::vector<int64_t>& gsel) {
  const int64_t n = t.size(), k_count = env.num_beams, r_count = env.num_receivers;
  const double* gp = t.gains.data_ptr<double>();
  beams.assign(static_cast<size_t>(n), 0);
  gsel.assign(static_cast<size_t>(n), codec.grid() - 1);
  auto predicted = [&](int64_t i, int64_t k, int64_t g) {
    clssr::TaskInputs in;
    in.r_u = clssr::rate_from_snr(env.link.bandwidth_hz, gp[(0 * n + i) * k_count + k] / env.tau);
    in.g_u = codec.mean_g_user_aware[static_cast<size_t>(g)];
    for (int64_t r = 1; r < r_count; ++r) {
      in.eves.push_back({clssr::rate_from_snr(env.link.bandwidth_hz, gp[(r * n + i) * k_count + k] / env.tau),
                         codec.mean_g_eve[static_cast<size_t>(g)]});
    }
    in.n = env.images_per_task * codec.sizes.num_symbols;
    in.b = codec.bits(g);
    in.epsilon = rules.epsilon;
    in.deadline_s = rules.deadline_s;
    return clssr::evaluate_task(in).omega;
  };
  for (int64_t i = 0; i < n; ++i) {
    int64_t k = 0, g = codec.grid() - 1;
    for (int it = 0; it < 20; ++it) {
      int64_t best_k = k;
      for (int64_t kk = 0; kk < k_count; ++kk) {
        if (predicted(i, kk, g) > predicted(i, best_k, g)) best_k = kk;
      }
      int64_t best_g = g;
      for (int64_t gg = 0; gg < codec.grid(); ++gg) {
        if (predicted(i, best_k, gg) > predicted(i, best_k, best_g)) best_g = gg;
      }
      const bool stable = best_k == k && best_g == g;
      k = best_k;
      g = best_g;
      if (stable) break;
    }
    beams[static_cast<size_t>(i)] = k;
    gsel[static_cast<size_t>(i)] = g;
  }
}

std::vector<double> per_point_mean(const torch::Tensor& per_image, double d_max) {
  const auto m = (per_image.to(torch::kFloat64) / d_max).clamp(0.0, 1.0).mean(1).to(torch::kCPU).contiguous();
  return std::vector<double>(m.data_ptr<double>(), m.data_ptr<double>() + m.numel());
}

double quantile_of(const torch::Tensor& v, double q) {
  return torch::quantile(v.to(torch::kFloat64).flatten(), q).item<double>();
}

// Trains (or loads) the codec, evaluates it and precomputes every test image's indices.
Codec build_codec(const config::Config& cfg, const Rules& rules, const std::string& run_dir, torch::Device device) {
  Codec c;
  c.sizes.num_symbols = cfg.get_int("codec.num_symbols");
  c.sizes.symbol_dim = cfg.get_int("codec.symbol_dim");
  c.sizes.hidden = cfg.get_int("codec.hidden");
  c.sizes.b_min = cfg.get_int("codec.b_min");
  c.sizes.b_max = cfg.get_int("codec.b_max");
  if (c.sizes.b_max < c.sizes.b_min) {
    fail("codec.b_max: expected >= codec.b_min ({}), got {} ({})", c.sizes.b_min, c.sizes.b_max,
         cfg.origin("codec.b_max"));
  }
  const std::string root = cfg.get_string("data.root").empty() ? data::default_data_root() : cfg.get_string("data.root");
  const data::Split train = data::load_split(root, "train", cfg.get_int("data.train_limit"));
  const data::Split test = data::load_split(root, "test", cfg.get_int("data.test_limit"));
  c.sizes.image_dim = train.images.size(1);
  const auto seed = static_cast<uint64_t>(cfg.get_int("seed"));
  std::vector<uint64_t> seeds;
  for (int64_t g = 0; g <= c.sizes.b_max - c.sizes.b_min; ++g) seeds.push_back(seed * 1000 + static_cast<uint64_t>(c.sizes.b_min + g));
  c.net = models::SemanticCodec(c.sizes, seeds);
  c.net->to(device);

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
  const std::string init = cfg.get_string("codec.init_from");
  const auto t0 = std::chrono::steady_clock::now();
  if (!init.empty()) {
    const TensorMap saved = load_tensors(init);
    for (const auto& p : c.net->named_parameters()) restore_tensor(saved, p.key(), p.value(), init);
    for (const auto& b : c.net->named_buffers()) restore_tensor(saved, b.key(), b.value(), init);
    log::info("codec: loaded {} (codec.init_from)", init);
  } else {
    data::Split train_dev = train;
    train_dev.images = train.images.to(device);
    pretrain_codec(c.net, train_dev, o, seeds);
    train_semantic_noise(c.net, train_dev, o, seeds);
    TensorMap state;
    for (const auto& p : c.net->named_parameters()) state[p.key()] = p.value().detach();
    for (const auto& b : c.net->named_buffers()) state[b.key()] = b.value().detach();
    save_tensors(fs::join(run_dir, "codec.ckpt"), state);
  }
  const double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  c.images = test.images.to(device);
  c.labels.assign(test.labels.data_ptr<int64_t>(), test.labels.data_ptr<int64_t>() + test.labels.numel());
  const int64_t num_classes = *std::max_element(c.labels.begin(), c.labels.end()) + 1;
  c.by_class.assign(static_cast<size_t>(num_classes), {});
  for (size_t i = 0; i < c.labels.size(); ++i) c.by_class[static_cast<size_t>(c.labels[i])].push_back(static_cast<int64_t>(i));
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

  // AO's distortion model from training images (not the test tasks), and codec.csv from the test split.
  const int64_t n_model = std::min<int64_t>(train.images.size(0), 4096);
  const CodecDistortion dm = evaluate_codec(c.net, train.images.slice(0, 0, n_model).to(device), 512);
  c.mean_g_user_aware = per_point_mean(dm.user_aware, rules.d_max);
  c.mean_g_eve = per_point_mean(dm.eve_noisy, rules.d_max);
  const CodecDistortion dt = evaluate_codec(c.net, c.images, 512);
  CsvWriter csv(fs::join(run_dir, "codec.csv"),
                "b,mse_user_plain_mean,mse_user_aware_mean,mse_user_aware_p99,mse_user_aware_max,mse_eve_mean,"
                "mse_eve_p1,mse_eve_min,user_below_eps,eve_at_or_above_eps");
  for (int64_t g = 0; g < c.grid(); ++g) {
    const auto ua = dt.user_aware[g].to(torch::kFloat64) / rules.d_max;
    const auto ev = dt.eve_noisy[g].to(torch::kFloat64) / rules.d_max;
    const double below = (ua < rules.epsilon).to(torch::kFloat64).mean().item<double>();
    const double above = (ev >= rules.epsilon).to(torch::kFloat64).mean().item<double>();
    csv.row(fmt::format("{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g}", c.bits(g),
                        dt.user_plain[g].mean().item<double>(), dt.user_aware[g].mean().item<double>(),
                        quantile_of(dt.user_aware[g], 0.99), dt.user_aware[g].max().item<double>(),
                        dt.eve_noisy[g].mean().item<double>(), quantile_of(dt.eve_noisy[g], 0.01),
                        dt.eve_noisy[g].min().item<double>(), below, above));
    log::info("codec b={}: MSE user plain {:.4f}, user aware {:.4f} (max {:.4f}), Eve {:.4f} (min {:.4f}); "
              "G_u < eps {:.1f}%, G_e >= eps {:.1f}%",
              c.bits(g), dt.user_plain[g].mean().item<double>(), dt.user_aware[g].mean().item<double>(),
              dt.user_aware[g].max().item<double>(), dt.eve_noisy[g].mean().item<double>(),
              dt.eve_noisy[g].min().item<double>(), 100 * below, 100 * above);
  }
  csv.close();
  log::info("codec ready in {:.1f} s", train_s);
  return c;
}

// Episodes after which the task reliability stays within `tol` of its final value.
int64_t converged_episode(const std::vector<double>& reliability, double tol) {
  if (reliability.empty()) return 0;
  const double last = reliability.back();
  int64_t e = static_cast<int64_t>(reliability.size());
  while (e > 0 && std::abs(reliability[static_cast<size_t>(e - 1)] - last) <= tol) --e;
  return e + 1;  // 1-based episode count
}

std::string summary_row(const std::string& method, const Env& env, const Summary& s, int64_t episodes,
                        int64_t converged) {
  return fmt::format("{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{},{}", method,
                     env.antennas, env.tau, s.clssr_ksut, s.reliability, s.secure, s.timely, s.mean_b, s.g_user,
                     s.g_eve, s.r_u_mbps, s.reward, episodes, converged);
}

struct AgentSettings {
  int64_t episodes = 1, steps = 1;
  double stay_prob = 0.5, explore = 0.1, gamma = 0.9, gain_weight = 1.0, converge_tol_pct = 2.0;
  bool all_actions = true;
};

struct AgentResult {
  Summary final_summary;
  int64_t converged_episode = 0;
};

// Trains one policy-iteration agent (cl_ss or pl_ss) for `env`, scoring the greedy policy on the
// evaluation tasks after every episode (one episodes.csv row each).
AgentResult train_agent(const Codec& codec, const Env& env, const Rules& rules, Method method,
                        const std::string& method_name, const AgentSettings& agent, const Tasks& eval,
                        CsvWriter& episodes_csv, torch::Device device) {
  const int64_t gsize = codec.grid(), steps = agent.steps;
  const rl::MdpSizes sizes{static_cast<int64_t>(codec.by_class.size()), env.num_channel_states(),
                           env.num_beams * gsize};
  const std::vector<int64_t> eval_states = channel_states(env, eval);
  // The policy's (beam, codec point) for each task.
  auto act = [&](const std::vector<int64_t>& cls, const std::vector<int64_t>& states,
                 const std::vector<int64_t>& policy, std::vector<int64_t>& beams, std::vector<int64_t>& gsel) {
    beams.resize(cls.size());
    gsel.resize(cls.size());
    for (size_t i = 0; i < cls.size(); ++i) {
      const int64_t a = policy[static_cast<size_t>(cls[i] * sizes.num_channel_states + states[i])];
      beams[i] = a / gsize;
      gsel[i] = a % gsize;
    }
  };
  rl::TabularModel model(sizes);
  const rng::Key key = rng::make_key(env.seed);
  // The untrained agent: a uniformly random action in every state.
  std::vector<int64_t> policy(static_cast<size_t>(sizes.num_states()));
  for (int64_t st = 0; st < sizes.num_states(); ++st) {
    const rng::Philox4 w = rng::draw(key, rng::kStreamPolicy, 0xFFFFFFFFu, static_cast<uint32_t>(st), 0);
    policy[static_cast<size_t>(st)] = uniform_index(rng::to_unit(w.v[0]), sizes.num_actions);
  }
  AgentResult result;
  std::vector<double> reliability;
  for (int64_t ep = 0; ep < agent.episodes; ++ep) {
    const auto step = static_cast<uint32_t>(ep);
    const Tasks tasks =
        draw_tasks(codec, env, steps, agent.stay_prob, rng::kStreamSource, rng::kStreamLink, step, device);
    const std::vector<int64_t> states = channel_states(env, tasks);
    auto record = [&](const std::vector<int64_t>& beams, const std::vector<int64_t>& gsel) {
      const Outcome out =
          run_tasks(codec, env, rules, method, tasks, beams, gsel, agent.gain_weight, rng::kStreamLink, step);
      for (size_t u = 0; u < static_cast<size_t>(steps); ++u) {
        model.add_reward(tasks.cls[u] * sizes.num_channel_states + states[u], beams[u] * gsize + gsel[u],
                         out.reward[u]);
      }
    };
    if (agent.all_actions) {
      // Monte-Carlo estimate of every action's reward on the same tasks, channels and noise.
      for (int64_t a = 0; a < sizes.num_actions; ++a) {
        record(std::vector<int64_t>(static_cast<size_t>(steps), a / gsize),
               std::vector<int64_t>(static_cast<size_t>(steps), a % gsize));
      }
    } else {
      std::vector<int64_t> beams, gsel;
      act(tasks.cls, states, policy, beams, gsel);
      for (int64_t i = 0; i < steps; ++i) {  // epsilon-greedy exploration
        const rng::Philox4 w = rng::draw(key, rng::kStreamPolicy, step, static_cast<uint32_t>(i), 0);
        if (rng::to_unit(w.v[0]) < agent.explore) {
          const int64_t a = uniform_index(rng::to_unit(w.v[1]), sizes.num_actions);
          beams[static_cast<size_t>(i)] = a / gsize;
          gsel[static_cast<size_t>(i)] = a % gsize;
        }
      }
      record(beams, gsel);
    }
    for (size_t u = 0; u < static_cast<size_t>(steps); ++u) {
      model.add_channel_state(states[u]);
      if (u + 1 < static_cast<size_t>(steps)) model.add_class_transition(tasks.cls[u], tasks.cls[u + 1]);
    }
    const rl::PolicyIterationResult pi = rl::policy_iteration(model, agent.gamma, policy);
    policy = pi.policy;
    std::vector<int64_t> eb, eg;
    act(eval.cls, eval_states, policy, eb, eg);
    const Summary s = summarise(run_tasks(codec, env, rules, method, eval, eb, eg, agent.gain_weight,
                                          rng::kStreamLink + rng::kStreamEvalOffset, 0));
    episodes_csv.row(fmt::format("{},{},{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{},{}", method_name,
                                 env.antennas, env.tau, ep + 1, s.reliability, s.secure, s.timely, s.clssr_ksut,
                                 s.reward, s.mean_b, pi.changed_first, model.visited_pairs()));
    reliability.push_back(s.reliability);
    result.final_summary = s;
  }
  result.converged_episode = converged_episode(reliability, agent.converge_tol_pct);
  return result;
}

}  // namespace

config::Schema clssr_schema() {
  config::Schema s;
  s.add_string("experiment.name", "clssr", {}, "name of the experiment (run directory runs/<name>/<time>)")
      .add_int("seed", 0, 0, 4294967295LL, "seed of every draw (codec init, data order, tasks, channels, exploration)")
      .add_string("data.root", "", {}, "directory with the MNIST-format IDX files (empty: the embedded Fashion-MNIST)")
      .add_int("data.train_limit", 0, 0, config::kIntMax, "use the first N training images (0 = all)")
      .add_int("data.test_limit", 0, 0, config::kIntMax, "use the first N test images as task images (0 = all)")
      .add_int("codec.num_symbols", 16, 1, 4096, "semantic symbols n per image")
      .add_int("codec.symbol_dim", 4, 1, 1024, "dimension of one semantic symbol / codeword")
      .add_int("codec.hidden", 256, 1, 65536, "hidden width of the encoder and decoders")
      .add_int("codec.b_min", 2, 1, 12, "fewest index bits b per symbol (b_min of eq. 9c)")
      .add_int("codec.b_max", 6, 1, 12, "most index bits b per symbol (b_max of eq. 9c); one codec per b")
      .add_int("codec.batch_size", 128, 1, 1 << 20, "codec training batch")
      .add_int("codec.pretrain_epochs", 6, 0, 100000, "epochs of codec pretraining (encoder, codebooks, decoder)")
      .add_float("codec.lr", 2e-3, 0.0, 10.0, "codec pretraining learning rate (Adam)")
      .add_float("codec.commitment", 0.25, 0.0, 100.0, "VQ commitment weight")
      .add_int("codec.noise_epochs", 5, 0, 100000, "epochs of semantic-noise training (Delta z and the aware decoder)")
      .add_float("codec.noise_lr", 1e-2, 0.0, 10.0, "learning rate of the semantic noise Delta z")
      .add_float("codec.aware_lr", 1e-3, 0.0, 10.0, "learning rate of the noise-aware user decoder")
      .add_float("codec.noise_init_std", 0.5, 0.0, 100.0, "std of the initial semantic noise Delta z")
      .add_float("codec.eve_margin", 0.12, 0.0, 1.0, "per-image MSE Eve's reconstruction is pushed above (hinge)")
      .add_float("codec.eve_weight", 4.0, 0.0, 1e6, "weight of Eve's hinge in the semantic-noise loss")
      .add_float("codec.noise_commitment", 1.0, 0.0, 1e6,
                 "weight keeping encode(x) + Delta z near its codeword (stops Delta z from leaving the codebook)")
      .add_string("codec.init_from", "", {}, "codec.ckpt of an earlier clssr run to reuse instead of training")
      .add_int("task.images", 4, 1, 4096, "images K per task (one class); the task's distortion is their mean MSE")
      .add_float("task.distortion_max", 1.0, 1e-12, 1e12, "d_max of eq. 4 (per-image MSE of images in [0, 1] is <= 1)")
      .add_float("task.epsilon", 0.06, 1e-12, 1.0, "task threshold epsilon of Definition 1 on G = MSE / d_max")
      .add_float("task.deadline_s", clssr::kDefaultDeadlineS, 0.0, 1e6, "timeliness deadline of eq. 14: n b / delivery rate <= deadline")
      .add_float("source.stay_prob", 0.5, 0.0, 1.0, "P^S: probability that the next task has the same class")
      .extend(link_geometry_schema(default_clssr_link()))
      .add_string_list("clssr.methods", {"cl_ss", "pl_ss", "ao"}, {"cl_ss", "pl_ss", "ao"},
                       "cl_ss (RL, semantic noise), pl_ss (RL, physical-layer security only), ao (alternating "
                       "optimisation with semantic noise)")
      .add_string_list("clssr.antennas", {"mimo", "miso"}, {"mimo", "miso"},
                       "mimo = 2 receive antennas, miso = 1 (channel.num_rx is set from this)")
      .add_string_list("clssr.ao_antennas", {"mimo"}, {"mimo", "miso"}, "antenna sets the ao baseline runs with")
      .add_float_list("clssr.tau", {1, 2, 3, 4, 5}, 1e-6, 1e6, "noise factors tau (P = tau P0)")
      .add_int("rl.episodes", 30, 1, 1000000, "training episodes per (method, antennas, tau)")
      .add_int("rl.steps_per_episode", 64, 1, 1 << 24, "tasks (time stamps) per episode")
      .add_string("rl.experience", "all_actions", {"all_actions", "epsilon_greedy"},
                  "all_actions: every task of an episode is simulated under every action (Monte-Carlo estimates "
                  "of r(s, a) on common random numbers); epsilon_greedy: only the action the agent takes")
      .add_float("rl.explore", 0.1, 0.0, 1.0, "epsilon-greedy exploration probability (rl.experience=epsilon_greedy)")
      .add_float("rl.gamma", 0.9, 0.0, 0.999999, "reward discount factor gamma of eq. 10")
      .add_float("rl.gain_weight", 1.0, 0.0, 1e6, "weight of the channel term of the reward")
      .add_float_list("rl.snr_levels_db", {15.0}, -100.0, 200.0, "user SNR thresholds (dB) of the channel state")
      .add_float("rl.converge_tol", 0.02, 0.0, 1.0, "convergence: reliability within this of its final value")
      .add_int("eval.tasks", 500, 1, 1 << 24, "evaluation tasks (the same ones after every episode)");
  return s;
}

int run_clssr(const config::Config& cfg, const std::string& run_dir, torch::Device device, const ClssrOptions& options) {
  if (cfg.was_given("channel.num_rx")) {
    fail("channel.num_rx: not used by semsec clssr ({}); clssr.antennas chooses mimo (2) or miso (1)",
         cfg.origin("channel.num_rx"));
  }
  const link::LinkConfig base_link = link_config(cfg);
  if (base_link.scheme != link::Scheme::kBeamAlamouti && base_link.scheme != link::Scheme::kBeamforming) {
    fail("channel.scheme: semsec clssr needs a scheme with beams (beam_alamouti or beamforming), got {} ({})",
         link::scheme_name(base_link.scheme), cfg.origin("channel.scheme"));
  }
  const Rules rules{cfg.get_float("task.epsilon"), cfg.get_float("task.distortion_max"), cfg.get_float("task.deadline_s")};
  if (cfg.get_string_list("clssr.methods").empty()) fail("clssr.methods: expected at least one method");
  if (cfg.get_string_list("clssr.antennas").empty()) fail("clssr.antennas: expected at least one of mimo, miso");
  if (cfg.get_float_list("clssr.tau").empty()) fail("clssr.tau: expected at least one noise factor");

  const Codec codec = build_codec(cfg, rules, run_dir, device);
  AgentSettings agent;
  agent.episodes = cfg.get_int("rl.episodes");
  agent.steps = cfg.get_int("rl.steps_per_episode");
  agent.stay_prob = cfg.get_float("source.stay_prob");
  agent.explore = cfg.get_float("rl.explore");
  agent.gamma = cfg.get_float("rl.gamma");
  agent.gain_weight = cfg.get_float("rl.gain_weight");
  agent.all_actions = cfg.get_string("rl.experience") == "all_actions";
  agent.converge_tol_pct = 100.0 * cfg.get_float("rl.converge_tol");
  const int64_t eval_tasks = cfg.get_int("eval.tasks");
  const double stay = agent.stay_prob, gain_weight = agent.gain_weight;
  const auto seed = static_cast<uint64_t>(cfg.get_int("seed"));

  CsvWriter episodes_csv(fs::join(run_dir, "episodes.csv"),
                         "method,antennas,tau,episode,task_reliability,secure_rate,timely_rate,clssr_ksut,"
                         "mean_reward,mean_b,policy_changes,visited_pairs");
  CsvWriter summary_csv(fs::join(run_dir, "summary.csv"),
                        "method,antennas,tau,clssr_ksut,task_reliability,secure_rate,timely_rate,mean_b,mean_g_user,"
                        "mean_g_eve_min,r_u_mbps,mean_reward,episodes,converged_episode");

  for (const std::string& method_name : cfg.get_string_list("clssr.methods")) {
    const Method method = parse_method(method_name);
    const auto& antenna_list =
        method == Method::kAo ? cfg.get_string_list("clssr.ao_antennas") : cfg.get_string_list("clssr.antennas");
    for (const std::string& antennas : antenna_list) {
      for (double tau : cfg.get_float_list("clssr.tau")) {
        Env env;
        env.link = base_link;
        env.link.num_rx = antennas == "mimo" ? 2 : 1;
        env.antennas = antennas;
        env.tau = tau;
        env.num_beams = env.link.num_beams;
        env.num_receivers = link::num_receivers(env.link);
        env.user_mean_gain = link::large_scale_gains(env.link)[0] * env.link.num_rx;
        env.snr_levels_db = cfg.get_float_list("rl.snr_levels_db");
        env.seed = seed;
        env.images_per_task = cfg.get_int("task.images");
        const auto t0 = std::chrono::steady_clock::now();
        // The evaluation tasks: the same ones after every episode, from the evaluation streams.
        const Tasks eval = draw_tasks(codec, env, eval_tasks, stay, rng::kStreamSource + rng::kStreamEvalOffset,
                                      rng::kStreamLink + rng::kStreamEvalOffset, 0, device);
        Summary final_summary;
        int64_t converged = 0;
        if (method == Method::kAo) {
          std::vector<int64_t> beams, gsel;
          ao_actions(codec, env, rules, eval, beams, gsel);
          final_summary = summarise(run_tasks(codec, env, rules, method, eval, beams, gsel, gain_weight,
                                              rng::kStreamLink + rng::kStreamEvalOffset, 0));
          summary_csv.row(summary_row(method_name, env, final_summary, 0, 0));
        } else {
          const AgentResult r = train_agent(codec, env, rules, method, method_name, agent, eval, episodes_csv, device);
          final_summary = r.final_summary;
          converged = r.converged_episode;
          summary_csv.row(summary_row(method_name, env, final_summary, agent.episodes, converged));
        }
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        log::info("{:5} {:4} tau {:g}: CLSSR {:.2f} ksut/s, task reliability {:.1f}%, secure {:.1f}%, timely {:.1f}%, "
                  "mean b {:.2f}{} ({:.1f} s)",
                  method_name, antennas, tau, final_summary.clssr_ksut, final_summary.reliability,
                  100 * final_summary.secure, 100 * final_summary.timely, final_summary.mean_b,
                  method == Method::kAo ? "" : fmt::format(", converged after {} episodes", converged), secs);
      }
    }
  }
  episodes_csv.close();
  summary_csv.close();

  const std::string script = fs::join(fs::join(options.source_dir, "scripts"), "plot_clssr.py");
  if (!options.python.empty() && fs::exists(options.python) && fs::exists(script)) {
    const std::string cmd = fmt::format("'{}' '{}' '{}' > '{}' 2>&1", options.python, script, run_dir,
                                        fs::join(run_dir, "plot.log"));
    if (std::system(cmd.c_str()) == 0) {
      std::vector<std::string> drawn;
      for (const char* f : {"fig2.png", "fig3.png"}) {
        if (fs::is_file(fs::join(run_dir, f))) drawn.push_back(fs::join(run_dir, f));
      }
      log::info("figures: {}", fmt::join(drawn, ", "));
    } else {
      log::info("figures not drawn (see {}/plot.log); the CSV files are complete", run_dir);
    }
  } else {
    log::info("no python with matplotlib found: figures not drawn (scripts/plot_clssr.py RUN_DIR draws them)");
  }
  return 0;
}

}  // namespace semsec::trainers
