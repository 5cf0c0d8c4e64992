// Helpers shared by the trainer and command-line suites: a fresh temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

namespace semsec::testing {

// mkdtemp under /tmp; the caller removes it with fs::remove_all (POSIX, see core/fs.h).
inline std::string make_temp_dir(const std::string& prefix) {
  std::string tmpl = "/tmp/semsec_" + prefix + "_XXXXXX";
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr) << tmpl;
  return tmpl;
}

}  // namespace semsec::testing
