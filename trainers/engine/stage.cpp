// The stage runner.
#include "trainers/engine/stage.h"

#include "trainers/engine/graph_step.h"

#include <fstream>
#include <sstream>

#include "core/checkpoint.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/interrupt.h"
#include "core/progress.h"
#include "core/rundir.h"
#include "trainers/engine/divergence.h"

namespace semsec::trainers {

std::string stage_checkpoint_path(const std::string& run_dir, const std::string& stage) {
  return fs::join(fs::join(run_dir, "checkpoints"), stage + ".pt");
}

namespace {

// Every trainable parameter of the stage: `params`, then each group of `more_params`.
NamedTensors all_params(const StageSpec& spec) {
  NamedTensors out = spec.params;
  for (const StageSpec::Group& group : spec.more_params)
    out.insert(out.end(), group.params.begin(), group.params.end());
  return out;
}

void save_stage(const StageSpec& spec, const GridAdam& opt, const DivergenceGuard& guard, int64_t step,
                const std::string& path) {
  TensorMap m;
  guard.save(m);
  for (const auto& [name, t] : all_params(spec)) m["param." + name] = t;
  for (const auto& [name, t] : spec.extra) m["extra." + name] = t;
  const auto names = opt.state_names();
  const auto states = opt.state_tensors();
  for (size_t i = 0; i < names.size(); ++i) m["adam." + names[i]] = states[i];
  m["stage.step"] = int_tensor(step);
  m["stage.total_steps"] = int_tensor(spec.total_steps);
  save_tensors(path, m);
}

int64_t load_stage(const StageSpec& spec, GridAdam& opt, DivergenceGuard& guard, const std::string& path) {
  const TensorMap m = load_tensors(path);
  guard.load(m, path);
  for (const auto& [name, t] : all_params(spec)) restore_tensor(m, "param." + name, t, path);
  for (const auto& [name, t] : spec.extra) restore_tensor(m, "extra." + name, t, path);
  const auto names = opt.state_names();
  const auto states = opt.state_tensors();
  for (size_t i = 0; i < names.size(); ++i) restore_tensor(m, "adam." + names[i], states[i], path);
  const int64_t total = get_int(m, "stage.total_steps", path);
  if (total != spec.total_steps) {
    fail(
        "{}: stage '{}' was started with {} steps but the configuration now asks for {}; resume with the "
        "same configuration",
        path, spec.name, total, spec.total_steps);
  }
  return get_int(m, "stage.step", path);
}

// Each point's status after `guard`'s stage: the first stage a point diverged in names it.
void record_status(const DivergenceGuard& guard, const std::string& stage, RunContext& ctx) {
  const auto& at = guard.diverged_at();
  for (size_t g = 0; g < at.size(); ++g) {
    if (at[g] > 0 && ctx.point_status[g] == "ok") ctx.point_status[g] = fmt::format("diverged@{}:{}", stage, at[g]);
  }
}

}  // namespace

NamedTensors train_step(GridAdam& opt, const std::function<NamedTensors()>& losses, bool keep_grads,
                        DivergenceGuard* guard) {
  opt.zero_grad(/*set_to_none=*/!keep_grads);
  NamedTensors terms = losses();
  terms.front().second.sum().backward();
  if (guard != nullptr) guard->observe(terms);
  opt.step();
  return terms;
}

namespace {

// What the stage loop carries from step to step besides the optimizer: the blow-up rule's
// reference, each point's smallest |loss| logged so far in this stage (read back from metrics.csv
// when resuming, at the first review), and the step of the last checkpoint this stage wrote.
struct StageLoop {
  std::vector<double> best;
  bool read_best = false;
  int64_t saved_step = 0;
};

// Loads the stage's checkpoint when there is one: the step to start from, or -1 when the stage is
// already complete (logged, and the TensorBoard step offset moved past it).
int64_t resume_stage(const StageSpec& spec, GridAdam& opt, DivergenceGuard& guard, const std::string& ckpt,
                     RunContext& ctx) {
  if (!fs::exists(ckpt)) return 0;
  const int64_t start = load_stage(spec, opt, guard, ckpt);
  ctx.metrics->truncate(spec.name, start);
  record_status(guard, spec.name, ctx);
  if (start >= spec.total_steps) {
    log::info("stage {}: complete in {}, skipped", spec.name, ckpt);
    ctx.tb_step_offset += spec.total_steps;
    return -1;
  }
  log::info("stage {}: resuming at step {}/{}", spec.name, start, spec.total_steps);
  return start;
}

// The divergence review of a step that is logged or saved: freezes the points whose loss blew up
// or went non-finite, records their status, and fails when no point is left training.
void review_step(const StageSpec& spec, const NamedTensors& terms, int64_t done, bool log_now, const std::string& ckpt,
                 DivergenceGuard& guard, StageLoop& loop, RunContext& ctx) {
  const size_t num_points = loop.best.size();
  const torch::Tensor loss = terms.front().second.detach().to(torch::kCPU, torch::kFloat64).reshape({-1});
  const std::vector<double> loss_host(loss.data_ptr<double>(), loss.data_ptr<double>() + loss.numel());
  if (loop.read_best) {
    for (size_t g = 0; g < num_points; ++g) {
      loop.best[g] = ctx.metrics->min_abs(spec.name, static_cast<int64_t>(g), terms.front().first);
    }
    loop.read_best = false;
  }
  guard.review(done, loss_host, loop.best);
  if (log_now) {  // the logged values are the ones a resumed run reads back
    for (size_t g = 0; g < num_points; ++g) {
      if (!(std::abs(loss_host[g]) >= loop.best[g])) loop.best[g] = std::abs(loss_host[g]);
    }
  }
  record_status(guard, spec.name, ctx);
  if (spec.every_point_needed) {
    for (size_t g = 0; g < num_points; ++g) {
      if (guard.diverged_at()[g] > 0)
        fail(
            "stage {}: {}; every grid point of this stage is needed, so the run stops. Lower the learning rate or "
            "check the data",
            spec.name, guard.describe(static_cast<int64_t>(g)));
    }
  }
  if (guard.all_frozen()) {
    std::string why;
    for (size_t g = 0; g < num_points; ++g) why += "; " + guard.describe(static_cast<int64_t>(g));
    fail(
        "stage {}: every grid point has stopped training{}. The last good checkpoint is {}; lower the learning "
        "rate or check the data and the loss weights",
        spec.name, why,
        loop.saved_step > 0 ? fmt::format("{} (step {})", ckpt, loop.saved_step)
                            : std::string("none: this stage wrote no checkpoint yet"));
  }
}

// A logged step: its terms into metrics.csv and TensorBoard (one run per point), and the progress
// line with the terms' means over the points.
void log_step(const StageSpec& spec, const NamedTensors& terms, int64_t done, RunContext& ctx,
              log::Progress& progress) {
  std::string shown;
  for (const auto& [term, value] : terms) {
    const torch::Tensor v = value.detach().to(torch::kCPU, torch::kFloat64);
    for (int64_t g = 0; g < v.numel(); ++g) {
      const double x = v[g].item<double>();
      ctx.metrics->add(spec.name, done, g, term, x);
      if (auto* w = tb_point(ctx, g, v.numel())) {
        w->add_scalar(fmt::format("{}/{}", spec.name, term), x, ctx.tb_step_offset + done);
      }
    }
    shown += fmt::format(" {}={:.4g}", term, v.mean().item<double>());
  }
  tb_flush(ctx);  // live curves (what a crash leaves past the checkpoint, a resume drops)
  progress.update(done, shown);
}

}  // namespace

void run_stage(const StageSpec& spec, RunContext& ctx) {
  std::vector<ParamGroup> groups(1);
  for (const auto& [name, t] : spec.params) groups[0].params.push_back(t);
  groups[0].lr = spec.lr;
  for (const StageSpec::Group& group : spec.more_params) {
    groups.push_back(ParamGroup{{}, group.lr});
    for (const auto& [name, t] : group.params) groups.back().params.push_back(t);
  }
  GridAdam opt(groups, spec.adam);
  const auto num_points = static_cast<size_t>(opt.num_points());
  ctx.point_status.resize(num_points, "ok");
  std::vector<bool> frozen(num_points);
  for (size_t g = 0; g < num_points; ++g) frozen[g] = ctx.point_status[g] != "ok";
  DivergenceGuard guard(opt, spec.name, frozen);
  const std::string ckpt = stage_checkpoint_path(ctx.run_dir, spec.name);
  const int64_t start = resume_stage(spec, opt, guard, ckpt, ctx);
  if (start < 0) return;
  if (guard.all_frozen())
    fail("stage {}: every grid point diverged in an earlier stage; nothing left to train", spec.name);
  std::unique_ptr<GraphedStep> graphed;
  if (spec.cuda_graph && ctx.device.is_cuda()) {
    if (!spec.prepare) fail("stage {}: a CUDA-graph step needs a prepare function", spec.name);
    graphed = std::make_unique<GraphedStep>(ctx.device);
  }
  StageLoop loop{std::vector<double>(num_points, std::nan("")), start > 0, start};
  // TensorBoard: drop what an interrupted run logged after the step this one starts from (logged
  // steps count the steps done, so the first one this run logs is start + 1 at the earliest).
  for (size_t g = 0; g < num_points; ++g) {
    if (auto* w = tb_point(ctx, static_cast<int64_t>(g), static_cast<int64_t>(num_points))) {
      w->add_session_start(ctx.tb_step_offset + start + 1);  // steps logged after the checkpoint
    }
  }
  auto progress = log::Progress::for_stderr(spec.name, spec.total_steps);
  for (int64_t step = start; step < spec.total_steps; ++step) {
    NamedTensors inner_terms;
    if (spec.inner) inner_terms = spec.inner(step);
    if (spec.prepare) spec.prepare(step);
    const auto one_step = [&] { return train_step(opt, spec.loss_fn, graphed != nullptr, &guard); };
    NamedTensors terms = graphed ? graphed->run(one_step) : one_step();
    if (spec.after_step) spec.after_step(step, terms);
    terms.insert(terms.end(), inner_terms.begin(), inner_terms.end());
    const int64_t done = step + 1;
    const bool log_now = done % spec.log_every == 0 || done == spec.total_steps;
    const bool save_now = done % spec.checkpoint_every == 0 || done == spec.total_steps;
    if (log_now || save_now) review_step(spec, terms, done, log_now, ckpt, guard, loop, ctx);
    if (log_now) log_step(spec, terms, done, ctx, progress);
    interrupt::test_hooks_at_step(spec.name, done);
    const int signal = interrupt::pending();
    if (save_now || signal != 0) {
      // metrics.csv first: rows past the checkpoint are cut back on resume, missing rows are not
      // written again.
      ctx.metrics->save();
      save_stage(spec, opt, guard, done, ckpt);
      loop.saved_step = done;
      tb_flush(ctx);
    }
    if (signal != 0) {
      progress.finish();
      throw interrupt::Interrupted(
          fmt::format("stopped by signal {} after step {} of stage {}; the checkpoint {} holds it. Resume with: {}",
                      signal, done, spec.name, ckpt,
                      ctx.resume_command.empty() ? std::string("--resume ") + ctx.run_dir : ctx.resume_command),
          signal);
    }
  }
  progress.finish();
  ctx.tb_step_offset += spec.total_steps;
}

}  // namespace semsec::trainers
