// Checkpoints: a named set of tensors written atomically (temp file + rename) and read
// back with every name, shape and dtype checked, so a resumed run continues exactly.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace semsec {

using TensorMap = std::map<std::string, torch::Tensor>;

// Saves tensors (moved to CPU) to `path` atomically.
void save_tensors(const std::string& path, const TensorMap& tensors);

// Loads every tensor saved by save_tensors; semsec::Error naming the file if it is missing,
// corrupt or not a semsec checkpoint.
TensorMap load_tensors(const std::string& path);

// Copies `source[name]` into `dest` in place after checking shape and dtype; error names the
// file and tensor.
void restore_tensor(const TensorMap& source, const std::string& name, torch::Tensor dest, const std::string& file);

// Integer scalars stored as int64 tensors.
torch::Tensor int_tensor(int64_t v);
int64_t get_int(const TensorMap& source, const std::string& name, const std::string& file);

}  // namespace semsec
