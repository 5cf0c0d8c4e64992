// The stage runner.
#include "trainers/engine/stage.h"

#include "trainers/engine/graph_step.h"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/checkpoint.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/progress.h"
#include "core/rundir.h"

namespace semsec::trainers {

std::string stage_checkpoint_path(const std::string& run_dir, const std::string& stage) {
  return fs::join(fs::join(run_dir, "checkpoints"), stage + ".pt");
}

namespace {

void save_stage(const StageSpec& spec, const GridAdam& opt, int64_t step, const std::string& path) {
  TensorMap m;
  for (const auto& [name, t] : spec.params) m["param." + name] = t;
  for (const auto& [name, t] : spec.extra) m["extra." + name] = t;
  const auto names = opt.state_names();
  const auto states = opt.state_tensors();
  for (size_t i = 0; i < names.size(); ++i) m["adam." + names[i]] = states[i];
  m["stage.step"] = int_tensor(step);
  m["stage.total_steps"] = int_tensor(spec.total_steps);
  save_tensors(path, m);
}

int64_t load_stage(const StageSpec& spec, GridAdam& opt, const std::string& path) {
  const TensorMap m = load_tensors(path);
  for (const auto& [name, t] : spec.params) restore_tensor(m, "param." + name, t, path);
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

// Test hook: SEMSEC_TEST_KILL_AT_STEP=stage:step kills the process (SIGKILL, no clean-up)
// right after that step, to prove that resuming gives the uninterrupted result.
void maybe_kill(const std::string& stage, int64_t step) {
  static const char* env = std::getenv("SEMSEC_TEST_KILL_AT_STEP");
  if (env == nullptr) return;
  if (std::string(env) == fmt::format("{}:{}", stage, step)) std::raise(SIGKILL);
}

}  // namespace

NamedTensors train_step(GridAdam& opt, const std::function<NamedTensors()>& losses, bool keep_grads) {
  opt.zero_grad(/*set_to_none=*/!keep_grads);
  NamedTensors terms = losses();
  terms.front().second.sum().backward();
  opt.step();
  return terms;
}

void run_stage(const StageSpec& spec, RunContext& ctx) {
  std::vector<torch::Tensor> params;
  for (const auto& [name, t] : spec.params) params.push_back(t);
  GridAdam opt(params, spec.lr, spec.adam);
  const std::string ckpt = stage_checkpoint_path(ctx.run_dir, spec.name);
  int64_t start = 0;
  if (fs::exists(ckpt)) {
    start = load_stage(spec, opt, ckpt);
    ctx.metrics->truncate(spec.name, start);
    if (start >= spec.total_steps) {
      log::info("stage {}: complete in {}, skipped", spec.name, ckpt);
      return;
    }
    log::info("stage {}: resuming at step {}/{}", spec.name, start, spec.total_steps);
  }
  std::unique_ptr<GraphedStep> graphed;
  if (spec.cuda_graph && ctx.device.is_cuda()) {
    if (!spec.prepare) fail("stage {}: a CUDA-graph step needs a prepare function", spec.name);
    graphed = std::make_unique<GraphedStep>(ctx.device);
  }
  auto progress = log::Progress::for_stderr(spec.name, spec.total_steps);
  for (int64_t step = start; step < spec.total_steps; ++step) {
    if (spec.prepare) spec.prepare(step);
    const auto one_step = [&] { return train_step(opt, spec.loss_fn, graphed != nullptr); };
    const NamedTensors terms = graphed ? graphed->run(one_step) : one_step();
    const int64_t done = step + 1;
    if (done % spec.log_every == 0 || done == spec.total_steps) {
      std::string shown;
      for (const auto& [term, value] : terms) {
        const torch::Tensor v = value.detach().to(torch::kCPU, torch::kFloat64);
        for (int64_t g = 0; g < v.numel(); ++g) {
          const double x = v[g].item<double>();
          ctx.metrics->add(spec.name, done, g, term, x);
          if (ctx.tb) {
            ctx.tb->add_scalar(
                v.numel() == 1 ? fmt::format("{}/{}", spec.name, term) : fmt::format("{}/{}/p{}", spec.name, term, g),
                x, done);
          }
        }
        shown += fmt::format(" {}={:.4g}", term, v.mean().item<double>());
      }
      progress.update(done, shown);
    }
    if (done % spec.checkpoint_every == 0 || done == spec.total_steps) {
      save_stage(spec, opt, done, ckpt);
      ctx.metrics->save();
      if (ctx.tb) ctx.tb->flush();
    }
    maybe_kill(spec.name, done);
  }
  progress.finish();
}

}  // namespace semsec::trainers
