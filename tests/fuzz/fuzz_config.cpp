// fuzz_config: the YAML configuration with schema validation and overrides, and its round trip.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/errors.h"
#include "tests/fuzz/harness.h"
#include "trainers/ss_isac/schema.h"

namespace semsec::fuzz {

int fuzz_config_one(const uint8_t* data, size_t size) {
  static const config::Schema schema = trainers::isac_schema();
  static const std::string file = scratch_path("config.yaml");
  static const std::string again = scratch_path("roundtrip.yaml");
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  write_bytes(file, input.data(), nul == std::string::npos ? input.size() : nul);
  std::vector<std::string> overrides{"data.root=" + yaml_quoted(fake_data_root())};
  if (nul != std::string::npos) {
    size_t start = nul + 1;
    while (start <= input.size()) {
      size_t end = input.find('\n', start);
      if (end == std::string::npos) end = input.size();
      if (end > start) overrides.push_back(input.substr(start, end - start));
      start = end + 1;
    }
  }
  g_last_accepted = false;
  std::optional<config::Config> loaded;
  try {
    loaded.emplace(config::Config::load(schema, file, overrides));
  } catch (const semsec::Error& e) {
    rejected(e);
    return 0;
  }
  g_last_accepted = true;
  const config::Config& cfg = *loaded;
  const std::string yaml = cfg.to_yaml();
  write_bytes(again, yaml.data(), yaml.size());
  try {
    const config::Config back = config::Config::load(schema, again, {});
    if (back == cfg) return 0;
    std::fprintf(stderr, "fuzz_config: to_yaml() loads back different values:\n%s\nloads back as:\n%s\n", yaml.c_str(),
                 back.to_yaml().c_str());
  } catch (const semsec::Error& e) {
    std::fprintf(stderr, "fuzz_config: to_yaml() does not load back: %s\n%s\n", e.what(), yaml.c_str());
  }
  std::abort();
}

}  // namespace semsec::fuzz
