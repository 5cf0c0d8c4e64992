// The pieces `semsec bench` times: the trainer's general and ARN steps on random data, the
// channel composed of ATen ops, the sgemm that measures the machine's GEMM rate, the Python
// baseline, a synthetic training split for the io group, and the timers that run cases in turn
// and take medians.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "bench/bench.h"
#include "datasets/loader.h"
#include "kernels/isac_link/isac_link_op.h"
#include "models/gs_isac.h"
#include "models/security.h"
#include "trainers/engine/divergence.h"
#include "trainers/engine/grid_adam.h"
#include "trainers/engine/stage.h"
#include "trainers/ss_isac/losses.h"
#include "trainers/ss_isac/schema.h"

namespace semsec::bench {

inline constexpr int64_t kBatch = 256;

// Waits for the device's queued work, so that a timer sees it done.
void sync(const torch::Device& d);

// Median wall time of fn() in milliseconds.
double median_ms(const torch::Device& d, int warmup, int reps, const std::function<void()>& fn);

// Medians (ms) of several cases timed in turn, one call of each per repetition, so that the
// drift of a shared, noisy machine falls on all of them alike and their ratios stay fair.
// With block > 1 each case runs `block` times in a row and the first of them is not recorded
// (it pays for the caches the other case evicted, which a run on its own would not).
std::vector<double> interleaved_ms(const torch::Device& d, int warmup, int reps,
                                   const std::vector<std::function<void()>>& fns, int block = 1);

// The median of v.
double median_of(std::vector<double> v);

// One seed per grid point: 0, 1, ..., g - 1.
std::vector<uint64_t> seeds_for(int64_t g);

// The channel of the default experiment configuration, built exactly as the trainer builds it.
kernels::IsacLinkParams link_params();

// The channel as a researcher composes it from ATen ops (bench/baseline.py's IsacChannel, batched
// over the grid): complex tensors, torch::randn draws, the same model and variances as isac_link.
// y_bs, y_ue, y_eve as [G, B, 2L] interleaved (re, im).
std::vector<torch::Tensor> aten_channel(const torch::Tensor& z, const torch::Tensor& phi, const torch::Tensor& snr_db,
                                        const kernels::IsacLinkParams& p);

// One training step of the general system (eq. 9) for G grid points on random data; `guarded`: with
// the divergence check that run_stage makes at every step (DivergenceGuard).
struct GeneralStep {
  GeneralStep(int64_t g, torch::Device d, bool guarded = false) : device(d), num_points(g) {
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
    if (guarded) guard = std::make_unique<trainers::DivergenceGuard>(*opt, "bench", std::vector<bool>{});
  }
  // The trainer's step (trainers::train_step on trainers::general_losses) on a fixed batch.
  void operator()() {
    counter.add_(1);
    const auto channel = [&](const torch::Tensor& z) {
      return kernels::isac_link(z, phi, snr, seeds, counter, params_);
    };
    trainers::train_step(
        *opt, [&] { return trainers::general_losses(net, x, phi, channel, gamma_sen, gamma_com); }, false, guard.get());
  }
  torch::Device device;
  int64_t num_points;
  models::GsIsac net{nullptr};
  std::unique_ptr<trainers::GridAdam> opt;
  std::unique_ptr<trainers::DivergenceGuard> guard;
  torch::Tensor x, phi, snr, seeds, counter;
  kernels::IsacLinkParams params_;
  torch::Tensor gamma_sen, gamma_com;  // [G], the defaults of the configuration
};

// One ARN training step (eq. 25-29) with the base system and Eve frozen.
struct ArnStep {
  ArnStep(int64_t g, torch::Device d) : base(g, d) {
    arn = models::PairedArn(seeds_for(g), models::ArnSizes{});
    eve = models::EveClassifier(seeds_for(g), int64_t{46}, std::vector<int64_t>{64, 32, 32}, int64_t{10},
                                models::kInitEveWhitebox);
    arn->to(d);
    eve->to(d);
    for (auto& p : base.net->parameters()) p.set_requires_grad(false);
    for (auto& p : eve->parameters()) p.set_requires_grad(false);
    opt = std::make_unique<trainers::GridAdam>(arn->parameters(), std::vector<double>(static_cast<size_t>(g), 1e-4),
                                               trainers::AdamOptions{});
    labels = torch::randint(0, 10, {g, kBatch}, torch::TensorOptions().device(d).dtype(torch::kInt64));
    const auto cfg = config::Config::defaults(trainers::isac_schema());
    // tau of the default PSR over L = 23 symbols, as IsacExperiment sets it; the default weights.
    tau = torch::full({g}, std::pow(10.0, cfg.get_float("security.psr_db") / 10.0) / 23.0,
                      torch::TensorOptions().device(d));
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
double general_step_flops();

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

// The train split of a synthetic Fashion-MNIST look-alike (datasets/synthetic.h, seed 0) with
// n_train samples, on the CPU: written to a fresh directory under $TMPDIR (or /tmp), loaded and
// the directory removed again, so the io group needs no data set installed.
data::Split synthetic_split(int64_t n_train);

// Median step time (ms) of bench/baseline.py for `kase` (general or arn); NaN without a python.
double python_baseline_ms(const BenchOptions& o, const std::string& kase, int steps);

}  // namespace semsec::bench
