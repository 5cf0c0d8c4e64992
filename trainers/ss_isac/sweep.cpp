// `semsec sweep`: grids as ensembles.
#include "trainers/sweep.h"

#include <fstream>
#include <algorithm>
#include <map>

#include "core/errors.h"
#include "core/fs.h"
#include "core/progress.h"
#include "core/rundir.h"
#include "trainers/gs_isac_trainer.h"
#include "trainers/isac_schema.h"

#ifdef SEMSEC_WITH_CUDA
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

namespace semsec::trainers {
namespace {

// Bytes one grid point needs while training (an estimate, used when sweep.max_grid = 0): its
// parameters with gradients and two Adam moments, the frozen models of the security stages, and
// three copies of every layer's activations of a batch (saved for backward, their gradients,
// temporaries) plus the channel's outputs; doubled as a margin.
int64_t point_bytes_estimate(const config::Config& cfg) {
  models::GsIsacSizes sizes;
  sizes.latent_dim = cfg.get_int("model.latent_dim");
  sizes.feature_dim = cfg.get_int("model.feature_dim");
  sizes.bs_hidden = cfg.get_int("model.bs_hidden");
  sizes.ue_hidden = cfg.get_int("model.ue_hidden");
  const models::GsIsac model(std::vector<uint64_t>{0}, sizes);
  int64_t params = 0, widths = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  for (const auto* mlp : {&model->se, &model->jsce, &model->jscd_bs, &model->sd_bs, &model->jscd_ue, &model->sd_ue}) {
    for (const int64_t w : (*mlp)->sizes()) widths += w;
  }
  const int64_t batch = std::max(cfg.get_int("train.batch_size"), cfg.get_int("eval.batch_size"));
  const int64_t security = cfg.get_bool("security.enabled") ? 3 : 1;  // Eves and ARN pairs beside the model
  const int64_t bytes = 4 * (4 * params * security + 3 * batch * (widths + 6 * sizes.latent_dim));
  return 2 * bytes;
}

// The largest ensemble for sweep.max_grid = 0: 60 % of the free device memory over the per-point
// estimate on a GPU; on the CPU at most 16 (beyond that a step is memory-bound and points run no
// faster together than apart, docs/benchmarks.md) and a quarter of the available memory.
int64_t auto_max_grid(const config::Config& cfg, const torch::Device& device) {
  const int64_t per_point = point_bytes_estimate(cfg);
  int64_t budget = 0;
  int64_t cap = 65536;
  if (device.is_cuda()) {
#ifdef SEMSEC_WITH_CUDA
    const c10::cuda::CUDAGuard guard(device);
    size_t free_bytes = 0, total_bytes = 0;
    C10_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    budget = static_cast<int64_t>(0.6 * static_cast<double>(free_bytes));
#endif
  } else {
    cap = 16;
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    int64_t kib = 0;
    while (meminfo >> key >> kib) {
      if (key == "MemAvailable:") budget = kib * 1024 / 4;
      meminfo.ignore(64, '\n');
    }
    if (budget == 0) budget = int64_t{4} << 30;  // no /proc/meminfo: assume 16 GiB free
  }
  const int64_t fit = std::max<int64_t>(1, budget / std::max<int64_t>(per_point, 1));
  const int64_t chosen = std::min(cap, fit);
  log::info("sweep.max_grid = 0: about {:.1f} MiB per grid point, {} MiB to spend on {} -> up to {} points per ensemble",
            static_cast<double>(per_point) / (1 << 20), budget >> 20, device.str(), chosen);
  return chosen;
}

std::vector<std::string> split_top_level(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  char quote = 0;
  for (char c : text) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 0) {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  out.push_back(cur);
  return out;
}

std::string yaml_scalar_text(const config::Config& cfg, const std::string& key) {
  // The swept value as the resolved config prints it (one line of to_yaml is enough for scalars).
  const config::Value& v = cfg.get(key);
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return x;
        } else if constexpr (std::is_same_v<T, bool>) {
          return x ? "true" : "false";
        } else if constexpr (std::is_arithmetic_v<T>) {
          return fmt::format("{}", x);
        } else {
          std::string s = "[";
          for (size_t i = 0; i < x.size(); ++i) s += fmt::format("{}{}", i ? " " : "", x[i]);
          return s + "]";
        }
      },
      v);
}

}  // namespace

bool is_grid_batchable(const std::string& key) {
  if (key == "seed" || key == "train.snr_db" || key == "train.lr" || key == "security.psr_db") return true;
  return std::any_of(kLossWeightKeys.begin(), kLossWeightKeys.end(), [&](const LossWeightKey& w) { return key == w.key; });
}

void split_sweep_args(const std::vector<std::string>& args, std::vector<SweepAxis>& axes,
                      std::vector<std::string>& plain) {
  for (const std::string& a : args) {
    const config::Override o = config::parse_override(a);
    std::vector<std::string> values = split_top_level(o.value);
    if (values.size() == 1) {
      plain.push_back(a);
      continue;
    }
    for (const auto& v : values) {
      if (v.empty()) fail("sweep axis '{}': empty value in the comma-separated list", a);
    }
    for (const auto& ax : axes) {
      if (ax.key == o.path) fail("sweep axis '{}' is given twice", o.path);
    }
    axes.push_back(SweepAxis{o.path, values});
  }
}

void run_sweep(const SweepOptions& opt) {
  const config::Schema schema = isac_schema();
  std::vector<SweepAxis> axes;
  std::vector<std::string> plain;
  split_sweep_args(opt.args, axes, plain);
  if (axes.empty()) fail("semsec sweep: no sweep axis given (write key=a,b,c)");
  const config::Config base = config::Config::load(schema, opt.config_file, plain);
  for (const auto& ax : axes) {
    if (!schema.find(ax.key)) {
      // Reuse the config system's unknown-key message (with its suggestion).
      config::Config probe = base;
      probe.set(ax.key, ax.values[0], fmt::format("sweep axis '{}'", ax.key));
    }
  }

  // Every combination, first axis slowest; each resolved (and so validated) up front.
  std::vector<std::vector<size_t>> combos{{}};
  for (const auto& ax : axes) {
    std::vector<std::vector<size_t>> next;
    for (const auto& c : combos) {
      for (size_t i = 0; i < ax.values.size(); ++i) {
        auto d = c;
        d.push_back(i);
        next.push_back(d);
      }
    }
    combos = next;
  }
  // Group by the values of the non-batchable axes.
  std::map<std::vector<size_t>, std::vector<std::vector<size_t>>> groups;
  std::vector<std::vector<size_t>> group_order;
  for (const auto& c : combos) {
    std::vector<size_t> key;
    for (size_t a = 0; a < axes.size(); ++a) key.push_back(is_grid_batchable(axes[a].key) ? 0 : c[a]);
    if (!groups.count(key)) group_order.push_back(key);
    groups[key].push_back(c);
  }
  const int64_t max_grid =
      base.get_int("sweep.max_grid") > 0 ? base.get_int("sweep.max_grid") : auto_max_grid(base, opt.device);

  // Swept keys that summary.csv does not already carry get a leading column of their own.
  std::vector<std::string> extra_cols;
  for (const auto& ax : axes) {
    if (ax.key != "seed" && ax.key != "train.snr_db" && ax.key != "security.psr_db") extra_cols.push_back(ax.key);
  }
  std::string header = "";
  for (const auto& k : extra_cols) header += k + ",";
  CsvWriter summary(fs::join(opt.sweep_dir, "summary.csv"), header + "ensemble," + summary_header());
  log::info("sweep: {} points in {} ensemble group(s) of up to {} points", combos.size(), group_order.size(), max_grid);
  int ensemble = 0;
  for (const auto& gkey : group_order) {
    const auto& members = groups[gkey];
    for (size_t chunk = 0; chunk < members.size(); chunk += static_cast<size_t>(max_grid)) {
      const size_t end = std::min(members.size(), chunk + static_cast<size_t>(max_grid));
      config::Config cfg = base;
      for (size_t a = 0; a < axes.size(); ++a) {
        if (!is_grid_batchable(axes[a].key)) {
          cfg.set(axes[a].key, axes[a].values[gkey[a]], fmt::format("sweep axis '{}'", axes[a].key));
        }
      }
      std::vector<GridPoint> points;
      std::vector<config::Config> point_cfgs;
      for (size_t m = chunk; m < end; ++m) {
        config::Config pc = cfg;
        for (size_t a = 0; a < axes.size(); ++a) {
          if (is_grid_batchable(axes[a].key)) {
            pc.set(axes[a].key, axes[a].values[members[m][a]], fmt::format("sweep axis '{}'", axes[a].key));
          }
        }
        points.push_back(point_from_config(pc));
        point_cfgs.push_back(pc);
      }
      const std::string run_dir = fs::join(opt.sweep_dir, fmt::format("ensemble{:03d}", ensemble));
      const std::string cfg_path = fs::join(run_dir, "config.yaml");
      if (fs::exists(cfg_path) && !opt.resume) fail("{}: already holds a run; use --resume {}", run_dir, opt.sweep_dir);
      RunContext ctx = open_run(run_dir, opt.device, opt.resume, cfg.get_bool("output.tensorboard"));
      write_file_atomic(cfg_path, cfg.to_yaml());
      // What differs between this ensemble's grid points (config.yaml holds the shared values).
      std::string pts = "point,seed,train_snr_db,lr,psr_db";
      for (const LossWeightKey& w : kLossWeightKeys) pts += fmt::format(",{}", w.column);
      pts += "\n";
      for (size_t i = 0; i < points.size(); ++i) {
        const GridPoint& p = points[i];
        pts += fmt::format("{},{},{},{},{}", i, p.seed, p.train_snr_db, p.lr, p.psr_db);
        for (const LossWeightKey& w : kLossWeightKeys) pts += fmt::format(",{}", (p.*w.field).value());
        pts += "\n";
      }
      write_file_atomic(fs::join(ctx.run_dir, "points.csv"), pts);
      log::info("ensemble {}: {} grid point(s) in {}", ensemble, points.size(), ctx.run_dir);
      IsacExperiment exp(cfg, points, ctx);
      // Merge this ensemble's rows into the sweep summary, prefixed by the swept values.
      for (const SummaryRow& row : write_summary(exp, cfg, ctx)) {
        std::string prefix;
        for (const auto& k : extra_cols) prefix += yaml_scalar_text(point_cfgs.at(static_cast<size_t>(row.point)), k) + ",";
        summary.row(fmt::format("{}{},{}", prefix, ensemble, summary_line(row)));
      }
      ++ensemble;
    }
  }
  summary.close();
}

}  // namespace semsec::trainers
