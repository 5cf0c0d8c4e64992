// KeySpec and Schema: the typed, range-checked keys of a configuration and their help text.
#include "core/config.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "core/config_text.h"

namespace semsec::config {

using detail::float_in_range;
using detail::format_bound;
using detail::format_value;
using detail::int_in_range;
using detail::is_list;
using detail::join;
using detail::string_allowed;
using detail::valid_path;

// ---------------------------------------------------------------------------------------------
// KeySpec

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kInt:
      return "int";
    case Type::kFloat:
      return "float";
    case Type::kBool:
      return "bool";
    case Type::kString:
      return "string";
    case Type::kIntList:
      return "int list";
    case Type::kFloatList:
      return "float list";
    case Type::kStringList:
      return "string list";
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
      return fmt::format("{}number{} in [{}, {}]", a, s, format_bound(k.float_min), format_bound(k.float_max));
    }
    case Type::kBool:
      return "true or false";
    case Type::kString:
    case Type::kStringList:
      if (k.choices.empty()) return plural ? "strings" : "a string";
      return plural ? "strings, each one of: " + join(k.choices, ", ") : "one of: " + join(k.choices, ", ");
  }
  return "?";
}

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
    case Type::kBool:
      break;
  }
  switch (type) {
    case Type::kIntList:
      return "list of int" + range;
    case Type::kFloatList:
      return "list of float" + range;
    case Type::kStringList:
      return "list of string" + range;
    default:
      return std::string(type_name(type)) + range;
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
  for (size_t dot = spec.path.find('.'); dot != std::string::npos; dot = spec.path.find('.', dot + 1)) {
    if (find(std::string_view(spec.path).substr(0, dot)))
      bad(fmt::format("its section '{}' is already a key", spec.path.substr(0, dot)));
  }
  if (spec.int_min > spec.int_max || !(spec.float_min <= spec.float_max)) bad("min is greater than max");

  bool def_ok = true;
  switch (spec.type) {
    case Type::kInt:
      def_ok = int_in_range(spec, std::get<int64_t>(spec.def));
      break;
    case Type::kFloat:
      def_ok = float_in_range(spec, std::get<double>(spec.def));
      break;
    case Type::kString:
      def_ok = string_allowed(spec, std::get<std::string>(spec.def));
      break;
    case Type::kIntList:
      for (int64_t v : std::get<std::vector<int64_t>>(spec.def)) def_ok &= int_in_range(spec, v);
      break;
    case Type::kFloatList:
      for (double v : std::get<std::vector<double>>(spec.def)) def_ok &= float_in_range(spec, v);
      break;
    case Type::kStringList:
      for (const auto& v : std::get<std::vector<std::string>>(spec.def)) def_ok &= string_allowed(spec, v);
      break;
    case Type::kBool:
      break;
  }
  if (!def_ok) bad(fmt::format("default {} is not {}", format_value(spec.def), spec.expected()));

  for (size_t dot = spec.path.find('.'); dot != std::string::npos; dot = spec.path.find('.', dot + 1)) {
    std::string section = spec.path.substr(0, dot);
    if (!is_section(section)) sections_.push_back(section);
  }
  keys_.push_back(std::move(spec));
  return *this;
}

Schema& Schema::add_int(std::string path, int64_t def, int64_t min, int64_t max, std::string help) {
  KeySpec k;
  k.path = std::move(path), k.type = Type::kInt, k.help = std::move(help);
  k.int_min = min, k.int_max = max, k.def = def;
  return add(std::move(k));
}

Schema& Schema::add_float(std::string path, double def, double min, double max, std::string help) {
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

Schema& Schema::add_string(std::string path, std::string def, std::vector<std::string> choices, std::string help) {
  KeySpec k;
  k.path = std::move(path), k.type = Type::kString, k.help = std::move(help);
  k.choices = std::move(choices), k.def = std::move(def);
  return add(std::move(k));
}

Schema& Schema::add_int_list(std::string path, std::vector<int64_t> def, int64_t min, int64_t max, std::string help) {
  KeySpec k;
  k.path = std::move(path), k.type = Type::kIntList, k.help = std::move(help);
  k.int_min = min, k.int_max = max, k.def = std::move(def);
  return add(std::move(k));
}

Schema& Schema::add_float_list(std::string path, std::vector<double> def, double min, double max, std::string help) {
  KeySpec k;
  k.path = std::move(path), k.type = Type::kFloatList, k.help = std::move(help);
  k.float_min = min, k.float_max = max, k.def = std::move(def);
  return add(std::move(k));
}

Schema& Schema::add_string_list(std::string path, std::vector<std::string> def, std::vector<std::string> choices,
                                std::string help) {
  KeySpec k;
  k.path = std::move(path), k.type = Type::kStringList, k.help = std::move(help);
  k.choices = std::move(choices), k.def = std::move(def);
  return add(std::move(k));
}

Schema& Schema::add_check(std::function<void(const Config&)> check) {
  checks_.push_back(std::move(check));
  return *this;
}

Schema& Schema::extend(const Schema& other) {
  for (const auto& k : other.keys()) add(k);
  checks_.insert(checks_.end(), other.checks_.begin(), other.checks_.end());
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
    std::string line = fmt::format("  {:<{}}  {:<{}}  default {:<{}}  {}", keys_[i].path, w_path, types[i], w_type,
                                   defs[i], w_def, keys_[i].help);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace semsec::config
