// `semsec sweep`: grids as ensembles.
#include "trainers/ss_isac/sweep.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <thread>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>

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

std::string ensemble_dir(const SweepOptions& opt, size_t index) {
  return fs::join(opt.sweep_dir, fmt::format("ensemble{:03d}", index));
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
    if (comma == std::string::npos || comma == 0) fail("{}: malformed row '{}' (expected ensemble,point,...)", path, line);
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
    if (p.empty() || *end != '\0' || !std::isfinite(x)) fail("sweep axis '{}': range() argument '{}' is not a number", axis, p);
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
  for (const auto& ax : plan.axes) out += "," + csv_field(ax.key);
  out += "\n";
  for (size_t e = 0; e < plan.ensembles.size(); ++e) {
    const SweepEnsemble& ens = plan.ensembles[e];
    for (size_t p = 0; p < ens.point_configs.size(); ++p) {
      out += fmt::format("{},{}", e, p);
      for (const auto& ax : plan.axes) out += "," + csv_field(yaml_scalar_text(ens.point_configs[p], ax.key));
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
    fail("{}: the sweep directory's plan does not match this sweep's configuration and axes (was it started with "
         "other arguments?); use another --out",
         path);
  }
  log::info("sweep: following {} ({} ensembles of up to {} points)", path, plan.ensembles.size(), plan.max_grid);
  return plan;
}

bool train_ensemble(const SweepOptions& opt, const SweepPlan& plan, size_t index) {
  const SweepEnsemble& e = plan.ensembles.at(index);
  const std::string run_dir = ensemble_dir(opt, index);
  if (fs::is_file(fs::join(run_dir, "summary.csv"))) {
    log::info("ensemble {}: finished before ({}/summary.csv), skipped", index, run_dir);
    return false;
  }
  const std::string cfg_path = fs::join(run_dir, "config.yaml");
  const bool resume = opt.resume || opt.shared;
  if (fs::exists(cfg_path) && !resume) fail("{}: already holds a run; use --resume {}", run_dir, opt.sweep_dir);
  // The ensemble's own lock: no two processes ever train it at once.
  const RunDirGuard guard(run_dir);
  RunContext ctx = open_run(run_dir, opt.device, resume && fs::exists(cfg_path), e.cfg.get_bool("output.tensorboard"));
  ctx.resume_command = opt.resume_hint;
  write_file_atomic(cfg_path, e.cfg.to_yaml());
  log::info("ensemble {}: {} grid point(s) in {}", index, e.points.size(), ctx.run_dir);
  IsacExperiment exp(e.cfg, e.points, ctx);
  // What differs between this ensemble's grid points (config.yaml holds the shared values).
  write_file_atomic(fs::join(ctx.run_dir, "points.csv"), exp.grid().points_csv());
  run_experiment(exp, ctx);
  return true;
}

std::vector<size_t> unfinished_ensembles(const SweepOptions& opt, const SweepPlan& plan) {
  std::vector<size_t> out;
  for (size_t e = 0; e < plan.ensembles.size(); ++e) {
    if (!fs::is_file(fs::join(ensemble_dir(opt, e), "summary.csv"))) out.push_back(e);
  }
  return out;
}

void merge_sweep_summary(const SweepOptions& opt, const SweepPlan& plan) {
  const std::vector<size_t> missing = unfinished_ensembles(opt, plan);
  if (!missing.empty()) {
    std::string names;
    for (size_t i = 0; i < missing.size() && i < 8; ++i) names += fmt::format("{}ensemble{:03d}", i ? ", " : "", missing[i]);
    if (missing.size() > 8) names += ", ...";
    fail("{}: {} of {} ensembles are not finished ({}); train them (the missing --shard, or --resume {}) before "
         "merging",
         opt.sweep_dir, missing.size(), plan.ensembles.size(), names, opt.sweep_dir);
  }
  std::string header;
  for (const auto& k : plan.extra_columns) header += k + ",";
  CsvWriter summary(fs::join(opt.sweep_dir, "summary.csv"), header + "ensemble," + summary_header());
  for (size_t e = 0; e < plan.ensembles.size(); ++e) {
    const SweepEnsemble& ens = plan.ensembles[e];
    const std::string path = fs::join(ensemble_dir(opt, e), "summary.csv");
    std::istringstream in(read_file(path));
    std::string line;
    if (!std::getline(in, line) || line != summary_header()) {
      fail("{}: not an SS-ISAC summary (its header is not '{}')", path, summary_header());
    }
    while (std::getline(in, line)) {
      // Each row starts with its grid point's index within the ensemble.
      size_t point = 0;
      const size_t comma = line.find(',');
      const auto [ptr, ec] = std::from_chars(line.data(), line.data() + std::min(comma, line.size()), point);
      if (comma == std::string::npos || ec != std::errc() || ptr != line.data() + comma ||
          point >= ens.point_configs.size()) {
        fail("{}: row '{}' does not start with a grid point of the ensemble (0-{})", path, line,
             ens.point_configs.size() - 1);
      }
      std::string prefix;
      for (const auto& k : plan.extra_columns) prefix += yaml_scalar_text(ens.point_configs[point], k) + ",";
      summary.row(fmt::format("{}{},{}", prefix, e, line));
    }
  }
  summary.close();
}

bool run_sweep_job(SweepOptions& opt, SweepPlan plan, const dist::JobEnv& env, dist::Store& store) {
  if (env.rank == 0) {
    plan = settle_plan(opt, std::move(plan));
    store.set("plan", plan_csv(plan));
  } else {
    const std::string text = store.get("plan");
    opt.max_grid_override = largest_ensemble(text, "the plan of rank 0");
    plan = plan_sweep(opt);
    if (plan_csv(plan) != text) {
      fail("rank {}: rank 0 planned other ensembles than this rank's command gives (do all ranks run the same "
           "command, configuration file and data?)",
           env.rank);
    }
  }
  const auto num = static_cast<int64_t>(plan.ensembles.size());
  log::info("sweep: {} points in {} ensembles of up to {} points, shared by {} ranks", plan.num_points, num,
            plan.max_grid, env.world_size);
  int64_t trained = 0;
  for (;;) {
    const int64_t e = store.add("next_ensemble", 1) - 1;
    if (e >= num) break;
    trained += train_ensemble(opt, plan, static_cast<size_t>(e)) ? 1 : 0;
  }
  store.add("ranks_done", 1);
  log::info("no ensemble left ({} trained by this rank)", trained);
  if (env.rank != 0) return false;
  while (store.add("ranks_done", 0) < env.world_size) {
    interrupt::stop_if_pending("while rank 0 waited for the other ranks",
                               fmt::format("the finished ensembles are kept; continue with {}", opt.resume_hint));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  merge_sweep_summary(opt, plan);
  return true;
}

bool run_sweep(const SweepOptions& opt, const SweepPlan& plan) {
  log::info("sweep: {} points in {} ensemble group(s) of up to {} points", plan.num_points, plan.num_groups,
            plan.max_grid);
  for (size_t e = 0; e < plan.ensembles.size(); ++e) {
    if (static_cast<int64_t>(e) % opt.shard_count == opt.shard_index) train_ensemble(opt, plan, e);
  }
  if (opt.shard_count > 1 && !unfinished_ensembles(opt, plan).empty()) {
    log::info("shard {}/{}: its ensembles are finished; the sweep's summary.csv is written by the last shard to "
              "finish, or by 'semsec sweep --merge {}'",
              opt.shard_index, opt.shard_count, opt.sweep_dir);
    return false;
  }
  merge_sweep_summary(opt, plan);
  return true;
}

}  // namespace semsec::trainers
