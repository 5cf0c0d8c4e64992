// `semsec sweep`: grids as ensembles.
#include "trainers/ss_isac/sweep.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "core/errors.h"
#include "core/fs.h"
#include "core/interrupt.h"
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
  const IsacSettings s = isac_settings(cfg);
  const models::GsIsacSizes sizes = gs_isac_sizes(s);
  const models::GsIsac model(std::vector<uint64_t>{0}, sizes);
  int64_t params = 0, widths = 0;
  for (const auto& p : model->parameters()) params += p.numel();
  for (const auto* mlp : {&model->se, &model->jsce, &model->jscd_bs, &model->sd_bs, &model->jscd_ue, &model->sd_ue}) {
    for (const int64_t w : (*mlp)->sizes()) widths += w;
  }
  const int64_t batch = std::max(s.train.batch_size, s.eval.batch_size);
  const int64_t security = s.security.enabled ? 3 : 1;  // Eves and ARN pairs beside the model
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

// A CSV field: quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\n\r") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// The size of the largest ensemble of a plan.csv's text (rows per ensemble index).
int64_t largest_ensemble(const std::string& csv, const std::string& path) {
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  std::map<std::string, int64_t> counts;
  while (std::getline(in, line)) {
    const size_t comma = line.find(',');
    if (comma == std::string::npos || comma == 0)
      fail("{}: malformed row '{}' (expected ensemble,point,...)", path, line);
    ++counts[line.substr(0, comma)];
  }
  int64_t most = 0;
  for (const auto& [e, n] : counts) most = std::max(most, n);
  if (most == 0) fail("{}: holds no grid point", path);
  return most;
}

// The numbers of range(start, stop[, step]) as Python's range gives them (floats allowed, as in
// Hydra): start, start + step, ... while below stop (above it for a negative step).
std::vector<std::string> range_values(const std::string& axis, const std::string& args) {
  const std::vector<std::string> parts = split_top_level(args);
  if (parts.size() < 2 || parts.size() > 3) {
    fail("sweep axis '{}': range() takes start, stop[, step], got '{}'", axis, args);
  }
  std::vector<double> v;
  bool integers = true;
  for (std::string p : parts) {
    p.erase(0, p.find_first_not_of(' '));
    p.erase(p.find_last_not_of(' ') + 1);
    char* end = nullptr;
    const double x = std::strtod(p.c_str(), &end);
    if (p.empty() || *end != '\0' || !std::isfinite(x))
      fail("sweep axis '{}': range() argument '{}' is not a number", axis, p);
    integers = integers && p.find_first_of(".eE") == std::string::npos;
    v.push_back(x);
  }
  const double start = v[0], stop = v[1], step = v.size() == 3 ? v[2] : 1.0;
  if (step == 0.0) fail("sweep axis '{}': range() step must not be 0", axis);
  std::vector<std::string> out;
  for (int64_t i = 0;; ++i) {
    const double x = start + static_cast<double>(i) * step;  // no accumulated rounding
    if (step > 0 ? x >= stop - 1e-12 * std::abs(step) : x <= stop + 1e-12 * std::abs(step)) break;
    if (i == 100000) fail("sweep axis '{}': range({}) has more than 100000 values", axis, args);
    out.push_back(integers ? fmt::format("{}", static_cast<int64_t>(std::llround(x))) : fmt::format("{:.12g}", x));
  }
  if (out.empty()) fail("sweep axis '{}': range({}) is empty", axis, args);
  return out;
}

// The values of one key=value argument: range(...) and choice(...) (Hydra's sweep syntax), a
// top-level comma list, or a single value.
std::vector<std::string> axis_values(const std::string& key, const std::string& value) {
  auto call = [&](const std::string& name) -> std::optional<std::string> {
    if (value.rfind(name + "(", 0) == 0 && value.ends_with(")")) {
      return value.substr(name.size() + 1, value.size() - name.size() - 2);
    }
    return std::nullopt;
  };
  if (const auto args = call("range")) return range_values(key, *args);
  if (const auto args = call("choice")) {
    std::vector<std::string> values = split_top_level(*args);
    for (std::string& v : values) {
      v.erase(0, v.find_first_not_of(' '));
      v.erase(v.find_last_not_of(' ') + 1);
      if (v.empty()) fail("sweep axis '{}': empty value in choice({})", key, *args);
    }
    return values;
  }
  return split_top_level(value);
}

}  // namespace

std::string swept_value_text(const config::Config& cfg, const std::string& key) { return yaml_scalar_text(cfg, key); }

int64_t plan_largest_ensemble(const std::string& csv, const std::string& what) { return largest_ensemble(csv, what); }

bool is_grid_batchable(const std::string& key) { return grid_axis(key) != nullptr; }

void split_sweep_args(const std::vector<std::string>& args, std::vector<SweepAxis>& axes,
                      std::vector<std::string>& plain) {
  for (const std::string& a : args) {
    const config::Override o = config::parse_override(a);
    std::vector<std::string> values = axis_values(o.path, o.value);
    const bool swept_call = o.value.rfind("range(", 0) == 0 || o.value.rfind("choice(", 0) == 0;
    if (values.size() == 1 && !swept_call) {
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

std::string sweep_record_text(const SweepOptions& opt) {
  std::string saved = opt.config_file + "\n";
  for (const auto& a : opt.args) saved += a + "\n";
  return saved;
}

void save_sweep_record(const SweepOptions& opt) {
  write_file_atomic(fs::join(opt.sweep_dir, "sweep.txt"), sweep_record_text(opt));
}

SweepPlan plan_sweep_from_record(SweepOptions& opt) {
  const std::string path = fs::join(opt.sweep_dir, "plan.csv");
  opt.max_grid_override = largest_ensemble(read_file(path), path);
  return plan_sweep(opt);
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
  if (opt.max_grid_override > 0) {
    plan.max_grid = opt.max_grid_override;
  } else {
    plan.max_grid =
        base.get_int("sweep.max_grid") > 0 ? base.get_int("sweep.max_grid") : auto_max_grid(base, opt.device);
  }
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

std::string plan_csv(const SweepPlan& plan) {
  std::string out = "ensemble,point";
  for (const auto& ax : plan.axes) {  // (out += ','; out += ...: GCC 12 warns falsely on "," + string&&)
    out += ',';
    out += csv_field(ax.key);
  }
  out += "\n";
  for (size_t e = 0; e < plan.ensembles.size(); ++e) {
    const SweepEnsemble& ens = plan.ensembles[e];
    for (size_t p = 0; p < ens.point_configs.size(); ++p) {
      out += fmt::format("{},{}", e, p);
      for (const auto& ax : plan.axes) {
        out += ',';
        out += csv_field(yaml_scalar_text(ens.point_configs[p], ax.key));
      }
      out += "\n";
    }
  }
  return out;
}

SweepPlan settle_plan(SweepOptions& opt, SweepPlan plan) {
  const std::string path = fs::join(opt.sweep_dir, "plan.csv");
  std::string text = plan_csv(plan);
  if (!fs::exists(path)) {
    // Publish only if no other process of the sweep did first: link() fails on an existing name.
    const std::string tmp = fmt::format("{}.{}.tmp", path, ::getpid());
    write_file_atomic(tmp, text);
    const int rc = ::link(tmp.c_str(), path.c_str());
    const int err = errno;
    ::unlink(tmp.c_str());
    if (rc == 0) return plan;
    if (err != EEXIST) fail("{}: cannot write the plan: {}", path, std::strerror(err));
  }
  const std::string existing = read_file(path);
  if (existing == text) return plan;
  opt.max_grid_override = largest_ensemble(existing, path);
  plan = plan_sweep(opt);
  text = plan_csv(plan);
  if (existing != text) {
    fail(
        "{}: the sweep directory's plan does not match this sweep's configuration and axes (was it started with "
        "other arguments?); use another --out",
        path);
  }
  log::info("sweep: following {} ({} ensembles of up to {} points)", path, plan.ensembles.size(), plan.max_grid);
  return plan;
}

}  // namespace semsec::trainers
