// Config: YAML loading, override parsing and validation of values against a Schema.
#include "core/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>

#include <sys/stat.h>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/config_text.h"
#include "core/errors.h"

namespace semsec::config {

using detail::did_you_mean;
using detail::float_in_range;
using detail::format_value;
using detail::int_in_range;
using detail::is_list;
using detail::last_segment;
using detail::nearest;
using detail::parse_bool;
using detail::parse_float;
using detail::parse_int;
using detail::string_allowed;

namespace {

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
// Override

Override parse_override(const std::string& text) {
  size_t eq = text.find('=');
  if (eq == std::string::npos) fail("override '{}': expected KEY=VALUE (e.g. train.batch_size=64)", text);
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
      : config_(config), schema_(config.schema_), source_(std::move(source)), with_marks_(with_marks) {}

  void apply_document(const YAML::Node& root) {
    if (!root.IsDefined() || root.IsNull()) return;  // empty file: defaults only
    if (!root.IsMap())
      error(root.Mark(), fmt::format("expected a map of sections at the top level, got {}", describe_node(root)));
    apply_map(root, "");
  }

  void apply_value(const std::string& path, const YAML::Node& value) {
    apply_entry(path, YAML::Mark::null_mark(), value);
  }

 private:
  [[noreturn]] void error(const YAML::Mark& mark, const std::string& message) const {
    if (with_marks_ && !mark.is_null()) fail("{}:{}:{}: {}", source_, mark.line + 1, mark.column + 1, message);
    fail("{}: {}", source_, message);
  }

  std::string origin_of(const YAML::Mark& mark) const {
    if (with_marks_ && !mark.is_null()) return fmt::format("{}:{}:{}", source_, mark.line + 1, mark.column + 1);
    return source_;
  }

  // yaml-cpp marks an empty value (`key:` then newline) at the next token: blame the key.
  static YAML::Mark value_mark(const YAML::Mark& key_mark, const YAML::Node& value) {
    YAML::Mark m = value.Mark();
    if (m.is_null()) return key_mark;
    if (value.IsNull() && !key_mark.is_null() && (m.line != key_mark.line || m.column <= key_mark.column))
      return key_mark;
    return m;
  }

  void apply_map(const YAML::Node& map, const std::string& prefix) {
    std::map<std::string, YAML::Mark> seen;  // yaml-cpp keeps duplicate keys silently
    for (const auto& item : map) {
      const YAML::Node& key = item.first;
      if (!key.IsScalar() || key.Scalar().empty())
        error(key.Mark(), fmt::format("expected a key name{}, got {}", prefix.empty() ? "" : " in '" + prefix + "'",
                                      describe_node(key)));
      std::string path = prefix.empty() ? key.Scalar() : prefix + "." + key.Scalar();
      auto [it, inserted] = seen.emplace(key.Scalar(), key.Mark());
      if (!inserted)
        error(key.Mark(), fmt::format("duplicate key '{}' (first given at line {})", path, it->second.line + 1));
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
                            : fmt::format("duplicate key '{}' (first given at line {})", path, it->second.line + 1));
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
        error(value_mark(key_mark, value), fmt::format("{}: expected a section (a map of keys such as '{}'), got {}",
                                                       path, last_segment(first->path), describe_node(value)));
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

  [[noreturn]] void bad_value(const YAML::Mark& mark, const std::string& label, const std::string& expected,
                              const YAML::Node& got) const {
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
      case Type::kIntList:
        return collect(std::vector<int64_t>{});
      case Type::kFloatList:
        return collect(std::vector<double>{});
      default:
        return collect(std::vector<std::string>{});
    }
  }

  Value parse_scalar(const KeySpec& spec, const YAML::Node& node, const YAML::Mark& mark, const std::string& label) {
    const std::string& text = node.Scalar();
    switch (spec.type) {
      case Type::kInt:
      case Type::kIntList: {
        auto v = parse_int(text);
        if (!v || !int_in_range(spec, *v)) bad_value(mark, label, spec.expected_element(), node);
        return *v;
      }
      case Type::kFloat:
      case Type::kFloatList: {
        auto v = parse_float(text);
        if (!v || !float_in_range(spec, *v)) bad_value(mark, label, spec.expected_element(), node);
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
  if (::stat(file.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) fail("{}: cannot open file (is a directory)", file);
  std::ifstream in(file, std::ios::binary);
  if (!in) fail("{}: cannot open file ({})", file, std::strerror(errno));
  try {
    return YAML::Load(in);
  } catch (const YAML::ParserException& e) {
    fail("{}:{}:{}: invalid YAML: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg);
  }
}

}  // namespace

Config Config::load(const Schema& schema, const std::string& file, const std::vector<std::string>& overrides) {
  Config config = load_unchecked(schema, file, overrides);
  config.check();
  return config;
}

void Config::check() const {
  for (const auto& rule : schema_.checks_) rule(*this);
}

Config Config::load_unchecked(const Schema& schema, const std::string& file,
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
    throw std::logic_error(
        fmt::format("config: key '{}' is a {}, read as a {}", path, type_name(actual), type_name(type)));
  return std::get<T>(values_[i]);
}

int64_t Config::get_int(std::string_view p) const { return get_as<int64_t>(p, Type::kInt); }
double Config::get_float(std::string_view p) const { return get_as<double>(p, Type::kFloat); }
bool Config::get_bool(std::string_view p) const { return get_as<bool>(p, Type::kBool); }
const std::string& Config::get_string(std::string_view p) const { return get_as<std::string>(p, Type::kString); }
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
const std::string& Config::origin(std::string_view path) const { return origins_[index_of(path)]; }

namespace {

// Sections of the schema as a tree, children in order of first appearance.
struct YamlTree {
  std::string name;
  int key = -1;  // index into the schema for leaves
  std::vector<YamlTree> children;
};

void emit_tree(const YamlTree& node, const std::string& indent, const std::vector<Value>& values, std::string& out) {
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
      auto it =
          std::find_if(at->children.begin(), at->children.end(), [&](const YamlTree& n) { return n.name == name; });
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
