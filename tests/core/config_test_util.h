// Shared by the core/config tests (test_config.cpp, test_config_validation.cpp): the test schema and
// the ConfigTest fixture (a temporary directory, YAML files in it, and the messages of failed loads).
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/errors.h"

namespace semsec::config::test_support {

inline Schema test_schema() {
  Schema s;
  s.add_int("train.batch_size", 64, 1, kIntMax, "Samples per step")
      .add_int("train.steps", 1000, 0, kIntMax, "Optimizer steps")
      .add_int("train.seed", 7, 0, 1000, "Seed of every random stream")
      .add_float("train.lr", 1e-3, 0.0, 1.0, "Learning rate")
      .add_float("train.weight_decay", 0.0, 0.0, kInf, "Decoupled weight decay")
      .add_bool("train.amp", false, "Mixed precision")
      .add_string("model.name", "gs_isac", {"gs_isac", "mlp"}, "Model family")
      .add_string("model.run_name", "run", {}, "Free-form run name")
      .add_int_list("model.hidden", {64, 64}, 1, 4096, "Hidden layer widths")
      .add_float_list("eval.test_snr_db", {0.0, 10.0, 20.0}, -20.0, 40.0, "Test SNRs in dB")
      .add_string_list("eval.metrics", {"acc"}, {"acc", "psnr", "leak"}, "Metrics to report")
      .add_float("eval.offset", 0.0, -kInf, kInf, "Unbounded offset")
      .add_float("channel.fading.k_factor", 1.0, 0.0, 100.0, "Rician K factor");
  return s;
}

class ConfigTest : public ::testing::Test {
 protected:
  // POSIX calls, not std::filesystem: libtorch.so exports incompatible copies of the latter.
  void SetUp() override {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/semsec_test_config_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    dir_ = pattern;
    file_ = dir_ + "/x.yaml";  // known before any load so expected messages can name it
  }
  void TearDown() override {  // the directory only ever holds plain files
    if (DIR* d = ::opendir(dir_.c_str())) {
      while (dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") ::unlink((dir_ + "/" + name).c_str());
      }
      ::closedir(d);
    }
    ::rmdir(dir_.c_str());
  }

  std::string write(const std::string& name, const std::string& text) {
    std::string p = dir_ + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  Config load(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
    write("x.yaml", yaml);
    return Config::load(schema_, file_, overrides);
  }

  // The semsec::Error message of loading `yaml` (the test fails if it loads).
  std::string error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
    try {
      load(yaml, overrides);
    } catch (const Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "no error for:\n" << yaml;
    return "";
  }

  std::string override_error(const std::vector<std::string>& overrides) {
    try {
      Config::load(schema_, "", overrides);
    } catch (const Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "no error for override " << overrides.back();
    return "";
  }

  Schema schema_ = test_schema();
  std::string dir_;
  std::string file_;
};

}  // namespace semsec::config::test_support
