// `semsec sweep`: grids as ensembles.
#include "trainers/sweep.h"

#include <map>

#include "core/errors.h"
#include "core/fs.h"
#include "core/progress.h"
#include "core/rundir.h"
#include "trainers/gs_isac_trainer.h"
#include "trainers/isac_schema.h"

namespace semsec::trainers {
namespace {

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
  return key == "seed" || key == "train.snr_db" || key == "train.lr" || key == "security.psr_db";
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
  const int64_t max_grid = base.get_int("sweep.max_grid");

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
      RunContext ctx;
      ctx.run_dir = fs::join(opt.sweep_dir, fmt::format("ensemble{:03d}", ensemble));
      ctx.device = opt.device;
      const std::string cfg_path = fs::join(ctx.run_dir, "config.yaml");
      if (fs::exists(cfg_path) && !opt.resume) fail("{}: already holds a run; use --resume {}", ctx.run_dir, opt.sweep_dir);
      const std::string err = fs::create_directories(ctx.run_dir);
      if (!err.empty()) fail("{}: cannot create directory: {}", ctx.run_dir, err);
      write_file_atomic(cfg_path, cfg.to_yaml());
      // What differs between this ensemble's grid points (config.yaml holds the shared values).
      std::string pts = "point,seed,train_snr_db,lr,psr_db\n";
      for (size_t i = 0; i < points.size(); ++i) {
        pts += fmt::format("{},{},{},{},{}\n", i, points[i].seed, points[i].train_snr_db, points[i].lr, points[i].psr_db);
      }
      write_file_atomic(fs::join(ctx.run_dir, "points.csv"), pts);
      ctx.metrics = std::make_unique<MetricsLog>(fs::join(ctx.run_dir, "metrics.csv"));
      if (opt.resume) ctx.metrics->load_existing();
      if (cfg.get_bool("output.tensorboard")) ctx.tb = std::make_unique<tb::EventWriter>(ctx.run_dir);
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
