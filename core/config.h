// Typed configuration of a semsec command: a Schema lists every key ("section.sub.key") with its
// type, range and default; Config loads a YAML file plus "a.b=value" overrides against it.
//
// User mistakes (bad YAML, unknown keys, values out of range, duplicates) throw semsec::Error with
// one message that names the file:line:col or the override and the expected value; misuse by code
// (unknown path in a getter, wrong getter type, bad schema) throws std::logic_error.
//
// Value rules worth knowing:
//   - bools accept only true/false (also True/TRUE/False/FALSE); yes/no/on/off/1/0 are rejected so
//     that YAML 1.1 surprises (`norway: no`) cannot happen.
//   - ints are decimal literals; "1.5", "1e3" and "0x10" are rejected for an int.
//   - floats accept decimal/exponent literals and .inf/-.inf/.nan (or inf/nan); an infinity is
//     accepted only where that side of the range is unbounded, NaN only when both sides are.
//   - null (`key:` with no value, `~`, `null`) is rejected for every type.
//   - lists must be YAML sequences (`[1, 2]` or block form); a bare scalar is not a list.
//   - quoted scalars are accepted for numbers too ("5" reads as 5); every scalar is a valid string.
//   - a section left empty (`train:` with every key commented out) is fine: its keys keep defaults.
//   - keys may also be written dotted inside a file (`train.lr: 0.1`); the same key twice is an error.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace semsec::config {

class Config;

enum class Type { kInt, kFloat, kBool, kString, kIntList, kFloatList, kStringList };

// "int", "float", ... as shown in help and in logic_error messages.
std::string_view type_name(Type type);

// Pass as min/max to leave that side of an int range open.
inline constexpr int64_t kIntMin = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kIntMax = std::numeric_limits<int64_t>::max();
inline constexpr double kInf = std::numeric_limits<double>::infinity();

// One value of any key type; the alternative index matches Type.
using Value = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>, std::vector<double>,
                           std::vector<std::string>>;

struct KeySpec {
  std::string path;
  Type type = Type::kInt;
  std::string help;
  int64_t int_min = kIntMin;  // ints and int-list elements
  int64_t int_max = kIntMax;
  double float_min = -kInf;  // floats and float-list elements
  double float_max = kInf;
  std::vector<std::string> choices;  // strings and string-list elements; empty = any
  Value def;

  // What a valid value (or list element) looks like, e.g. "a positive integer",
  // "a number in [0, 1]", "one of: adam, sgd"; used in error messages.
  std::string expected_element() const;
  // The whole value, e.g. "a list of numbers in [-20, 40]" for lists, else expected_element().
  std::string expected() const;
  // Short type/range for help text, e.g. "int >= 1", "float in [0, 1]", "list of int".
  std::string type_summary() const;
};

// Ordered list of keys. Adding a bad key (malformed path, duplicate, leaf that is also a
// section, default outside its own range) throws std::logic_error.
class Schema {
 public:
  Schema& add_int(std::string path, int64_t def, int64_t min, int64_t max, std::string help);
  Schema& add_float(std::string path, double def, double min, double max, std::string help);
  Schema& add_bool(std::string path, bool def, std::string help);
  Schema& add_string(std::string path, std::string def, std::vector<std::string> choices, std::string help);
  Schema& add_int_list(std::string path, std::vector<int64_t> def, int64_t min, int64_t max, std::string help);
  Schema& add_float_list(std::string path, std::vector<double> def, double min, double max, std::string help);
  Schema& add_string_list(std::string path, std::vector<std::string> def, std::vector<std::string> choices,
                          std::string help);
  // A rule that involves several keys (phi_min below phi_max, a list that must not be empty):
  // `check` throws semsec::Error naming the keys and their origins when the configuration breaks
  // it. Config::load runs every check after the file and the overrides, so a command rejects a
  // bad configuration before it creates anything on disk.
  Schema& add_check(std::function<void(const Config&)> check);
  // Appends every key and check of `other` (commands combine shared schemas this way).
  Schema& extend(const Schema& other);

  const KeySpec* find(std::string_view path) const;
  const std::vector<KeySpec>& keys() const { return keys_; }
  // True when `path` is a proper prefix of some key ("train" for "train.batch_size").
  bool is_section(std::string_view path) const;
  // Every section path ("train", "train.optim", ...) in order of first appearance.
  const std::vector<std::string>& sections() const { return sections_; }
  // One aligned line per key: path, type/range, default, help.
  std::string help_text() const;

 private:
  Schema& add(KeySpec spec);
  friend class Config;
  std::vector<KeySpec> keys_;
  std::vector<std::string> sections_;
  std::vector<std::function<void(const Config&)>> checks_;
};

struct Override {
  std::string path;
  std::string value;
};
// Splits "a.b=value" at the first '='; throws semsec::Error when there is no '=' or no key.
Override parse_override(const std::string& text);

class Config {
 public:
  // `file` may be "" (defaults only). Overrides ("a.b=value") are applied after the file, in order,
  // so the last one given for a key wins; then the schema's cross-key checks run (check()).
  static Config load(const Schema& schema, const std::string& file, const std::vector<std::string>& overrides);
  // The same without the cross-key checks: the base of a sweep, whose points are checked one by
  // one once their swept values are set.
  static Config load_unchecked(const Schema& schema, const std::string& file,
                               const std::vector<std::string>& overrides);
  // Runs the schema's cross-key checks (semsec::Error on the first that fails).
  void check() const;
  // Every key at its default.
  static Config defaults(const Schema& schema);

  int64_t get_int(std::string_view path) const;
  double get_float(std::string_view path) const;
  bool get_bool(std::string_view path) const;
  const std::string& get_string(std::string_view path) const;
  const std::vector<int64_t>& get_int_list(std::string_view path) const;
  const std::vector<double>& get_float_list(std::string_view path) const;
  const std::vector<std::string>& get_string_list(std::string_view path) const;
  const Value& get(std::string_view path) const;

  // Sets one key (or, with a YAML map value, a whole section) from YAML text, validated like an
  // override; errors are prefixed with `origin` (e.g. "sweep point 3"). Marks the key as given.
  void set(std::string_view path, const std::string& yaml_value, const std::string& origin);
  // True when a file, override or set() gave the key rather than its default.
  bool was_given(std::string_view path) const;
  // Where the value came from: "default", "FILE:LINE:COL", "override 'a.b=v'" or set()'s origin.
  const std::string& origin(std::string_view path) const;

  // Every key (defaults included), nested by section, in schema order; loading it back with the
  // same schema gives equal values (doubles are written in shortest round-trip form).
  std::string to_yaml() const;
  const Schema& schema() const { return schema_; }

  // Values only (not origins).
  friend bool operator==(const Config& a, const Config& b) { return a.values_ == b.values_; }

 private:
  explicit Config(const Schema& schema);
  size_t index_of(std::string_view path) const;
  template <typename T>
  const T& get_as(std::string_view path, Type type) const;

  friend class ConfigLoader;
  Schema schema_;
  std::vector<Value> values_;  // parallel to schema_.keys()
  std::vector<std::string> origins_;
  std::vector<bool> given_;
};

}  // namespace semsec::config
