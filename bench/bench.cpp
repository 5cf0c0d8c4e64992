// `semsec bench`.
#include "bench/bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>

#include "core/errors.h"
#include "core/fs.h"
#include "core/progress.h"
#include "core/rundir.h"
#include "kernels/loss_ops.h"
#include "kernels/ops.h"
#include "models/gs_isac.h"
#include "models/security.h"
#include "trainers/grid_adam.h"
#include "trainers/gs_isac_trainer.h"
#include "trainers/isac_losses.h"
#include "trainers/graph_step.h"
#include "trainers/stage.h"
#include "trainers/isac_schema.h"

#ifdef SEMSEC_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace semsec::bench {
namespace {

constexpr int64_t kBatch = 256;

void sync(const torch::Device& d) {
#ifdef SEMSEC_WITH_CUDA
  if (d.is_cuda()) c10::cuda::device_synchronize();
#endif
}

// Median wall time of fn() in milliseconds.
double median_ms(const torch::Device& d, int warmup, int reps, const std::function<void()>& fn) {
  for (int i = 0; i < warmup; ++i) fn();
  sync(d);
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto a = std::chrono::steady_clock::now();
    fn();
    sync(d);
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Medians (ms) of several cases timed in turn, one call of each per repetition, so that the
// drift of a shared, noisy machine falls on all of them alike and their ratios stay fair.
// With block > 1 each case runs `block` times in a row and the first of them is not recorded
// (it pays for the caches the other case evicted, which a run on its own would not).
std::vector<double> interleaved_ms(const torch::Device& d, int warmup, int reps,
                                   const std::vector<std::function<void()>>& fns, int block = 1) {
  for (int i = 0; i < warmup; ++i)
    for (const auto& fn : fns) fn();
  sync(d);
  std::vector<std::vector<double>> t(fns.size());
  for (int i = 0; i < reps; i += std::max(1, block - 1)) {
    for (size_t k = 0; k < fns.size(); ++k) {
      for (int j = 0; j < block; ++j) {
        const auto a = std::chrono::steady_clock::now();
        fns[k]();
        sync(d);
        if (block == 1 || j > 0) {
          t[k].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
        }
      }
    }
  }
  std::vector<double> out;
  for (auto& v : t) {
    std::sort(v.begin(), v.end());
    out.push_back(v[v.size() / 2]);
  }
  return out;
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? std::nan("") : v[v.size() / 2];
}

std::vector<uint64_t> seeds_for(int64_t g) {
  std::vector<uint64_t> s;
  for (int64_t i = 0; i < g; ++i) s.push_back(static_cast<uint64_t>(i));
  return s;
}

// The channel of the default experiment configuration, built exactly as the trainer builds it.
kernels::IsacLinkParams link_params() {
  return trainers::link_params_from_config(config::Config::defaults(trainers::isac_schema()));
}

// The channel as a researcher composes it from ATen ops (bench/baseline.py's IsacChannel, batched
// over the grid): complex tensors, torch::randn draws, the same model and variances as isac_link.
// y_bs, y_ue, y_eve as [G, B, 2L] interleaved (re, im).
std::vector<torch::Tensor> aten_channel(const torch::Tensor& z, const torch::Tensor& phi, const torch::Tensor& snr_db,
                                        const kernels::IsacLinkParams& p) {
  const auto dev = z.device();
  const int64_t g = z.size(0), b = z.size(1), l = z.size(2), m = p.num_antennas;
  const auto cf = torch::TensorOptions().dtype(torch::kComplexFloat).device(dev);
  std::vector<c10::complex<float>> w_host;
  for (const auto& w : p.w) w_host.emplace_back(static_cast<float>(w.real()), static_cast<float>(w.imag()));
  const torch::Tensor w = torch::from_blob(w_host.data(), {m}, torch::kComplexFloat).to(dev);
  const torch::Tensor idx = torch::arange(m, z.options());
  const torch::Tensor a = torch::polar(torch::ones({g, b, m}, z.options()), 3.141592653589793 * idx * torch::sin(phi).unsqueeze(-1));
  const torch::Tensor sens = (a.conj() * w).sum(-1, true) * c10::complex<float>(p.alpha.real(), p.alpha.imag());
  const torch::Tensor snr = torch::pow(10.0, snr_db / 10.0).view({g, 1, 1});
  const torch::Tensor h_eff = (torch::randn({g, b, m}, cf).conj() * w).sum(-1, true);
  const torch::Tensor s_si = torch::randn({g, b, 1}, cf) * std::sqrt(p.si_residual_power);
  const torch::Tensor c = h_eff.conj() / (h_eff.abs().square() + 1.0 / snr);
  const double ps = 1.0 / static_cast<double>(l);
  const torch::Tensor sigma_bs = torch::sqrt(p.ref_gain_bs * ps / snr);
  const torch::Tensor sigma_eve = torch::sqrt(p.ref_gain_bs * ps / (snr * std::pow(10.0, p.eve_snr_offset_db / 10.0)));
  const torch::Tensor zc = z.to(torch::kComplexFloat);
  const torch::Tensor y_bs = (sens + s_si) * zc + torch::randn({g, b, l}, cf) * sigma_bs;
  const torch::Tensor y_ue = c * h_eff * zc + c * torch::randn({g, b, l}, cf) * torch::sqrt(ps / snr);
  const torch::Tensor y_eve = sens * zc + torch::randn({g, b, l}, cf) * sigma_eve;
  return {torch::view_as_real(y_bs).flatten(-2), torch::view_as_real(y_ue).flatten(-2),
          torch::view_as_real(y_eve).flatten(-2)};
}

// One training step of the general system (eq. 9) for G grid points on random data.
struct GeneralStep {
  GeneralStep(int64_t g, torch::Device d) : device(d), num_points(g) {
    net = models::GsIsac(seeds_for(g), models::GsIsacSizes{});
    net->to(d);
    std::vector<torch::Tensor> params = net->parameters();
    opt = std::make_unique<trainers::GridAdam>(params, std::vector<double>(static_cast<size_t>(g), 1e-4),
                                               trainers::AdamOptions{});
    auto f = torch::TensorOptions().device(d);
    x = torch::rand({g, kBatch, 784}, f);
    phi = (torch::rand({g, kBatch}, f) - 0.5) * 0.6981;
    snr = torch::full({g}, 15.0, f);
    seeds = torch::arange(g, f.dtype(torch::kInt64));
    counter = torch::zeros({1}, f.dtype(torch::kInt64));
    params_ = link_params();
    const auto cfg = config::Config::defaults(trainers::isac_schema());
    gamma_sen = torch::full({g}, cfg.get_float("train.gamma_sen"), f);
    gamma_com = torch::full({g}, cfg.get_float("train.gamma_com"), f);
  }
  // The trainer's step (trainers::train_step on trainers::general_losses) on a fixed batch.
  void operator()() {
    counter.add_(1);
    const auto channel = [&](const torch::Tensor& z) { return kernels::isac_link(z, phi, snr, seeds, counter, params_); };
    trainers::train_step(*opt, [&] { return trainers::general_losses(net, x, phi, channel, gamma_sen, gamma_com); });
  }
  torch::Device device;
  int64_t num_points;
  models::GsIsac net{nullptr};
  std::unique_ptr<trainers::GridAdam> opt;
  torch::Tensor x, phi, snr, seeds, counter;
  kernels::IsacLinkParams params_;
  torch::Tensor gamma_sen, gamma_com;  // [G], the defaults of the configuration
};

// One ARN training step (eq. 25-29) with the base system and Eve frozen.
struct ArnStep {
  ArnStep(int64_t g, torch::Device d) : base(g, d) {
    arn = models::PairedArn(seeds_for(g), models::ArnSizes{});
    eve = models::EveClassifier(seeds_for(g), int64_t{46}, std::vector<int64_t>{64, 32, 32}, int64_t{10}, uint32_t{192});
    arn->to(d);
    eve->to(d);
    for (auto& p : base.net->parameters()) p.set_requires_grad(false);
    for (auto& p : eve->parameters()) p.set_requires_grad(false);
    opt = std::make_unique<trainers::GridAdam>(arn->parameters(), std::vector<double>(static_cast<size_t>(g), 1e-4),
                                               trainers::AdamOptions{});
    labels = torch::randint(0, 10, {g, kBatch}, torch::TensorOptions().device(d).dtype(torch::kInt64));
    const auto cfg = config::Config::defaults(trainers::isac_schema());
    // tau of the default PSR over L = 23 symbols, as IsacExperiment sets it; the default weights.
    tau = torch::full({g}, std::pow(10.0, cfg.get_float("security.psr_db") / 10.0) / 23.0, torch::TensorOptions().device(d));
    auto full = [&](const char* key) { return torch::full({g}, cfg.get_float(key), torch::TensorOptions().device(d)); };
    weights = {full("security.lambda_pow"), full("security.lambda_sen"), full("security.lambda_com"),
               full("security.lambda_pri")};
  }
  // The trainer's step on trainers::arn_losses (eq. 25-29 with the default weights).
  void operator()() {
    base.counter.add_(1);
    const auto channel = [&](const torch::Tensor& z) {
      return kernels::isac_link(z, base.phi, base.snr, base.seeds, base.counter, base.params_);
    };
    trainers::train_step(*opt, [&] {
      return trainers::arn_losses(base.net, arn, eve, base.x, base.phi, labels, tau, channel, weights);
    });
  }
  GeneralStep base;
  models::PairedArn arn{nullptr};
  models::EveClassifier eve{nullptr};
  std::unique_ptr<trainers::GridAdam> opt;
  torch::Tensor labels, tau;
  trainers::ArnWeights weights;
};

// FLOPs of one general step per grid point: 2*B*in*out per GEMM, three GEMMs per layer and step
// (forward, weight gradient, input gradient), except that the first layer's input, the image,
// needs no gradient.
double general_step_flops() {
  const std::vector<std::pair<int, int>> layers{{784, 64}, {64, 64}, {64, 64}, {64, 23}, {46, 64}, {64, 64},
                                                {64, 64},  {64, 1},  {46, 16}, {16, 64}, {64, 16}, {16, 784}};
  double f = 0;
  for (const auto& [i, o] : layers) f += 3.0 * 2.0 * kBatch * i * o;
  return f - 2.0 * kBatch * layers[0].first * layers[0].second;
}

// The square sgemm that measures the machine's GEMM rate: n^3 multiply-adds.
struct Sgemm {
  explicit Sgemm(const torch::Device& d)
      : n(d.is_cuda() ? 4096 : 512),
        a(torch::randn({n, n}, torch::TensorOptions().device(d))),
        b(torch::randn({n, n}, torch::TensorOptions().device(d))) {}
  void operator()() const { (void)torch::mm(a, b); }
  double gflops(double ms) const { return 2.0 * static_cast<double>(n * n * n) / (ms * 1e-3) / 1e9; }
  int64_t n;
  torch::Tensor a, b;
};

double python_baseline_ms(const BenchOptions& o, const std::string& kase, int steps) {
  const std::string script = fs::join(o.source_dir, "bench/baseline.py");
  if (o.python.empty() || !fs::exists(o.python) || !fs::exists(script)) return std::nan("");
  const std::string cmd =
      fmt::format("'{}' '{}' --case {} --steps {} --warmup {} --batch {} --device {} --threads {} --synthetic --json 2>&1",
                  o.python, script, kase, steps, o.quick ? 3 : 10, kBatch, o.device.is_cuda() ? "cuda" : "cpu", at::get_num_threads());
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return std::nan("");
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  const auto pos = out.find("\"median_ms\":");
  if (pos == std::string::npos) {
    log::info("python baseline failed: {}", out.substr(0, 300));
    return std::nan("");
  }
  return std::stod(out.substr(pos + 12));
}

}  // namespace

int run_bench(const BenchOptions& o) {
  const torch::Device d = o.device;
  const int warm = o.quick ? 2 : 10, reps = o.quick ? 5 : 40;
  struct Row {
    std::string name;
    double ms;
    std::string ratio_of;  // name of the row this one is compared with
    std::string note;
  };
  std::vector<Row> rows;
  auto find = [&](const std::string& n) {
    for (const auto& r : rows)
      if (r.name == n) return r.ms;
    return std::nan("");
  };
  log::info("bench on {} ({} threads), batch {}", d.str(), at::get_num_threads(), kBatch);
  for (const auto& group : o.only) {
    if (group != "channel" && group != "loss" && group != "steps" && group != "grids" && group != "floor") {
      fail("bench --only: unknown group '{}' (expected channel, loss, steps, grids or floor)", group);
    }
  }
  auto wanted = [&](const std::string& group) {
    return o.only.empty() || std::find(o.only.begin(), o.only.end(), group) != o.only.end();
  };

  // (d) channel kernel vs the same channel composed of ATen ops (forward + backward).
  for (const int64_t g : {int64_t{1}, int64_t{16}}) {
    if (!wanted("channel")) break;
    auto f = torch::TensorOptions().device(d);
    const torch::Tensor z0 = torch::randn({g, kBatch, 23}, f);
    const torch::Tensor phi = (torch::rand({g, kBatch}, f) - 0.5) * 0.6981, snr = torch::full({g}, 15.0, f);
    const torch::Tensor seeds = torch::arange(g, f.dtype(torch::kInt64)), counter = torch::zeros({1}, f.dtype(torch::kInt64));
    const kernels::IsacLinkParams p = link_params();
    // A dense upstream gradient, as the decoders' first layers hand back in training. The channel
    // rows hand it to autograd directly (backward(y, v)), so they time the channel's forward and
    // backward and nothing else; the *_objective rows time the same with the objective
    // sum_r <y_r, v_r> formed by ATen ops and differentiated, as until the seventh session.
    const torch::Tensor v = torch::randn({3, g, kBatch, 2 * z0.size(2)}, f);
    auto run = [&](int kind, bool objective) {
      torch::Tensor z = z0.clone().requires_grad_(true);
      std::vector<torch::Tensor> y;
      if (kind == 0) {
        y = aten_channel(z, phi, snr, p);
      } else {
        const auto out = kind == 1 ? kernels::isac_link_reference(z, phi, snr, seeds, counter, p)
                                   : kernels::isac_link(z, phi, snr, seeds, counter, p);
        y = {out.y_bs, out.y_ue, out.y_eve};
      }
      if (objective) {
        ((y[0] * v[0]).sum() + (y[1] * v[1]).sum() + (y[2] * v[2]).sum()).backward();
      } else {
        torch::autograd::backward(y, {v[0], v[1], v[2]});
      }
    };
    const std::string a = fmt::format("channel_aten_G{}", g), r = fmt::format("channel_aten_philox_G{}", g),
                      b = fmt::format("channel_fused_G{}", g), ao = fmt::format("channel_aten_objective_G{}", g),
                      bo = fmt::format("channel_fused_objective_G{}", g);
    const auto ms = interleaved_ms(d, warm, reps,
                                   {[&] { run(0, false); }, [&] { run(1, false); }, [&] { run(2, false); },
                                    [&] {
                                      torch::NoGradGuard no_grad;
                                      (void)kernels::isac_link(z0, phi, snr, seeds, counter, p);
                                    },
                                    [&] { run(0, true); }, [&] { run(2, true); }});
    rows.push_back({a, ms[0], "", "ATen ops with torch::randn, as bench/baseline.py writes it, fwd+bwd"});
    rows.push_back({r, ms[1], "", "ATen ops on semsec's Philox draws (the test reference), fwd+bwd"});
    rows.push_back({b, ms[2], a, "fused semsec kernel, fwd+bwd"});
    rows.push_back({fmt::format("channel_fused_fwd_G{}", g), ms[3], "", "fused semsec kernel, forward only (no autograd)"});
    rows.push_back({ao, ms[4], "", "ATen ops with torch::randn, fwd + the objective + bwd"});
    rows.push_back({bo, ms[5], ao, "fused semsec kernel, fwd + the objective + bwd"});
  }

  // The UE's output layer and loss (SD_UE's last layer 16 -> 784, sigmoid, squared error) at G=16:
  // fused against the composed ops. The fused op reads the images once and writes no [G, B, 784]
  // tensor, so GB/s over the images shows how close to memory bandwidth it runs.
  if (wanted("loss")) {
    const int64_t g = 16, k = 16, dim = 784;
    auto f = torch::TensorOptions().device(d);
    const torch::Tensor h = torch::rand({g, kBatch, k}, f).requires_grad_(true);
    const torch::Tensor w = (torch::randn({g, k, dim}, f) * 0.25).requires_grad_(true);
    const torch::Tensor b = (torch::randn({g, 1, dim}, f) * 0.25).requires_grad_(true);
    const torch::Tensor x = torch::rand({g, kBatch, dim}, f);
    const auto ms = interleaved_ms(
        d, warm, reps,
        {[&] { (torch::sigmoid(torch::baddbmm(b, h, w)) - x).square().mean({1, 2}).sum().backward(); },
         [&] { kernels::linear_sigmoid_mse(h, w, b, x).sum().backward(); },
         [&] {
           torch::NoGradGuard no_grad;
           (void)kernels::linear_sigmoid_mse(h, w, b, x);
         }});
    const double mb = static_cast<double>(g * kBatch * dim) * 4.0 / 1e6;  // the [G, B, 784] float images
    rows.push_back({"loss_composed_G16", ms[0], "", "baddbmm, sigmoid, squared error, mean; fwd+bwd"});
    rows.push_back({"loss_fused_G16", ms[1], "loss_composed_G16",
                    fmt::format("fused fwd+bwd, images read at {:.1f} GB/s", mb / ms[1])});
    rows.push_back({"loss_fused_fwd_G16", ms[2], "", fmt::format("fused forward, images read at {:.1f} GB/s", mb / ms[2])});
  }

  // (b) single-run steps, (a) the Python baseline of the same steps: rounds of (Python script,
  // semsec), medians over the rounds, so both see the same machine load.
  if (wanted("steps")) {
    GeneralStep s(1, d);
    ArnStep a(1, d);
    std::vector<double> py_g, py_a, ours_g, ours_a;
    for (int round = 0; round < (o.quick ? 1 : 3); ++round) {
      py_g.push_back(python_baseline_ms(o, "general", o.quick ? 10 : 60));
      py_a.push_back(python_baseline_ms(o, "arn", o.quick ? 10 : 60));
      const auto ms = interleaved_ms(d, warm, reps, {[&] { s(); }, [&] { a(); }});
      ours_g.push_back(ms[0]);
      ours_a.push_back(ms[1]);
    }
    rows.push_back({"python_general_step", median_of(py_g), "", "plain PyTorch script"});
    rows.push_back({"semsec_general_step", median_of(ours_g), "python_general_step", "G=1"});
    rows.push_back({"python_arn_step", median_of(py_a), "", "plain PyTorch script"});
    rows.push_back({"semsec_arn_step", median_of(ours_a), "python_arn_step", "G=1"});
    if (d.is_cuda()) {
      // The same step captured once as a CUDA graph and replayed (train.cuda_graph).
      trainers::GraphedStep graphed(d);
      const auto graph_ms = interleaved_ms(d, warm, reps, {[&] { s(); }, [&] {
                                             graphed.run([&] {
                                               s();
                                               return trainers::NamedTensors{};
                                             });
                                           }});
      rows.push_back({"semsec_general_step_eager", graph_ms[0], "", "G=1, timed alongside the graph"});
      rows.push_back({"semsec_general_step_graph", graph_ms[1], "semsec_general_step_eager", "G=1, CUDA graph"});
    }
  }

  // (c) grids against G sequential single runs: the grid step and the single-run step timed in
  // turn; sequential = G x single.
  std::vector<int64_t> grids{1, 4, 16, 64};
  if (o.quick && !d.is_cuda()) grids = {1, 4};
  if (!o.grids.empty()) grids = o.grids;
  if (!wanted("grids")) grids.clear();
  const double py = find("python_general_step");
  // The sgemm of the FLOP floor (e) is timed in the same turns, so each grid's multiple of the
  // floor compares timings taken under the same machine load.
  const Sgemm sgemm(d);
  std::vector<double> sgemm_ms;
  for (const int64_t g : grids) {
    GeneralStep single(1, d), s(g, d);
    const auto ms = interleaved_ms(d, warm, std::max(5, reps / 2), {[&] { single(); }, [&] { s(); }, sgemm}, 4);
    sgemm_ms.push_back(ms[2]);
    rows.push_back({fmt::format("sequential_G{}", g), ms[0] * static_cast<double>(g), "",
                    fmt::format("{} x semsec single-run step ({:.3f} ms, timed alongside)", g, ms[0])});
    rows.push_back({fmt::format("grid_G{}", g), ms[1], fmt::format("sequential_G{}", g),
                    fmt::format("{:.0f} samples/s per point", kBatch / (ms[1] / static_cast<double>(g)) * 1e3)});
    if (!std::isnan(py)) {
      rows.push_back({fmt::format("python_sequential_G{}", g), py * static_cast<double>(g), "",
                      fmt::format("{} x python_general_step", g)});
      rows.push_back({fmt::format("grid_G{}_vs_python", g), ms[1], fmt::format("python_sequential_G{}", g), ""});
    }
  }

  // The largest grid on a GPU: eager and CUDA-graph steps (train.cuda_graph), each with float32
  // and with TF32 GEMMs (train.tf32), timed in turn. A graph fixes the GEMM kernels when it is
  // captured, so each precision has its own step and graph.
  if (d.is_cuda() && !grids.empty()) {
    const int64_t g = grids.back();
    GeneralStep eager(g, d), graph_fp32(g, d), graph_tf32(g, d);
    auto& ctx = at::globalContext();
    trainers::GraphedStep graphed_fp32(d), graphed_tf32(d);
    auto replay = [&](trainers::GraphedStep& graphed, GeneralStep& step, bool tf32) {
      ctx.setAllowTF32CuBLAS(tf32);
      graphed.run([&] {
        step();
        return trainers::NamedTensors{};
      });
    };
    const auto ms = interleaved_ms(d, warm, reps,
                                   {[&] {
                                      ctx.setAllowTF32CuBLAS(false);
                                      eager();
                                    },
                                    [&] {
                                      ctx.setAllowTF32CuBLAS(true);
                                      eager();
                                    },
                                    [&] { replay(graphed_fp32, graph_fp32, false); },
                                    [&] { replay(graphed_tf32, graph_tf32, true); }});
    ctx.setAllowTF32CuBLAS(false);
    const std::string fp32 = fmt::format("grid_G{}_fp32", g), graph = fmt::format("grid_G{}_graph", g);
    rows.push_back({fp32, ms[0], "", "eager, float32 GEMMs, timed alongside the three below"});
    rows.push_back({fmt::format("grid_G{}_tf32", g), ms[1], fp32, "eager, train.tf32=true"});
    rows.push_back({graph, ms[2], fp32, "CUDA graph (train.cuda_graph=true), float32"});
    rows.push_back({fmt::format("grid_G{}_graph_tf32", g), ms[3], graph, "CUDA graph and train.tf32=true"});
  }

  // (e) FLOP floor of the general step per grid point.
  if (wanted("floor")) {
    auto floor_ms = [](double gflops) { return general_step_flops() / (gflops * 1e9) * 1e3; };
    const double gflops = sgemm.gflops(sgemm_ms.empty() ? median_ms(d, 2, 25, sgemm) : median_of(sgemm_ms));
    rows.push_back({"flop_floor_general_step", floor_ms(gflops), "",
                    fmt::format("{:.1f} MFLOP / {:.1f} GFLOP/s sgemm ({}^3{})", general_step_flops() / 1e6, gflops,
                                sgemm.n, sgemm_ms.empty() ? "" : ", median over the grid runs")});
    for (size_t i = 0; i < grids.size(); ++i) {
      const int64_t g = grids[i];
      const double rate = sgemm.gflops(sgemm_ms[i]);
      rows.push_back({fmt::format("flop_floor_G{}", g), floor_ms(rate), "",
                      fmt::format("{:.1f} GFLOP/s sgemm timed alongside grid_G{}", rate, g)});
      const double per_point = find(fmt::format("grid_G{}", g)) / static_cast<double>(g);
      rows.push_back({fmt::format("grid_G{}_per_point", g), per_point, fmt::format("flop_floor_G{}", g),
                      "per-point step time / FLOP floor timed alongside"});
    }
    if (d.is_cuda() && !grids.empty()) {
      const int64_t g = grids.back();
      rows.push_back({fmt::format("grid_G{}_graph_per_point", g), find(fmt::format("grid_G{}_graph", g)) / static_cast<double>(g),
                      fmt::format("flop_floor_G{}", g), "per-point step time of the CUDA graph / FLOP floor"});
    }
  }

  std::string csv = "case,median_ms,ratio,note\n";
  std::cout << fmt::format("{:<28} {:>12} {:>10}  {}\n", "case", "median_ms", "ratio", "note");
  for (const auto& r : rows) {
    double ratio = std::nan("");
    if (!r.ratio_of.empty()) ratio = find(r.ratio_of) / r.ms;
    if (r.name.find("_per_point") != std::string::npos) ratio = r.ms / find(r.ratio_of);
    std::cout << fmt::format("{:<28} {:>12.4f} {:>10}  {}\n", r.name, r.ms, std::isnan(ratio) ? "" : fmt::format("{:.2f}x", ratio), r.note);
    csv += fmt::format("{},{},{},{}\n", r.name, r.ms, std::isnan(ratio) ? "" : fmt::format("{}", ratio), r.note);
  }
  std::cout << "ratio: how many times faster than the compared case (for *_per_point: multiple of the FLOP floor)\n";
  write_file_atomic(fs::join(o.out_dir, "bench.csv"), csv);
  log::info("wrote {}", fs::join(o.out_dir, "bench.csv"));
  return 0;
}

}  // namespace semsec::bench
