// Checkpoints of named tensors.
#include "core/checkpoint.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <map>
#include <memory>
#include <sstream>
#include <tuple>

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/serialization/unpickler.h>

#include "core/errors.h"
#include "core/rundir.h"

namespace semsec {
namespace {
constexpr const char* kIndexKey = "__semsec_index__";

// LibTorch's message on one line (a corrupt file's bytes may be quoted in it), at most 200 characters.
std::string one_line(const std::string& what) {
  std::string s = what.substr(0, 200);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

// The attributes that save_tensors' archive (a TorchScript module's zip) pickles in data.pkl, and the
// real size of each tensor storage read from it.
struct ArchiveTensors {
  std::map<std::string, torch::Tensor> attributes;  // the tensors; other attribute types are dropped
  std::map<const void*, size_t> stored_bytes;       // storage data pointer -> bytes of its record
};

// How a pickle opcode's argument is laid out: `fixed` bytes (a memo index when `memo`), a
// little-endian length of `length` bytes followed by that many bytes, or `lines` text lines.
struct PickleArg {
  bool known = false;
  uint8_t fixed = 0, length = 0, lines = 0;
  bool memo = false;
};

// The opcodes of pickle protocols 0 to 5 (Python's pickletools).
const std::array<PickleArg, 256>& pickle_args() {
  static const std::array<PickleArg, 256> args = [] {
    std::array<PickleArg, 256> a{};
    auto set = [&](std::initializer_list<unsigned> ops, PickleArg arg) {
      arg.known = true;
      for (const unsigned op : ops) a[op] = arg;
    };
    set({'(', '.', '0', '1',  '2',  'N',  'R',  'a',  'b',  'd',  '}',  'e',  'l',  ']',  'o',  's',  't',
         ')', 'u', 'Q', 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98},
        {});
    set({0x80, 'K', 'h', 0x82}, {.fixed = 1});    // PROTO BININT1 BINGET EXT1
    set({'M', 0x83}, {.fixed = 2});               // BININT2 EXT2
    set({'J', 0x84}, {.fixed = 4});               // BININT EXT4
    set({'G', 0x95}, {.fixed = 8});               // BINFLOAT FRAME
    set({'q'}, {.fixed = 1, .memo = true});       // BINPUT
    set({'r', 'j'}, {.fixed = 4, .memo = true});  // LONG_BINPUT LONG_BINGET
    set({'U', 0x8c, 'C', 0x8a}, {.length = 1});   // SHORT_BINSTRING SHORT_BINUNICODE SHORT_BINBYTES LONG1
    set({'T', 'X', 'B', 0x8b}, {.length = 4});    // BINSTRING BINUNICODE BINBYTES LONG4
    set({0x8d, 0x8e, 0x96}, {.length = 8});       // BINUNICODE8 BINBYTES8 BYTEARRAY8
    set({'I', 'L', 'F', 'S', 'V', 'p', 'g', 'P'}, {.lines = 1});
    set({'c', 'i'}, {.lines = 2});  // GLOBAL INST
    return a;
  }();
  return args;
}

// LibTorch's unpickler reserves the length a string or bytes opcode declares before reading it, and
// memo slots up to the index a memo opcode names: a few mutated bytes ask for gigabytes. Walks the
// pickle's opcodes and rejects such a length beyond the bytes that remain, or a memo index beyond
// the pickle's size (a pickler numbers them from 0, one per opcode), and a text opcode whose line
// never ends. An unknown opcode or a truncated binary argument ends the walk: the unpickler rejects
// those itself.
void check_pickle_lengths(const std::string& path, const uint8_t* p, size_t size) {
  size_t pos = 0;
  while (pos < size && p[pos] != '.') {  // '.' is STOP
    const size_t at = pos;
    const PickleArg arg = pickle_args()[p[pos++]];
    if (!arg.known || size - pos < static_cast<size_t>(arg.fixed) + arg.length) return;
    uint64_t value = 0;
    for (size_t i = 0; i < static_cast<size_t>(arg.fixed) + arg.length; ++i) value |= uint64_t{p[pos + i]} << (8 * i);
    pos += arg.fixed + arg.length;
    if (arg.memo && value > size)
      fail("{}: not a readable checkpoint (corrupt): data.pkl byte {}: memo index {} in a {}-byte pickle", path, at,
           value, size);
    if (arg.length > 0) {
      if (value > size - pos)
        fail(
            "{}: not a readable checkpoint (corrupt): data.pkl byte {}: opcode 0x{:02x} declares {} bytes but {} "
            "remain",
            path, at, p[at], value, size - pos);
      pos += static_cast<size_t>(value);
    }
    for (int line = 0; line < arg.lines; ++line) {
      const void* end = std::memchr(p + pos, '\n', size - pos);
      if (end == nullptr)
        fail("{}: not a readable checkpoint (corrupt): data.pkl byte {}: opcode 0x{:02x} has no end of line", path,
             at, p[at]);
      pos = static_cast<size_t>(static_cast<const uint8_t*>(end) - p) + 1;
    }
  }
}

// Reads data.pkl of the archive in `bytes` with LibTorch's unpickler but not its TorchScript
// importer (torch::jit::load), which compiles the archive's code/ (Python source) and trusts the
// element count each storage declares. Every storage is read from its record here, whose size is
// kept, and every tensor lands on the CPU. Throws whatever LibTorch throws for a corrupt archive.
ArchiveTensors read_archive(const std::string& path, std::string bytes) {
  std::istringstream in(std::move(bytes));
  caffe2::serialize::PyTorchStreamReader reader(&in);
  // (No structured binding: clang 14 cannot capture one in a lambda.)
  const std::tuple<at::DataPtr, size_t> pickle = reader.getRecord("data.pkl");
  const char* data = static_cast<const char*>(std::get<0>(pickle).get());
  const size_t pickle_bytes = std::get<1>(pickle);
  check_pickle_lengths(path, reinterpret_cast<const uint8_t*>(data), pickle_bytes);
  size_t pos = 0;
  // LibTorch's unpickler refills its buffer until a text opcode's newline turns up and never checks
  // for the end: a reader that returned 0 there would spin forever (fuzz_checkpoint found it).
  auto read_pickle = [&](char* buf, size_t n) {
    if (n > 0 && pos >= pickle_bytes) fail("{}: not a readable checkpoint (corrupt): data.pkl ends early", path);
    n = std::min(n, pickle_bytes - pos);
    if (n > 0) std::memcpy(buf, data + pos, n);
    pos += n;
    return n;
  };
  // Classes (the module's, or any name a crafted pickle gives) become empty objects; the module's
  // state dict is kept by object.
  auto cu = std::make_shared<torch::jit::CompilationUnit>();
  auto resolve = [&](const c10::QualifiedName& name) {
    c10::ClassTypePtr cls = cu->get_class(name);
    if (!cls) {
      cls = c10::ClassType::create(name, cu);
      cu->register_type(cls);
    }
    return c10::StrongTypePtr(cu, cls);
  };
  std::map<const c10::ivalue::Object*, c10::IValue> states;
  auto load_object = [&](const c10::StrongTypePtr& type, c10::IValue state) {
    auto object = c10::ivalue::Object::create(type, 0);
    states[object.get()] = std::move(state);
    return object;
  };
  ArchiveTensors out;
  auto read_record = [&](const std::string& key) {
    auto [ptr, size] = reader.getRecord("data/" + key);
    out.stored_bytes[ptr.get()] = size;
    return std::move(ptr);
  };
  torch::jit::Unpickler unpickler(read_pickle, resolve, load_object, read_record, c10::Device(torch::kCPU));
  unpickler.set_version(reader.version());
  const c10::IValue root = unpickler.parse_ivalue();
  const auto it = root.isObject() ? states.find(root.toObject().get()) : states.end();
  if (it == states.end() || !it->second.isGenericDict()) fail("{}: not a semsec checkpoint (no module)", path);
  for (const auto& entry : it->second.toGenericDict()) {
    if (entry.key().isString() && entry.value().isTensor())
      out.attributes.emplace(entry.key().toStringRef(), entry.value().toTensor());
  }
  return out;
}

// LibTorch's unpickler takes a tensor's sizes, strides and storage offset, and its storage's size,
// from the file unchecked: a crafted checkpoint can describe a tensor that reaches past the bytes
// stored for it (reading it reads other memory) or one of 2^60 elements over a few bytes.
// save_tensors writes contiguous tensors within their storage; accept only those.
void check_dense(const std::string& path, const std::string& name, const torch::Tensor& t,
                 const std::map<const void*, size_t>& stored_bytes) {
  if (t.layout() != torch::kStrided || !t.has_storage() || t.is_quantized())
    fail("{}: tensor '{}' is not a dense tensor", path, name);
  int64_t numel = 1;
  for (const int64_t size : t.sizes()) {
    if (size < 0 || __builtin_mul_overflow(numel, size, &numel))
      fail("{}: tensor '{}' has an invalid shape {}", path, name, c10::str(t.sizes()));
  }
  if (numel == 0) return;
  if (numel != t.numel() || !t.is_contiguous())
    fail("{}: tensor '{}' (shape {}, strides {}) is not contiguous", path, name, c10::str(t.sizes()),
         c10::str(t.strides()));
  const auto record = stored_bytes.find(t.storage().data_ptr().get());
  const uint64_t stored = std::min<uint64_t>(t.storage().nbytes(), record == stored_bytes.end() ? 0 : record->second);
  int64_t end = 0, bytes = 0;
  if (t.storage_offset() < 0 || __builtin_add_overflow(t.storage_offset(), numel, &end) ||
      __builtin_mul_overflow(end, static_cast<int64_t>(t.element_size()), &bytes) ||
      static_cast<uint64_t>(bytes) > stored)
    fail("{}: tensor '{}' ({} elements of {} bytes from element {}) reaches past the {} bytes stored for it", path,
         name, numel, t.element_size(), t.storage_offset(), stored);
}

}  // namespace

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
  ArchiveTensors archive;
  try {
    archive = read_archive(path, read_file(path));
  } catch (const semsec::Error&) {
    throw;
  } catch (const c10::Error& e) {
    // Without LibTorch's C++ backtrace, which would follow the message.
    fail("{}: not a readable checkpoint (corrupt or truncated): {}", path, one_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    fail("{}: not a readable checkpoint (corrupt or truncated): {}", path, one_line(e.what()));
  }
  const auto idx_it = archive.attributes.find(kIndexKey);
  if (idx_it == archive.attributes.end()) fail("{}: not a semsec checkpoint (no tensor index)", path);
  const torch::Tensor& idx = idx_it->second;
  if (idx.scalar_type() != torch::kUInt8 || idx.dim() != 1) fail("{}: malformed tensor index", path);
  check_dense(path, kIndexKey, idx, archive.stored_bytes);
  std::string index(reinterpret_cast<const char*>(idx.data_ptr<uint8_t>()), static_cast<size_t>(idx.numel()));
  TensorMap out;
  std::istringstream names(index);
  for (std::string name; std::getline(names, name);) {
    const auto it = archive.attributes.find(name);
    if (it == archive.attributes.end() || name == kIndexKey)
      fail("{}: tensor '{}' listed in the index is missing", path, name);
    const torch::Tensor& t = it->second;
    check_dense(path, name, t, archive.stored_bytes);
    // Any byte but 0/1 in a torch bool is undefined behaviour downstream (as for safetensors).
    if (t.scalar_type() == torch::kBool && t.numel() > 0 && t.view(torch::kUInt8).gt(1).any().item<bool>())
      fail("{}: bool tensor '{}' holds bytes other than 0 and 1", path, name);
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
