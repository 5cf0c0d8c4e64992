// `semsec bench`.
#include "bench/bench.h"

#include "bench/harness.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <thread>

#include "core/distributed.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/progress.h"
#include "core/rundir.h"
#include "datasets/loader.h"
#include "kernels/isac_link/isac_link_op.h"
#include "kernels/link_level/link_level_op.h"
#include "kernels/loss/loss_op.h"
#include "models/gs_isac.h"
#include "models/security.h"
#include "trainers/engine/graph_step.h"
#include "trainers/engine/grid_adam.h"
#include "trainers/engine/stage.h"
#include "trainers/ss_isac/experiment.h"
#include "trainers/ss_isac/losses.h"
#include "trainers/ss_isac/schema.h"

#ifdef SEMSEC_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace semsec::bench {
namespace {

struct Row {
  std::string name;
  double ms;
  std::string ratio_of;  // name of the row this one is compared with
  std::string note;
};

// What every group of rows shares: the options, the device, the repetitions and the rows so far.
struct Bench {
  const BenchOptions& o;
  torch::Device d;
  int warm, reps;
  std::vector<Row> rows;
  double find(const std::string& n) const {
    for (const auto& r : rows)
      if (r.name == n) return r.ms;
    return std::nan("");
  }
};

void bench_channel(Bench& bench) {
  const torch::Device d = bench.d;
  const int warm = bench.warm, reps = bench.reps;
  auto& rows = bench.rows;
  // (d) channel kernel vs the same channel composed of ATen ops (forward + backward).
  for (const int64_t g : {int64_t{1}, int64_t{16}}) {
    auto f = torch::TensorOptions().device(d);
    const torch::Tensor z0 = torch::randn({g, kBatch, 23}, f);
    const torch::Tensor phi = (torch::rand({g, kBatch}, f) - 0.5) * 0.6981, snr = torch::full({g}, 15.0, f);
    const torch::Tensor seeds = torch::arange(g, f.dtype(torch::kInt64)),
                        counter = torch::zeros({1}, f.dtype(torch::kInt64));
    const kernels::IsacLinkParams p = link_params();
    // A dense upstream gradient, as the decoders' first layers hand back in training. The channel
    // rows hand it to autograd directly (backward(y, v)), so they time the channel's forward and
    // backward and nothing else; the *_objective rows time the same with the objective
    // sum_r <y_r, v_r> formed by ATen ops and differentiated, as until the seventh session.
    const torch::Tensor v = torch::randn({3, g, kBatch, 2 * z0.size(2)}, f);
    const std::vector<torch::Tensor> variants = {z0, z0 * 0.5, z0.flip(2)};
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
    const auto ms = interleaved_ms(
        d, warm, reps,
        {[&] { run(0, false); }, [&] { run(1, false); }, [&] { run(2, false); },
         [&] {
           torch::NoGradGuard no_grad;
           (void)kernels::isac_link(z0, phi, snr, seeds, counter, p);
         },
         [&] { run(0, true); }, [&] { run(2, true); },
         [&] {
           torch::NoGradGuard no_grad;
           (void)kernels::isac_link_apply(z0, kernels::isac_link_generate(phi, snr, seeds, counter, z0.size(2), p));
         },
         [&] {  // the evaluation's three variants, each through the fused link
           torch::NoGradGuard no_grad;
           for (const auto& z : variants) (void)kernels::isac_link(z, phi, snr, seeds, counter, p);
         },
         [&] {  // ... and through one generated state
           torch::NoGradGuard no_grad;
           const auto state = kernels::isac_link_generate(phi, snr, seeds, counter, z0.size(2), p);
           for (const auto& z : variants) (void)kernels::isac_link_apply(z, state);
         }});
    rows.push_back({a, ms[0], "", "ATen ops with torch::randn, as bench/baseline.py writes it, fwd+bwd"});
    rows.push_back({r, ms[1], "", "ATen ops on semsec's Philox draws (the test reference), fwd+bwd"});
    rows.push_back({b, ms[2], a, "fused semsec kernel, fwd+bwd"});
    rows.push_back(
        {fmt::format("channel_fused_fwd_G{}", g), ms[3], "", "fused semsec kernel, forward only (no autograd)"});
    rows.push_back({ao, ms[4], "", "ATen ops with torch::randn, fwd + the objective + bwd"});
    rows.push_back({bo, ms[5], ao, "fused semsec kernel, fwd + the objective + bwd"});
    const std::string f3 = fmt::format("channel_eval3_fused_G{}", g);
    rows.push_back({fmt::format("channel_split_fwd_G{}", g), ms[6], fmt::format("channel_fused_fwd_G{}", g),
                    "generate then apply, forward only: the fused kernel in two halves"});
    rows.push_back({f3, ms[7], "", "three codewords at one step (security evaluation), three fused calls"});
    rows.push_back({fmt::format("channel_eval3_split_G{}", g), ms[8], f3,
                    "three codewords at one step, one generate and three applies"});
  }
}

void bench_loss(Bench& bench) {
  const torch::Device d = bench.d;
  const int warm = bench.warm, reps = bench.reps;
  auto& rows = bench.rows;
  // The UE's output layer and loss (SD_UE's last layer 16 -> 784, sigmoid, squared error) at G=16:
  // fused against the composed ops. The fused op reads the images once and writes no [G, B, 784]
  // tensor, so GB/s over the images shows how close to memory bandwidth it runs.
  {
    const int64_t g = 16, k = 16, dim = 784;
    auto f = torch::TensorOptions().device(d);
    const torch::Tensor h = torch::rand({g, kBatch, k}, f).requires_grad_(true);
    const torch::Tensor w = (torch::randn({g, k, dim}, f) * 0.25).requires_grad_(true);
    const torch::Tensor b = (torch::randn({g, 1, dim}, f) * 0.25).requires_grad_(true);
    const torch::Tensor x = torch::rand({g, kBatch, dim}, f);
    const auto ms =
        interleaved_ms(d, warm, reps,
                       {[&] {
                          (torch::sigmoid(torch::baddbmm(b, h, w)) - x).square().mean({1, 2}).sum().backward();
                        },
                        [&] { kernels::linear_sigmoid_mse(h, w, b, x).sum().backward(); },
                        [&] {
                          torch::NoGradGuard no_grad;
                          (void)kernels::linear_sigmoid_mse(h, w, b, x);
                        }});
    const double mb = static_cast<double>(g * kBatch * dim) * 4.0 / 1e6;  // the [G, B, 784] float images
    rows.push_back({"loss_composed_G16", ms[0], "", "baddbmm, sigmoid, squared error, mean; fwd+bwd"});
    rows.push_back({"loss_fused_G16", ms[1], "loss_composed_G16",
                    fmt::format("fused fwd+bwd, images read at {:.1f} GB/s", mb / ms[1])});
    rows.push_back(
        {"loss_fused_fwd_G16", ms[2], "", fmt::format("fused forward, images read at {:.1f} GB/s", mb / ms[2])});
  }
}

void bench_steps(Bench& bench) {
  const BenchOptions& o = bench.o;
  const torch::Device d = bench.d;
  const int warm = bench.warm, reps = bench.reps;
  auto& rows = bench.rows;
  // (b) single-run steps, (a) the Python baseline of the same steps: rounds of (Python script,
  // semsec), medians over the rounds, so both see the same machine load.
  {
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
      const auto graph_ms = interleaved_ms(d, warm, reps,
                                           {[&] { s(); },
                                            [&] {
                                              graphed.run([&] {
                                                s();
                                                return trainers::NamedTensors{};
                                              });
                                            }});
      rows.push_back({"semsec_general_step_eager", graph_ms[0], "", "G=1, timed alongside the graph"});
      rows.push_back({"semsec_general_step_graph", graph_ms[1], "semsec_general_step_eager", "G=1, CUDA graph"});
    }
  }
  // The divergence check run_stage makes before every update (every loss term and gradient of
  // every point tested for finiteness): the same step with and without it, timed in turn.
  for (const int64_t g : {int64_t{1}, int64_t{16}}) {
    GeneralStep plain(g, d), guarded(g, d, /*guarded=*/true);
    const auto ms = interleaved_ms(d, warm, reps, {[&] { plain(); }, [&] { guarded(); }});
    const std::string base = fmt::format("general_step_G{}_unchecked", g);
    rows.push_back({base, ms[0], "", "train_step without the divergence check"});
    rows.push_back({fmt::format("general_step_G{}_checked", g), ms[1], base,
                    "with DivergenceGuard::observe, as run_stage trains"});
  }
}

void bench_grids(Bench& bench, const std::vector<int64_t>& grids, const Sgemm& sgemm, std::vector<double>& sgemm_ms) {
  const torch::Device d = bench.d;
  const int warm = bench.warm, reps = bench.reps;
  auto& rows = bench.rows;
  auto find = [&](const std::string& n) { return bench.find(n); };
  // (c) grids against G sequential single runs: the grid step and the single-run step timed in
  // turn; sequential = G x single.
  const double py = find("python_general_step");
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
}

void bench_gpu_grid(Bench& bench, const std::vector<int64_t>& grids) {
  const torch::Device d = bench.d;
  const int warm = bench.warm, reps = bench.reps;
  auto& rows = bench.rows;
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
    const auto ms = interleaved_ms(
        d, warm, reps,
        {[&] {
           ctx.setAllowTF32CuBLAS(false);
           eager();
         },
         [&] {
           ctx.setAllowTF32CuBLAS(true);
           eager();
         },
         [&] { replay(graphed_fp32, graph_fp32, false); }, [&] { replay(graphed_tf32, graph_tf32, true); }});
    ctx.setAllowTF32CuBLAS(false);
    const std::string fp32 = fmt::format("grid_G{}_fp32", g), graph = fmt::format("grid_G{}_graph", g);
    rows.push_back({fp32, ms[0], "", "eager, float32 GEMMs, timed alongside the three below"});
    rows.push_back({fmt::format("grid_G{}_tf32", g), ms[1], fp32, "eager, train.tf32=true"});
    rows.push_back({graph, ms[2], fp32, "CUDA graph (train.cuda_graph=true), float32"});
    rows.push_back({fmt::format("grid_G{}_graph_tf32", g), ms[3], graph, "CUDA graph and train.tf32=true"});
  }
}

void bench_floor(Bench& bench, const std::vector<int64_t>& grids, const Sgemm& sgemm,
                 const std::vector<double>& sgemm_ms) {
  const torch::Device d = bench.d;
  auto& rows = bench.rows;
  auto find = [&](const std::string& n) { return bench.find(n); };
  // (e) FLOP floor of the general step per grid point.
  {
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
      rows.push_back({fmt::format("grid_G{}_graph_per_point", g),
                      find(fmt::format("grid_G{}_graph", g)) / static_cast<double>(g), fmt::format("flop_floor_G{}", g),
                      "per-point step time of the CUDA graph / FLOP floor"});
    }
  }
}

void bench_io(Bench& bench) {
  const torch::Device d = bench.d;
  const int warm = bench.warm, reps = bench.reps;
  auto& rows = bench.rows;
  // make_batch of one grid training batch [G=64, B=64, D=784] to the bench device, from the split
  // in host memory (rows gathered on the CPU, then one copy) and from the same split moved to the
  // device first (rows gathered there), timed in turn. The split is the train split of a synthetic
  // Fashion-MNIST look-alike of Fashion-MNIST's size; all steps lie in the sampler's first epoch,
  // whose permutations the warm-up computes, so the rows time the batch and not the shuffle.
  {
    const int64_t g = 64, b = 64;
    const data::Split host = synthetic_split(60000);
    const data::Split on_device{host.images.to(d), host.labels.to(d), host.rows, host.cols};
    const std::vector<uint64_t> seeds = seeds_for(g);
    const int64_t n = host.images.size(0);
    data::BatchSampler host_sampler(n, b, seeds), device_sampler(n, b, seeds);
    // Both samplers shuffle alike; the device case starts half an epoch later, so that neither
    // case reads rows the other has just brought into the caches.
    const int64_t steps_per_epoch = host_sampler.steps_per_epoch();
    int64_t host_step = 0, device_step = steps_per_epoch / 2;
    auto batch = [&](const data::Split& split, data::BatchSampler& sampler, int64_t& step) {
      (void)data::make_batch(split, sampler, seeds, step++ % steps_per_epoch, -0.3, 0.3, d);
    };
    const auto ms = interleaved_ms(
        d, warm, reps,
        {[&] { batch(host, host_sampler, host_step); }, [&] { batch(on_device, device_sampler, device_step); }});
    const double mb = static_cast<double>(g * b * host.images.size(1)) * 4.0 / 1e6;  // the float images
    rows.push_back({"make_batch_G64_from_host", ms[0], "",
                    fmt::format("G=64 B=64 D=784 to {} from a host split of {} samples; {:.1f} GB/s of images", d.str(),
                                n, mb / ms[0])});
    rows.push_back(
        {"make_batch_G64_from_device", ms[1], "make_batch_G64_from_host",
         fmt::format("the same from the split moved to {} first; {:.1f} GB/s of images", d.str(), mb / ms[1])});
  }
  // Monte-Carlo BER throughput of the link level: simulate_ber of alamouti_2x2 at one Eb/N0 point
  // (4 dB), bits drawn, sent, decided and their errors counted on the bench device. A 2^22-bit
  // call takes about 0.4 s on a 2-core CPU, so fewer repetitions than the other rows.
  {
    const link::LinkShape shape = link::link_shape(link::Scheme::kAlamouti2x2);
    const int64_t n_bits = int64_t{1} << (bench.o.quick ? 20 : 22);
    std::vector<link::BerPoint> points;
    const double ms = interleaved_ms(d, std::min(warm, 2), std::max(5, reps / 4),
                                     {[&] { points = link::simulate_ber(shape, {4.0}, n_bits, 1, d); }})[0];
    rows.push_back(
        {"link_ber_alamouti_2x2", ms, "",
         fmt::format("{:.3g} bits/s; simulate_ber of 2^{} bits at Eb/N0 = 4 dB per call (BER {:.2e})",
                     static_cast<double>(n_bits) / (ms * 1e-3), bench.o.quick ? 20 : 22, points.at(0).ber())});
  }
}

// A loopback TCP port that nothing listens on (bound, read, closed).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    fail("bench store: cannot find a free loopback port: {}", std::strerror(errno));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// The work queue of multi-process sweeps (trainers/ss_isac/sweep.cpp: run_sweep_job) without the
// work: K clients, each on its own connection and thread as the ranks of a job are, claim 10,000
// items from one counter of a c10d TCPStore served here. Shows how many claims per second the
// coordinator takes, against one ensemble per claim in a real sweep.
void bench_store(Bench& bench) {
  auto& rows = bench.rows;
  const int64_t items = 10000;
  const int port = free_port();
  const dist::JobEnv server{"bench", 0, 9, 0, "127.0.0.1", port, 0, false};
  dist::Store store(server, std::chrono::seconds(30));
  std::vector<std::unique_ptr<dist::Store>> clients;
  for (int r = 1; r <= 8; ++r) {
    dist::JobEnv e = server;
    e.rank = r;
    clients.push_back(std::make_unique<dist::Store>(e, std::chrono::seconds(30)));
  }
  int round = 0;
  auto claim_all = [&](int k) {
    const std::string key = fmt::format("next_{}", round++);
    std::vector<std::thread> threads;
    std::atomic<int64_t> claimed{0};
    for (int r = 0; r < k; ++r) {
      threads.emplace_back([&, r] {
        for (;;) {
          if (clients[static_cast<size_t>(r)]->add(key, 1) > items) break;
          claimed.fetch_add(1);
        }
      });
    }
    for (auto& t : threads) t.join();
    if (claimed.load() != items) fail("bench store: {} items claimed, expected {}", claimed.load(), items);
  };
  const int reps = bench.o.quick ? 3 : 7;
  const auto ms = interleaved_ms(torch::kCPU, 1, reps, {[&] { claim_all(1); }, [&] { claim_all(8); }});
  rows.push_back({"store_claim_10k_1_rank", ms[0], "",
                  fmt::format("{:.0f} claims/s: 1 client claims 10,000 items from a loopback c10d TCPStore",
                              items / (ms[0] * 1e-3))});
  rows.push_back({"store_claim_10k_8_ranks", ms[1], "store_claim_10k_1_rank",
                  fmt::format("{:.0f} claims/s: 8 clients (own connection and thread each) share the 10,000",
                              items / (ms[1] * 1e-3))});
}

// The table on stdout and bench.csv.
void write_rows(Bench& bench) {
  const BenchOptions& o = bench.o;
  auto& rows = bench.rows;
  auto find = [&](const std::string& n) { return bench.find(n); };
  std::string csv = "case,median_ms,ratio,note\n";
  std::cout << fmt::format("{:<28} {:>12} {:>10}  {}\n", "case", "median_ms", "ratio", "note");
  for (const auto& r : rows) {
    double ratio = std::nan("");
    if (!r.ratio_of.empty()) ratio = find(r.ratio_of) / r.ms;
    if (r.name.find("_per_point") != std::string::npos) ratio = r.ms / find(r.ratio_of);
    std::cout << fmt::format("{:<28} {:>12.4f} {:>10}  {}\n", r.name, r.ms,
                             std::isnan(ratio) ? "" : fmt::format("{:.2f}x", ratio), r.note);
    csv += fmt::format("{},{},{},{}\n", r.name, r.ms, std::isnan(ratio) ? "" : fmt::format("{}", ratio), r.note);
  }
  std::cout << "ratio: how many times faster than the compared case (for *_per_point: multiple of the FLOP floor)\n";
  write_file_atomic(fs::join(o.out_dir, "bench.csv"), csv);
  log::info("wrote {}", fs::join(o.out_dir, "bench.csv"));
}

}  // namespace

int run_bench(const BenchOptions& o) {
  const torch::Device d = o.device;
  Bench bench{o, d, o.quick ? 2 : 10, o.quick ? 5 : 40, {}};
  log::info("bench on {} ({} threads), batch {}", d.str(), at::get_num_threads(), kBatch);
  for (const auto& group : o.only) {
    if (group != "channel" && group != "loss" && group != "steps" && group != "grids" && group != "floor" &&
        group != "io" && group != "store") {
      fail("bench --only: unknown group '{}' (expected channel, loss, steps, grids, floor, io or store)", group);
    }
  }
  auto wanted = [&](const std::string& group) {
    return o.only.empty() || std::find(o.only.begin(), o.only.end(), group) != o.only.end();
  };
  if (wanted("channel")) bench_channel(bench);
  if (wanted("loss")) bench_loss(bench);
  if (wanted("steps")) bench_steps(bench);
  std::vector<int64_t> grids{1, 4, 16, 64};
  if (o.quick && !d.is_cuda()) grids = {1, 4};
  if (!o.grids.empty()) grids = o.grids;
  if (!wanted("grids")) grids.clear();
  // The sgemm of the FLOP floor (e) is timed in the same turns, so each grid's multiple of the
  // floor compares timings taken under the same machine load.
  const Sgemm sgemm(d);
  std::vector<double> sgemm_ms;
  bench_grids(bench, grids, sgemm, sgemm_ms);
  bench_gpu_grid(bench, grids);
  if (wanted("floor")) bench_floor(bench, grids, sgemm, sgemm_ms);
  if (wanted("io")) bench_io(bench);
  if (wanted("store")) bench_store(bench);
  write_rows(bench);
  return 0;
}

}  // namespace semsec::bench
