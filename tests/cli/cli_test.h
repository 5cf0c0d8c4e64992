// The fixture of the end-to-end tests of the semsec executable (test_cli.cpp, test_cli_sweep.cpp,
// test_cli_adaptive.cpp):
// a temporary directory with a synthetic data set, the command run with its output and exit
// status, and the small configurations the tests share.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include "core/checkpoint.h"
#include "core/fs.h"
#include "datasets/synthetic.h"
#include "tests/test_util.h"

namespace semsec::testing_cli {

struct Result {
  int exit_code = -1;
  int signal = 0;
  std::string output;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Overrides that make `semsec clssr` small enough for a test.
inline std::string small_clssr_args(const std::string& data) {
  return fmt::format(
      "data.root={} codec.num_symbols=4 codec.hidden=32 codec.b_min=2 codec.b_max=3 codec.pretrain_epochs=1 "
      "codec.noise_epochs=1 codec.batch_size=32 clssr.tau=[1,3] rl.episodes=2 rl.steps_per_episode=32 "
      "eval.tasks=40",
      data);
}

class CliTest : public semsec::testing::TempDirTest {
 public:
  CliTest() : TempDirTest("cli") {}
  void SetUp() override {
    TempDirTest::SetUp();
    data_ = fs::join(dir_, "data");
    data::write_synthetic_dataset(data_, 384, 96, 9, true);
  }

  Result run(const std::string& args, const std::string& env = "") {
    const std::string log = fs::join(dir_, "out.log");
    const std::string cmd = fmt::format("{} {} {} > {} 2>&1", env, SEMSEC_BINARY, args, log);
    const int status = std::system(cmd.c_str());
    Result r;
    r.output = slurp(log);
    if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
    // std::system runs /bin/sh: a child killed by a signal shows as exit code 128 + signal.
    if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
    if (r.exit_code > 128) r.signal = r.exit_code - 128;
    return r;
  }

  std::string write_config(const std::string& name, const std::string& text) {
    const std::string path = fs::join(dir_, name);
    std::ofstream(path) << text;
    return path;
  }

  std::string small_run_args() const {
    return fmt::format(
        "data.root={} train.steps=12 train.batch_size=32 train.log_every=2 train.checkpoint_every=4 "
        "eval.batch_size=48 eval.test_snr_db=[0,15] output.tensorboard=true",
        data_);
  }

  std::string data_;
};

// The checkpoints, summary.csv and metrics.csv of an interrupted and resumed run (`cut`) equal
// those of the uninterrupted one (`full`).
inline void expect_same_results(const std::string& full, const std::string& cut) {
  for (const std::string& f : fs::list_dir(fs::join(full, "checkpoints"))) {
    const TensorMap a = load_tensors(fs::join(full, "checkpoints/" + f));
    const TensorMap b = load_tensors(fs::join(cut, "checkpoints/" + f));
    ASSERT_EQ(a.size(), b.size()) << f;
    for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << f << ": " << name;
  }
  EXPECT_EQ(slurp(fs::join(full, "summary.csv")), slurp(fs::join(cut, "summary.csv")));
  EXPECT_EQ(slurp(fs::join(full, "metrics.csv")), slurp(fs::join(cut, "metrics.csv")));
}

}  // namespace semsec::testing_cli
