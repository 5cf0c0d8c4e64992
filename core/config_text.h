// Internal helpers of the config system shared by config_schema.cpp and config.cpp: values as YAML
// text, scalar parsing and range checks against a KeySpec, key-path checks and "did you mean".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"

namespace semsec::config::detail {

// Formatting (error messages, help and to_yaml).
std::string format_bound(double v);
std::string format_value(const Value& value);
std::string join(const std::vector<std::string>& items, std::string_view sep);

// Scalar parsing: nullopt when the text is not a valid literal of the type.
std::optional<int64_t> parse_int(std::string_view text);
std::optional<double> parse_float(std::string_view text);
std::optional<bool> parse_bool(std::string_view s);

// Checks of a value (or list element) against the range or choices of a key.
bool int_in_range(const KeySpec& k, int64_t v);
bool float_in_range(const KeySpec& k, double v);
bool string_allowed(const KeySpec& k, const std::string& v);
bool is_list(Type t);

// Key paths and suggestions for unknown ones.
std::string_view last_segment(std::string_view path);
std::string nearest(std::string_view query, const std::vector<std::string>& candidates);
std::string did_you_mean(const std::string& suggestion);
bool valid_path(std::string_view path);

}  // namespace semsec::config::detail
