// End-to-end tests of the semsec executable's other commands: sweeps (one ensemble, shards and
// merge, Hydra-style axes, resume after SIGINT or SIGKILL), devices, export, link, clssr and bench.
// The fixture: cli_test.h.
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

TEST_F(CliTest, SweepTrainsTheGridAsOneEnsembleAndWritesOneSummary) {
  const std::string out = fs::join(dir_, "sweep");
  const Result r = run(fmt::format(
      "sweep {}/experiments/ss_isac.yaml {} train.steps=4 eve.steps=3 security.steps=3 security.psr_db=-20,-5 "
      "seed=0,1 train.lr=0.001,0.002 --out {}",
      SEMSEC_SOURCE_DIR, small_run_args(), out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("8 points in 1 ensemble group"), std::string::npos) << r.output;
  // sweep.max_grid = 0 (the default) sizes ensembles from memory: at most 16 points on a CPU.
  EXPECT_NE(r.output.find("per grid point"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("of up to 16 points"), std::string::npos) << r.output;
  const std::string summary = slurp(fs::join(out, "summary.csv"));
  EXPECT_EQ(summary.rfind("train.lr,ensemble,point,variant,eve,", 0), 0u) << summary.substr(0, 200);
  // 8 points x 2 test SNRs x 9 (variant, eve) rows + header.
  EXPECT_EQ(std::count(summary.begin(), summary.end(), '\n'), 8 * 2 * 9 + 1);
  EXPECT_NE(summary.find("0.002,0,7,plugged,adaptive,15,15,-5,1,"), std::string::npos) << summary;
  // Each ensemble exports its ARN pairs when it ends (output.export=arn, the default), and the
  // weights carry each grid point's seed and PSR.
  const SafetensorsFile f = read_safetensors(fs::join(out, "ensemble000/export/arn.safetensors"));
  EXPECT_EQ(f.metadata.at("grid_points"), "8");
  EXPECT_EQ(f.metadata.at("psr_db"), "-20,-20,-20,-20,-5,-5,-5,-5");
  EXPECT_EQ(f.metadata.at("seed"), "0,0,1,1,0,0,1,1");
  EXPECT_EQ(f.metadata.at("lambda_pri"), "0.01,0.01,0.01,0.01,0.01,0.01,0.01,0.01");
  EXPECT_EQ(f.tensors.front().second.size(0), 8);
  {
    // An ensemble written before the loss weights were grid keys: points.csv had five columns.
    const std::string pts = fs::join(out, "ensemble000/points.csv");
    std::string old = "point,seed,train_snr_db,lr,psr_db\n";
    for (int i = 0; i < 8; ++i) old += fmt::format("{},{},15,0.001,{}\n", i, (i / 2) % 2, i < 4 ? -20 : -5);
    std::ofstream(pts, std::ios::trunc) << old;
    const Result ex_old = run(fmt::format("export {}/ensemble000 --out {}", out, fs::join(dir_, "old_arn")));
    ASSERT_EQ(ex_old.exit_code, 0) << ex_old.output;
    const SafetensorsFile f_old = read_safetensors(fs::join(dir_, "old_arn.safetensors"));
    EXPECT_EQ(f_old.metadata.at("psr_db"), "-20,-20,-20,-20,-5,-5,-5,-5");
    EXPECT_EQ(f_old.metadata.at("seed"), "0,0,1,1,0,0,1,1");
    EXPECT_EQ(f_old.metadata.at("lambda_pri"), "0.01");  // the run's, for every point
    // A corrupt value is named with its file.
    std::ofstream(pts, std::ios::trunc) << "point,seed,train_snr_db,lr,psr_db\n0,0,15,0.001,abc\n";
    const Result bad = run(fmt::format("export {}/ensemble000 --out {}", out, fs::join(dir_, "bad_arn")));
    EXPECT_EQ(bad.exit_code, 2) << bad.output;
    EXPECT_NE(bad.output.find("psr_db 'abc' is not a number"), std::string::npos) << bad.output;
    EXPECT_FALSE(fs::exists(fs::join(dir_, "bad_arn.safetensors")));
  }
  // A key that is not grid-batchable splits ensembles.
  const Result r2 = run(fmt::format("sweep {}/experiments/gs_isac.yaml {} model.ue_hidden=8,16 --out {}",
                                    SEMSEC_SOURCE_DIR, small_run_args(), fs::join(dir_, "sweep2")));
  ASSERT_EQ(r2.exit_code, 0) << r2.output;
  EXPECT_NE(r2.output.find("2 points in 2 ensemble group"), std::string::npos) << r2.output;
  EXPECT_TRUE(fs::is_file(fs::join(dir_, "sweep2/ensemble001/summary.csv")));
  // Loss weights are grid-batchable: one ensemble, the weight in a leading column and in points.csv.
  const Result rw = run(fmt::format("sweep {}/experiments/gs_isac.yaml {} train.gamma_com=0.1,0.3 --out {}",
                                    SEMSEC_SOURCE_DIR, small_run_args(), fs::join(dir_, "sweepw")));
  ASSERT_EQ(rw.exit_code, 0) << rw.output;
  EXPECT_NE(rw.output.find("2 points in 1 ensemble group"), std::string::npos) << rw.output;
  EXPECT_EQ(slurp(fs::join(dir_, "sweepw/summary.csv")).rfind("train.gamma_com,ensemble,point,", 0), 0u);
  EXPECT_NE(slurp(fs::join(dir_, "sweepw/ensemble000/points.csv")).find(",0.5,0.3,"), std::string::npos);
  // An explicit sweep.max_grid splits a grid-batchable group into ensembles of that size.
  const Result r3 = run(fmt::format("sweep {}/experiments/gs_isac.yaml {} seed=0,1,2 sweep.max_grid=2 --out {}",
                                    SEMSEC_SOURCE_DIR, small_run_args(), fs::join(dir_, "sweep3")));
  ASSERT_EQ(r3.exit_code, 0) << r3.output;
  EXPECT_EQ(slurp(fs::join(dir_, "sweep3/ensemble000/points.csv")).find("2,"), std::string::npos);
  EXPECT_NE(slurp(fs::join(dir_, "sweep3/ensemble000/points.csv")).find("\n1,1,"), std::string::npos);
  EXPECT_NE(slurp(fs::join(dir_, "sweep3/ensemble001/points.csv")).find("\n0,2,"), std::string::npos);
  const Result bad = run(fmt::format("sweep {}/experiments/gs_isac.yaml train.bach_size=1,2", SEMSEC_SOURCE_DIR));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("did you mean 'train.batch_size'"), std::string::npos) << bad.output;
}

// --shard I/N: processes on one sweep directory train disjoint ensembles of one plan (plan.csv); the
// last to finish writes the summary, byte-identical to one process, and --merge writes it again.
TEST_F(CliTest, ShardsAndMergeGiveTheOneProcessSummary) {
  const std::string args =
      fmt::format("sweep {}/experiments/gs_isac.yaml {} model.ue_hidden=8,16 seed=0,1 sweep.max_grid=1",
                  SEMSEC_SOURCE_DIR, small_run_args());
  const std::string one = fs::join(dir_, "one"), sharded = fs::join(dir_, "sharded"), half = fs::join(dir_, "half");
  Result r = run(fmt::format("{} --out {}", args, one));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string summary = slurp(fs::join(one, "summary.csv"));
  const std::string plan = slurp(fs::join(one, "plan.csv"));
  EXPECT_EQ(plan, "ensemble,point,model.ue_hidden,seed\n0,0,8,0\n1,0,8,1\n2,0,16,0\n3,0,16,1\n");
  r = run(fmt::format("{} --out {} --shard 1/2", args, sharded));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("written by the last shard to finish"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(fs::join(sharded, "summary.csv")));
  EXPECT_FALSE(fs::exists(fs::join(sharded, "ensemble000")));
  EXPECT_TRUE(fs::is_file(fs::join(sharded, "ensemble003/summary.csv")));
  r = run(fmt::format("{} --out {} --shard 0/2", args, sharded));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(slurp(fs::join(sharded, "summary.csv")), summary);
  EXPECT_EQ(slurp(fs::join(sharded, "plan.csv")), plan);
  // Each ensemble trained once: a shard run again skips its finished ensembles.
  r = run(fmt::format("sweep --resume {} --shard 1/2", sharded));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("ensemble 1: finished before"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("grid point(s) in"), std::string::npos) << r.output;
  fs::remove_all(fs::join(sharded, "summary.csv"));
  r = run(fmt::format("sweep --merge {}", sharded));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(slurp(fs::join(sharded, "summary.csv")), summary);
  // A merge before every shard finished names what is missing and writes nothing.
  ASSERT_EQ(run(fmt::format("{} --out {} --shard 0/2", args, half)).exit_code, 0);
  r = run(fmt::format("sweep --merge {}", half));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("2 of 4 ensembles are not finished (ensemble001, ensemble003)"), std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(fs::join(half, "summary.csv")));
  // Bad shards and a directory of another sweep are refused before anything trains.
  for (const auto& [extra, message] : std::vector<std::pair<std::string, std::string>>{
           {"--out " + half + " --shard 2/2", "--shard 2/2: expected I/N with 0 <= I < N"},
           {"--out " + half + " --shard one/2", "--shard one/2: expected I/N"},
           {"--shard 0/2", "--shard needs --out DIR"},
           {"train.lr=0.01 --out " + half + " --shard 1/2", "holds another sweep"}}) {
    r = run(fmt::format("{} {}", args, extra));
    EXPECT_EQ(r.exit_code, 2) << extra << ": " << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << extra << ": " << r.output;
  }
  EXPECT_FALSE(fs::exists(fs::join(half, "ensemble001")));
  r = run(fmt::format("sweep --merge {} --shard 0/2", half));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--merge DIR takes no CONFIG"), std::string::npos) << r.output;
  r = run(fmt::format("sweep --merge {}", dir_));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("no sweep.txt there"), std::string::npos) << r.output;
}

// Hydra's conventions: range() and choice() axes, train -m as a sweep, a comma list given to train
// refused with the way out, a quoted comma as one value, and the overrides recorded in the run.
TEST_F(CliTest, HydraStyleAxesMultirunAndRecordedOverrides) {
  const std::string cfg =
      fmt::format("{}/experiments/gs_isac.yaml {} train.steps=4", SEMSEC_SOURCE_DIR, small_run_args());
  const std::string a = fs::join(dir_, "range"), b = fs::join(dir_, "multirun"), c = fs::join(dir_, "one");
  Result r =
      run(fmt::format("sweep {} 'train.lr=choice(0.001, 0.002)' 'train.snr_db=range(5, 12, 2.5)' --out {}", cfg, a));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(slurp(fs::join(a, "plan.csv")),
            "ensemble,point,train.lr,train.snr_db\n0,0,0.001,5\n0,1,0.001,7.5\n0,2,0.001,10\n0,3,0.002,5\n"
            "0,4,0.002,7.5\n0,5,0.002,10\n");
  r = run(fmt::format("train -m {} 'train.lr=0.001,0.002' 'train.snr_db=range(5,12,2.5)' --out {}", cfg, b));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(slurp(fs::join(b, "summary.csv")), slurp(fs::join(a, "summary.csv")));
  r = run(fmt::format("train {} train.lr=0.001,0.002 --out {}", cfg, c));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("'train.lr=0.001,0.002' lists several values (a sweep axis)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("semsec train -m"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(c));
  r = run(fmt::format("train {} experiment.name='\"a,b\"' --out {}", cfg, c));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(slurp(fs::join(c, "config.yaml")).find("name: \"a,b\""), std::string::npos);
  const std::string record = slurp(fs::join(c, "overrides.yaml"));
  EXPECT_EQ(
      record.rfind(
          fmt::format("config: \"{}/experiments/gs_isac.yaml\"\noverrides:\n  - \"data.root=", SEMSEC_SOURCE_DIR), 0),
      0u)
      << record;
  EXPECT_NE(record.find("  - \"experiment.name=\\\"a,b\\\"\"\n"), std::string::npos) << record;
  for (const auto& [axis, message] :
       std::vector<std::pair<std::string, std::string>>{{"'seed=range(0,3,0)'", "range() step must not be 0"},
                                                        {"'seed=range(3,1)'", "range(3,1) is empty"},
                                                        {"'seed=range(0,x)'", "range() argument 'x' is not a number"},
                                                        {"'seed=range(1)'", "range() takes start, stop[, step]"},
                                                        {"'seed=choice(1,,2)'", "empty value in choice(1,,2)"}}) {
    r = run(fmt::format("sweep {} {}", cfg, axis));
    EXPECT_EQ(r.exit_code, 2) << axis << ": " << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << axis << ": " << r.output;
  }
}

// In a job of several processes, --device cuda is the process's cuda:LOCAL_RANK (here rank 1 of 2,
// whose store never answers): which GPU it asked for shows in the error of a machine without it.
TEST_F(CliTest, CudaInAMultiProcessJobIsTheLocalRanksGpu) {
  const std::string env = "WORLD_SIZE=2 RANK=1 LOCAL_RANK=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=9 SEMSEC_DEVICE=";
  const Result r =
      run(fmt::format("sweep {}/experiments/gs_isac.yaml {} seed=0,1 --device cuda --store-timeout 1 --out {}",
                      SEMSEC_SOURCE_DIR, small_run_args(), fs::join(dir_, "job")),
          env);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  const std::string expected = !torch::cuda::is_available()      ? "--device cuda:1: no CUDA device is available"
                               : torch::cuda::device_count() < 2 ? "--device cuda:1: only 1 CUDA device(s) present"
                                                                 : "rank 1 of 2: cannot reach the job's store";
  EXPECT_NE(r.output.find(expected), std::string::npos) << r.output;
}

// Without --device: SEMSEC_DEVICE, else auto (the GPU when one is present, else the CPU), said in the log.
TEST_F(CliTest, TheDefaultDeviceIsAutoOrSemsecDevice) {
  const std::string args =
      fmt::format("train {}/experiments/gs_isac.yaml {} train.steps=2", SEMSEC_SOURCE_DIR, small_run_args());
  Result r = run(fmt::format("{} --out {}", args, fs::join(dir_, "auto")), "env -u SEMSEC_DEVICE");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(torch::cuda::is_available() ? "device auto: cuda:0" : "device auto: cpu (no CUDA device"),
            std::string::npos)
      << r.output;
  r = run(fmt::format("{} --out {}", args, fs::join(dir_, "env")), "SEMSEC_DEVICE=gpu");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("environment variable SEMSEC_DEVICE=gpu: --device gpu: expected cpu, cuda or cuda:N"),
            std::string::npos)
      << r.output;
  r = run(fmt::format("{} --device cpu --out {}", args, fs::join(dir_, "flag")), "SEMSEC_DEVICE=gpu");
  EXPECT_EQ(r.exit_code, 0) << r.output;  // --device wins
  EXPECT_EQ(r.output.find("device auto"), std::string::npos) << r.output;
}

// plan.csv fixes the ensembles when the sweep starts: a resume follows it whatever sweep.max_grid
// would give now, and a plan.csv that this sweep could not have made is refused.
TEST_F(CliTest, AResumedSweepFollowsItsPlan) {
  const std::string out = fs::join(dir_, "planned");
  Result r = run(fmt::format("sweep {}/experiments/gs_isac.yaml {} seed=0,1,2 sweep.max_grid=2 --out {}",
                             SEMSEC_SOURCE_DIR, small_run_args(), out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string summary = slurp(fs::join(out, "summary.csv"));
  // As if the sweep had been sized from free memory (sweep.max_grid=0) on another machine.
  std::string record = slurp(fs::join(out, "sweep.txt"));
  record.replace(record.find("sweep.max_grid=2"), 16, "sweep.max_grid=0");
  std::ofstream(fs::join(out, "sweep.txt"), std::ios::trunc) << record;
  fs::remove_all(fs::join(out, "ensemble001"));
  fs::remove_all(fs::join(out, "summary.csv"));
  r = run(fmt::format("sweep --resume {}", out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("per grid point"), std::string::npos) << r.output;  // no memory sizing
  EXPECT_EQ(slurp(fs::join(out, "summary.csv")), summary);
  std::ofstream(fs::join(out, "plan.csv"), std::ios::trunc) << "ensemble,point,seed\n0,0,0\n0,1,2\n1,0,1\n";
  r = run(fmt::format("sweep --merge {}", out));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("plan.csv: the sweep directory's plan does not match"), std::string::npos) << r.output;
}

TEST_F(CliTest, KilledSweepResumesToTheUninterruptedSummary) {
  const std::string args = fmt::format(
      "sweep {}/experiments/ss_isac.yaml {} train.steps=4 eve.steps=3 security.steps=6 security.psr_db=-20,-5 "
      "seed=0,1 security.adaptive_eve=false",
      SEMSEC_SOURCE_DIR, small_run_args());
  const std::string full = fs::join(dir_, "full"), cut = fs::join(dir_, "cut");
  ASSERT_EQ(run(fmt::format("{} --out {}", args, full)).exit_code, 0);
  // Killed inside the white-box ARN stage, after its checkpoint at step 4.
  const Result killed = run(fmt::format("{} --out {}", args, cut), "SEMSEC_TEST_KILL_AT_STEP=arn_whitebox:5");
  EXPECT_EQ(killed.signal, 9) << killed.output;
  EXPECT_FALSE(fs::exists(fs::join(cut, "summary.csv")));
  const Result resumed = run(fmt::format("sweep --resume {}", cut));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("stage general: complete"), std::string::npos) << resumed.output;
  EXPECT_NE(resumed.output.find("stage arn_whitebox: resuming at step 4/6"), std::string::npos) << resumed.output;
  EXPECT_EQ(slurp(fs::join(full, "summary.csv")), slurp(fs::join(cut, "summary.csv")));
  EXPECT_EQ(slurp(fs::join(full, "ensemble000/metrics.csv")), slurp(fs::join(cut, "ensemble000/metrics.csv")));
}

TEST_F(CliTest, ExportWritesSafetensorsAndAStateDictOfATrainedRun) {
  const std::string out = fs::join(dir_, "sec");
  ASSERT_EQ(run(fmt::format("train {}/experiments/ss_isac.yaml {} train.steps=3 eve.steps=2 security.steps=2 "
                            "security.blackbox=false security.adaptive_eve=false --out {}",
                            SEMSEC_SOURCE_DIR, small_run_args(), out))
                .exit_code,
            0);
  // The run exported the ARN pair itself (output.export=arn, the default)...
  const SafetensorsFile own = read_safetensors(fs::join(out, "export/arn.safetensors"));
  EXPECT_TRUE(fs::is_file(fs::join(out, "export/arn.pt")));
  for (const auto& [name, t] : own.tensors) EXPECT_EQ(name.rfind("arn.", 0), 0u) << name;
  // ... and `semsec export --all` adds the base system and Eve.
  const Result r = run(fmt::format("export {} --all", out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const SafetensorsFile all = read_safetensors(fs::join(out, "export/arn.safetensors"));
  EXPECT_GT(all.tensors.size(), own.tensors.size());
  // output.export=all exports everything at the end of the run, none exports nothing.
  const std::string everything = fs::join(dir_, "sec_all"), nothing = fs::join(dir_, "sec_none");
  const std::string small = fmt::format(
      "{}/experiments/ss_isac.yaml {} train.steps=3 eve.steps=2 security.steps=2 "
      "security.blackbox=false security.adaptive_eve=false",
      SEMSEC_SOURCE_DIR, small_run_args());
  ASSERT_EQ(run(fmt::format("train {} output.export=all --out {}", small, everything)).exit_code, 0);
  EXPECT_EQ(read_safetensors(fs::join(everything, "export/arn.safetensors")).tensors.size(), all.tensors.size());
  ASSERT_EQ(run(fmt::format("train {} output.export=none --out {}", small, nothing)).exit_code, 0);
  EXPECT_FALSE(fs::exists(fs::join(nothing, "export")));
  EXPECT_TRUE(fs::is_file(fs::join(nothing, "summary.csv")));
  const Result bad = run(fmt::format("train {} output.export=some --out {}", small, fs::join(dir_, "sec_bad")));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("output.export"), std::string::npos) << bad.output;
  const Result missing = run(fmt::format("export {}/nothing", dir_));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.output.find("no such run directory"), std::string::npos) << missing.output;
}

TEST_F(CliTest, LinkWritesBerNextToTheory) {
  const std::string out = fs::join(dir_, "link");
  const Result r = run(fmt::format("link {}/experiments/link_ber.yaml link.n_bits=20000 link.ebn0_db=[0,4] --out {}",
                                   SEMSEC_SOURCE_DIR, out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string csv = slurp(fs::join(out, "link.csv"));
  EXPECT_EQ(csv.rfind("scheme,ebn0_db,ber,n_bits", 0), 0u) << csv;
  for (const char* s : {"awgn,", "rayleigh,", "alamouti_2x1,", "alamouti_2x2,"})
    EXPECT_NE(csv.find(s), std::string::npos) << s;
}

// SIGTERM stops `semsec clssr` at the next codec step (after a checkpoint of the stage) or agent
// episode, with exit 128 + 15 and the command that continues it; `clssr --resume` then restores
// the codec from its checkpoints, trains the agents again and writes exactly what a run that
// never stopped writes (the codec's metrics.csv included).
TEST_F(CliTest, ClssrStopsOnSigtermAndResumesToTheUninterruptedResult) {
  const std::string cfg =
      fmt::format("{}/experiments/clssr_fig2.yaml {} --python none", SEMSEC_SOURCE_DIR, small_clssr_args(data_));
  const std::string whole = fs::join(dir_, "whole"), early = fs::join(dir_, "early"), late = fs::join(dir_, "late");
  Result r = run(fmt::format("clssr {} --out {}", cfg, whole));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run(fmt::format("clssr {} --out {}", cfg, early), "SEMSEC_TEST_SIGNAL_AT_STEP=codec_pretrain:2:15");
  EXPECT_EQ(r.exit_code, 128 + 15) << r.output;
  EXPECT_NE(r.output.find("stopped by signal 15 after step 2 of stage codec_pretrain"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(fmt::format("Resume with: semsec clssr --resume {}", early)), std::string::npos) << r.output;
  EXPECT_TRUE(fs::is_file(fs::join(early, "checkpoints/codec_pretrain.pt"))) << r.output;
  r = run(fmt::format("clssr {} --out {}", cfg, late), "SEMSEC_TEST_SIGNAL_AT_STEP=agent_cl_ss:1:15");
  EXPECT_EQ(r.exit_code, 128 + 15) << r.output;
  EXPECT_NE(r.output.find("stopped by signal 15 before episode 1 of 2 of cl_ss"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(fmt::format("semsec clssr --resume {} restores the trained codec", late)), std::string::npos)
      << r.output;
  EXPECT_TRUE(fs::is_file(fs::join(late, "codec.ckpt"))) << r.output;
  EXPECT_FALSE(fs::exists(fs::join(late, "summary.csv")));
  // A new run into an interrupted run's directory is refused with the way to continue it.
  r = run(fmt::format("clssr {} --out {}", cfg, early));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find(fmt::format("continue it with '--resume {}'", early)), std::string::npos) << r.output;
  for (const std::string& stopped : {early, late}) {
    r = run(fmt::format("clssr --resume {} --python none", stopped));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    for (const char* f :
         {"codec.csv", "codec.ckpt", "episodes.csv", "summary.csv", "metrics.csv", "checkpoints/codec_noise.pt"}) {
      EXPECT_EQ(slurp(fs::join(stopped, f)), slurp(fs::join(whole, f))) << stopped << ": " << f;
    }
  }
}

TEST_F(CliTest, ClssrWritesTheFigureTablesAndIsAFunctionOfItsConfig) {
  const std::string a = fs::join(dir_, "clssr_a");
  const std::string b = fs::join(dir_, "clssr_b");
  Result r = run(
      fmt::format("clssr {}/experiments/clssr_fig3.yaml {} --out {}", SEMSEC_SOURCE_DIR, small_clssr_args(data_), a));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string summary = slurp(fs::join(a, "summary.csv"));
  EXPECT_EQ(summary.rfind("seed,method,antennas,tau,path_loss_exponent,eve1_x,eve1_y,omega,clssr_ksut,", 0), 0u)
      << summary;
  // 2 RL methods x 2 antenna sets x 2 tau + 2 AO variants (mimo) x 2 tau, plus the header.
  EXPECT_EQ(std::count(summary.begin(), summary.end(), '\n'), 1 + 8 + 4) << summary;
  for (const char* m : {"0,cl_ss,mimo,1,", "0,cl_ss,miso,3,", "0,pl_ss,mimo,3,", "0,ao,mimo,1,", "0,ao_stat,mimo,3,"})
    EXPECT_NE(summary.find(m), std::string::npos) << m << " missing in " << summary;
  const std::string episodes = slurp(fs::join(a, "episodes.csv"));
  EXPECT_EQ(std::count(episodes.begin(), episodes.end(), '\n'), 1 + 8 * (1 + 2)) << episodes;  // episodes 0-2
  EXPECT_NE(slurp(fs::join(a, "codec.csv")).find("b,mse_user_plain_mean"), std::string::npos);
  // The build's venv has matplotlib: the figures are drawn (under CI the venv must be there).
  if (fs::exists(SEMSEC_PYTHON_EXE) || testing::in_ci()) {
    EXPECT_TRUE(fs::is_file(fs::join(a, "fig2.png"))) << r.output;
    EXPECT_TRUE(fs::is_file(fs::join(a, "fig3.png"))) << r.output;
  }
  // Reusing the saved codec reproduces the run exactly.
  r = run(fmt::format("clssr {}/experiments/clssr_fig3.yaml {} codec.init_from={}/codec.ckpt --python none --out {}",
                      SEMSEC_SOURCE_DIR, small_clssr_args(data_), a, b));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(slurp(fs::join(b, "summary.csv")), summary);
  EXPECT_EQ(slurp(fs::join(b, "episodes.csv")), episodes);
  // The full-information ablation (every action simulated on every task) runs too.
  const std::string c = fs::join(dir_, "clssr_c");
  r =
      run(fmt::format("clssr {}/experiments/clssr_fig2.yaml {} codec.init_from={}/codec.ckpt rl.experience=all_actions "
                      "--python none --out {}",
                      SEMSEC_SOURCE_DIR, small_clssr_args(data_), a, c));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string eps_summary = slurp(fs::join(c, "summary.csv"));
  EXPECT_EQ(std::count(eps_summary.begin(), eps_summary.end(), '\n'), 1 + 4) << eps_summary;  // cl_ss, pl_ss x tau 1, 3
  // A finished run directory is never overwritten.
  r = run(
      fmt::format("clssr {}/experiments/clssr_fig3.yaml {} --out {}", SEMSEC_SOURCE_DIR, small_clssr_args(data_), a));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("already holds config.yaml"), std::string::npos) << r.output;
  EXPECT_EQ(slurp(fs::join(a, "summary.csv")), summary);
}

TEST_F(CliTest, ClssrErrorsNameTheKey) {
  const std::string cfg = fmt::format("{}/experiments/clssr_fig2.yaml {}", SEMSEC_SOURCE_DIR, small_clssr_args(data_));
  Result r = run(fmt::format("clssr {} channel.num_rx=1", cfg));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("channel.num_rx"), std::string::npos) << r.output;
  r = run(fmt::format("clssr {} channel.scheme=alamouti_2x2", cfg));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("channel.scheme"), std::string::npos) << r.output;
  r = run(fmt::format("clssr {} codec.b_min=4 codec.b_max=3", cfg));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("codec.b_max"), std::string::npos) << r.output;
  r = run(fmt::format("clssr {} codec.init_from={}/missing.ckpt", cfg, dir_));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("missing.ckpt"), std::string::npos) << r.output;
  r = run(fmt::format("clssr {} clssr.methods=[rl]", cfg));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("clssr.methods"), std::string::npos) << r.output;
  r = run("clssr --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("rl.episodes"), std::string::npos);
}

TEST_F(CliTest, BenchRejectsUnknownGroupsAndGridSizes) {
  Result r = run(fmt::format("bench --only chanel --out {}", dir_));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--only chanel"), std::string::npos) << r.output;
  r = run(fmt::format("bench --only grids --grids 4,0 --out {}", dir_));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("--grids 0"), std::string::npos) << r.output;
  r = run(fmt::format("bench --only grids --grids 4x --out {}", dir_));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = run(fmt::format("bench --only grids --grids 4,4 --out {}", dir_));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("listed twice"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(fs::join(dir_, "bench.csv")));
}

TEST_F(CliTest, BenchQuickWritesMediansAndRatios) {
  const Result r = run(fmt::format("bench --quick --out {}", dir_));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string csv = slurp(fs::join(dir_, "bench.csv"));
  EXPECT_EQ(csv.rfind("case,median_ms,ratio,note\n", 0), 0u) << csv;
  for (const char* c : {"channel_fused_G1,", "channel_fused_objective_G1,", "semsec_general_step,", "grid_G4,",
                        "sequential_G4,", "flop_floor_general_step,", "store_claim_10k_8_ranks,"}) {
    EXPECT_NE(csv.find(c), std::string::npos) << c << " missing in " << csv;
  }
}

}  // namespace
}  // namespace semsec
