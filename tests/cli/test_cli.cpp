// End-to-end tests of the semsec executable: a full train run on synthetic data, the errors
// users see for bad configs/overrides/data/command lines, and the bit-exact resume after the
// process is killed mid-run. Sweeps, export, link, clssr and bench: test_cli_sweep.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/checkpoint.h"
#include "core/fs.h"
#include "core/safetensors.h"
#include "tests/cli/cli_test.h"

namespace semsec {
namespace {

using namespace semsec::testing_cli;  // NOLINT: the fixture and its helpers

TEST_F(CliTest, TrainWritesTheRunDirectory) {
  const std::string out = fs::join(dir_, "run");
  const Result r =
      run(fmt::format("train {}/experiments/gs_isac.yaml {} --out {}", SEMSEC_SOURCE_DIR, small_run_args(), out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string summary = slurp(fs::join(out, "summary.csv"));
  EXPECT_EQ(summary.rfind("point,variant,eve,train_snr_db,test_snr_db,psr_db,seed,mse_sen,mse_com,pc_eve,psr_real_db,psr_p99_db,"
                            "status\n", 0), 0u)
      << summary;
  EXPECT_NE(summary.find(",0,"), std::string::npos);
  EXPECT_NE(summary.find(",15,"), std::string::npos);
  EXPECT_TRUE(fs::is_file(fs::join(out, "config.yaml")));
  EXPECT_NE(slurp(fs::join(out, "config.yaml")).find("steps: 12"), std::string::npos);
  EXPECT_TRUE(fs::is_file(fs::join(out, "metrics.csv")));
  EXPECT_TRUE(fs::is_file(fs::join(out, "checkpoints/general.pt")));
  bool has_events = false;
  for (const auto& f : fs::list_dir(out)) has_events |= f.rfind("events.out.tfevents.", 0) == 0;
  EXPECT_TRUE(has_events);
  // A second run into the same directory would overwrite finished results: refused.
  const Result again =
      run(fmt::format("train {}/experiments/gs_isac.yaml {} --out {}", SEMSEC_SOURCE_DIR, small_run_args(), out));
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.output.find("already holds config.yaml; continue it with '--resume"), std::string::npos)
      << again.output;
}

// A run killed (SIGKILL, no clean-up) after step 10 and resumed from its step-8 checkpoint ends
// with the uninterrupted run's weights, metrics and summary, bit for bit. `device` is "" (CPU) or
// a --device flag; on CUDA the steps replay a captured graph (train.cuda_graph, on by default).
void expect_resume_equals_uninterrupted(CliTest& t, const std::string& cfg, const std::string& device,
                                        const std::string& dir) {
  const std::string full = fs::join(dir, "full"), cut = fs::join(dir, "cut");
  const Result done = t.run(fmt::format("train {} {} --out {}", cfg, device, full));
  ASSERT_EQ(done.exit_code, 0) << done.output;
  const Result killed =
      t.run(fmt::format("train {} {} --out {}", cfg, device, cut), "SEMSEC_TEST_KILL_AT_STEP=general:10");
  EXPECT_EQ(killed.signal, 9) << killed.output;
  EXPECT_FALSE(fs::exists(fs::join(cut, "summary.csv")));
  ASSERT_EQ(get_int(load_tensors(fs::join(cut, "checkpoints/general.pt")), "stage.step", "ckpt"), 8);
  const Result resumed = t.run(fmt::format("train {} --resume {}", device, cut));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming at step 8"), std::string::npos) << resumed.output;
  const TensorMap a = load_tensors(fs::join(full, "checkpoints/general.pt"));
  const TensorMap b = load_tensors(fs::join(cut, "checkpoints/general.pt"));
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name;
  EXPECT_EQ(slurp(fs::join(full, "summary.csv")), slurp(fs::join(cut, "summary.csv")));
  EXPECT_EQ(slurp(fs::join(full, "metrics.csv")), slurp(fs::join(cut, "metrics.csv")));
}

TEST_F(CliTest, ResumeAfterAKillGivesTheUninterruptedResultBitForBit) {
  const std::string cfg = fmt::format("{}/experiments/gs_isac.yaml {}", SEMSEC_SOURCE_DIR, small_run_args());
  expect_resume_equals_uninterrupted(*this, cfg, "", dir_);
  // Resuming with a different configuration is refused.
  const Result changed = run(fmt::format("train {} train.lr=0.5 --resume {}", cfg, fs::join(dir_, "cut")));
  EXPECT_EQ(changed.exit_code, 2);
  EXPECT_NE(changed.output.find("train.lr differs"), std::string::npos) << changed.output;
}

// The same on a GPU, where the steps replay a CUDA graph whose counters and Adam step live on the
// device: a resumed run must capture a fresh graph that picks them up from the checkpoint.
TEST_F(CliTest, GpuResumeWithCudaGraphsGivesTheUninterruptedResultBitForBit) {
  SEMSEC_SKIP_WITHOUT_CUDA();
  const std::string cfg = fmt::format("{}/experiments/gs_isac.yaml {}", SEMSEC_SOURCE_DIR, small_run_args());
  expect_resume_equals_uninterrupted(*this, cfg, "--device cuda", dir_);
}

// Two runs of the same configuration end with the same weights, metrics and summary.
// SIGTERM (as Slurm sends before it kills) finishes the step, checkpoints it (step 6 is not a
// checkpoint step of the schedule) and exits with 128 + 15 and the command that resumes; the
// resumed run equals the uninterrupted one bit for bit.
TEST_F(CliTest, SigtermCheckpointsTheCurrentStepAndResumesBitForBit) {
  const std::string cfg = fmt::format("{}/experiments/gs_isac.yaml {}", SEMSEC_SOURCE_DIR, small_run_args());
  const std::string full = fs::join(dir_, "full"), cut = fs::join(dir_, "cut");
  ASSERT_EQ(run(fmt::format("train {} --out {}", cfg, full)).exit_code, 0);
  const Result stopped = run(fmt::format("train {} --out {}", cfg, cut), "SEMSEC_TEST_SIGNAL_AT_STEP=general:6:15");
  EXPECT_EQ(stopped.exit_code, 128 + 15) << stopped.output;
  EXPECT_NE(stopped.output.find("stopped by signal 15 after step 6 of stage general"), std::string::npos)
      << stopped.output;
  EXPECT_NE(stopped.output.find("Resume with: semsec train --resume " + cut), std::string::npos) << stopped.output;
  ASSERT_EQ(get_int(load_tensors(fs::join(cut, "checkpoints/general.pt")), "stage.step", "ckpt"), 6);
  EXPECT_FALSE(fs::exists(fs::join(cut, "summary.csv")));
  const Result resumed = run(fmt::format("train --resume {}", cut));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming at step 6"), std::string::npos) << resumed.output;
  expect_same_results(full, cut);
  // A second signal does not wait for the step: the process ends at once, by the signal.
  const std::string twice = fs::join(dir_, "twice");
  const Result killed = run(fmt::format("train {} --out {}", cfg, twice), "SEMSEC_TEST_SIGNAL_AT_STEP=general:6:15x2");
  EXPECT_EQ(killed.signal, 15) << killed.output;
  EXPECT_EQ(killed.output.find("stopped by signal"), std::string::npos) << killed.output;
  EXPECT_EQ(get_int(load_tensors(fs::join(twice, "checkpoints/general.pt")), "stage.step", "ckpt"), 4);
}

// A sweep stopped by SIGINT in a later stage resumes to the uninterrupted summary.
TEST_F(CliTest, SigintStopsASweepThatResumesToTheUninterruptedSummary) {
  const std::string args = fmt::format(
      "sweep {}/experiments/ss_isac.yaml {} train.steps=4 eve.steps=3 security.steps=6 seed=0,1 "
      "security.adaptive_eve=false security.blackbox=false",
      SEMSEC_SOURCE_DIR, small_run_args());
  const std::string full = fs::join(dir_, "full"), cut = fs::join(dir_, "cut");
  ASSERT_EQ(run(fmt::format("{} --out {}", args, full)).exit_code, 0);
  const Result stopped = run(fmt::format("{} --out {}", args, cut), "SEMSEC_TEST_SIGNAL_AT_STEP=arn_whitebox:5:2");
  EXPECT_EQ(stopped.exit_code, 128 + 2) << stopped.output;
  EXPECT_NE(stopped.output.find("Resume with: semsec sweep --resume " + cut), std::string::npos) << stopped.output;
  const Result resumed = run(fmt::format("sweep --resume {}", cut));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("stage arn_whitebox: resuming at step 5/6"), std::string::npos) << resumed.output;
  EXPECT_EQ(slurp(fs::join(full, "summary.csv")), slurp(fs::join(cut, "summary.csv")));
  expect_same_results(fs::join(full, "ensemble000"), fs::join(cut, "ensemble000"));
}

// A full disk (injected into the writers) while writing a checkpoint, metrics.csv or summary.csv:
// a clear error naming the file, the previous checkpoint intact, and a resume that ends where the
// undisturbed run ends.
TEST_F(CliTest, AFullDiskLosesNothingThatWasSaved) {
  const std::string cfg = fmt::format("{}/experiments/gs_isac.yaml {}", SEMSEC_SOURCE_DIR, small_run_args());
  const std::string full = fs::join(dir_, "full");
  ASSERT_EQ(run(fmt::format("train {} --out {}", cfg, full)).exit_code, 0);
  // The 2nd write of the checkpoint (step 8), the 2nd append to metrics.csv, and summary.csv.
  for (const std::string fault : {"checkpoints/general.pt@2", "metrics.csv@2", "summary.csv"}) {
    SCOPED_TRACE(fault);
    const std::string cut = fs::join(dir_, "cut_" + std::to_string(std::hash<std::string>{}(fault)));
    const Result failed = run(fmt::format("train {} --out {}", cfg, cut), "SEMSEC_TEST_FAIL_WRITES=" + fault);
    EXPECT_EQ(failed.exit_code, 2) << failed.output;
    EXPECT_NE(failed.output.find("No space left on device"), std::string::npos) << failed.output;
    EXPECT_NE(failed.output.find(fault.substr(0, fault.find('@'))), std::string::npos) << failed.output;
    for (const std::string& f : fs::list_dir(fs::join(cut, "checkpoints"))) {
      EXPECT_EQ(f.find(".tmp"), std::string::npos) << "temporary file left: " << f;
    }
    const int64_t step = get_int(load_tensors(fs::join(cut, "checkpoints/general.pt")), "stage.step", "ckpt");
    EXPECT_EQ(step, fault == "summary.csv" ? 12 : 4);
    const Result resumed = run(fmt::format("train --resume {}", cut));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    expect_same_results(full, cut);
  }
}

// One grid point that diverges (train.lr=10 blows the loss up) is frozen and marked; its rows in
// summary.csv carry no metrics. A single run that diverges stops with the stage, step and reason,
// and keeps its run directory with the last good checkpoint for inspection.
TEST_F(CliTest, DivergenceIsMarkedInASweepAndStopsASingleRun) {
  const std::string args =
      fmt::format("{}/experiments/gs_isac.yaml {} train.steps=60 train.log_every=10 train.checkpoint_every=20",
                  SEMSEC_SOURCE_DIR, small_run_args());
  const std::string sweep = fs::join(dir_, "sweep");
  const Result r = run(fmt::format("sweep {} train.lr=0.001,10 --out {}", args, sweep));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string summary = slurp(fs::join(sweep, "summary.csv"));
  std::istringstream lines(summary);
  std::string line;
  int ok = 0, diverged = 0;
  std::getline(lines, line);
  EXPECT_NE(line.find(",status"), std::string::npos) << line;
  while (std::getline(lines, line)) {
    if (line.ends_with(",ok")) ++ok;
    if (line.find(",,,,,diverged@general:") != std::string::npos) ++diverged;
  }
  EXPECT_EQ(ok, 2) << summary;
  EXPECT_EQ(diverged, 2) << summary;

  const std::string single = fs::join(dir_, "single");
  const Result stopped = run(fmt::format("train {} train.lr=10 --out {}", args, single));
  EXPECT_EQ(stopped.exit_code, 2) << stopped.output;
  EXPECT_NE(stopped.output.find("stage general: every grid point has stopped training"), std::string::npos)
      << stopped.output;
  EXPECT_NE(stopped.output.find("The last good checkpoint is " + single + "/checkpoints/general.pt"),
            std::string::npos)
      << stopped.output;
  EXPECT_TRUE(fs::is_file(fs::join(single, "checkpoints/general.pt")));
  EXPECT_FALSE(fs::exists(fs::join(single, "summary.csv")));
}

TEST_F(CliTest, ConfigErrorsNameFileLineColumnAndKey) {
  const std::string bad = write_config("bad.yaml", "train:\n  batch_size: abc\n");
  Result r = run("train " + bad);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find(bad + ":2:15: train.batch_size: expected a positive integer, got \"abc\""), std::string::npos)
      << r.output;
  const std::string typo = write_config("typo.yaml", "train:\n  batchsize: 5\n");
  r = run("train " + typo);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("did you mean 'train.batch_size'"), std::string::npos) << r.output;
  r = run(fmt::format("train {}/experiments/gs_isac.yaml train.snr_db=loud", SEMSEC_SOURCE_DIR));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("override 'train.snr_db=loud'"), std::string::npos) << r.output;
  r = run(fmt::format("train {}/missing.yaml", dir_));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("missing.yaml"), std::string::npos) << r.output;
}

TEST_F(CliTest, DataAndCommandLineErrorsAreClear) {
  Result r = run(fmt::format("train {}/experiments/gs_isac.yaml data.root={}/nowhere", SEMSEC_SOURCE_DIR, dir_));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("nowhere"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("data.root"), std::string::npos) << r.output;
  // A truncated image file.
  const std::string broken = fs::join(dir_, "broken");
  data::write_synthetic_dataset(broken, 64, 32, 1, false);
  {
    const std::string f = fs::join(broken, "train-images-idx3-ubyte");
    std::string bytes = slurp(f);
    std::ofstream(f, std::ios::binary | std::ios::trunc).write(bytes.data(), 1000);
  }
  r = run(fmt::format("train {}/experiments/gs_isac.yaml data.root={}", SEMSEC_SOURCE_DIR, broken));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("train-images-idx3-ubyte"), std::string::npos) << r.output;
  r = run("train --bogus");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown option '--bogus'"), std::string::npos) << r.output;
  r = run("frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown command 'frobnicate'"), std::string::npos) << r.output;
  r = run(fmt::format("train {}/experiments/gs_isac.yaml --device cuda:7", SEMSEC_SOURCE_DIR));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--device cuda:7"), std::string::npos) << r.output;
  r = run("train --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("train.batch_size"), std::string::npos);
}

// A command that fails leaves nothing behind: configuration and command-line errors (cross-key
// rules and sweep axes included) are found before the run directory exists, and a failure after
// it was created (unreadable data) removes what the command added (RunDirGuard).
TEST_F(CliTest, FailedCommandsLeaveNothingOnDisk) {
  const std::string work = fs::join(dir_, "work");
  ASSERT_EQ(fs::create_directories(work), "");
  const std::string in_work = fmt::format("cd {} &&", work);
  const std::string broken = fs::join(dir_, "broken");
  data::write_synthetic_dataset(broken, 64, 32, 1, false);
  {
    const std::string f = fs::join(broken, "train-images-idx3-ubyte");
    std::string bytes = slurp(f);
    std::ofstream(f, std::ios::binary | std::ios::trunc).write(bytes.data(), 1000);
  }
  const std::string isac = fmt::format("{}/experiments/ss_isac.yaml {}", SEMSEC_SOURCE_DIR, small_run_args());
  const std::string clssr = fmt::format("{}/experiments/clssr_fig2.yaml {}", SEMSEC_SOURCE_DIR, small_clssr_args(data_));
  const std::vector<std::pair<std::string, std::string>> failing = {
      {"train " + isac + " data.phi_min_deg=30 data.phi_max_deg=-30", "data.phi_min_deg (30) must be below"},
      {"train " + isac + " data.train_limit=16", "train.batch_size (32) is larger than the training set"},
      {"sweep " + isac + " seed=", "no sweep axis given"},
      {"sweep " + isac + " seed= security.psr_db=-20,-5", "seed: expected"},
      {"sweep " + isac + " security.psr_db=-20,", "empty value"},
      {"sweep " + isac + " seed=0,1 data.phi_min_deg=30", "data.phi_min_deg (30) must be below"},
      {"train " + isac + " data.root=" + broken, "train-images-idx3-ubyte"},
      {"sweep " + isac + " seed=0,1 data.root=" + broken, "train-images-idx3-ubyte"},
      {fmt::format("link {}/experiments/link_ber.yaml link.schemes=[]", SEMSEC_SOURCE_DIR), "link.schemes"},
      {"clssr " + clssr + " channel.num_rx=1", "channel.num_rx"},
  };
  for (const auto& [args, message] : failing) {
    SCOPED_TRACE(args);
    const Result r = run(args, in_work);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
    EXPECT_EQ(fs::list_dir(work), std::vector<std::string>{}) << "runs/... was left behind";
  }
  // Into a user's own directory: only what the command added goes.
  const std::string mine = fs::join(dir_, "mine");
  ASSERT_EQ(fs::create_directories(mine), "");
  std::ofstream(fs::join(mine, "notes.txt")) << "keep";
  const Result r = run(fmt::format("train {} data.root={} --out {}", isac, broken, mine));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_EQ(fs::list_dir(mine), std::vector<std::string>{"notes.txt"});
}

}  // namespace
}  // namespace semsec
