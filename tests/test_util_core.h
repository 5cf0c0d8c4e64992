// The torch-free test helpers, shared with the suites built without LibTorch (core/test_config*.cpp,
// core/test_progress.cpp): temporary directories (TempDir, the TempDirTest fixture), whole-file
// bytes, the error-message checker, the float ulp distance and SEMSEC_SKIP_OR_FAIL_IN_CI.
// tests/test_util.h adds the GPU skip and the Python runner. POSIX throughout: libtorch.so exports
// its own std::filesystem symbols, which win symbol resolution in test binaries and crash.
#pragma once

#include <ftw.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/errors.h"

// A test whose prerequisite is missing (the Debian package dataset-fashion-mnist, the venv's
// Python or one of its modules) skips with `reason` on a developer's machine but fails under CI,
// where scripts/setup.sh has installed all of them and a skip would hide a broken set-up. CI is
// the variable CI systems set (GitHub Actions, GitLab CI, Buildkite, ...: CI=true); set it by hand
// (CI=1 scripts/test.sh) to get CI's behaviour. Only a missing GPU (SEMSEC_SKIP_WITHOUT_CUDA) may
// skip under CI. `reason` may be a chain of << operands. A statement in TEST bodies and SetUp.
#define SEMSEC_SKIP_OR_FAIL_IN_CI(reason)                                                                   \
  do {                                                                                                      \
    if (::semsec::testing::in_ci())                                                                         \
      FAIL() << "CI is set, so a missing prerequisite fails instead of skipping: " << reason;               \
    else                                                                                                    \
      GTEST_SKIP() << "missing prerequisite (with the environment variable CI set this fails): " << reason; \
  } while (0)

namespace semsec::testing {

// Whether the environment variable CI is set to something other than "", "0" or "false".
inline bool in_ci() {
  const char* ci = std::getenv("CI");
  if (ci == nullptr || *ci == '\0' || std::strcmp(ci, "0") == 0) return false;
  return ::strcasecmp(ci, "false") != 0;
}

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it when destroyed.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "t") {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/semsec_" + prefix + "_XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = tmpl;
  }
  ~TempDir() {
    ::nftw(
        path_.c_str(), [](const char* p, const struct stat*, int, FTW*) { return ::remove(p); }, 16,
        FTW_DEPTH | FTW_PHYS);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A fixture with a fresh directory per test (dir_), removed afterwards even when the test fails.
// A derived fixture's SetUp calls TempDirTest::SetUp() first.
class TempDirTest : public ::testing::Test {
 protected:
  explicit TempDirTest(std::string prefix = "data") : prefix_(std::move(prefix)) {}
  void SetUp() override {
    temp_ = std::make_unique<TempDir>(prefix_);
    dir_ = temp_->path();
  }
  void TearDown() override { temp_.reset(); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  void write_bytes(const std::string& name, const std::vector<uint8_t>& bytes) const {
    std::ofstream f(path(name), std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  std::vector<uint8_t> read_bytes(const std::string& name) const {
    std::ifstream f(path(name), std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
  }

  std::string prefix_;
  std::unique_ptr<TempDir> temp_;
  std::string dir_;
};

// Expects `fn` to throw E whose message contains every one of `parts`; returns the message. E is
// semsec::Error (what users see) unless given: std::logic_error for a programming error,
// c10::Error for a TORCH_CHECK. Any other exception propagates and fails the test.
template <typename E = semsec::Error, typename Fn>
std::string expect_error(Fn&& fn, const std::vector<std::string>& parts) {
  try {
    fn();
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const std::string& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
    return msg;
  }
  std::string want;
  for (const std::string& p : parts) want += " '" + p + "'";
  ADD_FAILURE() << "nothing thrown; expected an error naming" << want;
  return {};
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Distance in units in the last place between two floats (0 = identical, 1 = adjacent floats;
// +0 and -0 are 0 apart).
inline int64_t ulp_distance(float a, float b) {
  auto ordered = [](float x) {
    int32_t i;
    std::memcpy(&i, &x, sizeof(i));
    return i < 0 ? static_cast<int64_t>(INT32_MIN) - i : static_cast<int64_t>(i);
  };
  return std::abs(ordered(a) - ordered(b));
}

}  // namespace semsec::testing
