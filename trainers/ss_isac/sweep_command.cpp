// `semsec sweep`: the command's modes on top of sweep.h.
#include "trainers/ss_isac/sweep_command.h"

#include <charconv>
#include <optional>
#include <string_view>

#include "core/distributed.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/interrupt.h"
#include "core/progress.h"
#include "core/rundir.h"
#include "trainers/ss_isac/schema.h"
#include "trainers/ss_isac/sweep.h"

namespace semsec::trainers {
namespace {

// --shard I/N: 0 <= I < N.
void parse_shard(const std::string& text, SweepOptions& opt) {
  const size_t slash = text.find('/');
  auto number = [&](std::string_view part, int64_t& out) {
    const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    return ec == std::errc() && ptr == part.data() + part.size() && !part.empty();
  };
  if (slash == std::string::npos || !number(std::string_view(text).substr(0, slash), opt.shard_index) ||
      !number(std::string_view(text).substr(slash + 1), opt.shard_count) || opt.shard_count < 1 ||
      opt.shard_index < 0 || opt.shard_index >= opt.shard_count) {
    fail("--shard {}: expected I/N with 0 <= I < N (e.g. --shard 0/4)", text);
  }
}

// --merge DIR: the summary from the finished ensembles; nothing trains.
void merge_command(const SweepCommand& c) {
  if (!c.config_file.empty() || !c.args.empty() || !c.out.empty() || !c.resume_dir.empty() || !c.shard.empty()) {
    fail("semsec sweep --merge DIR takes no CONFIG, axes, --out, --resume or --shard: they are read from DIR");
  }
  SweepOptions opt;
  opt.sweep_dir = c.merge_dir;
  for (const char* f : {"sweep.txt", "plan.csv"}) {
    if (!fs::is_file(fs::join(opt.sweep_dir, f))) {
      fail("--merge {}: no {} there; is it a semsec sweep directory?", opt.sweep_dir, f);
    }
  }
  load_sweep_record(opt);
  opt.shared = true;
  // The plan is plan.csv's, whatever this machine's memory.
  const SweepPlan plan = settle_plan(opt, plan_sweep_from_record(opt));
  merge_sweep_summary(opt, plan);
  log::info("done: {}/summary.csv ({} ensembles)", opt.sweep_dir, plan.ensembles.size());
}

// A directory that processes share (shards, ranks): joined when it holds this same sweep.
void refuse_another_sweep(const SweepOptions& opt, const std::string& out) {
  if (fs::is_file(fs::join(out, "sweep.txt")) && read_file(fs::join(out, "sweep.txt")) != sweep_record_text(opt)) {
    fail("--out {}: holds another sweep (its sweep.txt differs from this command's CONFIG and axes); choose another "
         "directory",
         out);
  }
}

// The sweep directory and, for a new sweep, CONFIG and the axes.
void choose_sweep_dir(const SweepCommand& c, const dist::JobEnv& job, SweepOptions& opt) {
  if (opt.resume) {
    if (!c.config_file.empty() || !c.args.empty() || !c.out.empty()) {
      fail("semsec sweep --resume DIR takes no CONFIG, axes or --out: they are read from DIR/sweep.txt");
    }
    opt.sweep_dir = c.resume_dir;
    if (!fs::is_file(fs::join(opt.sweep_dir, "sweep.txt"))) {
      fail("--resume {}: no sweep.txt there; is it a semsec sweep directory?", opt.sweep_dir);
    }
    load_sweep_record(opt);
    return;
  }
  if (c.config_file.empty()) fail("semsec sweep: missing CONFIG (usage: {})", c.usage);
  opt.config_file = c.config_file;
  opt.args = c.args;
  if (job.multi_process()) {
    // A new job starts a new sweep; a job that torchrun restarted joins the one it began.
    if (c.out.empty()) fail("a job of {} processes needs --out DIR: every rank writes to the same directory", job.world_size);
    if (job.rank == 0 && job.restart_count == 0 && fs::exists(fs::join(c.out, "sweep.txt"))) {
      fail("--out {}: already holds sweep.txt (another job's sweep); continue it with '--resume {}' or choose another "
           "directory",
           c.out, c.out);
    }
    if (job.restart_count > 0) refuse_another_sweep(opt, c.out);
    opt.sweep_dir = c.out;
  } else if (opt.shared) {
    // Shards join one directory: the first creates it, the others check it holds the same sweep.
    if (c.out.empty()) fail("--shard needs --out DIR: every shard of a sweep writes to the same directory");
    refuse_another_sweep(opt, c.out);
    opt.sweep_dir = c.out;
  } else {
    const config::Config probe = config::Config::load_unchecked(isac_schema(), opt.config_file, {});
    opt.sweep_dir = new_run_dir(c.out, "sweep.txt", probe.get_string("experiment.name") + "_sweep",
                                fmt::format("continue it with '--resume {}' or ", c.out));
  }
}

std::string resume_hint(const SweepOptions& opt, const dist::JobEnv& job) {
  const std::string device = opt.device.is_cpu() ? std::string() : " --device " + opt.device.str();
  if (job.multi_process()) {
    return fmt::format("the same launch with 'semsec sweep --resume {}{}' in place of the sweep's arguments",
                       opt.sweep_dir, device);
  }
  if (opt.shared) {
    return fmt::format("semsec sweep --resume {}{} --shard {}/{}", opt.sweep_dir, device, opt.shard_index,
                       opt.shard_count);
  }
  return fmt::format("semsec sweep --resume {}{}", opt.sweep_dir, device);
}

// A rank of a multi-process job: rank 0 holds the directory's lock and writes its record.
void run_job_rank(SweepOptions& opt, SweepPlan plan, const dist::JobEnv& job, int64_t store_timeout_s) {
  std::optional<DirLock> job_lock;
  if (job.rank == 0) {
    const std::string err = fs::create_directories(opt.sweep_dir);
    if (!err.empty()) fail("{}: cannot create the sweep directory: {}", opt.sweep_dir, err);
    job_lock.emplace(opt.sweep_dir);
    if (!fs::is_file(fs::join(opt.sweep_dir, "sweep.txt"))) save_sweep_record(opt);
  }
  log::info("rank {} of {} ({}), device {}, store {}:{}{}", job.rank, job.world_size, job.launcher, opt.device.str(),
            job.master_addr, job.master_port,
            job.restart_count > 0 ? fmt::format(", restart {}", job.restart_count) : "");
  dist::Store store(job, std::chrono::seconds(store_timeout_s));
  if (run_sweep_job(opt, std::move(plan), job, store)) log::info("done: {}/summary.csv", opt.sweep_dir);
}

// A shard: other processes work in this directory, so no directory-wide lock or clean-up (each
// ensemble has its own lock).
void run_shard(SweepOptions& opt, SweepPlan plan) {
  const std::string err = fs::create_directories(opt.sweep_dir);
  if (!err.empty()) fail("{}: cannot create the sweep directory: {}", opt.sweep_dir, err);
  if (!opt.resume && !fs::is_file(fs::join(opt.sweep_dir, "sweep.txt"))) save_sweep_record(opt);
  plan = settle_plan(opt, std::move(plan));
  log::info("sweep directory {} (device {}, shard {}/{})", opt.sweep_dir, opt.device.str(), opt.shard_index,
            opt.shard_count);
  if (run_sweep(opt, plan)) log::info("done: {}/summary.csv", opt.sweep_dir);
}

}  // namespace

void run_sweep_command(const SweepCommand& c) {
  if (!c.merge_dir.empty()) return merge_command(c);
  SweepOptions opt;
  opt.device = c.device;
  opt.resume = !c.resume_dir.empty();
  const dist::JobEnv job = dist::job_env();
  if (job.multi_process()) {
    if (!c.shard.empty()) {
      fail("--shard and a job of {} processes ({}) do not go together: the job's ranks share the ensembles",
           job.world_size, job.launcher);
    }
    log::set_tag(fmt::format("r{}", job.rank));
    opt.shared = true;
  } else if (!c.shard.empty()) {
    parse_shard(c.shard, opt);
    opt.shared = true;
  }
  choose_sweep_dir(c, job, opt);
  opt.resume_hint = resume_hint(opt, job);
  // Every point's configuration resolved and checked before the sweep directory is touched.
  SweepPlan plan = opt.resume && fs::is_file(fs::join(opt.sweep_dir, "plan.csv")) ? plan_sweep_from_record(opt)
                                                                                  : plan_sweep(opt);
  interrupt::install();
  if (job.multi_process()) return run_job_rank(opt, std::move(plan), job, c.store_timeout_s);
  if (opt.shared) return run_shard(opt, std::move(plan));
  const RunDirGuard guard(opt.sweep_dir);
  if (!opt.resume) save_sweep_record(opt);
  plan = settle_plan(opt, std::move(plan));
  log::info("sweep directory {} (device {})", opt.sweep_dir, opt.device.str());
  run_sweep(opt, plan);
  log::info("done: {}/summary.csv", opt.sweep_dir);
}

}  // namespace semsec::trainers
