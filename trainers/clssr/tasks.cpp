// The CLSSR task model: drawing tasks and their channels, sending and decoding them over the
// geometric link and scoring them (eq. 2-8, 14), and the alternating-optimisation baseline.
#include "trainers/clssr/tasks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/errors.h"
#include "kernels/philox.h"
#include "trainers/clssr/metrics.h"

namespace semsec::trainers::clssr {

namespace {

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

}  // namespace

Method parse_method(const std::string& m) {
  if (m == "cl_ss") return Method::kClSs;
  if (m == "pl_ss") return Method::kPlSs;
  if (m == "ao_stat") return Method::kAoStat;
  return Method::kAo;  // the schema restricts the choices
}

link::LinkConfig default_clssr_link() {
  link::LinkConfig c;
  c.scheme = link::Scheme::kBeamAlamouti;
  c.num_tx = 4;
  c.num_rx = 2;
  c.num_beams = 4;
  c.path_loss_exponent = 4.0;
  return c;
}

Rules rules_from_config(const config::Config& cfg) {
  return Rules{cfg.get_float("task.epsilon"), cfg.get_float("task.distortion_max"), cfg.get_float("task.deadline_s"),
               semsec::clssr::parse_omega_reading(cfg.get_string("clssr.omega"))};
}

Env make_env(const config::Config& cfg, const link::LinkConfig& base_link, const std::string& antennas, double tau,
             uint64_t seed) {
  Env env;
  env.link = base_link;
  env.link.num_rx = antennas == "mimo" ? 2 : 1;
  env.antennas = antennas;
  env.tau = tau;
  env.num_beams = env.link.num_beams;
  env.num_receivers = link::num_receivers(env.link);
  for (double g : link::large_scale_gains(env.link)) env.mean_gains.push_back(g * static_cast<double>(env.link.num_rx));
  env.user_mean_gain = env.mean_gains[0];
  env.snr_levels_db = cfg.get_float_list("rl.snr_levels_db");
  env.seed = seed;
  env.images_per_task = cfg.get_int("task.images");
  return env;
}

std::string setting_columns(uint64_t seed, const std::string& method, const Env& env) {
  return fmt::format("{},{},{},{},{},{},{}", seed, method, env.antennas, env.tau, env.link.path_loss_exponent,
                     env.link.eves.at(0).x_m, env.link.eves.at(0).y_m);
}

Summary summarise(const Outcome& o) {
  const size_t n_tasks = o.omega.size();
  for (size_t size : {o.reward.size(), o.g_user.size(), o.b.size(), o.omega_literal.size(), o.omega_monotone.size(),
                      o.g_eve_min.size(), o.r_u.size(), o.secure.size(), o.timely.size(), o.eve_image_leak.size()}) {
    if (size != n_tasks) fail("clssr: an Outcome's per-task vectors differ in length ({} and {})", n_tasks, size);
  }
  Summary s;
  const auto n = static_cast<double>(o.omega.size());
  int64_t ok = 0;
  for (size_t t = 0; t < o.omega.size(); ++t) {
    s.clssr_ksut += o.omega[t] / 1e3;
    s.clssr_literal_ksut += o.omega_literal[t] / 1e3;
    s.clssr_monotone_ksut += o.omega_monotone[t] / 1e3;
    s.eve_image_leak += o.eve_image_leak[t];
    s.secure += o.secure[t];
    s.timely += o.timely[t];
    ok += (o.secure[t] && o.timely[t]) ? 1 : 0;
    s.mean_b += o.b[t];
    s.g_user += o.g_user[t];
    s.g_eve += o.g_eve_min[t];
    s.r_u_mbps += o.r_u[t] / 1e6;
    s.reward += o.reward[t];
  }
  s.reliability = semsec::clssr::task_reliability(ok, static_cast<int64_t>(o.omega.size()));
  for (double* v : {&s.clssr_ksut, &s.clssr_literal_ksut, &s.clssr_monotone_ksut, &s.eve_image_leak, &s.secure,
                    &s.timely, &s.mean_b, &s.g_user, &s.g_eve, &s.r_u_mbps, &s.reward})
    *v /= n;
  return s;
}

int64_t uniform_index(double u, int64_t n) { return std::min(n - 1, static_cast<int64_t>(u * static_cast<double>(n))); }

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
      const rng::Philox4 wj =
          rng::draw(key, source_stream, step, static_cast<uint32_t>(i), static_cast<uint32_t>(1 + j / 4));
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

namespace {

// What the receivers got: decided indices [R, rows, K n] and the effective gain of the beam used
// [R, rows] of every row.
struct Received {
  torch::Tensor idx, gain;
};

// Sends the rows. Each b sends only its own rows, each with its task's index as its noise counter:
// a task sees the same noise whatever b the other rows (or itself under another b) use, and
// whatever else shares the batch.
Received send_rows(const Codec& codec, const Env& env, const std::vector<double>& taus, Method method, const Tasks& t,
                   const TaskRows& rows, uint32_t link_stream, uint32_t step) {
  const int64_t n_rows = rows.size(), n_sym = env.images_per_task * codec.sizes.num_symbols;
  const torch::Device device = t.h.device();
  const torch::Tensor& source = method == Method::kPlSs ? codec.idx_plain : codec.idx_noisy;
  Received rx{torch::zeros({env.num_receivers, n_rows, n_sym}, torch::dtype(torch::kInt64).device(device)),
              torch::zeros({env.num_receivers, n_rows}, torch::dtype(torch::kFloat64).device(device))};
  for (int64_t g = 0; g < codec.grid(); ++g) {
    std::vector<int64_t> picked, task_of_row, beam_of_row;
    std::vector<double> tau_of_row;
    for (int64_t j = 0; j < n_rows; ++j) {
      const auto u = static_cast<size_t>(j);
      if (rows.gsel[u] != g) continue;
      picked.push_back(j);
      task_of_row.push_back(rows.task[u]);
      beam_of_row.push_back(rows.beam[u]);
      tau_of_row.push_back(taus.at(static_cast<size_t>(rows.setting[u])));
    }
    if (picked.empty()) continue;
    const auto picked_t = torch::tensor(picked, torch::kInt64).to(device);
    const auto task_t = torch::tensor(task_of_row, torch::kInt64).to(device);
    const auto m = static_cast<int64_t>(picked.size());
    const auto bits = models::indices_to_bits(
        source[g].index_select(0, t.image.index_select(0, task_t).flatten()).view({m, n_sym}), codec.bits(g));
    const link::LinkOutput out = link::transmit(
        env.link, bits, t.h.index_select(1, task_t), torch::tensor(beam_of_row, torch::kInt64).to(device),
        torch::tensor(tau_of_row, torch::kFloat64).to(device), env.seed, step, link_stream, task_t);
    rx.idx.index_copy_(1, picked_t, models::bits_to_indices(out.rx_bits, codec.bits(g)));
    rx.gain.index_copy_(1, picked_t, out.gain);
  }
  return rx;
}

// Per row, float64 on the CPU: the user's task distortion (mean per-image MSE over the K images)
// [rows], every Eve's [(R - 1) rows], and the smallest per-image MSE any Eve reaches [rows].
struct Distortions {
  torch::Tensor user, eve, eve_best_image;
};

Distortions decode_rows(const Codec& codec, const Env& env, Method method, const Tasks& t, const TaskRows& rows,
                        const torch::Tensor& rx_idx) {
  const int64_t r_count = env.num_receivers, k_img = env.images_per_task, n_img = codec.sizes.num_symbols;
  const int64_t n_rows = rows.size();
  const auto task_t = torch::tensor(rows.task, torch::kInt64).to(t.image.device());
  const auto images = codec.images.index_select(0, t.image.index_select(0, task_t).flatten());  // [rows K, D]
  auto to_cpu = [](const torch::Tensor& x) { return x.to(torch::kFloat64).to(torch::kCPU).contiguous(); };
  // Codec point of every image of every row, receiver by receiver.
  std::vector<int64_t> g_img;
  for (int64_t g : rows.gsel) g_img.insert(g_img.end(), k_img, g);
  const bool aware = method != Method::kPlSs;
  const auto user_image_mse =
      (decode_tasks(codec, aware, rx_idx[0].reshape({n_rows * k_img, n_img}), g_img) - images).pow(2).mean(-1);
  std::vector<int64_t> g_eves;
  for (int64_t r = 1; r < r_count; ++r) g_eves.insert(g_eves.end(), g_img.begin(), g_img.end());
  const auto eve_image_mse =  // [(R - 1) rows K]
      (decode_tasks(codec, false, rx_idx.slice(0, 1).reshape({(r_count - 1) * n_rows * k_img, n_img}), g_eves) -
       images.repeat({r_count - 1, 1}))
          .pow(2)
          .mean(-1);
  return Distortions{to_cpu(user_image_mse.view({-1, k_img}).mean(1)), to_cpu(eve_image_mse.view({-1, k_img}).mean(1)),
                     to_cpu(eve_image_mse.view({r_count - 1, n_rows, k_img}).amin(2).amin(0))};
}

}  // namespace

void TaskRows::add(int64_t task_index, int64_t setting_index, int64_t beam_index, int64_t g) {
  task.push_back(task_index);
  setting.push_back(setting_index);
  beam.push_back(beam_index);
  gsel.push_back(g);
}

void copy_task(const Outcome& from, size_t i, Outcome& to, size_t j) {
  auto put = [&](auto Outcome::*field) {
    auto& dst = to.*field;
    if (dst.size() <= j) dst.resize(j + 1);
    dst[j] = (from.*field).at(i);
  };
  put(&Outcome::reward);
  put(&Outcome::omega);
  put(&Outcome::g_user);
  put(&Outcome::b);
  put(&Outcome::omega_literal);
  put(&Outcome::omega_monotone);
  put(&Outcome::g_eve_min);
  put(&Outcome::r_u);
  put(&Outcome::secure);
  put(&Outcome::timely);
  put(&Outcome::eve_image_leak);
}

Outcome run_rows(const Codec& codec, const Env& env, const std::vector<double>& taus, const Rules& rules,
                 Method method, const Tasks& t, const TaskRows& rows, double gain_weight, uint32_t link_stream,
                 uint32_t step) {
  torch::NoGradGuard no_grad;
  const int64_t n_rows = rows.size();
  for (const std::vector<int64_t>* v : {&rows.setting, &rows.beam, &rows.gsel}) {
    if (static_cast<int64_t>(v->size()) != n_rows) fail("clssr: run_rows: the rows' fields differ in length");
  }
  Outcome o;
  if (n_rows == 0) return o;
  const Received rx = send_rows(codec, env, taus, method, t, rows, link_stream, step);
  const Distortions d = decode_rows(codec, env, method, t, rows, rx.idx);
  const auto gain_cpu = rx.gain.to(torch::kCPU).contiguous();
  const double* gp = gain_cpu.data_ptr<double>();
  const double* mu = d.user.data_ptr<double>();
  const double* me = d.eve.data_ptr<double>();
  const double* eb = d.eve_best_image.data_ptr<double>();
  const double bw = env.link.bandwidth_hz;
  for (int64_t j = 0; j < n_rows; ++j) {
    const double tau = taus.at(static_cast<size_t>(rows.setting[static_cast<size_t>(j)]));
    semsec::clssr::TaskInputs in;
    in.r_u = semsec::clssr::rate_from_snr(bw, gp[j] / tau);
    in.g_u = semsec::clssr::normalized_distortion(mu[j], rules.d_max);
    in.n = env.images_per_task * codec.sizes.num_symbols;
    in.b = codec.bits(rows.gsel[static_cast<size_t>(j)]);
    in.epsilon = rules.epsilon;
    in.deadline_s = rules.deadline_s;
    in.omega = rules.omega;
    double channel_term = 0.0, g_eve_min = 1.0;
    for (int64_t r = 1; r < env.num_receivers; ++r) {
      const double g_e = semsec::clssr::normalized_distortion(me[(r - 1) * n_rows + j], rules.d_max);
      g_eve_min = std::min(g_eve_min, g_e);
      // PL-SS: no application-layer branch, Eve is taken to complete the task whenever R^S = 0.
      in.eves.push_back(
          {semsec::clssr::rate_from_snr(bw, gp[r * n_rows + j] / tau), method == Method::kPlSs ? 0.0 : g_e});
      channel_term += (gp[j] - gp[r * n_rows + j]) / env.user_mean_gain;
    }
    const semsec::clssr::TaskEvaluation ev = semsec::clssr::evaluate_task(in);
    o.omega.push_back(ev.omega);
    o.omega_literal.push_back(ev.omega_literal);
    o.omega_monotone.push_back(ev.omega_monotone);
    o.eve_image_leak.push_back(semsec::clssr::normalized_distortion(eb[j], rules.d_max) < rules.epsilon ? 1 : 0);
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

std::vector<Outcome> run_tasks_at(const Codec& codec, const Env& env, const std::vector<double>& taus,
                                  const Rules& rules, Method method, const Tasks& t, const std::vector<int64_t>& beams,
                                  const std::vector<int64_t>& gsel, double gain_weight, uint32_t link_stream,
                                  uint32_t step) {
  const int64_t n_tasks = t.size(), n_set = static_cast<int64_t>(taus.size()), n_rows = n_set * n_tasks;
  if (n_set < 1) fail("clssr: run_tasks_at needs at least one noise factor tau");
  if (static_cast<int64_t>(beams.size()) != n_rows || static_cast<int64_t>(gsel.size()) != n_rows) {
    fail("clssr: run_tasks_at needs a beam and a b for each of {} x {} rows, got {} and {}", n_set, n_tasks,
         beams.size(), gsel.size());
  }
  TaskRows rows;
  for (int64_t j = 0; j < n_rows; ++j) {
    rows.add(j % n_tasks, j / n_tasks, beams[static_cast<size_t>(j)], gsel[static_cast<size_t>(j)]);
  }
  const Outcome all = run_rows(codec, env, taus, rules, method, t, rows, gain_weight, link_stream, step);
  std::vector<Outcome> outcomes(static_cast<size_t>(n_set));
  for (int64_t j = 0; j < n_rows; ++j) {
    copy_task(all, static_cast<size_t>(j), outcomes[static_cast<size_t>(j / n_tasks)], static_cast<size_t>(j % n_tasks));
  }
  return outcomes;
}

Outcome run_tasks(const Codec& codec, const Env& env, const Rules& rules, Method method, const Tasks& t,
                  const std::vector<int64_t>& beams, const std::vector<int64_t>& gsel, double gain_weight,
                  uint32_t link_stream, uint32_t step) {
  return std::move(
      run_tasks_at(codec, env, {env.tau}, rules, method, t, beams, gsel, gain_weight, link_stream, step).front());
}

// ---- The AO baseline: (beam, b) from exact CSI and the codec's mean distortions ----

void ao_actions(const Codec& codec, const Env& env, const Rules& rules, const Tasks& t, std::vector<int64_t>& beams,
                std::vector<int64_t>& gsel, Method method) {
  const int64_t n = t.size(), k_count = env.num_beams, r_count = env.num_receivers;
  const bool statistical = method == Method::kAoStat;
  const double* gp = t.gains.data_ptr<double>();
  beams.assign(static_cast<size_t>(n), 0);
  gsel.assign(static_cast<size_t>(n), codec.grid() - 1);
  auto predicted = [&](int64_t i, int64_t k, int64_t g) {
    semsec::clssr::TaskInputs in;
    in.r_u = semsec::clssr::rate_from_snr(env.link.bandwidth_hz, gp[(0 * n + i) * k_count + k] / env.tau);
    in.g_u = codec.mean_g_user_aware[static_cast<size_t>(g)];
    for (int64_t r = 1; r < r_count; ++r) {
      const double eve_gain = statistical ? env.mean_gains[static_cast<size_t>(r)] : gp[(r * n + i) * k_count + k];
      in.eves.push_back({semsec::clssr::rate_from_snr(env.link.bandwidth_hz, eve_gain / env.tau),
                         codec.mean_g_eve[static_cast<size_t>(g)]});
    }
    in.n = env.images_per_task * codec.sizes.num_symbols;
    in.b = codec.bits(g);
    in.epsilon = rules.epsilon;
    in.deadline_s = rules.deadline_s;
    in.omega = rules.omega;
    return semsec::clssr::evaluate_task(in).omega;
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

}  // namespace semsec::trainers::clssr
