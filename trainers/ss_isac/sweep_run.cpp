// `semsec sweep`: training a plan's ensembles (alone, as a shard, or as a rank of a job) and the
// merged summary.
#include <charconv>
#include <chrono>
#include <sstream>
#include <thread>

#include "core/errors.h"
#include "core/fs.h"
#include "core/interrupt.h"
#include "core/progress.h"
#include "core/rundir.h"
#include "trainers/ss_isac/experiment.h"
#include "trainers/ss_isac/run.h"
#include "trainers/ss_isac/sweep.h"

namespace semsec::trainers {
namespace {

std::string ensemble_dir(const SweepOptions& opt, size_t index) {
  return fs::join(opt.sweep_dir, fmt::format("ensemble{:03d}", index));
}

}  // namespace

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
  for (const SweepAxis& axis : plan.axes) {  // TensorBoard's HParams: the grid's axes come with the grid
    if (grid_axis(axis.key) == nullptr) ctx.tb_hparams.push_back({axis.key, swept_value_text(e.cfg, axis.key)});
  }
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

namespace {

// One file of every ensemble merged into the sweep's: the swept keys' columns, the ensemble's index
// and the ensemble's row. optional: ensembles without the file are left out (the threat model's
// files exist only where threat.enabled).
void merge_ensemble_csv(const SweepOptions& opt, const SweepPlan& plan, const std::string& name,
                        const std::string& file_header, bool optional) {
  std::string header;
  for (const auto& k : plan.extra_columns) header += k + ",";
  CsvWriter merged(fs::join(opt.sweep_dir, name), header + "ensemble," + file_header);
  bool any = false;
  for (size_t e = 0; e < plan.ensembles.size(); ++e) {
    const SweepEnsemble& ens = plan.ensembles[e];
    const std::string path = fs::join(ensemble_dir(opt, e), name);
    if (optional && !fs::is_file(path)) continue;
    any = true;
    std::istringstream in(read_file(path));
    std::string line;
    if (!std::getline(in, line) || line != file_header) {
      fail("{}: not an SS-ISAC {} (its header is not '{}')", path, name, file_header);
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
      for (const auto& k : plan.extra_columns) prefix += swept_value_text(ens.point_configs[point], k) + ",";
      merged.row(fmt::format("{}{},{}", prefix, e, line));
    }
  }
  if (any) merged.close();
}

}  // namespace

void merge_sweep_summary(const SweepOptions& opt, const SweepPlan& plan) {
  const std::vector<size_t> missing = unfinished_ensembles(opt, plan);
  if (!missing.empty()) {
    std::string names;
    for (size_t i = 0; i < missing.size() && i < 8; ++i)
      names += fmt::format("{}ensemble{:03d}", i ? ", " : "", missing[i]);
    if (missing.size() > 8) names += ", ...";
    fail(
        "{}: {} of {} ensembles are not finished ({}); train them (the missing --shard, or --resume {}) before "
        "merging",
        opt.sweep_dir, missing.size(), plan.ensembles.size(), names, opt.sweep_dir);
  }
  // The threat model's files first: summary.csv marks the merge done.
  merge_ensemble_csv(opt, plan, "adaptive_eve.csv", adaptive_eve_header(), /*optional=*/true);
  merge_ensemble_csv(opt, plan, "defences.csv", defences_header(), /*optional=*/true);
  merge_ensemble_csv(opt, plan, "summary.csv", summary_header(), /*optional=*/false);
}

bool run_sweep_job(SweepOptions& opt, SweepPlan plan, const dist::JobEnv& env, dist::Store& store) {
  if (env.rank == 0) {
    plan = settle_plan(opt, std::move(plan));
    store.set("plan", plan_csv(plan));
  } else {
    const std::string text = store.get("plan", [&] {
      interrupt::stop_if_pending(fmt::format("while rank {} waited for rank 0's plan", env.rank),
                                 "this rank trained nothing");
    });
    opt.max_grid_override = plan_largest_ensemble(text, "the plan of rank 0");
    plan = plan_sweep(opt);
    if (plan_csv(plan) != text) {
      fail(
          "rank {}: rank 0 planned other ensembles than this rank's command gives (do all ranks run the same "
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
    log::info(
        "shard {}/{}: its ensembles are finished; the sweep's summary.csv is written by the last shard to "
        "finish, or by 'semsec sweep --merge {}'",
        opt.shard_index, opt.shard_count, opt.sweep_dir);
    return false;
  }
  merge_sweep_summary(opt, plan);
  return true;
}

}  // namespace semsec::trainers
