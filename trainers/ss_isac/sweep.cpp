// `semsec sweep`: grids as ensembles.
#include "trainers/ss_isac/sweep.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "core/errors.h"
#include "core/fs.h"
#include "core/progress.h"
#include "core/rundir.h"
#include "trainers/ss_isac/experiment.h"
#include "trainers/ss_isac/run.h"
#include "trainers/ss_isac/schema.h"

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
  const models::GsIsacSizes sizes = gs_isac_sizes(cfg);
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
  log::info(
      "sweep.max_grid = 0: about {:.1f} MiB per grid point, {} MiB to spend on {} -> up to {} points per ensemble",
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

// Every combination of the axes' value indices, first axis slowest.
std::vector<std::vector<size_t>> combinations(const std::vector<SweepAxis>& axes) {
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
  return combos;
}

// One ensemble: members [chunk, end) of a group that shares the non-batchable values `gkey`.
SweepEnsemble plan_ensemble(const config::Config& base, const std::vector<SweepAxis>& axes,
                            const std::vector<size_t>& gkey, const std::vector<std::vector<size_t>>& members,
                            size_t chunk, size_t end) {
  SweepEnsemble e{base, {}, {}};
  for (size_t a = 0; a < axes.size(); ++a) {
    if (!is_grid_batchable(axes[a].key)) {
      e.cfg.set(axes[a].key, axes[a].values[gkey[a]], fmt::format("sweep axis '{}'", axes[a].key));
    }
  }
  for (size_t m = chunk; m < end; ++m) {
    config::Config pc = e.cfg;
    for (size_t a = 0; a < axes.size(); ++a) {
      if (is_grid_batchable(axes[a].key)) {
        pc.set(axes[a].key, axes[a].values[members[m][a]], fmt::format("sweep axis '{}'", axes[a].key));
      }
    }
    pc.check();
    e.points.push_back(point_from_config(pc));
    e.point_configs.push_back(pc);
  }
  return e;
}

// Trains (or resumes) ensemble `index` of the plan in SWEEP_DIR/ensembleNNN and returns its rows
// of the sweep's summary.csv, prefixed by the swept values.
std::vector<std::string> run_ensemble(const SweepOptions& opt, const SweepPlan& plan, int index) {
  const SweepEnsemble& e = plan.ensembles.at(static_cast<size_t>(index));
  const std::string run_dir = fs::join(opt.sweep_dir, fmt::format("ensemble{:03d}", index));
  const std::string cfg_path = fs::join(run_dir, "config.yaml");
  if (fs::exists(cfg_path) && !opt.resume) fail("{}: already holds a run; use --resume {}", run_dir, opt.sweep_dir);
  RunContext ctx = open_run(run_dir, opt.device, opt.resume, e.cfg.get_bool("output.tensorboard"));
  ctx.resume_command = fmt::format("semsec sweep --resume {}{}", opt.sweep_dir,
                                   opt.device.is_cpu() ? std::string() : " --device " + opt.device.str());
  write_file_atomic(cfg_path, e.cfg.to_yaml());
  log::info("ensemble {}: {} grid point(s) in {}", index, e.points.size(), ctx.run_dir);
  IsacExperiment exp(e.cfg, e.points, ctx);
  // What differs between this ensemble's grid points (config.yaml holds the shared values).
  write_file_atomic(fs::join(ctx.run_dir, "points.csv"), exp.grid().points_csv());
  std::vector<std::string> lines;
  for (const SummaryRow& row : run_experiment(exp, ctx)) {
    std::string prefix;
    for (const auto& k : plan.extra_columns) {
      prefix += yaml_scalar_text(e.point_configs.at(static_cast<size_t>(row.point)), k) + ",";
    }
    lines.push_back(fmt::format("{}{},{}", prefix, index, summary_line(row)));
  }
  return lines;
}

}  // namespace

bool is_grid_batchable(const std::string& key) { return grid_axis(key) != nullptr; }

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

void save_sweep_record(const SweepOptions& opt) {
  std::string saved = opt.config_file + "\n";
  for (const auto& a : opt.args) saved += a + "\n";
  write_file_atomic(fs::join(opt.sweep_dir, "sweep.txt"), saved);
}

void load_sweep_record(SweepOptions& opt) {
  const std::string saved = read_file(fs::join(opt.sweep_dir, "sweep.txt"));
  std::istringstream in(saved);
  std::getline(in, opt.config_file);
  opt.args.clear();
  for (std::string line; std::getline(in, line);) opt.args.push_back(line);
}

SweepPlan plan_sweep(const SweepOptions& opt) {
  const config::Schema schema = isac_schema();
  SweepPlan plan;
  std::vector<std::string> plain;
  split_sweep_args(opt.args, plan.axes, plain);
  const std::vector<SweepAxis>& axes = plan.axes;
  if (axes.empty()) fail("semsec sweep: no sweep axis given (write key=a,b,c)");
  // The base is checked point by point (plan_ensemble), once the swept values are set.
  const config::Config base = config::Config::load_unchecked(schema, opt.config_file, plain);
  for (const auto& ax : axes) {
    if (!schema.find(ax.key)) {
      // Reuse the config system's unknown-key message (with its suggestion).
      config::Config probe = base;
      probe.set(ax.key, ax.values[0], fmt::format("sweep axis '{}'", ax.key));
    }
  }
  const std::vector<std::vector<size_t>> combos = combinations(axes);
  plan.num_points = combos.size();
  // Group by the values of the non-batchable axes.
  std::map<std::vector<size_t>, std::vector<std::vector<size_t>>> groups;
  std::vector<std::vector<size_t>> group_order;
  for (const auto& c : combos) {
    std::vector<size_t> key;
    for (size_t a = 0; a < axes.size(); ++a) key.push_back(is_grid_batchable(axes[a].key) ? 0 : c[a]);
    if (!groups.count(key)) group_order.push_back(key);
    groups[key].push_back(c);
  }
  plan.num_groups = group_order.size();
  plan.max_grid = base.get_int("sweep.max_grid") > 0 ? base.get_int("sweep.max_grid") : auto_max_grid(base, opt.device);
  // Swept keys that summary.csv does not already carry get a leading column of their own.
  for (const auto& ax : axes) {
    const GridAxis* axis = grid_axis(ax.key);
    if (axis == nullptr || !axis->in_summary) plan.extra_columns.push_back(ax.key);
  }
  // Each group in chunks of at most max_grid points, every configuration resolved (and so
  // validated) before anything trains.
  for (const auto& gkey : group_order) {
    const auto& members = groups[gkey];
    for (size_t chunk = 0; chunk < members.size(); chunk += static_cast<size_t>(plan.max_grid)) {
      const size_t end = std::min(members.size(), chunk + static_cast<size_t>(plan.max_grid));
      plan.ensembles.push_back(plan_ensemble(base, axes, gkey, members, chunk, end));
    }
  }
  return plan;
}

void run_sweep(const SweepOptions& opt, const SweepPlan& plan) {
  std::string header = "";
  for (const auto& k : plan.extra_columns) header += k + ",";
  CsvWriter summary(fs::join(opt.sweep_dir, "summary.csv"), header + "ensemble," + summary_header());
  log::info("sweep: {} points in {} ensemble group(s) of up to {} points", plan.num_points, plan.num_groups,
            plan.max_grid);
  for (size_t e = 0; e < plan.ensembles.size(); ++e) {
    for (const std::string& line : run_ensemble(opt, plan, static_cast<int>(e))) summary.row(line);
  }
  summary.close();
}

}  // namespace semsec::trainers
