// Tests of core/config: schema, YAML files, overrides, exact validation messages, to_yaml.
#include "core/config.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "core/errors.h"

namespace semsec::config {
namespace {

Schema test_schema() {
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

// ------------------------------------------------------------------------------------------------
// Defaults, files, overrides

TEST_F(ConfigTest, DefaultsWithoutFile) {
  Config c = Config::load(schema_, "", {});
  EXPECT_EQ(c.get_int("train.batch_size"), 64);
  EXPECT_EQ(c.get_int("train.seed"), 7);
  EXPECT_DOUBLE_EQ(c.get_float("train.lr"), 1e-3);
  EXPECT_FALSE(c.get_bool("train.amp"));
  EXPECT_EQ(c.get_string("model.name"), "gs_isac");
  EXPECT_EQ(c.get_int_list("model.hidden"), (std::vector<int64_t>{64, 64}));
  EXPECT_EQ(c.get_float_list("eval.test_snr_db"), (std::vector<double>{0, 10, 20}));
  EXPECT_EQ(c.get_string_list("eval.metrics"), (std::vector<std::string>{"acc"}));
  EXPECT_DOUBLE_EQ(c.get_float("channel.fading.k_factor"), 1.0);
  for (const auto& k : schema_.keys()) {
    EXPECT_FALSE(c.was_given(k.path)) << k.path;
    EXPECT_EQ(c.origin(k.path), "default");
  }
  EXPECT_TRUE(Config::defaults(schema_) == c);
}

TEST_F(ConfigTest, FileValuesAndWasGiven) {
  Config c = load(
      "train:\n"
      "  batch_size: 128\n"
      "  lr: 0.5\n"
      "  amp: true\n"
      "model:\n"
      "  name: mlp\n"
      "  hidden:\n"
      "    - 32\n"
      "    - 16\n"
      "channel:\n"
      "  fading:\n"
      "    k_factor: 3.5\n"
      "eval:\n"
      "  test_snr_db: [-5, 2.5, 40]\n"
      "  metrics: []\n");
  EXPECT_EQ(c.get_int("train.batch_size"), 128);
  EXPECT_EQ(c.get_float("train.lr"), 0.5);
  EXPECT_TRUE(c.get_bool("train.amp"));
  EXPECT_EQ(c.get_string("model.name"), "mlp");
  EXPECT_EQ(c.get_int_list("model.hidden"), (std::vector<int64_t>{32, 16}));
  EXPECT_EQ(c.get_float_list("eval.test_snr_db"), (std::vector<double>{-5, 2.5, 40}));
  EXPECT_TRUE(c.get_string_list("eval.metrics").empty());
  EXPECT_EQ(c.get_float("channel.fading.k_factor"), 3.5);
  EXPECT_EQ(c.get_int("train.steps"), 1000);  // untouched default

  EXPECT_TRUE(c.was_given("train.batch_size"));
  EXPECT_TRUE(c.was_given("eval.metrics"));
  EXPECT_TRUE(c.was_given("channel.fading.k_factor"));
  EXPECT_FALSE(c.was_given("train.steps"));
  EXPECT_FALSE(c.was_given("model.run_name"));
  EXPECT_EQ(c.origin("train.batch_size"), file_ + ":2:15");
  EXPECT_EQ(c.origin("train.steps"), "default");
}

TEST_F(ConfigTest, EmptyFileAndNullSectionGiveDefaults) {
  Config a = load("# nothing here yet\n");
  EXPECT_TRUE(a == Config::defaults(schema_));
  Config b = load("train:\n  # batch_size: 3\nmodel:\n  name: mlp\n");
  EXPECT_EQ(b.get_int("train.batch_size"), 64);
  EXPECT_EQ(b.get_string("model.name"), "mlp");
}

TEST_F(ConfigTest, DottedKeysInFile) {
  Config c = load("train.batch_size: 9\nchannel:\n  fading.k_factor: 2\n");
  EXPECT_EQ(c.get_int("train.batch_size"), 9);
  EXPECT_EQ(c.get_float("channel.fading.k_factor"), 2.0);
}

TEST_F(ConfigTest, OverridesApplyAfterFileInOrder) {
  Config c = load("train:\n  batch_size: 128\n  lr: 0.5\n",
                  {"train.batch_size=256", "train.steps=5", "train.steps=6",
                   "eval.test_snr_db=[0,5,10]", "model.run_name=a=b", "eval.metrics=[psnr, leak]"});
  EXPECT_EQ(c.get_int("train.batch_size"), 256);
  EXPECT_EQ(c.get_float("train.lr"), 0.5);  // from the file, not overridden
  EXPECT_EQ(c.get_int("train.steps"), 6);   // last override wins
  EXPECT_EQ(c.get_float_list("eval.test_snr_db"), (std::vector<double>{0, 5, 10}));
  EXPECT_EQ(c.get_string("model.run_name"), "a=b");  // split at the first '='
  EXPECT_EQ(c.get_string_list("eval.metrics"), (std::vector<std::string>{"psnr", "leak"}));
  EXPECT_TRUE(c.was_given("train.steps"));
  EXPECT_EQ(c.origin("train.batch_size"), "override 'train.batch_size=256'");
  EXPECT_EQ(c.origin("train.lr"), file_ + ":3:7");
}

TEST_F(ConfigTest, OverrideOfWholeSection) {
  Config c = Config::load(schema_, "", {"train={batch_size: 8, lr: 0.25}"});
  EXPECT_EQ(c.get_int("train.batch_size"), 8);
  EXPECT_EQ(c.get_float("train.lr"), 0.25);
  EXPECT_FALSE(c.was_given("train.steps"));
}

TEST_F(ConfigTest, ParseOverride) {
  Override o = parse_override(" train.lr =0.1");
  EXPECT_EQ(o.path, "train.lr");
  EXPECT_EQ(o.value, "0.1");
  EXPECT_EQ(parse_override("a.b=").value, "");
  try {
    parse_override("train.lr");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "override 'train.lr': expected KEY=VALUE (e.g. train.batch_size=64)");
  }
  try {
    parse_override("=5");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "override '=5': no key before '=' (expected KEY=VALUE)");
  }
  EXPECT_EQ(override_error({"train.lr"}),
            "override 'train.lr': expected KEY=VALUE (e.g. train.batch_size=64)");
}

TEST_F(ConfigTest, SetIsValidatedAndMarksGiven) {
  Config c = Config::defaults(schema_);
  c.set("train.seed", "11", "sweep point 3");
  EXPECT_EQ(c.get_int("train.seed"), 11);
  EXPECT_TRUE(c.was_given("train.seed"));
  EXPECT_EQ(c.origin("train.seed"), "sweep point 3");
  try {
    c.set("train.seed", "1001", "sweep point 4");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "sweep point 4: train.seed: expected an integer in [0, 1000], got \"1001\"");
  }
  EXPECT_EQ(c.get_int("train.seed"), 11);
  try {
    c.set("train.sed", "1", "sweep point 5");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "sweep point 5: unknown key 'train.sed' (did you mean 'train.seed'?)");
  }
}

// ------------------------------------------------------------------------------------------------
// Value validation in files (exact file:line:col messages)

TEST_F(ConfigTest, BadIntMessage) {
  EXPECT_EQ(error_of("# header\ntrain:\n  batch_size: abc\n"),
            file_ + ":3:15: train.batch_size: expected a positive integer, got \"abc\"");
  EXPECT_EQ(error_of("train:\n    batch_size:   1.5\n"),
            file_ + ":2:19: train.batch_size: expected a positive integer, got \"1.5\"");
  EXPECT_EQ(error_of("train: {batch_size: 0}\n"),
            file_ + ":1:21: train.batch_size: expected a positive integer, got \"0\"");
  EXPECT_EQ(error_of("train: {batch_size: 99999999999999999999}\n"),
            file_ +
                ":1:21: train.batch_size: expected a positive integer, got \"99999999999999999999\"");
  EXPECT_EQ(error_of("train: {steps: -1}\n"),
            file_ + ":1:16: train.steps: expected a non-negative integer, got \"-1\"");
  EXPECT_EQ(error_of("train: {batch_size: 1e3}\n"),
            file_ + ":1:21: train.batch_size: expected a positive integer, got \"1e3\"");
}

TEST_F(ConfigTest, IntRangeEdges) {
  EXPECT_EQ(load("train: {seed: 0}").get_int("train.seed"), 0);
  EXPECT_EQ(load("train: {seed: 1000}").get_int("train.seed"), 1000);
  EXPECT_EQ(load("train: {seed: +5}").get_int("train.seed"), 5);
  EXPECT_EQ(load("train: {seed: \"5\"}").get_int("train.seed"), 5);  // quoted numbers allowed
  EXPECT_EQ(load("train: {batch_size: 1}").get_int("train.batch_size"), 1);
  EXPECT_EQ(load("train: {batch_size: 9223372036854775807}").get_int("train.batch_size"), kIntMax);
  EXPECT_EQ(load("train: {steps: 0}").get_int("train.steps"), 0);
  EXPECT_EQ(error_of("train: {seed: 1001}"),
            file_ + ":1:15: train.seed: expected an integer in [0, 1000], got \"1001\"");
  EXPECT_EQ(error_of("train: {seed: -1}"),
            file_ + ":1:15: train.seed: expected an integer in [0, 1000], got \"-1\"");
}

TEST_F(ConfigTest, FloatRangesAndSpecialValues) {
  EXPECT_EQ(load("train: {lr: 0}").get_float("train.lr"), 0.0);
  EXPECT_EQ(load("train: {lr: 1}").get_float("train.lr"), 1.0);
  EXPECT_EQ(load("train: {lr: 2.5e-4}").get_float("train.lr"), 2.5e-4);
  EXPECT_EQ(load("train: {lr: .5}").get_float("train.lr"), 0.5);
  EXPECT_EQ(error_of("train: {lr: 1.0000001}"),
            file_ + ":1:13: train.lr: expected a number in [0, 1], got \"1.0000001\"");
  EXPECT_EQ(error_of("train: {lr: fast}"),
            file_ + ":1:13: train.lr: expected a number in [0, 1], got \"fast\"");
  EXPECT_EQ(error_of("train: {lr: .nan}"),
            file_ + ":1:13: train.lr: expected a number in [0, 1], got \".nan\"");
  EXPECT_EQ(error_of("train: {lr: .inf}"),
            file_ + ":1:13: train.lr: expected a number in [0, 1], got \".inf\"");
  EXPECT_EQ(error_of("train: {lr: 1e999}"),
            file_ + ":1:13: train.lr: expected a number in [0, 1], got \"1e999\"");
  // Half-open range: +inf lies inside, NaN and negatives do not.
  EXPECT_EQ(error_of("train: {weight_decay: -0.5}"),
            file_ + ":1:23: train.weight_decay: expected a number >= 0, got \"-0.5\"");
  EXPECT_TRUE(std::isinf(load("train: {weight_decay: .inf}").get_float("train.weight_decay")));
  EXPECT_EQ(error_of("train: {weight_decay: nan}"),
            file_ + ":1:23: train.weight_decay: expected a number >= 0, got \"nan\"");
  // Unbounded range: every double, NaN and both infinities included.
  EXPECT_TRUE(std::isnan(load("eval: {offset: .nan}").get_float("eval.offset")));
  EXPECT_EQ(load("eval: {offset: -.inf}").get_float("eval.offset"), -kInf);
  EXPECT_EQ(load("eval: {offset: -1e300}").get_float("eval.offset"), -1e300);
}

TEST_F(ConfigTest, BoolAcceptsOnlyTrueFalse) {
  EXPECT_TRUE(load("train: {amp: true}").get_bool("train.amp"));
  EXPECT_TRUE(load("train: {amp: True}").get_bool("train.amp"));
  EXPECT_FALSE(load("train: {amp: false}").get_bool("train.amp"));
  for (const char* bad : {"yes", "no", "1", "0", "on"}) {
    EXPECT_EQ(error_of(std::string("train: {amp: ") + bad + "}"),
              file_ + ":1:14: train.amp: expected true or false, got \"" + bad + "\"");
  }
}

TEST_F(ConfigTest, StringChoices) {
  EXPECT_EQ(error_of("model:\n  name: transformer\n"),
            file_ + ":2:9: model.name: expected one of: gs_isac, mlp, got \"transformer\"");
  // Any scalar is a string when there are no choices, including things YAML calls numbers.
  EXPECT_EQ(load("model: {run_name: 123}").get_string("model.run_name"), "123");
  EXPECT_EQ(load("model: {run_name: 'null'}").get_string("model.run_name"), "null");
}

TEST_F(ConfigTest, NullIsRejected) {
  EXPECT_EQ(error_of("train:\n  batch_size:\n  lr: 0.1\n"),
            file_ + ":2:3: train.batch_size: expected a positive integer, got null");
  EXPECT_EQ(error_of("train:\n  lr: ~\n"),
            file_ + ":2:7: train.lr: expected a number in [0, 1], got null");
  EXPECT_EQ(error_of("model:\n  run_name: null\n"),
            file_ + ":2:13: model.run_name: expected a string, got null");
  EXPECT_EQ(error_of("eval:\n  test_snr_db: [1, ~]\n"),
            file_ + ":2:20: eval.test_snr_db[1]: expected a number in [-20, 40], got null");
}

TEST_F(ConfigTest, ListElementErrorsNameTheIndex) {
  EXPECT_EQ(error_of("eval:\n  test_snr_db: [0, 5, abc]\n"),
            file_ + ":2:23: eval.test_snr_db[2]: expected a number in [-20, 40], got \"abc\"");
  EXPECT_EQ(error_of("eval:\n  test_snr_db:\n    - 0\n    - 41\n"),
            file_ + ":4:7: eval.test_snr_db[1]: expected a number in [-20, 40], got \"41\"");
  EXPECT_EQ(error_of("model:\n  hidden: [8, 0]\n"),
            file_ + ":2:15: model.hidden[1]: expected an integer in [1, 4096], got \"0\"");
  EXPECT_EQ(error_of("eval:\n  metrics: [acc, bleu]\n"),
            file_ + ":2:18: eval.metrics[1]: expected one of: acc, psnr, leak, got \"bleu\"");
  EXPECT_EQ(error_of("model:\n  hidden: [[1, 2]]\n"),
            file_ + ":2:12: model.hidden[0]: expected an integer in [1, 4096], got a list");
}

TEST_F(ConfigTest, ListGivenScalarOrMap) {
  EXPECT_EQ(error_of("eval:\n  test_snr_db: 5\n"),
            file_ + ":2:16: eval.test_snr_db: expected a list of numbers in [-20, 40], got \"5\"");
  EXPECT_EQ(error_of("model:\n  hidden: {a: 1}\n"),
            file_ + ":2:11: model.hidden: expected a list of integers in [1, 4096], got a map");
  EXPECT_EQ(error_of("eval:\n  metrics: acc\n"),
            file_ +
                ":2:12: eval.metrics: expected a list of strings, each one of: acc, psnr, leak, "
                "got \"acc\"");
}

// ------------------------------------------------------------------------------------------------
// Structure errors

TEST_F(ConfigTest, UnknownKeySuggestsNearest) {
  EXPECT_EQ(error_of("train:\n  batch_size: 4\n  batchsize: 5\n"),
            file_ + ":3:3: unknown key 'train.batchsize' (did you mean 'train.batch_size'?)");
  EXPECT_EQ(error_of("train:\n  lrr: 0.1\n"),
            file_ + ":2:3: unknown key 'train.lrr' (did you mean 'train.lr'?)");
  // Right name, wrong section.
  EXPECT_EQ(error_of("model:\n  batch_size: 3\n"),
            file_ + ":2:3: unknown key 'model.batch_size' (did you mean 'train.batch_size'?)");
  // Nothing close: no suggestion.
  EXPECT_EQ(error_of("train:\n  momentum_schedule: 3\n"),
            file_ + ":2:3: unknown key 'train.momentum_schedule'");
  EXPECT_EQ(error_of("zzz: 1\n"), file_ + ":1:1: unknown key 'zzz'");
}

TEST_F(ConfigTest, UnknownSection) {
  EXPECT_EQ(error_of("trian:\n  batch_size: 5\n"),
            file_ + ":1:1: unknown section 'trian' (did you mean 'train'?)");
  EXPECT_EQ(error_of("channel:\n  fadng:\n    k_factor: 1\n"),
            file_ + ":2:3: unknown section 'channel.fadng' (did you mean 'channel.fading'?)");
  EXPECT_EQ(error_of("optimizer_settings:\n  beta: 1\n"),
            file_ + ":1:1: unknown section 'optimizer_settings'");
}

TEST_F(ConfigTest, SectionGivenScalarAndLeafGivenMap) {
  EXPECT_EQ(error_of("train: 5\n"),
            file_ + ":1:8: train: expected a section (a map of keys such as 'batch_size'), "
                    "got \"5\"");
  EXPECT_EQ(error_of("channel:\n  fading: [1]\n"),
            file_ + ":2:11: channel.fading: expected a section (a map of keys such as "
                    "'k_factor'), got a list");
  EXPECT_EQ(error_of("train:\n  batch_size:\n    value: 5\n"),
            file_ + ":3:5: train.batch_size: expected a positive integer, got a map");
}

TEST_F(ConfigTest, DuplicateKeysRejected) {
  EXPECT_EQ(error_of("train:\n  batch_size: 4\n  batch_size: 5\n"),
            file_ + ":3:3: duplicate key 'train.batch_size' (first given at line 2)");
  EXPECT_EQ(error_of("train:\n  lr: 0.1\nmodel:\n  name: mlp\ntrain:\n  steps: 3\n"),
            file_ + ":5:1: duplicate key 'train' (first given at line 1)");
  EXPECT_EQ(error_of("train:\n  lr: 0.1\ntrain.lr: 0.2\n"),
            file_ + ":3:1: duplicate key 'train.lr' (first given at line 2)");
}

TEST_F(ConfigTest, MalformedYaml) {
  // yaml-cpp notices the unclosed list at the end of the input (line 4, column 1).
  EXPECT_EQ(error_of("train:\n  batch_size: 4\n  lr: [1,\n"),
            file_ + ":4:1: invalid YAML: end of sequence flow not found");
  EXPECT_EQ(error_of("train:\n  a: b: c\n"), file_ + ":2:7: invalid YAML: illegal map value");
}

TEST_F(ConfigTest, TopLevelMustBeMap) {
  EXPECT_EQ(error_of("- a\n- b\n"),
            file_ + ":1:1: expected a map of sections at the top level, got a list");
  EXPECT_EQ(error_of("just text\n"),
            file_ + ":1:1: expected a map of sections at the top level, got \"just text\"");
}

TEST_F(ConfigTest, MissingOrUnreadableFile) {
  std::string missing = dir_ + "/nope.yaml";
  try {
    Config::load(schema_, missing, {});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), missing + ": cannot open file (No such file or directory)");
  }
  try {
    Config::load(schema_, dir_, {});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), dir_ + ": cannot open file (is a directory)");
  }
}

// ------------------------------------------------------------------------------------------------
// Override errors

TEST_F(ConfigTest, OverrideErrors) {
  EXPECT_EQ(override_error({"train.batch_size=abc"}),
            "override 'train.batch_size=abc': train.batch_size: expected a positive integer, got "
            "\"abc\"");
  EXPECT_EQ(override_error({"train.batchsize=5"}),
            "override 'train.batchsize=5': unknown key 'train.batchsize' (did you mean "
            "'train.batch_size'?)");
  EXPECT_EQ(override_error({"eval.test_snr_db=[0,5,abc]"}),
            "override 'eval.test_snr_db=[0,5,abc]': eval.test_snr_db[2]: expected a number in "
            "[-20, 40], got \"abc\"");
  EXPECT_EQ(override_error({"train.lr="}),
            "override 'train.lr=': train.lr: expected a number in [0, 1], got null");
  EXPECT_EQ(override_error({"eval.test_snr_db=[0,"}),
            "override 'eval.test_snr_db=[0,': eval.test_snr_db: invalid YAML value: end of "
            "sequence flow not found");
  EXPECT_EQ(override_error({"train=5"}),
            "override 'train=5': train: expected a section (a map of keys such as "
            "'batch_size'), got \"5\"");
  // An error in a later override is reported even when earlier ones were fine.
  EXPECT_EQ(override_error({"train.steps=3", "train.amp=yes"}),
            "override 'train.amp=yes': train.amp: expected true or false, got \"yes\"");
}

TEST_F(ConfigTest, OverrideAfterFileErrorStillNamesOverride) {
  EXPECT_EQ(error_of("train:\n  batch_size: 4\n", {"train.seed=2000"}),
            "override 'train.seed=2000': train.seed: expected an integer in [0, 1000], got "
            "\"2000\"");
}

// ------------------------------------------------------------------------------------------------
// to_yaml, help, programming errors

TEST_F(ConfigTest, ToYamlIsNestedInSchemaOrder) {
  Schema s;
  s.add_int("a.x", 1, kIntMin, kIntMax, "")
      .add_float("b.c.y", 0.5, -kInf, kInf, "")
      .add_string("a.name", "hello world", {}, "")
      .add_bool("top", true, "")
      .add_float_list("b.c.l", {1.0, -2.5}, -kInf, kInf, "")
      .add_string_list("b.s", {"x", "true"}, {}, "");
  EXPECT_EQ(Config::defaults(s).to_yaml(),
            "a:\n"
            "  x: 1\n"
            "  name: \"hello world\"\n"
            "b:\n"
            "  c:\n"
            "    y: 0.5\n"
            "    l: [1.0, -2.5]\n"
            "  s: [x, \"true\"]\n"
            "top: true\n");
}

TEST_F(ConfigTest, ToYamlRoundTripsExactly) {
  Schema s = test_schema();
  s.add_float("rt.third", 0.0, -kInf, kInf, "")
      .add_float("rt.tiny", 0.0, -kInf, kInf, "")
      .add_float("rt.negzero", 0.0, -kInf, kInf, "")
      .add_float("rt.big", 0.0, -kInf, kInf, "")
      .add_float("rt.inf", 0.0, -kInf, kInf, "")
      .add_float_list("rt.list", {}, -kInf, kInf, "")
      .add_int("rt.min", 0, kIntMin, kIntMax, "")
      .add_string("rt.s1", "", {}, "")
      .add_string("rt.s2", "", {}, "")
      .add_string("rt.s3", "", {}, "")
      .add_string("rt.s4", "", {}, "")
      .add_string("rt.s5", "", {}, "")
      .add_string_list("rt.sl", {}, {}, "");
  Config c = Config::defaults(s);
  c.set("rt.third", "0.3333333333333333", "t");
  c.set("rt.tiny", "4.9406564584124654e-324", "t");  // smallest subnormal
  c.set("rt.negzero", "-0.0", "t");
  c.set("rt.big", "1.7976931348623157e308", "t");
  c.set("rt.inf", "-.inf", "t");
  c.set("rt.list", "[0.1, 0.2, 0.30000000000000004, 1e-7, 123456789.12345679]", "t");
  c.set("rt.min", "-9223372036854775808", "t");
  c.set("rt.s1", "'true'", "t");
  c.set("rt.s2", "\"say \\\"hi\\\": a, [b] # c\\n\\tend\\\\\"", "t");
  c.set("rt.s3", "''", "t");
  c.set("rt.s4", "'null'", "t");
  c.set("rt.s5", "\"  lead and \\u00e9 trail  \"", "t");
  c.set("rt.sl", "['a,b', '', ' x', '-1', 'yes']", "t");
  c.set("eval.offset", ".nan", "t");
  ASSERT_EQ(c.get_string("rt.s2"), "say \"hi\": a, [b] # c\n\tend\\");
  ASSERT_EQ(c.get_string("rt.s5"), "  lead and \xc3\xa9 trail  ");
  ASSERT_TRUE(std::signbit(c.get_float("rt.negzero")));

  std::string path = write("resolved.yaml", c.to_yaml());
  Config back = Config::load(s, path, {});
  for (const auto& k : s.keys()) {
    if (k.path == "eval.offset") continue;  // NaN != NaN; checked below
    EXPECT_TRUE(back.get(k.path) == c.get(k.path)) << k.path << "\n" << c.to_yaml();
  }
  EXPECT_TRUE(std::isnan(back.get_float("eval.offset")));
  EXPECT_TRUE(std::signbit(back.get_float("rt.negzero")));
  auto bits = [](double d) {
    uint64_t u;
    std::memcpy(&u, &d, sizeof u);
    return u;
  };
  EXPECT_EQ(bits(back.get_float("rt.tiny")), bits(c.get_float("rt.tiny")));
  EXPECT_EQ(back.to_yaml(), c.to_yaml());
  // Every key is written, defaults included, and each counts as given once loaded back.
  for (const auto& k : s.keys()) EXPECT_TRUE(back.was_given(k.path)) << k.path;
}

TEST_F(ConfigTest, HelpTextListsEveryKey) {
  std::string help = schema_.help_text();
  for (const auto& k : schema_.keys()) {
    EXPECT_NE(help.find(k.path), std::string::npos) << k.path;
    EXPECT_NE(help.find(k.help), std::string::npos) << k.help;
  }
  EXPECT_NE(help.find("int >= 1"), std::string::npos);
  EXPECT_NE(help.find("int in [0, 1000]"), std::string::npos);
  EXPECT_NE(help.find("float in [0, 1]"), std::string::npos);
  EXPECT_NE(help.find("(gs_isac|mlp)"), std::string::npos);
  EXPECT_NE(help.find("list of float in [-20, 40]"), std::string::npos);
  EXPECT_NE(help.find("default [0.0, 10.0, 20.0]"), std::string::npos);
  EXPECT_EQ(std::count(help.begin(), help.end(), '\n'),
            static_cast<std::ptrdiff_t>(schema_.keys().size()));

  Schema small;
  small.add_int("a.n", 3, 1, kIntMax, "Count").add_bool("a.flag", false, "Switch");
  EXPECT_EQ(small.help_text(),
            "  a.n     int >= 1  default 3      Count\n"
            "  a.flag  bool      default false  Switch\n");
}

TEST_F(ConfigTest, GettersRejectUnknownPathAndWrongType) {
  Config c = Config::defaults(schema_);
  EXPECT_THROW(c.get_int("train.nope"), std::logic_error);
  EXPECT_THROW(c.get_int("train"), std::logic_error);
  EXPECT_THROW(c.get_float("train.batch_size"), std::logic_error);
  EXPECT_THROW(c.get_int("train.lr"), std::logic_error);
  EXPECT_THROW(c.get_string("eval.metrics"), std::logic_error);
  EXPECT_THROW(c.get_float_list("model.hidden"), std::logic_error);
  EXPECT_THROW(c.was_given("nope"), std::logic_error);
  EXPECT_NO_THROW(c.get_int_list("model.hidden"));
}

TEST_F(ConfigTest, SchemaRejectsBadDefinitions) {
  Schema s;
  s.add_int("a.b", 1, 0, 10, "");
  EXPECT_THROW(Schema(s).add_int("a.b", 1, 0, 10, ""), std::logic_error);       // twice
  EXPECT_THROW(Schema(s).add_int("a", 1, 0, 10, ""), std::logic_error);         // is a section
  EXPECT_THROW(Schema(s).add_int("a.b.c", 1, 0, 10, ""), std::logic_error);     // under a key
  EXPECT_THROW(Schema(s).add_int("a..c", 1, 0, 10, ""), std::logic_error);      // malformed
  EXPECT_THROW(Schema(s).add_int("a.c d", 1, 0, 10, ""), std::logic_error);     // malformed
  EXPECT_THROW(Schema(s).add_int("a.c", 11, 0, 10, ""), std::logic_error);      // default
  EXPECT_THROW(Schema(s).add_int("a.c", 1, 10, 0, ""), std::logic_error);       // min > max
  EXPECT_THROW(Schema(s).add_float("a.c", 2.0, 0.0, 1.0, ""), std::logic_error);
  EXPECT_THROW(Schema(s).add_string("a.c", "z", {"x", "y"}, ""), std::logic_error);
  EXPECT_THROW(Schema(s).add_int_list("a.c", {1, 20}, 0, 10, ""), std::logic_error);
  EXPECT_NO_THROW(Schema(s).add_int("a.c", 10, 0, 10, ""));
  EXPECT_TRUE(s.is_section("a"));
  EXPECT_FALSE(s.is_section("a.b"));
  EXPECT_EQ(Schema(s).extend(test_schema()).keys().size(), 1 + test_schema().keys().size());
}

TEST(ConfigExpected, Phrases) {
  Schema s;
  s.add_int("i.any", 0, kIntMin, kIntMax, "")
      .add_int("i.ge", 5, 5, kIntMax, "")
      .add_int("i.le", 0, kIntMin, 3, "")
      .add_float("f.any", 0, -kInf, kInf, "")
      .add_float("f.le", 0, -kInf, 2.5, "")
      .add_string("s.any", "", {}, "")
      .add_int_list("l.pos", {}, 1, kIntMax, "")
      .add_string_list("l.s", {}, {}, "");
  auto e = [&](const char* p) { return s.find(p)->expected(); };
  EXPECT_EQ(e("i.any"), "an integer");
  EXPECT_EQ(e("i.ge"), "an integer >= 5");
  EXPECT_EQ(e("i.le"), "an integer <= 3");
  EXPECT_EQ(e("f.any"), "a number");
  EXPECT_EQ(e("f.le"), "a number <= 2.5");
  EXPECT_EQ(e("s.any"), "a string");
  EXPECT_EQ(e("l.pos"), "a list of positive integers");
  EXPECT_EQ(e("l.s"), "a list of strings");
}

}  // namespace
}  // namespace semsec::config
