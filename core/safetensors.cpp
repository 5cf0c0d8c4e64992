// Safetensors writing and strict reading, torch.save-compatible state dicts, layout checks.
#include "core/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <set>
#include <tuple>

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/export.h>
#include <torch/csrc/jit/serialization/pickler.h>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/rundir.h"

namespace semsec {
namespace {

// Tensor bytes are copied verbatim; the format is little-endian.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

// The reference implementation's limit: a larger header is a hostile or broken file.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr const char* kMetadataKey = "__metadata__";

struct DtypeInfo {
  const char* name;
  torch::Dtype dtype;
  int64_t itemsize;
};

constexpr DtypeInfo kDtypes[] = {
    {"F32", torch::kFloat32, 4},   {"F64", torch::kFloat64, 8}, {"F16", torch::kFloat16, 2},
    {"BF16", torch::kBFloat16, 2}, {"I64", torch::kInt64, 8},   {"I32", torch::kInt32, 4},
    {"I16", torch::kInt16, 2},     {"I8", torch::kInt8, 1},     {"U8", torch::kUInt8, 1},
    {"BOOL", torch::kBool, 1},
};

const DtypeInfo* dtype_by_name(const std::string& name) {
  for (const DtypeInfo& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

const DtypeInfo* dtype_by_torch(torch::Dtype dtype) {
  for (const DtypeInfo& d : kDtypes)
    if (dtype == d.dtype) return &d;
  return nullptr;
}

std::string supported_dtypes() {
  std::string s;
  for (const DtypeInfo& d : kDtypes) {
    if (!s.empty()) s += ' ';
    s += d.name;
  }
  return s;
}

template <typename Int>
std::string shape_str(const std::vector<Int>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// Every rejection of a file goes through here so the messages share one shape.
template <typename... Args>
[[noreturn]] void reject(const std::string& path, fmt::format_string<Args...> f, Args&&... args) {
  fail("{}: invalid safetensors file: {}", path, fmt::format(f, std::forward<Args>(args)...));
}

// A JSON value that must be a non-negative integer; `what` names it in the message.
uint64_t non_negative_int(const std::string& path, const std::string& what, const nlohmann::json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) reject(path, "{} is negative ({})", what, v.dump());
  reject(path, "{} is not an integer ({})", what, v.dump());
}

struct Entry {
  std::string name;
  const DtypeInfo* dtype;
  std::vector<int64_t> shape;
  uint64_t begin;
  uint64_t end;
};

Entry parse_entry(const std::string& path, const std::string& name, const nlohmann::json& info, uint64_t data_bytes) {
  if (!info.is_object())
    reject(path, "tensor '{}': entry is a JSON {}, expected an object with dtype, shape and data_offsets", name,
           info.type_name());
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!info.contains(field)) reject(path, "tensor '{}': missing field '{}'", name, field);
  for (const auto& [key, value] : info.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      reject(path, "tensor '{}': unknown field '{}'", name, key);

  Entry e{name, nullptr, {}, 0, 0};
  const nlohmann::json& dtype = info["dtype"];
  if (!dtype.is_string()) reject(path, "tensor '{}': dtype is a JSON {}, expected a string", name, dtype.type_name());
  e.dtype = dtype_by_name(dtype.get<std::string>());
  if (e.dtype == nullptr)
    reject(path, "tensor '{}': unknown dtype '{}' (supported: {})", name, dtype.get<std::string>(), supported_dtypes());

  const nlohmann::json& shape = info["shape"];
  if (!shape.is_array())
    reject(path, "tensor '{}': shape is a JSON {}, expected an array of non-negative integers", name,
           shape.type_name());
  // `span` multiplies the dims with zeros counted as one: torch's strides must fit in
  // int64 even when a zero dim makes the tensor empty.
  constexpr uint64_t kInt64Max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  uint64_t numel = 1;
  uint64_t span = 1;
  bool overflow = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    const uint64_t dim = non_negative_int(path, fmt::format("tensor '{}': shape[{}]", name, i), shape[i]);
    e.shape.push_back(static_cast<int64_t>(std::min(dim, kInt64Max)));
    overflow = overflow || __builtin_mul_overflow(numel, dim, &numel) ||
               __builtin_mul_overflow(span, std::max<uint64_t>(dim, 1), &span) || span > kInt64Max;
  }
  uint64_t nbytes = 0;
  overflow = overflow || __builtin_mul_overflow(numel, static_cast<uint64_t>(e.dtype->itemsize), &nbytes) ||
             nbytes > kInt64Max;
  if (overflow) reject(path, "tensor '{}': shape {} overflows a 64-bit byte count", name, shape.dump());

  const nlohmann::json& offsets = info["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned())
    reject(path, "tensor '{}': data_offsets must be [begin, end] with non-negative integers, found {}", name,
           offsets.dump());
  e.begin = offsets[0].get<uint64_t>();
  e.end = offsets[1].get<uint64_t>();
  if (e.end < e.begin) reject(path, "tensor '{}': data_offsets end {} is before begin {}", name, e.end, e.begin);
  if (e.end - e.begin != nbytes)
    reject(path, "tensor '{}': data_offsets [{}, {}] span {} bytes, but shape {} of {} needs {}", name, e.begin, e.end,
           e.end - e.begin, shape_str(e.shape), e.dtype->name, nbytes);
  if (e.end > data_bytes)
    reject(path, "tensor '{}': data_offsets [{}, {}] reach beyond the end of the data section ({} bytes)", name,
           e.begin, e.end, data_bytes);
  return e;
}

}  // namespace

void write_safetensors(const std::string& path, const NamedTensorList& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // Insertion order kept so the header lists tensors in data order, as written.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json md = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) md[key] = value;
    header[kMetadataKey] = std::move(md);
  }
  std::vector<torch::Tensor> data;
  data.reserve(tensors.size());
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == kMetadataKey) fail("{}: cannot write a tensor named '{}' (reserved by safetensors)", path, name);
    if (!names.insert(name).second) fail("{}: duplicate tensor name '{}'", path, name);
    if (!tensor.defined()) fail("{}: tensor '{}' is undefined", path, name);
    if (tensor.layout() != torch::kStrided)
      fail("{}: tensor '{}' has layout {}, only dense tensors can be written", path, name, c10::str(tensor.layout()));
    const DtypeInfo* dtype = dtype_by_torch(tensor.scalar_type());
    if (dtype == nullptr)
      fail("{}: tensor '{}' has dtype {}, which safetensors export does not support (supported: {})", path, name,
           c10::toString(tensor.scalar_type()), supported_dtypes());
    torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    const uint64_t nbytes = t.nbytes();
    header[name] = {{"dtype", dtype->name}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    data.push_back(std::move(t));
  }

  std::string json;
  try {
    json = header.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::strict);
  } catch (const nlohmann::ordered_json::exception& e) {
    fail("{}: a tensor name or metadata entry is not valid UTF-8: {}", path, e.what());
  }
  // Pad so the data section starts at a multiple of 8 (the prefix itself is 8 bytes).
  json.append((8 - json.size() % 8) % 8, ' ');

  std::string content;
  content.reserve(8 + json.size() + offset);
  const uint64_t header_len = json.size();
  char prefix[8];
  std::memcpy(prefix, &header_len, 8);
  content.append(prefix, 8);
  content += json;
  for (const torch::Tensor& t : data) content.append(static_cast<const char*>(t.data_ptr()), t.nbytes());
  write_file_atomic(path, content);
}

namespace {

// The header's JSON, parsed: an object, without repeated keys.
nlohmann::json parse_header(const std::string& path, const std::string& content, uint64_t data_start) {
  // nlohmann keeps the last of repeated keys; a file whose meaning depends on that is
  // ambiguous, so repeats are collected while parsing and rejected.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  size_t duplicate_depth = 0;
  auto watch_keys = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) open_objects.emplace_back();
    if (event == Event::object_end) open_objects.pop_back();
    if (event == Event::key && duplicate.empty() && !open_objects.back().insert(parsed.get<std::string>()).second) {
      duplicate = parsed.get<std::string>();
      duplicate_depth = open_objects.size();
    }
    return true;
  };
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(content.begin() + 8, content.begin() + static_cast<std::ptrdiff_t>(data_start),
                                   watch_keys);
  } catch (const nlohmann::json::exception& e) {
    reject(path, "header is not valid JSON: {}", e.what());
  }
  if (!header.is_object()) reject(path, "header is a JSON {}, expected an object", header.type_name());
  if (!duplicate.empty()) {
    if (duplicate_depth == 1) reject(path, "duplicate tensor name '{}' in the header", duplicate);
    reject(path, "duplicate key '{}' inside a header entry", duplicate);
  }
  return header;
}

// The tensor entries of the header; its __metadata__ goes into file.metadata.
std::vector<Entry> parse_entries(const std::string& path, const nlohmann::json& header, uint64_t data_bytes,
                                 SafetensorsFile& file) {
  std::vector<Entry> entries;
  try {
    for (const auto& [name, info] : header.items()) {
      if (name == kMetadataKey) {
        if (!info.is_object())
          reject(path, "{} is a JSON {}, expected an object of strings", kMetadataKey, info.type_name());
        for (const auto& [key, value] : info.items()) {
          if (!value.is_string())
            reject(path, "{} value for '{}' is a JSON {}, expected a string", kMetadataKey, key, value.type_name());
          file.metadata[key] = value.get<std::string>();
        }
        continue;
      }
      entries.push_back(parse_entry(path, name, info, data_bytes));
    }
  } catch (const nlohmann::json::exception& e) {
    reject(path, "malformed header: {}", e.what());  // defensive: every access above is type-checked
  }
  return entries;
}

// Sorts the entries by offset and checks that they tile the data section.
void check_tiling(const std::string& path, std::vector<Entry>& entries, uint64_t data_bytes) {
  // The spec requires the tensors to tile the data section exactly: no overlaps, no gaps,
  // nothing after the last one. Empty tensors sort before a tensor starting at their offset.
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < covered)
      reject(path, "tensors '{}' (bytes [{}, {})) and '{}' (bytes [{}, {})) overlap", previous->name, previous->begin,
             previous->end, e.name, e.begin, e.end);
    if (e.begin > covered)
      reject(path, "gap in the data section: bytes [{}, {}) before tensor '{}' belong to no tensor", covered, e.begin,
             e.name);
    covered = e.end;
    previous = &e;
  }
  if (covered != data_bytes)
    reject(path, "{} trailing bytes after the last tensor (tensors end at byte {} of a {}-byte data section)",
           data_bytes - covered, covered, data_bytes);
}

// Copies every tensor's bytes out of the file.
void read_tensors(const std::string& path, const std::string& content, uint64_t data_start,
                  const std::vector<Entry>& entries, SafetensorsFile& file) {
  file.tensors.reserve(entries.size());
  for (const Entry& e : entries) {
    torch::Tensor t;
    try {
      t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype->dtype));
    } catch (const c10::Error& err) {
      reject(path, "tensor '{}': cannot allocate shape {}: {}", e.name, shape_str(e.shape),
             err.what_without_backtrace());
    }
    const char* src = content.data() + data_start + e.begin;
    if (e.dtype->dtype == torch::kBool) {
      // Any byte but 0/1 in a torch bool is undefined behaviour downstream.
      for (uint64_t i = 0; i < e.end - e.begin; ++i)
        if (static_cast<unsigned char>(src[i]) > 1)
          reject(path, "tensor '{}': BOOL element {} holds byte value {}, expected 0 or 1", e.name, i,
                 static_cast<unsigned>(static_cast<unsigned char>(src[i])));
    }
    if (e.end > e.begin) std::memcpy(t.data_ptr(), src, e.end - e.begin);
    file.tensors.emplace_back(e.name, std::move(t));
  }
}

}  // namespace

SafetensorsFile read_safetensors(const std::string& path) {
  const std::string content = read_file(path);
  if (content.size() < 8)
    reject(path, "file is {} bytes, shorter than the 8-byte header length prefix", content.size());
  uint64_t header_len = 0;
  std::memcpy(&header_len, content.data(), 8);
  if (header_len > kMaxHeaderBytes)
    reject(path, "header length {} is larger than the {}-byte limit", header_len, kMaxHeaderBytes);
  if (header_len > content.size() - 8)
    reject(path, "header length {} is larger than the {} bytes after the length prefix", header_len,
           content.size() - 8);
  const uint64_t data_start = 8 + header_len;
  const uint64_t data_bytes = content.size() - data_start;

  const nlohmann::json header = parse_header(path, content, data_start);
  SafetensorsFile file;
  std::vector<Entry> entries = parse_entries(path, header, data_bytes, file);
  check_tiling(path, entries, data_bytes);
  read_tensors(path, content, data_start, entries, file);
  return file;
}

void write_torch_state_dict(const std::string& path, const NamedTensorList& tensors) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, tensor] : tensors) {
    if (!tensor.defined()) fail("{}: tensor '{}' is undefined", path, name);
    if (dict.contains(name)) fail("{}: duplicate tensor name '{}'", path, name);
    // A view would drag its whole storage into the file; a GPU tensor would be recorded
    // as 'cuda:N' and fail to load on machines without one.
    torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    if (t.storage_offset() != 0 || t.storage().nbytes() != t.nbytes()) t = t.clone();
    dict.insert(name, t);
  }
  std::vector<char> pickle;
  // tag_aggregates=false: no torch.jit._pickle.restore_type_tag global, which
  // torch.load(weights_only=True) rejects; the dict comes back as a plain Python dict.
  torch::jit::Pickler pickler([&](const char* bytes, size_t n) { pickle.insert(pickle.end(), bytes, bytes + n); },
                              /*tensor_table=*/nullptr, /*type_renamer=*/nullptr,
                              /*memoized_class_types=*/nullptr, /*get_tensor_id=*/nullptr,
                              /*tag_aggregates=*/false);
  pickler.protocol();
  pickler.pushIValue(dict);
  pickler.stop();

  std::string content;
  {
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* bytes, size_t n) {
      content.append(static_cast<const char*>(bytes), n);
      return n;
    });
    // The layout torch.save uses: data.pkl plus one record data/<i> per storage.
    torch::jit::writeArchiveAndTensors("data", pickle.data(), pickle.size(), pickler.tensorData(), writer);
    writer.writeEndOfFile();
  }
  write_file_atomic(path, content);
}

void check_tensor_layout(const std::string& path, const NamedTensorList& found,
                         const std::vector<std::pair<std::string, std::vector<int64_t>>>& expected) {
  std::map<std::string, std::vector<int64_t>> found_shapes;
  for (const auto& [name, tensor] : found) found_shapes[name] = tensor.sizes().vec();
  std::vector<std::string> problems;
  std::set<std::string> expected_names;
  for (const auto& [name, shape] : expected) {
    expected_names.insert(name);
    const auto it = found_shapes.find(name);
    if (it == found_shapes.end())
      problems.push_back(fmt::format("tensor '{}' is missing (expected shape {})", name, shape_str(shape)));
    else if (it->second != shape)
      problems.push_back(
          fmt::format("tensor '{}' has shape {}, expected {}", name, shape_str(it->second), shape_str(shape)));
  }
  for (const auto& [name, tensor] : found)
    if (!expected_names.count(name))
      problems.push_back(fmt::format("unexpected tensor '{}' (shape {})", name, shape_str(tensor.sizes().vec())));
  if (problems.empty()) return;
  std::string list;
  for (const std::string& p : problems) list += "\n  " + p;
  fail("{}: weights do not match the model ({} problem{}):{}", path, problems.size(), problems.size() == 1 ? "" : "s",
       list);
}

}  // namespace semsec
