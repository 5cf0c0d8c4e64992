// The timed pieces of `semsec bench`.
#include "bench/harness.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>

#include "core/errors.h"
#include "core/fs.h"
#include "core/progress.h"
#include "core/rundir.h"
#include "datasets/loader.h"
#include "datasets/synthetic.h"
#include "kernels/isac_link/isac_link_op.h"
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

void sync(const torch::Device& d) {
#ifdef SEMSEC_WITH_CUDA
  if (d.is_cuda()) c10::cuda::device_synchronize();
#endif
}

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

std::vector<double> interleaved_ms(const torch::Device& d, int warmup, int reps,
                                   const std::vector<std::function<void()>>& fns, int block) {
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

kernels::IsacLinkParams link_params() {
  return trainers::isac_link_params(trainers::isac_settings(config::Config::defaults(trainers::isac_schema())));
}

std::vector<torch::Tensor> aten_channel(const torch::Tensor& z, const torch::Tensor& phi, const torch::Tensor& snr_db,
                                        const kernels::IsacLinkParams& p) {
  const auto dev = z.device();
  const int64_t g = z.size(0), b = z.size(1), l = z.size(2), m = p.num_antennas;
  const auto cf = torch::TensorOptions().dtype(torch::kComplexFloat).device(dev);
  std::vector<c10::complex<float>> w_host;
  for (const auto& w : p.w) w_host.emplace_back(static_cast<float>(w.real()), static_cast<float>(w.imag()));
  const torch::Tensor w = torch::from_blob(w_host.data(), {m}, torch::kComplexFloat).to(dev);
  const torch::Tensor idx = torch::arange(m, z.options());
  const torch::Tensor a =
      torch::polar(torch::ones({g, b, m}, z.options()), 3.141592653589793 * idx * torch::sin(phi).unsqueeze(-1));
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

double general_step_flops() {
  const std::vector<std::pair<int, int>> layers{{784, 64}, {64, 64}, {64, 64}, {64, 23}, {46, 64}, {64, 64},
                                                {64, 64},  {64, 1},  {46, 16}, {16, 64}, {64, 16}, {16, 784}};
  double f = 0;
  for (const auto& [i, o] : layers) f += 3.0 * 2.0 * kBatch * i * o;
  return f - 2.0 * kBatch * layers[0].first * layers[0].second;
}

data::Split synthetic_split(int64_t n_train) {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = fs::join(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "semsec_bench_XXXXXX");
  if (::mkdtemp(dir.data()) == nullptr) fail("bench: cannot create a temporary directory {}", dir);
  try {
    data::write_synthetic_dataset(dir, n_train, 1, 0, false);
    data::Split split = data::load_split(dir, "train");
    fs::remove_all(dir);
    return split;
  } catch (...) {
    fs::remove_all(dir);
    throw;
  }
}

double python_baseline_ms(const BenchOptions& o, const std::string& kase, int steps) {
  const std::string script = fs::join(o.source_dir, "bench/baseline.py");
  if (o.python.empty() || !fs::exists(o.python) || !fs::exists(script)) return std::nan("");
  const std::string cmd = fmt::format(
      "'{}' '{}' --case {} --steps {} --warmup {} --batch {} --device {} --threads {} --synthetic --json 2>&1",
      o.python, script, kase, steps, o.quick ? 3 : 10, kBatch, o.device.is_cuda() ? "cuda" : "cpu",
      at::get_num_threads());
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

}  // namespace semsec::bench
