// Tests of core/config: schema, YAML files, overrides, to_yaml, help text and programming errors.
// Validation messages of bad files and overrides: test_config_validation.cpp.
#include "core/config.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "tests/core/config_test_util.h"

namespace semsec::config {
namespace {

using test_support::ConfigTest;
using test_support::test_schema;

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
                  {"train.batch_size=256", "train.steps=5", "train.steps=6", "eval.test_snr_db=[0,5,10]",
                   "model.run_name=a=b", "eval.metrics=[psnr, leak]"});
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
  using semsec::testing::expect_error;
  EXPECT_EQ(expect_error([] { parse_override("train.lr"); }, {}),
            "override 'train.lr': expected KEY=VALUE (e.g. train.batch_size=64)");
  EXPECT_EQ(expect_error([] { parse_override("=5"); }, {}), "override '=5': no key before '=' (expected KEY=VALUE)");
  EXPECT_EQ(override_error({"train.lr"}), "override 'train.lr': expected KEY=VALUE (e.g. train.batch_size=64)");
}

TEST_F(ConfigTest, SetIsValidatedAndMarksGiven) {
  Config c = Config::defaults(schema_);
  c.set("train.seed", "11", "sweep point 3");
  EXPECT_EQ(c.get_int("train.seed"), 11);
  EXPECT_TRUE(c.was_given("train.seed"));
  EXPECT_EQ(c.origin("train.seed"), "sweep point 3");
  using semsec::testing::expect_error;
  EXPECT_EQ(expect_error([&] { c.set("train.seed", "1001", "sweep point 4"); }, {}),
            "sweep point 4: train.seed: expected an integer in [0, 1000], got \"1001\"");
  EXPECT_EQ(c.get_int("train.seed"), 11);
  EXPECT_EQ(expect_error([&] { c.set("train.sed", "1", "sweep point 5"); }, {}),
            "sweep point 5: unknown key 'train.sed' (did you mean 'train.seed'?)");
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
  EXPECT_EQ(std::count(help.begin(), help.end(), '\n'), static_cast<std::ptrdiff_t>(schema_.keys().size()));

  Schema small;
  small.add_int("a.n", 3, 1, kIntMax, "Count").add_bool("a.flag", false, "Switch");
  EXPECT_EQ(small.help_text(),
            "  a.n     int >= 1  default 3      Count\n"
            "  a.flag  bool      default false  Switch\n");
}

TEST_F(ConfigTest, GettersRejectUnknownPathAndWrongType) {
  Config c = Config::defaults(schema_);
  using semsec::testing::expect_error;
  expect_error<std::logic_error>([&] { c.get_int("train.nope"); }, {"config: unknown key 'train.nope'"});
  expect_error<std::logic_error>([&] { c.get_int("train"); }, {"config: unknown key 'train'"});
  expect_error<std::logic_error>([&] { c.get_float("train.batch_size"); },
                                 {"key 'train.batch_size' is a int, read as a float"});
  expect_error<std::logic_error>([&] { c.get_int("train.lr"); }, {"key 'train.lr' is a float, read as a int"});
  expect_error<std::logic_error>([&] { c.get_string("eval.metrics"); },
                                 {"key 'eval.metrics' is a string list, read as a string"});
  expect_error<std::logic_error>([&] { c.get_float_list("model.hidden"); },
                                 {"key 'model.hidden' is a int list, read as a float list"});
  expect_error<std::logic_error>([&] { c.was_given("nope"); }, {"config: unknown key 'nope'"});
  EXPECT_NO_THROW(c.get_int_list("model.hidden"));
}

TEST_F(ConfigTest, SchemaRejectsBadDefinitions) {
  Schema s;
  s.add_int("a.b", 1, 0, 10, "");
  // Every message names the key and what is wrong with it.
  using semsec::testing::expect_error;
  expect_error<std::logic_error>([&] { Schema(s).add_int("a.b", 1, 0, 10, ""); },
                                 {"config schema: key 'a.b': defined twice"});
  expect_error<std::logic_error>([&] { Schema(s).add_int("a", 1, 0, 10, ""); },
                                 {"key 'a': is already a section of other keys"});
  expect_error<std::logic_error>([&] { Schema(s).add_int("a.b.c", 1, 0, 10, ""); },
                                 {"key 'a.b.c': its section 'a.b' is already a key"});
  expect_error<std::logic_error>([&] { Schema(s).add_int("a..c", 1, 0, 10, ""); }, {"key 'a..c': malformed path"});
  expect_error<std::logic_error>([&] { Schema(s).add_int("a.c d", 1, 0, 10, ""); }, {"key 'a.c d': malformed path"});
  expect_error<std::logic_error>([&] { Schema(s).add_int("a.c", 11, 0, 10, ""); },
                                 {"key 'a.c': default 11 is not an integer in [0, 10]"});
  expect_error<std::logic_error>([&] { Schema(s).add_int("a.c", 1, 10, 0, ""); },
                                 {"key 'a.c': min is greater than max"});
  expect_error<std::logic_error>([&] { Schema(s).add_float("a.c", 2.0, 0.0, 1.0, ""); },
                                 {"key 'a.c': default 2.0 is not a number in [0, 1]"});
  const std::vector<std::string> xy{"x", "y"};
  const std::vector<int64_t> one_twenty{1, 20};
  expect_error<std::logic_error>([&] { Schema(s).add_string("a.c", "z", xy, ""); },
                                 {"key 'a.c': default z is not one of: x, y"});
  expect_error<std::logic_error>([&] { Schema(s).add_int_list("a.c", one_twenty, 0, 10, ""); },
                                 {"key 'a.c': default [1, 20] is not a list of integers in [0, 10]"});
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
