// fuzz_safetensors: the strict safetensors reader (weights given to --arn_init, `semsec export`).
#include <cstring>
#include <vector>

#include "core/errors.h"
#include "core/safetensors.h"
#include "tests/fuzz/harness.h"

namespace semsec::fuzz {

int fuzz_safetensors_one(const uint8_t* data, size_t size) {
  static const std::string path = scratch_path("weights.safetensors");
  write_bytes(path, data, size);
  g_last_accepted = false;
  try {
    const SafetensorsFile f = read_safetensors(path);
    // Every tensor owns its bytes: copy them out (ASan checks the bounds of the copy).
    for (const auto& [name, t] : f.tensors) {
      std::vector<char> bytes(t.nbytes());
      if (!bytes.empty()) std::memcpy(bytes.data(), t.data_ptr(), bytes.size());
    }
    g_last_accepted = true;
  } catch (const semsec::Error& e) {
    rejected(e);
  }
  return 0;
}

}  // namespace semsec::fuzz
