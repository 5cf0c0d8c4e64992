// `semsec train experiments/adaptive_eve.yaml` end to end on synthetic data: every defence and the
// threat model's files, and runs stopped by SIGTERM in a min-max stage or in the threat model that
// resume to the same files as the run that never stopped.
#include "tests/cli/cli_test.h"

namespace semsec::testing_cli {
namespace {

size_t count_lines(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

TEST_F(CliTest, AdaptiveEveRunsEveryDefenceAndResumesBitForBit) {
  const std::string cfg = fmt::format(
      "{}/experiments/adaptive_eve.yaml {} eve.steps=4 security.steps=6 threat.steps=3 threat.samples=[50,0] "
      "threat.large_hidden=[8] minmax.population=2",
      SEMSEC_SOURCE_DIR, small_run_args());
  const std::string full = fs::join(dir_, "full");
  const Result ok = run(fmt::format("train {} --out {}", cfg, full));
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  // 5 defences x (paper: 2 starts x 2 counts + large: 2 counts) x 1 test SNR, and 5 defences.
  const std::string adaptive = slurp(fs::join(full, "adaptive_eve.csv"));
  const std::string defences = slurp(fs::join(full, "defences.csv"));
  EXPECT_EQ(count_lines(adaptive), 1u + 5u * 6u) << adaptive;
  EXPECT_EQ(count_lines(defences), 1u + 5u) << defences;
  for (const char* d : {"\n0,0,unprotected,", "\n0,0,paired,", "\n0,0,minmax,", "\n0,0,keyed,", "\n0,0,confusion,"}) {
    EXPECT_NE(defences.find(d), std::string::npos) << d;
  }
  EXPECT_NE(adaptive.find(",keyed,large,scratch,384,3,20,"), std::string::npos) << adaptive;

  for (const std::string at : {"arn_keyed:4:15", "threat_minmax:2:15"}) {
    const std::string cut = fs::join(dir_, "cut_" + at.substr(0, at.find(':')));
    const Result stopped = run(fmt::format("train {} --out {}", cfg, cut), "SEMSEC_TEST_SIGNAL_AT_STEP=" + at);
    EXPECT_EQ(stopped.exit_code, 128 + 15) << stopped.output;
    EXPECT_FALSE(fs::exists(fs::join(cut, "summary.csv")));
    const Result resumed = run(fmt::format("train --resume {}", cut));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    expect_same_results(full, cut);
    EXPECT_EQ(slurp(fs::join(cut, "adaptive_eve.csv")), adaptive) << at;
    EXPECT_EQ(slurp(fs::join(cut, "defences.csv")), defences) << at;
  }
}

}  // namespace
}  // namespace semsec::testing_cli
