// Command-line plumbing.
#include "core/cli_args.h"

#include "core/errors.h"

namespace semsec {

std::string CliArgs::option(const std::string& name, const std::string& fallback) const {
  const auto it = options.find(name);
  return it == options.end() ? fallback : it->second;
}

CliArgs parse_cli(const CommandSpec& spec, const std::vector<std::string>& args) {
  CliArgs out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      out.help = true;
      continue;
    }
    if (a.rfind("--", 0) == 0) {
      std::string name = a, value;
      const auto eq = a.find('=');
      const bool inline_value = eq != std::string::npos;
      if (inline_value) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
      }
      if (spec.flags.count(name)) {
        if (inline_value) fail("semsec {}: {} takes no value", spec.name, name);
        out.flags.insert(name);
        continue;
      }
      if (!spec.options.count(name)) {
        fail("semsec {}: unknown option '{}' (see 'semsec {} --help')", spec.name, name, spec.name);
      }
      if (!inline_value) {
        if (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0) {
          fail("semsec {}: option {} needs a value", spec.name, name);
        }
        value = args[++i];
      }
      if (value.empty()) fail("semsec {}: option {} needs a non-empty value", spec.name, name);
      out.options[name] = value;
      continue;
    }
    const size_t max_positional = spec.positional.size() + spec.optional_positional.size();
    if (a.find('=') != std::string::npos && out.positional.size() >= spec.positional.size()) {
      if (!spec.takes_overrides) fail("semsec {}: does not take key=value overrides, got '{}'", spec.name, a);
      out.overrides.push_back(a);
      continue;
    }
    if (out.positional.size() >= max_positional) {
      fail("semsec {}: unexpected argument '{}' (overrides look like key.path=value; see 'semsec {} --help')",
           spec.name, a, spec.name);
    }
    out.positional.push_back(a);
  }
  if (!out.help && out.positional.size() < spec.positional.size()) {
    fail("semsec {}: missing {} (usage: {})", spec.name, spec.positional[out.positional.size()], spec.usage);
  }
  return out;
}

std::string command_help(const CommandSpec& spec) {
  std::string s = fmt::format("usage: {}\n\n{}\n", spec.usage, spec.description);
  if (!spec.options.empty() || !spec.flags.empty()) s += "\noptions:\n";
  for (const auto& [name, help] : spec.options) s += fmt::format("  {:<18} {}\n", name + " VALUE", help);
  for (const auto& [name, help] : spec.flags) s += fmt::format("  {:<18} {}\n", name, help);
  s += fmt::format("  {:<18} {}\n", "-h, --help", "show this help");
  return s;
}

}  // namespace semsec
