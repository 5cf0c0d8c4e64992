// Weight export and import: safetensors files (read strictly, as untrusted input) and
// Python-loadable torch state dicts, plus the name/shape check used when loading weights.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace semsec {

using NamedTensorList = std::vector<std::pair<std::string, torch::Tensor>>;

// Writes a safetensors file atomically: u64 little-endian header length N, N bytes of JSON
// header (padded with spaces so the data starts 8-byte aligned), then every tensor's bytes
// (moved to CPU, contiguous, little-endian) in the given order. `metadata` becomes
// "__metadata__" (omitted when empty). Dtypes: F32 F64 F16 BF16 I64 I32 I16 I8 U8 BOOL.
// semsec::Error on duplicate or reserved names, unsupported dtypes or layouts.
void write_safetensors(const std::string& path, const NamedTensorList& tensors,
                       const std::map<std::string, std::string>& metadata);

struct SafetensorsFile {
  NamedTensorList tensors;  // in data-section order, i.e. the order write_safetensors got
  std::map<std::string, std::string> metadata;
};

// Reads and fully validates a safetensors file: one semsec::Error naming the file and the
// problem for anything malformed (sizes, JSON, dtypes, shapes, offsets that do not tile the
// data section exactly, duplicate names or keys, non-string metadata, trailing bytes).
// Tensors come back on the CPU and own their memory.
SafetensorsFile read_safetensors(const std::string& path);

// Writes, atomically, the zip archive of Python's torch.save holding a dict name -> tensor
// (insertion order kept, tensors on CPU), so `torch.load(path)` with its default
// weights_only=True returns it. Not torch::pickle_save: that tags the dict with
// torch.jit._pickle.restore_type_tag, which weights_only loading refuses.
void write_torch_state_dict(const std::string& path, const NamedTensorList& tensors);

// Checks that `found` (loaded from `path`) holds exactly the expected names with the
// expected shapes; one semsec::Error naming the file and listing each missing,
// mis-shaped or unexpected tensor with expected vs found shapes.
void check_tensor_layout(const std::string& path, const NamedTensorList& found,
                         const std::vector<std::pair<std::string, std::vector<int64_t>>>& expected);

}  // namespace semsec
