// Command-line plumbing: `semsec COMMAND [positional...] [key.path=value ...] [--option value] [--flag]`.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace semsec {

struct CommandSpec {
  std::string name;                              // e.g. "train"
  std::string usage;                             // one-line usage
  std::string description;                       // paragraph for --help
  std::vector<std::string> positional;           // names of required positionals, e.g. {"CONFIG"}
  std::vector<std::string> optional_positional;  // names of optional positionals after the required ones
  std::map<std::string, std::string> options;    // "--out" -> help (takes a value)
  std::map<std::string, std::string> flags;      // "--quick" -> help (no value)
  bool takes_overrides = true;                   // accepts key.path=value arguments
};

struct CliArgs {
  std::vector<std::string> positional;
  std::vector<std::string> overrides;          // "key.path=value" in order
  std::map<std::string, std::string> options;  // "--out" -> "DIR"
  std::set<std::string> flags;
  bool help = false;

  std::string option(const std::string& name, const std::string& fallback = "") const;
  bool flag(const std::string& name) const { return flags.count(name) > 0; }
};

// Parses argv after the command name; semsec::Error with a message naming the bad argument.
CliArgs parse_cli(const CommandSpec& spec, const std::vector<std::string>& args);

// Help text of one command (the caller appends the config keys where relevant).
std::string command_help(const CommandSpec& spec);

}  // namespace semsec
