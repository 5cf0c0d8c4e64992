// fuzz_checkpoint: the checkpoint reader behind --resume (load_tensors).
#include <cstring>
#include <vector>

#include "core/checkpoint.h"
#include "core/errors.h"
#include "tests/fuzz/harness.h"

namespace semsec::fuzz {

int fuzz_checkpoint_one(const uint8_t* data, size_t size) {
  static const std::string path = scratch_path("stage.pt");
  write_bytes(path, data, size);
  g_last_accepted = false;
  try {
    const TensorMap m = load_tensors(path);
    // What a resume does with them: copy each into a tensor of its shape, read integers.
    for (const auto& [name, t] : m) {
      if (!t.defined()) continue;
      const torch::Tensor c = t.contiguous();
      std::vector<char> bytes(c.nbytes());
      if (!bytes.empty()) std::memcpy(bytes.data(), c.data_ptr(), bytes.size());
      if (t.numel() == 1 && t.scalar_type() == torch::kInt64) (void)get_int(m, name, path);
    }
    g_last_accepted = true;
  } catch (const semsec::Error& e) {
    rejected(e);
  }
  return 0;
}

}  // namespace semsec::fuzz
