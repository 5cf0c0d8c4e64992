// Helpers shared by the test suites: temporary directories (TempDir, the TempDirTest fixture),
// whole-file bytes, the error-message checker, running the venv's Python on a script, and
// SEMSEC_SKIP_WITHOUT_CUDA (POSIX throughout: libtorch.so exports its own std::filesystem
// symbols, which win symbol resolution in test binaries and crash).
#pragma once

#include <ftw.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <torch/cuda.h>

#include "core/errors.h"

// Skips the current test (or, in SetUp, the fixture's tests) when no CUDA device is present.
#define SEMSEC_SKIP_WITHOUT_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device present"

namespace semsec::testing {

// mkdtemp under /tmp; the caller removes it with fs::remove_all (POSIX, see core/fs.h).
inline std::string make_temp_dir(const std::string& prefix) {
  std::string tmpl = "/tmp/semsec_" + prefix + "_XXXXXX";
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr) << tmpl;
  return tmpl;
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
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    temp_ = std::make_unique<TempDir>("data");
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

  std::unique_ptr<TempDir> temp_;
  std::string dir_;
};

// Expects `fn` to throw semsec::Error whose message contains every one of `parts`; returns the
// message.
template <typename Fn>
std::string expect_error(Fn&& fn, const std::vector<std::string>& parts) {
  try {
    fn();
  } catch (const semsec::Error& e) {
    const std::string msg = e.what();
    for (const std::string& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
    return msg;
  }
  ADD_FAILURE() << "no semsec::Error thrown";
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

struct CommandOutput {
  int status;       // the exit status; -1 if the command could not run or was killed
  std::string out;  // stdout and stderr together
};

// The exit status a Python script uses to say "a package is missing: skip".
constexpr int kPythonSkip = 77;

// Writes `script` to DIR/script.py and runs it with `python` and `args`; status kPythonSkip
// (with the reason in out) when there is no such interpreter.
inline CommandOutput run_python_script(const std::string& python, const std::string& dir, const std::string& script,
                                       const std::string& args) {
  if (python.empty() || ::access(python.c_str(), X_OK) != 0) return {kPythonSkip, "no python at '" + python + "'"};
  const std::string file = dir + "/script.py";
  write_bytes(file, script);
  CommandOutput r{-1, ""};
  const std::string cmd = "'" + python + "' '" + file + "' " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = ::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace semsec::testing
