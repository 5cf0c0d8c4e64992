// Helpers shared by the test suites: everything in test_util_core.h (temporary directories, whole-file
// bytes, the error-message checker, ulp_distance, SEMSEC_SKIP_OR_FAIL_IN_CI), running the venv's
// Python on a script, and SEMSEC_SKIP_WITHOUT_CUDA, the one reason a test may skip under CI.
#pragma once

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include <torch/cuda.h>

#include "tests/test_util_core.h"

// Skips the current test (or, in SetUp, the fixture's tests) when no CUDA device is present.
#define SEMSEC_SKIP_WITHOUT_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device present"

namespace semsec::testing {

struct CommandOutput {
  int status;       // the exit status; -1 if the command could not run or was killed
  std::string out;  // stdout and stderr together
};

// The exit status a Python script uses to say "a package is missing: skip" (the caller then uses
// SEMSEC_SKIP_OR_FAIL_IN_CI).
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
