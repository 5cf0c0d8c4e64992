// Checkpoints of named tensors.
#include "core/checkpoint.h"

#include <cstring>
#include <sstream>

#include "core/errors.h"
#include "core/rundir.h"

namespace semsec {
namespace {
constexpr const char* kIndexKey = "__semsec_index__";
}

void save_tensors(const std::string& path, const TensorMap& tensors) {
  torch::serialize::OutputArchive archive;
  std::string index;
  for (const auto& [name, t] : tensors) {
    if (name.find('\n') != std::string::npos) fail("checkpoint: tensor name '{}' contains a newline", name);
    index += name;
    index += '\n';
    archive.write(name, t.detach().to(torch::kCPU).contiguous());
  }
  auto idx = torch::empty({static_cast<int64_t>(index.size())}, torch::kUInt8);
  std::memcpy(idx.data_ptr<uint8_t>(), index.data(), index.size());
  archive.write(kIndexKey, idx);
  std::ostringstream buffer;
  archive.save_to(buffer);
  write_file_atomic(path, buffer.str());
}

TensorMap load_tensors(const std::string& path) {
  std::string bytes = read_file(path);
  torch::serialize::InputArchive archive;
  try {
    std::istringstream in(bytes);
    archive.load_from(in);
  } catch (const std::exception& e) {
    fail("{}: not a readable checkpoint (corrupt or truncated): {}", path, std::string(e.what()).substr(0, 200));
  }
  torch::Tensor idx;
  if (!archive.try_read(kIndexKey, idx)) fail("{}: not a semsec checkpoint (no tensor index)", path);
  if (idx.scalar_type() != torch::kUInt8 || idx.dim() != 1) fail("{}: malformed tensor index", path);
  std::string index(reinterpret_cast<const char*>(idx.data_ptr<uint8_t>()), static_cast<size_t>(idx.numel()));
  TensorMap out;
  std::istringstream names(index);
  for (std::string name; std::getline(names, name);) {
    torch::Tensor t;
    if (!archive.try_read(name, t)) fail("{}: tensor '{}' listed in the index is missing", path, name);
    out.emplace(name, t);
  }
  return out;
}

void restore_tensor(const TensorMap& source, const std::string& name, torch::Tensor dest, const std::string& file) {
  const auto it = source.find(name);
  if (it == source.end()) fail("{}: tensor '{}' is missing", file, name);
  const torch::Tensor& t = it->second;
  if (t.sizes() != dest.sizes() || t.scalar_type() != dest.scalar_type()) {
    fail("{}: tensor '{}' has shape {} {} but the model expects {} {}", file, name, c10::str(t.sizes()),
         std::string(c10::toString(t.scalar_type())), c10::str(dest.sizes()),
         std::string(c10::toString(dest.scalar_type())));
  }
  torch::NoGradGuard no_grad;
  dest.copy_(t);
}

torch::Tensor int_tensor(int64_t v) { return torch::tensor({v}, torch::kInt64); }

int64_t get_int(const TensorMap& source, const std::string& name, const std::string& file) {
  const auto it = source.find(name);
  if (it == source.end() || it->second.numel() != 1 || it->second.scalar_type() != torch::kInt64) {
    fail("{}: integer '{}' is missing or malformed", file, name);
  }
  return it->second.item<int64_t>();
}

}  // namespace semsec
