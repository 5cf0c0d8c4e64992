// Schema, YAML loading, override parsing and validation for semsec configurations.
#include "core/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>

#include <sys/stat.h>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/errors.h"

namespace semsec::config {
namespace {

// ---------------------------------------------------------------------------------------------
// Formatting of values (shared by error messages, help and to_yaml).

std::string format_int(int64_t v) { return fmt::format("{}", v); }

// Shortest text that parses back to exactly `v`, in a form YAML readers take as a float.
std::string format_float(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

// Range bounds in messages read better without a forced ".0" ("[0, 1]").
std::string format_bound(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Plain scalars that some YAML reader would take as something other than a string.
bool is_reserved_word(std::string_view s) {
  static const char* const kWords[] = {"true", "false", "yes", "no",  "on",  "off",     "y",
                                       "n",    "null",  "nan", "inf", ".inf", ".nan", "~"};
  for (const char* w : kWords)
    if (equals_ignore_case(s, w)) return true;
  return false;
}

std::string quote_yaml_string(std::string_view s) {
  bool plain = !s.empty() && !is_reserved_word(s) &&
               (std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_' || s[0] == '/');
  for (char c : s) {
    if (!plain) break;
    plain = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '/' ||
            c == '-';
  }
  if (plain) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
          out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        else
          out += c;
    }
  }
  return out + "\"";
}

template <typename T, typename F>
std::string format_list(const std::vector<T>& v, F&& one) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    out += one(v[i]);
  }
  return out + "]";
}

// A value as YAML text (flow form for lists).
std::string format_value(const Value& value) {
  struct Visitor {
    std::string operator()(int64_t v) const { return format_int(v); }
    std::string operator()(double v) const { return format_float(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return quote_yaml_string(v); }
    std::string operator()(const std::vector<int64_t>& v) const {
      return format_list(v, format_int);
    }
    std::string operator()(const std::vector<double>& v) const {
      return format_list(v, format_float);
    }
    std::string operator()(const std::vector<std::string>& v) const {
      return format_list(v, [](const std::string& s) { return quote_yaml_string(s); });
    }
  };
  return std::visit(Visitor{}, value);
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scalar parsing. Each returns nullopt when the text is not a valid literal of the type.

std::string_view strip_plus(std::string_view s) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '+' && s[1] != '-') s.remove_prefix(1);
  return s;
}

std::optional<int64_t> parse_int(std::string_view text) {
  std::string_view s = strip_plus(text);
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_float(std::string_view text) {
  for (const char* w : {".inf", "+.inf", "inf", "+inf", "infinity", "+infinity"})
    if (equals_ignore_case(text, w)) return kInf;
  for (const char* w : {"-.inf", "-inf", "-infinity"})
    if (equals_ignore_case(text, w)) return -kInf;
  for (const char* w : {".nan", "nan"})
    if (equals_ignore_case(text, w)) return std::numeric_limits<double>::quiet_NaN();
  std::string_view s = strip_plus(text);
  // from_chars would also take "nan(...)" and "infinity" spellings: only plain literals here.
  if (s.empty() || s.find_first_not_of("0123456789.eE+-") != std::string_view::npos)
    return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

bool int_in_range(const KeySpec& k, int64_t v) { return v >= k.int_min && v <= k.int_max; }

bool float_in_range(const KeySpec& k, double v) {
  if (std::isnan(v)) return std::isinf(k.float_min) && std::isinf(k.float_max);
  return v >= k.float_min && v <= k.float_max;
}

bool string_allowed(const KeySpec& k, const std::string& v) {
  return k.choices.empty() || std::find(k.choices.begin(), k.choices.end(), v) != k.choices.end();
}

// ---------------------------------------------------------------------------------------------
// "Did you mean": optimal string alignment distance (a swap of neighbours costs 1).

size_t edit_distance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

std::string_view last_segment(std::string_view path) {
  size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

// Typos of a few characters, more for longer names.
size_t close_enough(std::string_view query) { return 1 + query.size() / 5; }

// Nearest candidate by full path; failing that, a key with (nearly) the same name in another
// section ("model.lr" -> "optim.lr"). Empty when nothing is reasonably close.
std::string nearest(std::string_view query, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = close_enough(query) + 1;
  for (const auto& c : candidates) {
    size_t d = edit_distance(query, c);
    if (d < best_d) best = c, best_d = d;
  }
  if (!best.empty()) return best;
  std::string_view name = last_segment(query);
  best_d = close_enough(name) / 2 + 1;  // names alone are short: demand a closer match
  for (const auto& c : candidates) {
    size_t d = edit_distance(name, last_segment(c));
    if (d < best_d) best = c, best_d = d;
  }
  return best;
}

std::string did_you_mean(const std::string& suggestion) {
  return suggestion.empty() ? "" : fmt::format(" (did you mean '{}'?)", suggestion);
}

// ---------------------------------------------------------------------------------------------

bool valid_path(std::string_view path) {
  if (path.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string_view seg =
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (seg.empty()) return false;
    for (char c : seg)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// Text of a node for "got ..." in messages.
std::string describe_node(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "null";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  std::string text = node.Scalar();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// KeySpec

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kInt: return "int";
    case Type::kFloat: return "float";
    case Type::kBool: return "bool";
    case Type::kString: return "string";
    case Type::kIntList: return "int list";
    case Type::kFloatList: return "float list";
    case Type::kStringList: return "string list";
  }
  return "?";
}

namespace {

// What one value (or one list element) must be; `plural` for "a list of ..." phrases.
std::string element_phrase(const KeySpec& k, bool plural) {
  const char* s = plural ? "s" : "";
  switch (k.type) {
    case Type::kInt:
    case Type::kIntList: {
      const char* a = plural ? "" : "a ";
      const char* an = plural ? "" : "an ";
      if (k.int_max == kIntMax) {
        if (k.int_min == kIntMin) return fmt::format("{}integer{}", an, s);
        if (k.int_min == 1) return fmt::format("{}positive integer{}", a, s);
        if (k.int_min == 0) return fmt::format("{}non-negative integer{}", a, s);
        return fmt::format("{}integer{} >= {}", an, s, k.int_min);
      }
      if (k.int_min == kIntMin) return fmt::format("{}integer{} <= {}", an, s, k.int_max);
      return fmt::format("{}integer{} in [{}, {}]", an, s, k.int_min, k.int_max);
    }
    case Type::kFloat:
    case Type::kFloatList: {
      const char* a = plural ? "" : "a ";
      bool lo = std::isinf(k.float_min), hi = std::isinf(k.float_max);
      if (lo && hi) return fmt::format("{}number{}", a, s);
      if (hi) return fmt::format("{}number{} >= {}", a, s, format_bound(k.float_min));
      if (lo) return fmt::format("{}number{} <= {}", a, s, format_bound(k.float_max));
      return fmt::format("{}number{} in [{}, {}]", a, s, format_bound(k.float_min),
                         format_bound(k.float_max));
    }
    case Type::kBool: return "true or false";
    case Type::kString:
    case Type::kStringList:
      if (k.choices.empty()) return plural ? "strings" : "a string";
      return plural ? "strings, each one of: " + join(k.choices, ", ")
                    : "one of: " + join(k.choices, ", ");
  }
  return "?";
}

bool is_list(Type t) { return t == Type::kIntList || t == Type::kFloatList || t == Type::kStringList; }

}  // namespace

std::string KeySpec::expected_element() const { return element_phrase(*this, false); }

std::string KeySpec::expected() const {
  return is_list(type) ? "a list of " + element_phrase(*this, true) : expected_element();
}

std::string KeySpec::type_summary() const {
  std::string range;
  switch (type) {
    case Type::kInt:
    case Type::kIntList:
      if (int_min != kIntMin && int_max != kIntMax)
        range = fmt::format(" in [{}, {}]", int_min, int_max);
      else if (int_min != kIntMin)
        range = fmt::format(" >= {}", int_min);
      else if (int_max != kIntMax)
        range = fmt::format(" <= {}", int_max);
      break;
    case Type::kFloat:
    case Type::kFloatList:
      if (!std::isinf(float_min) && !std::isinf(float_max))
        range = fmt::format(" in [{}, {}]", format_bound(float_min), format_bound(float_max));
      else if (!std::isinf(float_min))
        range = fmt::format(" >= {}", format_bound(float_min));
      else if (!std::isinf(float_max))
        range = fmt::format(" <= {}", format_bound(float_max));
      break;
    case Type::kString:
    case Type::kStringList:
      if (!choices.empty()) range = " (" + join(choices, "|") + ")";
      break;
    case Type::kBool: break;
  }
  switch (type) {
    case Type::kIntList: return "list of int" + range;
    case Type::kFloatList: return "list of float" + range;
    case Type::kStringList: return "list of string" + range;
    default: return std::string(type_name(type)) + range;
  }
}

// ---------------------------------------------------------------------------------------------
// Schema

Schema& Schema::add(KeySpec spec) {
  auto bad = [&](std::string_view why) {
    throw std::logic_error(fmt::format("config schema: key '{}': {}", spec.path, why));
  };
  if (!valid_path(spec.path)) bad("malformed path (want dot-separated [A-Za-z0-9_-] names)");
  if (find(spec.path)) bad("defined twice");
  if (is_section(spec.path)) bad("is already a section of other keys");
  for (size_t dot = spec.path.find('.'); dot != std::string::npos;
       dot = spec.path.find('.', dot + 1)) {
    if (find(std::string_view(spec.path).substr(0, dot)))
      bad(fmt::format("its section '{}' is already a key", spec.path.substr(0, dot)));
  }
  if (spec.int_min > spec.int_max || !(spec.float_min <= spec.float_max))
    bad("min is greater than max");

  bool def_ok = true;
  switch (spec.type) {
    case Type::kInt: def_ok = int_in_range(spec, std::get<int64_t>(spec.def)); break;
    case Type::kFloat: def_ok = float_in_range(spec, std::get<double>(spec.def)); break;
    case Type::kString: def_ok = string_allowed(spec, std::get<std::string>(spec.def)); break;
    case Type::kIntList:
      for (int64_t v : std::get<std::vector<int64_t>>(spec.def)) def_ok &= int_in_range(spec, v);
      break;
    case Type::kFloatList:
      for (double v : std::get<std::vector<double>>(spec.def)) def_ok &= float_in_range(spec, v);
      break;
    case Type::kStringList:
      for (const auto& v : std::get<std::vector<std::string>>(spec.def))
        def_ok &= string_allowed(spec, v);
      break;
    case Type::kBool: break;
  }
  if (!def_ok)
    bad(fmt::format("default {} is not {}", format_value(spec.def), spec.expected()));

  for (size_t dot = spec.path.find('.'); dot != std::string::npos;
       dot = spec.path.find('.', dot + 1)) {
    std::string section = spec.path.substr(0, dot);
    if (!is_section(section)) sections_.push_back(section);
  }
  keys_.push_back(std::move(spec));
  return *this;
}

Schema& Schema::add_int(std::string path, int64_t def, int64_t min, int64_t max,
                        std::string help) {
  KeySpec k;
  k.path = std::move(path), k.type = Type::kInt, k.help = std::move(help);
  k.int_min = min, k.int_max = max, k.def = def;
  return add(std::move(k));
}

Schema& Schema::add_float(std::string path, double def, double min, double max,
                          std::string help) {
  KeySpec k;
  k.path = std::move(path), k.type = Type::kFloat, k.help = std::move(help);
  k.float_min = min, k.float_max = max, k.def = def;
  return add(std::move(k));
}

Schema& Schema::add_bool(std::string path, bool def, std::string help) {
  KeySpec k;
  k.path = std::move(path), k.type = Type::kBool, k.help = std::move(help), k.def = def;
  return add(std::move(k));
}

Schema& Schema::add_string(std::string path, std::string def, std::vector<std::string> choices,
                           std::string help) {
  KeySpec k;
  k.path = std::move(path), k.type = Type::kString, k.help = std::move(help);
  k.choices = std::move(choices), k.def = std::move(def);
  return add(std::move(k));
}

Schema& Schema::add_int_list(std::string path, std::vector<int64_t> def, int64_t min,
                             int64_t max, std::string help) {
  KeySpec k;
  k.path = std::move(path), k.type = Type::kIntList, k.help = std::move(help);
  k.int_min = min, k.int_max = max, k.def = std::move(def);
  return add(std::move(k));
}

Schema& Schema::add_float_list(std::string path, std::vector<double> def, double min, double max,
                               std::string help) {
  KeySpec k;
  k.path = std::move(path), k.type = Type::kFloatList, k.help = std::move(help);
  k.float_min = min, k.float_max = max, k.def = std::move(def);
  return add(std::move(k));
}

Schema& Schema::add_string_list(std::string path, std::vector<std::string> def,
                                std::vector<std::string> choices, std::string help) {
  KeySpec k;
  k.path = std::move(path), k.type = Type::kStringList, k.help = std::move(help);
  k.choices = std::move(choices), k.def = std::move(def);
  return add(std::move(k));
}

Schema& Schema::extend(const Schema& other) {
  for (const auto& k : other.keys()) add(k);
  return *this;
}

const KeySpec* Schema::find(std::string_view path) const {
  for (const auto& k : keys_)
    if (k.path == path) return &k;
  return nullptr;
}

bool Schema::is_section(std::string_view path) const {
  return std::find(sections_.begin(), sections_.end(), path) != sections_.end();
}

std::string Schema::help_text() const {
  size_t w_path = 0, w_type = 0, w_def = 0;
  std::vector<std::string> types, defs;
  for (const auto& k : keys_) {
    types.push_back(k.type_summary());
    defs.push_back(format_value(k.def));
    w_path = std::max(w_path, k.path.size());
    w_type = std::max(w_type, types.back().size());
    w_def = std::max(w_def, defs.back().size());
  }
  std::string out;
  for (size_t i = 0; i < keys_.size(); ++i) {
    std::string line = fmt::format("  {:<{}}  {:<{}}  default {:<{}}  {}", keys_[i].path, w_path,
                                   types[i], w_type, defs[i], w_def, keys_[i].help);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Override

Override parse_override(const std::string& text) {
  size_t eq = text.find('=');
  if (eq == std::string::npos)
    fail("override '{}': expected KEY=VALUE (e.g. train.batch_size=64)", text);
  std::string path = text.substr(0, eq);
  auto space = [](unsigned char c) { return std::isspace(c); };
  while (!path.empty() && space(path.back())) path.pop_back();
  path.erase(path.begin(), std::find_if_not(path.begin(), path.end(), space));
  if (path.empty()) fail("override '{}': no key before '=' (expected KEY=VALUE)", text);
  return Override{path, text.substr(eq + 1)};
}

// ---------------------------------------------------------------------------------------------
// Loading: walks YAML nodes against the schema and stores validated values into a Config.

class ConfigLoader {
 public:
  // `source` is a file name (messages get :line:col) or a prefix such as "override 'a=1'".
  ConfigLoader(Config& config, std::string source, bool with_marks)
      : config_(config), schema_(config.schema_), source_(std::move(source)),
        with_marks_(with_marks) {}

  void apply_document(const YAML::Node& root) {
    if (!root.IsDefined() || root.IsNull()) return;  // empty file: defaults only
    if (!root.IsMap())
      error(root.Mark(), fmt::format("expected a map of sections at the top level, got {}",
                                     describe_node(root)));
    apply_map(root, "");
  }

  void apply_value(const std::string& path, const YAML::Node& value) {
    apply_entry(path, YAML::Mark::null_mark(), value);
  }

 private:
  [[noreturn]] void error(const YAML::Mark& mark, const std::string& message) const {
    if (with_marks_ && !mark.is_null())
      fail("{}:{}:{}: {}", source_, mark.line + 1, mark.column + 1, message);
    fail("{}: {}", source_, message);
  }

  std::string origin_of(const YAML::Mark& mark) const {
    if (with_marks_ && !mark.is_null())
      return fmt::format("{}:{}:{}", source_, mark.line + 1, mark.column + 1);
    return source_;
  }

  // yaml-cpp marks an empty value (`key:` then newline) at the next token: blame the key.
  static YAML::Mark value_mark(const YAML::Mark& key_mark, const YAML::Node& value) {
    YAML::Mark m = value.Mark();
    if (m.is_null()) return key_mark;
    if (value.IsNull() && !key_mark.is_null() &&
        (m.line != key_mark.line || m.column <= key_mark.column))
      return key_mark;
    return m;
  }

  void apply_map(const YAML::Node& map, const std::string& prefix) {
    std::map<std::string, YAML::Mark> seen;  // yaml-cpp keeps duplicate keys silently
    for (const auto& item : map) {
      const YAML::Node& key = item.first;
      if (!key.IsScalar() || key.Scalar().empty())
        error(key.Mark(), fmt::format("expected a key name{}, got {}",
                                      prefix.empty() ? "" : " in '" + prefix + "'",
                                      describe_node(key)));
      std::string path = prefix.empty() ? key.Scalar() : prefix + "." + key.Scalar();
      auto [it, inserted] = seen.emplace(key.Scalar(), key.Mark());
      if (!inserted)
        error(key.Mark(), fmt::format("duplicate key '{}' (first given at line {})", path,
                                      it->second.line + 1));
      apply_entry(path, key.Mark(), item.second);
    }
  }

  void apply_entry(const std::string& path, const YAML::Mark& key_mark, const YAML::Node& value) {
    const auto& keys = schema_.keys();
    if (const KeySpec* spec = schema_.find(path)) {
      size_t index = static_cast<size_t>(spec - keys.data());
      // Dotted keys ("train.lr: 1" beside "train: {lr: 2}") can repeat a key across mappings.
      auto [it, inserted] = given_here_.emplace(index, key_mark);
      if (!inserted)
        error(key_mark, it->second.is_null()
                            ? fmt::format("duplicate key '{}'", path)
                            : fmt::format("duplicate key '{}' (first given at line {})", path,
                                          it->second.line + 1));
      YAML::Mark mark = value_mark(key_mark, value);
      config_.values_[index] = parse_value(*spec, value, mark);
      config_.origins_[index] = origin_of(mark);
      config_.given_[index] = true;
      return;
    }
    if (schema_.is_section(path)) {
      if (value.IsNull()) return;  // a section whose keys are all commented out
      if (!value.IsMap()) {
        const KeySpec* first = nullptr;
        for (const auto& k : keys)
          if (k.path.starts_with(path + ".")) {
            first = &k;
            break;
          }
        error(value_mark(key_mark, value),
              fmt::format("{}: expected a section (a map of keys such as '{}'), got {}", path,
                          last_segment(first->path), describe_node(value)));
      }
      apply_map(value, path);
      return;
    }
    std::vector<std::string> leaves;
    for (const auto& k : keys) leaves.push_back(k.path);
    if (value.IsMap()) {
      std::string suggestion = nearest(path, schema_.sections());
      if (suggestion.empty()) suggestion = nearest(path, leaves);
      error(key_mark, fmt::format("unknown section '{}'{}", path, did_you_mean(suggestion)));
    }
    std::string suggestion = nearest(path, leaves);
    if (suggestion.empty()) suggestion = nearest(path, schema_.sections());
    error(key_mark, fmt::format("unknown key '{}'{}", path, did_you_mean(suggestion)));
  }

  [[noreturn]] void bad_value(const YAML::Mark& mark, const std::string& label,
                              const std::string& expected, const YAML::Node& got) const {
    error(mark, fmt::format("{}: expected {}, got {}", label, expected, describe_node(got)));
  }

  Value parse_value(const KeySpec& spec, const YAML::Node& node, const YAML::Mark& mark) {
    if (!is_list(spec.type)) {
      if (!node.IsScalar()) bad_value(mark, spec.path, spec.expected(), node);
      return parse_scalar(spec, node, mark, spec.path);
    }
    if (!node.IsSequence()) bad_value(mark, spec.path, spec.expected(), node);
    std::vector<Value> elements;
    for (size_t i = 0; i < node.size(); ++i) {
      YAML::Node element = node[i];
      YAML::Mark element_mark = element.Mark().is_null() ? mark : element.Mark();
      std::string label = fmt::format("{}[{}]", spec.path, i);
      if (!element.IsScalar()) bad_value(element_mark, label, spec.expected_element(), element);
      elements.push_back(parse_scalar(spec, element, element_mark, label));
    }
    auto collect = [&]<typename T>(std::vector<T> out) -> Value {
      for (auto& e : elements) out.push_back(std::get<T>(std::move(e)));
      return out;
    };
    switch (spec.type) {
      case Type::kIntList: return collect(std::vector<int64_t>{});
      case Type::kFloatList: return collect(std::vector<double>{});
      default: return collect(std::vector<std::string>{});
    }
  }

  Value parse_scalar(const KeySpec& spec, const YAML::Node& node, const YAML::Mark& mark,
                     const std::string& label) {
    const std::string& text = node.Scalar();
    switch (spec.type) {
      case Type::kInt:
      case Type::kIntList: {
        auto v = parse_int(text);
        if (!v || !int_in_range(spec, *v))
          bad_value(mark, label, spec.expected_element(), node);
        return *v;
      }
      case Type::kFloat:
      case Type::kFloatList: {
        auto v = parse_float(text);
        if (!v || !float_in_range(spec, *v))
          bad_value(mark, label, spec.expected_element(), node);
        return *v;
      }
      case Type::kBool: {
        auto v = parse_bool(text);
        if (!v) bad_value(mark, label, spec.expected_element(), node);
        return *v;
      }
      case Type::kString:
      case Type::kStringList:
        if (!string_allowed(spec, text)) bad_value(mark, label, spec.expected_element(), node);
        return text;
    }
    throw std::logic_error("config: unhandled type");
  }

  Config& config_;
  const Schema& schema_;
  std::string source_;
  bool with_marks_;
  std::map<size_t, YAML::Mark> given_here_;  // key index -> where this source first gave it
};

// ---------------------------------------------------------------------------------------------
// Config

Config::Config(const Schema& schema) : schema_(schema) {
  for (const auto& k : schema_.keys()) {
    values_.push_back(k.def);
    origins_.emplace_back("default");
    given_.push_back(false);
  }
}

Config Config::defaults(const Schema& schema) { return Config(schema); }

namespace {

YAML::Node load_file(const std::string& file) {
  // POSIX stat rather than std::filesystem: libtorch.so exports its own, incompatible copies of
  // the std::filesystem functions, which win symbol resolution in binaries linked with it.
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    fail("{}: cannot open file (is a directory)", file);
  std::ifstream in(file, std::ios::binary);
  if (!in) fail("{}: cannot open file ({})", file, std::strerror(errno));
  try {
    return YAML::Load(in);
  } catch (const YAML::ParserException& e) {
    fail("{}:{}:{}: invalid YAML: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
}

}  // namespace

Config Config::load(const Schema& schema, const std::string& file,
                    const std::vector<std::string>& overrides) {
  Config config(schema);
  if (!file.empty()) ConfigLoader(config, file, true).apply_document(load_file(file));
  for (const auto& text : overrides) {
    Override o = parse_override(text);
    config.set(o.path, o.value, fmt::format("override '{}'", text));
  }
  return config;
}

void Config::set(std::string_view path, const std::string& yaml_value, const std::string& origin) {
  YAML::Node value;
  try {
    value = YAML::Load(yaml_value);
  } catch (const YAML::ParserException& e) {
    fail("{}: {}: invalid YAML value: {}", origin, path, e.msg);
  }
  ConfigLoader(*this, origin, false).apply_value(std::string(path), value);
}

size_t Config::index_of(std::string_view path) const {
  const KeySpec* spec = schema_.find(path);
  if (!spec) throw std::logic_error(fmt::format("config: unknown key '{}'", path));
  return static_cast<size_t>(spec - schema_.keys().data());
}

template <typename T>
const T& Config::get_as(std::string_view path, Type type) const {
  size_t i = index_of(path);
  Type actual = schema_.keys()[i].type;
  if (actual != type)
    throw std::logic_error(fmt::format("config: key '{}' is a {}, read as a {}", path,
                                       type_name(actual), type_name(type)));
  return std::get<T>(values_[i]);
}

int64_t Config::get_int(std::string_view p) const { return get_as<int64_t>(p, Type::kInt); }
double Config::get_float(std::string_view p) const { return get_as<double>(p, Type::kFloat); }
bool Config::get_bool(std::string_view p) const { return get_as<bool>(p, Type::kBool); }
const std::string& Config::get_string(std::string_view p) const {
  return get_as<std::string>(p, Type::kString);
}
const std::vector<int64_t>& Config::get_int_list(std::string_view p) const {
  return get_as<std::vector<int64_t>>(p, Type::kIntList);
}
const std::vector<double>& Config::get_float_list(std::string_view p) const {
  return get_as<std::vector<double>>(p, Type::kFloatList);
}
const std::vector<std::string>& Config::get_string_list(std::string_view p) const {
  return get_as<std::vector<std::string>>(p, Type::kStringList);
}
const Value& Config::get(std::string_view path) const { return values_[index_of(path)]; }

bool Config::was_given(std::string_view path) const { return given_[index_of(path)]; }
const std::string& Config::origin(std::string_view path) const {
  return origins_[index_of(path)];
}

namespace {

// Sections of the schema as a tree, children in order of first appearance.
struct YamlTree {
  std::string name;
  int key = -1;  // index into the schema for leaves
  std::vector<YamlTree> children;
};

void emit_tree(const YamlTree& node, const std::string& indent, const std::vector<Value>& values,
               std::string& out) {
  for (const auto& child : node.children) {
    out += indent;
    out += child.name;
    if (child.key >= 0) {
      out += ": ";
      out += format_value(values[static_cast<size_t>(child.key)]);
      out += '\n';
    } else {
      out += ":\n";
      emit_tree(child, indent + "  ", values, out);
    }
  }
}

}  // namespace

std::string Config::to_yaml() const {
  // A section split in the schema by keys of other sections is still written once, with all
  // its keys, where its first key appears.
  YamlTree root;
  const auto& keys = schema_.keys();
  for (size_t i = 0; i < keys.size(); ++i) {
    YamlTree* at = &root;
    std::string_view rest = keys[i].path;
    while (true) {
      size_t dot = rest.find('.');
      std::string name(rest.substr(0, dot));
      auto it = std::find_if(at->children.begin(), at->children.end(),
                             [&](const YamlTree& n) { return n.name == name; });
      if (it == at->children.end()) {
        at->children.push_back(YamlTree{name, -1, {}});
        it = at->children.end() - 1;
      }
      at = &*it;
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }
    at->key = static_cast<int>(i);
  }
  std::string out;
  emit_tree(root, "", values_, out);
  return out;
}

}  // namespace semsec::config
