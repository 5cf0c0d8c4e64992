// Run directories: the atomic writer under a failing disk, and RunDirGuard's promises (a failed
// command leaves nothing half-made, a resumable run is kept whole, one process per directory).
#include "core/rundir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "core/errors.h"
#include "core/fs.h"
#include "tests/test_util_core.h"

namespace semsec {
namespace {

using testing::expect_error;

class RunDirTest : public testing::TempDirTest {
 protected:
  RunDirTest() : TempDirTest("rundir") {}
};

// Sets an environment variable for the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) { ::setenv(name, value.c_str(), 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

TEST_F(RunDirTest, AtomicWriteReplacesTheFileWhole) {
  const std::string f = path("a/b/out.txt");
  write_file_atomic(f, "first");
  write_file_atomic(f, "second version");
  EXPECT_EQ(testing::read_bytes(f), "second version");
  EXPECT_EQ(fs::list_dir(path("a/b")), std::vector<std::string>{"out.txt"}) << "no temporary file is left";
}

TEST_F(RunDirTest, AFailedWriteKeepsThePreviousFileAndLeavesNoTemporary) {
  const std::string f = path("ckpt.pt");
  write_file_atomic(f, std::string(1000, 'a'));
  {
    const ScopedEnv fail_writes("SEMSEC_TEST_FAIL_WRITES", "ckpt.pt");
    expect_error([&] { write_file_atomic(f, std::string(5000, 'b')); },
                 {f, "write (disk full?) failed", "No space left on device"});
    // Other paths are not affected by the hook.
    write_file_atomic(path("other.txt"), "fine");
  }
  EXPECT_EQ(testing::read_bytes(f), std::string(1000, 'a'));
  EXPECT_EQ(fs::list_dir(dir_), (std::vector<std::string>{"ckpt.pt", "other.txt"}));
}

TEST_F(RunDirTest, AFailingCommandRemovesTheDirectoryAndParentsItCreated) {
  const std::string dir = path("runs/exp/20261205-000000");
  try {
    const RunDirGuard guard(dir);
    EXPECT_TRUE(fs::is_directory(dir));
    write_file_atomic(fs::join(dir, "config.yaml"), "x: 1\n");
    write_file_atomic(fs::join(dir, "sub/metrics.csv"), "a\n");
    throw std::runtime_error("the command failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(fs::exists(path("runs"))) << "runs/exp/<time> and the parents it needed are gone";
}

TEST_F(RunDirTest, AFailingCommandInAUsersDirectoryRemovesOnlyWhatItAdded) {
  const std::string dir = path("mine");
  ASSERT_EQ(fs::create_directories(dir), "");
  testing::write_bytes(fs::join(dir, "notes.txt"), "keep me");
  try {
    const RunDirGuard guard(dir);
    write_file_atomic(fs::join(dir, "config.yaml"), "x: 1\n");
    throw std::runtime_error("the command failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(fs::list_dir(dir), std::vector<std::string>{"notes.txt"});
  EXPECT_EQ(testing::read_bytes(fs::join(dir, "notes.txt")), "keep me");
}

TEST_F(RunDirTest, ADirectoryWithACheckpointIsKeptWhole) {
  const std::string dir = path("run");
  try {
    const RunDirGuard guard(dir);
    write_file_atomic(fs::join(dir, "config.yaml"), "x: 1\n");
    write_file_atomic(fs::join(dir, "ensemble000/checkpoints/general.pt"), "weights");
    throw std::runtime_error("failed after the first checkpoint");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(fs::is_file(fs::join(dir, "config.yaml")));
  EXPECT_TRUE(holds_checkpoint(dir));
}

TEST_F(RunDirTest, ASuccessfulCommandKeepsEverything) {
  const std::string dir = path("run");
  {
    const RunDirGuard guard(dir);
    write_file_atomic(fs::join(dir, "summary.csv"), "a\n");
  }
  EXPECT_TRUE(fs::is_file(fs::join(dir, "summary.csv")));
  EXPECT_FALSE(holds_checkpoint(dir));
}

TEST_F(RunDirTest, ASecondHolderIsRefusedWithThePidOfTheFirst) {
  const std::string dir = path("run");
  {
    const RunDirGuard first(dir);
    // flock locks belong to open file descriptions, so a second guard in this process conflicts
    // as another process would.
    expect_error([&] { const RunDirGuard second(dir); },
                 {dir, "in use by another semsec process", fmt::format("pid {}", ::getpid())});
    EXPECT_TRUE(fs::is_directory(dir)) << "the refused guard must not clean up the holder's directory";
  }
  EXPECT_EQ(fs::list_dir(dir), std::vector<std::string>{}) << "the lock file goes with its holder";
  const RunDirGuard again(dir);  // released with the first guard
  EXPECT_TRUE(fs::is_directory(dir));
}

TEST_F(RunDirTest, ChooseRunDirCreatesNothing) {
  EXPECT_EQ(choose_run_dir(path("given"), "exp"), path("given"));
  EXPECT_FALSE(fs::exists(path("given")));
  const std::string stamped = choose_run_dir("", "exp");
  EXPECT_EQ(stamped.rfind("runs/exp/", 0), 0u) << stamped;
  EXPECT_FALSE(fs::exists(stamped));
}

}  // namespace
}  // namespace semsec
