// Golden outputs: short runs of every command that writes results (train for the general system
// and for the security stages, sweep, export, clssr, link), compared with the files committed in
// tests/golden/<case>/. They guard refactors: a change that is meant to move code without changing
// a number must leave every output byte-identical.
//
// Each case runs the semsec executable in a fresh directory with synthetic data and copies of the
// experiment files, so every path it writes is relative and the outputs depend on nothing outside.
// Every file a run leaves is listed in the case's MANIFEST (path, size, CRC-32C) except
// TensorBoard event files (they hold wall-clock times); text outputs (.csv, .yaml, .txt) are also
// committed verbatim so that a failure shows the first differing line.
//
// Bit-exact training results hold on one instruction set: MKL and our CPU kernels pick their
// code paths from the CPU (AVX-512, AVX2, FMA), and another path rounds differently. The goldens
// record the CPU they were made on (cpu.txt); on a CPU with another signature the test still
// checks that the same files appear with the same CSV headers and row counts, and says that the
// bytes were not compared (docs/architecture.md, "Tests").
//
// Re-record after an intended change of results: SEMSEC_GOLDEN_RECORD=1 ctest -R Golden
// (writes into the source tree; review the diff before committing it).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <sstream>

#include "core/crc32c.h"
#include "core/fs.h"
#include "core/rundir.h"
#include "datasets/synthetic.h"
#include "tests/test_util.h"

namespace semsec {
namespace {

const std::string kGoldenDir = std::string(SEMSEC_SOURCE_DIR) + "/tests/golden";

bool recording() {
  const char* e = std::getenv("SEMSEC_GOLDEN_RECORD");
  return e != nullptr && std::string(e) == "1";
}

// The CPU features that choose MKL's and our kernels' code paths.
std::string cpu_signature() {
  __builtin_cpu_init();
  std::string vendor = __builtin_cpu_is("intel") ? "intel" : __builtin_cpu_is("amd") ? "amd" : "other";
  return fmt::format("{} avx512f={} avx2={} fma={}", vendor, __builtin_cpu_supports("avx512f") ? 1 : 0,
                     __builtin_cpu_supports("avx2") ? 1 : 0, __builtin_cpu_supports("fma") ? 1 : 0);
}

bool is_text(const std::string& path) {
  for (const char* ext : {".csv", ".yaml", ".txt"}) {
    const std::string e(ext);
    if (path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0) return true;
  }
  return false;
}

// Every file below `root` (relative paths, sorted), without TensorBoard event files.
void list_files(const std::string& root, const std::string& rel, std::vector<std::string>& out) {
  for (const std::string& name : fs::list_dir(rel.empty() ? root : fs::join(root, rel))) {
    const std::string r = rel.empty() ? name : rel + "/" + name;
    if (fs::is_directory(fs::join(root, r))) {
      list_files(root, r, out);
    } else if (name.rfind("events.out.tfevents", 0) != 0) {
      out.push_back(r);
    }
  }
}

std::string manifest_of(const std::string& root, const std::vector<std::string>& files) {
  std::string m;
  for (const std::string& f : files) {
    const std::string bytes = testing::read_bytes(fs::join(root, f));
    m += fmt::format("{} {} {:08x}\n", f, bytes.size(), crc32c(bytes.data(), bytes.size()));
  }
  return m;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// The first line where two texts differ, for the failure message.
std::string first_difference(const std::string& want, const std::string& got) {
  const auto a = lines_of(want), b = lines_of(got);
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    const std::string x = i < a.size() ? a[i] : "<end of file>", y = i < b.size() ? b[i] : "<end of file>";
    if (x != y) return fmt::format("line {}:\n  golden: {}\n  now:    {}", i + 1, x, y);
  }
  return "no line differs";
}

struct Case {
  std::string name;
  std::vector<std::string> commands;  // semsec arguments, run in order in one working directory
  std::string out;                    // what the case compares: this directory (relative)
};

const char* kSmall =
    "data.root=data train.steps=12 train.batch_size=32 train.log_every=2 train.checkpoint_every=4 "
    "eval.batch_size=48 eval.test_snr_db=[0,15] output.tensorboard=false";
const char* kSecurity = "train.steps=4 eve.steps=3 security.steps=3";
const char* kClssr =
    "data.root=data codec.num_symbols=4 codec.hidden=32 codec.b_min=2 codec.b_max=3 codec.pretrain_epochs=1 "
    "codec.noise_epochs=1 codec.batch_size=32 clssr.tau=[1,3] rl.episodes=2 rl.steps_per_episode=32 eval.tasks=40 "
    "--python none";

std::vector<Case> cases() {
  return {
      {"train_gs_isac", {fmt::format("train experiments/gs_isac.yaml {} --out run", kSmall)}, "run"},
      {"train_ss_isac", {fmt::format("train experiments/ss_isac.yaml {} {} --out run", kSmall, kSecurity)}, "run"},
      {"export_all",
       {fmt::format("train experiments/ss_isac.yaml {} {} security.blackbox=false security.adaptive_eve=false "
                    "output.export=none --out run",
                    kSmall, kSecurity),
        "export run --all --out exported/weights"},
       "exported"},
      {"sweep",
       {fmt::format("sweep experiments/ss_isac.yaml {} {} security.psr_db=-20,-5 seed=0,1 model.ue_hidden=8,16 "
                    "train.gamma_com=0.1,0.3 sweep.max_grid=4 --out run",
                    kSmall, kSecurity)},
       "run"},
      {"clssr", {fmt::format("clssr experiments/clssr_fig3.yaml {} --out run", kClssr)}, "run"},
      {"link", {"link experiments/link_ber.yaml link.n_bits=20000 link.ebn0_db=[0,4] --out run"}, "run"},
  };
}

class Golden : public ::testing::TestWithParam<Case> {};

TEST_P(Golden, OutputsAreByteIdenticalToTheCommittedOnes) {
  const Case& c = GetParam();
  const testing::TempDir work("golden");
  data::write_synthetic_dataset(work.file("data"), 384, 96, 9, false);
  ASSERT_TRUE(fs::create_directories(work.file("experiments")).empty());
  for (const char* f : {"gs_isac.yaml", "ss_isac.yaml", "clssr_fig3.yaml", "link_ber.yaml"}) {
    testing::write_bytes(work.file(std::string("experiments/") + f),
                         testing::read_bytes(fmt::format("{}/experiments/{}", SEMSEC_SOURCE_DIR, f)));
  }
  for (const std::string& args : c.commands) {
    // One thread: the suite's setting, and results must not depend on it anyway.
    const std::string cmd =
        fmt::format("cd '{}' && OMP_NUM_THREADS=1 '{}' {} > log.txt 2>&1", work.path(), SEMSEC_BINARY, args);
    const int status = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "semsec " << args << "\n"
                                                               << testing::read_bytes(work.file("log.txt"));
  }
  const std::string out = work.file(c.out);
  std::vector<std::string> files;
  list_files(out, "", files);
  ASSERT_FALSE(files.empty()) << out;
  const std::string manifest = manifest_of(out, files);
  const std::string dir = fs::join(kGoldenDir, c.name);

  if (recording()) {
    fs::remove_all(dir);
    for (const std::string& f : files) {
      if (is_text(f)) write_file_atomic(fs::join(dir, f), testing::read_bytes(fs::join(out, f)));
    }
    write_file_atomic(fs::join(dir, "MANIFEST"), manifest);
    write_file_atomic(fs::join(kGoldenDir, "cpu.txt"), cpu_signature() + "\n");
    GTEST_SKIP() << "recorded " << files.size() << " files into " << dir;
  }

  const std::string want_manifest = testing::read_bytes(fs::join(dir, "MANIFEST"));
  ASSERT_FALSE(want_manifest.empty()) << dir << "/MANIFEST is missing: record with SEMSEC_GOLDEN_RECORD=1";
  // The same files, always.
  std::vector<std::string> want_files;
  for (const std::string& line : lines_of(want_manifest)) want_files.push_back(line.substr(0, line.find(' ')));
  ASSERT_EQ(want_files, files) << "the run left other files than the golden run";

  const std::string recorded_on = lines_of(testing::read_bytes(fs::join(kGoldenDir, "cpu.txt"))).at(0);
  // A sanitizer build (scripts/sanitize.sh) compiles with other optimisation, which rounds the
  // last bits differently: it checks everything but the bytes, like a foreign CPU.
#ifdef SEMSEC_SANITIZED
  const bool exact = false;
#else
  const bool exact = recorded_on == cpu_signature();
#endif
  for (const std::string& f : files) {
    if (!is_text(f)) continue;
    const std::string want = testing::read_bytes(fs::join(dir, f)), got = testing::read_bytes(fs::join(out, f));
    if (exact) {
      EXPECT_EQ(want, got) << c.name << ": " << f << " differs at " << first_difference(want, got);
    } else if (f.size() > 4 && f.substr(f.size() - 4) == ".csv") {
      const auto a = lines_of(want), b = lines_of(got);
      ASSERT_FALSE(a.empty() || b.empty()) << f;
      EXPECT_EQ(a[0], b[0]) << c.name << ": " << f << ": header";
      EXPECT_EQ(a.size(), b.size()) << c.name << ": " << f << ": rows";
    }
  }
  if (exact) {
    EXPECT_EQ(want_manifest, manifest) << c.name << ": sizes or CRCs differ:\n"
                                       << first_difference(want_manifest, manifest);
  } else {
#ifdef SEMSEC_SANITIZED
    std::cout << "[ NOTE     ] sanitizer build: compared the files, CSV headers and row counts, not the bytes\n";
#else
    std::cout << "[ NOTE     ] goldens recorded on '" << recorded_on << "', this CPU is '" << cpu_signature()
              << "': compared the files, CSV headers and row counts, not the bytes\n";
#endif
  }
}

INSTANTIATE_TEST_SUITE_P(Commands, Golden, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace semsec
