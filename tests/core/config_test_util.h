// Shared by the core/config tests (test_config.cpp, test_config_validation.cpp): the test schema and
// the ConfigTest fixture (a TempDirTest directory, YAML files in it, and the messages of failed loads).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/config.h"
#include "core/errors.h"
#include "tests/test_util_core.h"

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

class ConfigTest : public semsec::testing::TempDirTest {
 protected:
  ConfigTest() : TempDirTest("test_config") {}
  void SetUp() override {
    TempDirTest::SetUp();
    file_ = path("x.yaml");  // known before any load so expected messages can name it
  }

  std::string write(const std::string& name, const std::string& text) {
    semsec::testing::write_bytes(path(name), text);
    return path(name);
  }

  Config load(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
    write("x.yaml", yaml);
    return Config::load(schema_, file_, overrides);
  }

  // The semsec::Error message of loading `yaml` (the test fails if it loads).
  std::string error_of(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
    SCOPED_TRACE("loading:\n" + yaml);
    return semsec::testing::expect_error([&] { load(yaml, overrides); }, {});
  }

  std::string override_error(const std::vector<std::string>& overrides) {
    SCOPED_TRACE("override " + overrides.back());
    return semsec::testing::expect_error([&] { Config::load(schema_, "", overrides); }, {});
  }

  Schema schema_ = test_schema();
  std::string file_;
};

}  // namespace semsec::config::test_support
