// Text of configuration values: YAML formatting, scalar parsing with the range checks of a KeySpec,
// and "did you mean" suggestions for unknown keys.
#include "core/config_text.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace semsec::config::detail {

// ---------------------------------------------------------------------------------------------
// Formatting of values (shared by error messages, help and to_yaml).

namespace {

std::string format_int(int64_t v) { return fmt::format("{}", v); }

// Shortest text that parses back to exactly `v`, in a form YAML readers take as a float.
std::string format_float(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Plain scalars that some YAML reader would take as something other than a string.
bool is_reserved_word(std::string_view s) {
  static const char* const kWords[] = {"true", "false", "yes", "no",  "on",   "off",  "y",
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
    plain = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '/' || c == '-';
  }
  if (plain) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
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

}  // namespace

// Range bounds in messages read better without a forced ".0" ("[0, 1]").
std::string format_bound(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);
}

// A value as YAML text (flow form for lists).
std::string format_value(const Value& value) {
  struct Visitor {
    std::string operator()(int64_t v) const { return format_int(v); }
    std::string operator()(double v) const { return format_float(v); }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return quote_yaml_string(v); }
    std::string operator()(const std::vector<int64_t>& v) const { return format_list(v, format_int); }
    std::string operator()(const std::vector<double>& v) const { return format_list(v, format_float); }
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

namespace {

std::string_view strip_plus(std::string_view s) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '+' && s[1] != '-') s.remove_prefix(1);
  return s;
}

}  // namespace

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
  if (s.empty() || s.find_first_not_of("0123456789.eE+-") != std::string_view::npos) return std::nullopt;
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

bool is_list(Type t) { return t == Type::kIntList || t == Type::kFloatList || t == Type::kStringList; }

// ---------------------------------------------------------------------------------------------
// "Did you mean": optimal string alignment distance (a swap of neighbours costs 1).

namespace {

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

// Typos of a few characters, more for longer names.
size_t close_enough(std::string_view query) { return 1 + query.size() / 5; }

// A lower bound of edit_distance(a, b): each extra character costs an insertion. Candidates whose
// bound already reaches the best distance are skipped unmeasured, so an absurdly long unknown key
// costs its length, not its length times every candidate's (fuzz_config found keys of a few KB
// taking milliseconds each).
size_t length_gap(std::string_view a, std::string_view b) {
  return a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
}

}  // namespace

std::string_view last_segment(std::string_view path) {
  size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

// Nearest candidate by full path; failing that, a key with (nearly) the same name in another
// section ("model.lr" -> "optim.lr"). Empty when nothing is reasonably close.
std::string nearest(std::string_view query, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = close_enough(query) + 1;
  for (const auto& c : candidates) {
    if (length_gap(query, c) >= best_d) continue;
    size_t d = edit_distance(query, c);
    if (d < best_d) best = c, best_d = d;
  }
  if (!best.empty()) return best;
  std::string_view name = last_segment(query);
  best_d = close_enough(name) / 2 + 1;  // names alone are short: demand a closer match
  for (const auto& c : candidates) {
    if (length_gap(name, last_segment(c)) >= best_d) continue;
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
    std::string_view seg = path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (seg.empty()) return false;
    for (char c : seg)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace semsec::config::detail
