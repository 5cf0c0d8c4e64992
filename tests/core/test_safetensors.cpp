// Safetensors round trips, rejection of every kind of malformed file, layout checks, and
// interoperability with the Python safetensors package and torch.load.
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/safetensors.h"
#include "tests/test_util.h"

namespace {

using semsec::NamedTensorList;
using Json = nlohmann::ordered_json;

using semsec::testing::read_bytes;
using semsec::testing::TempDir;
using semsec::testing::write_bytes;

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (unsigned char c : bytes) {
    s += digits[c >> 4];
    s += digits[c & 15];
  }
  return s;
}

// The raw little-endian bytes of a tensor, as safetensors stores them.
std::string tensor_bytes(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.nbytes());
}

std::string python_dtype(torch::Dtype d) {
  static const std::map<torch::Dtype, std::string> names = {
      {torch::kFloat32, "torch.float32"}, {torch::kFloat64, "torch.float64"}, {torch::kFloat16, "torch.float16"},
      {torch::kBFloat16, "torch.bfloat16"}, {torch::kInt64, "torch.int64"},   {torch::kInt32, "torch.int32"},
      {torch::kInt16, "torch.int16"},     {torch::kInt8, "torch.int8"},       {torch::kUInt8, "torch.uint8"},
      {torch::kBool, "torch.bool"}};
  return names.at(d);
}

// Deterministic, varied values (no randomness needed: exact bytes are compared).
torch::Tensor wave(std::vector<int64_t> shape, double scale) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return torch::sin(torch::arange(n, torch::kFloat64) * 0.731 + 0.2).mul(scale).reshape(shape);
}

// Every supported dtype, 0-d and empty tensors, special float values, a transposed
// (non-contiguous) tensor and a slice of a larger one.
NamedTensorList sample_tensors() {
  NamedTensorList t;
  torch::Tensor special = wave({3, 4}, 10.0).to(torch::kFloat32);
  special.index_put_({0, 0}, std::numeric_limits<float>::infinity());
  special.index_put_({0, 1}, -std::numeric_limits<float>::infinity());
  special.index_put_({0, 2}, std::numeric_limits<float>::quiet_NaN());
  special.index_put_({0, 3}, -0.0f);
  t.emplace_back("encoder.weight", special);
  t.emplace_back("encoder.bias", wave({5}, 1e-3));
  t.emplace_back("half", wave({2, 3}, 100.0).to(torch::kFloat16));
  t.emplace_back("bf16", wave({4, 1, 2}, 7.0).to(torch::kBFloat16));
  t.emplace_back("idx", torch::tensor({int64_t{0}, int64_t{-1}, std::numeric_limits<int64_t>::max(),
                                       std::numeric_limits<int64_t>::min()},
                                      torch::kInt64));
  t.emplace_back("i32", wave({2, 2}, 3e9).clamp(-2.1e9, 2.1e9).to(torch::kInt32));
  t.emplace_back("i16", torch::tensor({-32768, 0, 32767}, torch::kInt16));
  t.emplace_back("i8", torch::tensor({-128, -1, 5, 127}, torch::kInt8));
  t.emplace_back("u8", torch::tensor({0, 1, 128, 255}, torch::kUInt8).reshape({2, 2}));
  t.emplace_back("mask", torch::tensor({true, false, false, true, true}));
  t.emplace_back("scalar", torch::tensor(2.5f));
  t.emplace_back("scalar_bool", torch::tensor(true));
  t.emplace_back("empty", torch::empty({0}, torch::kFloat32));
  t.emplace_back("empty3d", torch::empty({2, 0, 3}, torch::kInt64));
  t.emplace_back("transposed", wave({2, 3}, 1.0).to(torch::kFloat32).t());
  t.emplace_back("slice", wave({10}, 1.0).to(torch::kFloat32).slice(0, 3, 7));
  t.emplace_back("unicode.\xce\xb1\xce\xb2 name", torch::tensor({1.0, 2.0}, torch::kFloat64));
  return t;
}

std::map<std::string, std::string> sample_metadata() {
  return {{"format", "pt"}, {"epoch", "12"}, {"note", "\xce\xb1\xce\xb2 \"quoted\"\n"}, {"empty", ""}};
}

void expect_same_tensors(const NamedTensorList& expected, const NamedTensorList& got) {
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(expected[i].first);
    EXPECT_EQ(got[i].first, expected[i].first);
    EXPECT_EQ(got[i].second.scalar_type(), expected[i].second.scalar_type());
    EXPECT_EQ(got[i].second.sizes().vec(), expected[i].second.sizes().vec());
    EXPECT_TRUE(got[i].second.device().is_cpu());
    EXPECT_EQ(hex(tensor_bytes(got[i].second)), hex(tensor_bytes(expected[i].second)));
  }
}

// --- surgical corruption of a valid file -------------------------------------------------

struct Parts {
  std::string header;  // JSON text, padding included
  std::string data;
};

Parts split(const std::string& bytes) {
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  return {bytes.substr(8, n), bytes.substr(8 + n)};
}

std::string assemble(std::string header, const std::string& data) {
  header.append((8 - header.size() % 8) % 8, ' ');
  const uint64_t n = header.size();
  std::string out(reinterpret_cast<const char*>(&n), 8);
  return out + header + data;
}

// Base file: a F32 [2,3] bytes [0,24), b I64 [2] bytes [24,40), c U8 [3] bytes [40,43).
class SafetensorsCorrupt : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("weights.safetensors");
    semsec::write_safetensors(path_,
                              {{"a", wave({2, 3}, 1.0).to(torch::kFloat32)},
                               {"b", torch::tensor({7, -9}, torch::kInt64)},
                               {"c", torch::tensor({1, 0, 1}, torch::kUInt8)}},
                              {{"epoch", "3"}});
    valid_ = read_bytes(path_);
    parts_ = split(valid_);
  }

  // The message of the semsec::Error that reading `bytes` produces, "" if it reads fine.
  std::string error_for(const std::string& bytes) {
    write_bytes(path_, bytes);
    try {
      semsec::read_safetensors(path_);
    } catch (const semsec::Error& e) {
      return e.what();
    } catch (const std::exception& e) {
      return std::string("NOT A semsec::Error: ") + e.what();
    }
    return "";
  }

  std::string error_with_header(const std::function<void(Json&)>& edit, const std::string& extra_data = "") {
    Json h = Json::parse(parts_.header);
    edit(h);
    return error_for(assemble(h.dump(), parts_.data + extra_data));
  }

  std::string error_with_text(const std::string& from, const std::string& to) {
    std::string header = parts_.header;
    const size_t at = header.find(from);
    EXPECT_NE(at, std::string::npos) << from << " not in " << header;
    if (at != std::string::npos) header.replace(at, from.size(), to);
    return error_for(assemble(header, parts_.data));
  }

  void expect_rejected(const std::string& message, const std::string& problem) {
    EXPECT_NE(message.find(path_), std::string::npos) << "message does not name the file: " << message;
    EXPECT_NE(message.find("invalid safetensors file"), std::string::npos) << message;
    EXPECT_NE(message.find(problem), std::string::npos) << "expected '" << problem << "' in: " << message;
  }

  TempDir dir_;
  std::string path_;
  std::string valid_;
  Parts parts_;
};

// --- Python -----------------------------------------------------------------------------

const char* const kPythonPrelude = R"PY(
import sys, json
try:
    import torch
    import safetensors
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file
except ImportError as e:
    print("missing package:", e)
    sys.exit(77)

def describe(t):
    return [str(t.dtype), list(t.shape), t.detach().reshape(-1).contiguous().view(torch.uint8).numpy().tobytes().hex()]
)PY";

semsec::testing::CommandOutput run_python(const TempDir& dir, const std::string& script, const std::string& args) {
  return semsec::testing::run_python_script(SEMSEC_PYTHON_EXE, dir.path(), std::string(kPythonPrelude) + script, args);
}

// Python's output ends with one JSON line.
nlohmann::json last_json_line(const std::string& out) {
  const size_t end = out.find_last_not_of("\n");
  const size_t begin = out.rfind('\n', end);
  return nlohmann::json::parse(out.substr(begin == std::string::npos ? 0 : begin + 1));
}

void expect_described(const nlohmann::json& described, const NamedTensorList& expected) {
  ASSERT_EQ(described.size(), expected.size());
  for (const auto& [name, t] : expected) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(described.contains(name));
    const nlohmann::json& d = described[name];
    EXPECT_EQ(d[0].get<std::string>(), python_dtype(t.scalar_type()));
    EXPECT_EQ(d[1].get<std::vector<int64_t>>(), t.sizes().vec());
    EXPECT_EQ(d[2].get<std::string>(), hex(tensor_bytes(t)));
  }
}

}  // namespace

TEST(Safetensors, RoundTripAllDtypesAndMetadata) {
  TempDir dir;
  const std::string path = dir.file("sub/dir/model.safetensors");  // parents are created
  const NamedTensorList tensors = sample_tensors();
  semsec::write_safetensors(path, tensors, sample_metadata());
  const semsec::SafetensorsFile file = semsec::read_safetensors(path);
  expect_same_tensors(tensors, file.tensors);
  EXPECT_EQ(file.metadata, sample_metadata());
  // Values, not just bytes, for the views: the logical (transposed / sliced) elements.
  EXPECT_TRUE(torch::equal(file.tensors[14].second, tensors[14].second));
  EXPECT_TRUE(torch::equal(file.tensors[15].second, tensors[15].second));
  EXPECT_EQ(file.tensors[15].second.numel(), 4);
}

TEST(Safetensors, FileLayout) {
  TempDir dir;
  const std::string path = dir.file("m.safetensors");
  const NamedTensorList tensors = sample_tensors();
  semsec::write_safetensors(path, tensors, sample_metadata());
  const std::string bytes = read_bytes(path);
  const Parts parts = split(bytes);
  EXPECT_EQ(parts.header.size() % 8, 0u);
  EXPECT_EQ(parts.header.front(), '{');
  const size_t last = parts.header.find_last_not_of(' ');
  EXPECT_EQ(parts.header[last], '}');
  EXPECT_LT(parts.header.size() - last - 1, 8u) << "at most 7 padding spaces";

  // Data in the given order, tensor after tensor, nothing else.
  const Json header = Json::parse(parts.header);
  std::string expected_data;
  size_t i = 0;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    ASSERT_LT(i, tensors.size());
    EXPECT_EQ(name, tensors[i].first);
    EXPECT_EQ(info["data_offsets"][0].get<uint64_t>(), expected_data.size());
    expected_data += tensor_bytes(tensors[i].second);
    EXPECT_EQ(info["data_offsets"][1].get<uint64_t>(), expected_data.size());
    ++i;
  }
  EXPECT_EQ(i, tensors.size());
  EXPECT_EQ(hex(parts.data), hex(expected_data));
  EXPECT_EQ(header["half"]["dtype"], "F16");
  EXPECT_EQ(header["bf16"]["dtype"], "BF16");
  EXPECT_EQ(header["mask"]["dtype"], "BOOL");
  EXPECT_EQ(header["scalar"]["shape"], Json::array());
  EXPECT_EQ(header["__metadata__"]["epoch"], "12");
}

TEST(Safetensors, EmptyFileAndNoMetadata) {
  TempDir dir;
  const std::string path = dir.file("none.safetensors");
  semsec::write_safetensors(path, {}, {});
  const std::string bytes = read_bytes(path);
  EXPECT_EQ(bytes.size(), 16u);  // "{}" padded to 8
  const semsec::SafetensorsFile file = semsec::read_safetensors(path);
  EXPECT_TRUE(file.tensors.empty());
  EXPECT_TRUE(file.metadata.empty());
  EXPECT_EQ(split(bytes).header.find("__metadata__"), std::string::npos);
}

TEST(Safetensors, WriteIsAtomicAndReplaces) {
  TempDir dir;
  const std::string path = dir.file("w.safetensors");
  semsec::write_safetensors(path, {{"x", torch::ones({100})}}, {});
  semsec::write_safetensors(path, {{"y", torch::zeros({2}, torch::kInt8)}}, {{"k", "v"}});
  const semsec::SafetensorsFile file = semsec::read_safetensors(path);
  ASSERT_EQ(file.tensors.size(), 1u);
  EXPECT_EQ(file.tensors[0].first, "y");
  // Only the final file remains: no temporary left behind.
  FILE* ls = ::popen(fmt::format("ls -A '{}'", dir.path()).c_str(), "r");
  ASSERT_NE(ls, nullptr);
  char buf[1024];
  std::string listing;
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), ls)) > 0) listing.append(buf, n);
  ::pclose(ls);
  EXPECT_EQ(listing, "w.safetensors\n");
}

TEST(Safetensors, WriterRejectsBadInput) {
  TempDir dir;
  const std::string path = dir.file("bad.safetensors");
  auto message = [&](const NamedTensorList& t) -> std::string {
    try {
      semsec::write_safetensors(path, t, {});
    } catch (const semsec::Error& e) {
      return e.what();
    }
    return "";
  };
  std::string m = message({{"a", torch::ones({1})}, {"a", torch::ones({2})}});
  EXPECT_NE(m.find("duplicate tensor name 'a'"), std::string::npos) << m;
  EXPECT_NE(m.find(path), std::string::npos) << m;
  m = message({{"__metadata__", torch::ones({1})}});
  EXPECT_NE(m.find("reserved"), std::string::npos) << m;
  m = message({{"z", torch::ones({2}, torch::kComplexFloat)}});
  EXPECT_NE(m.find("does not support"), std::string::npos) << m;
  m = message({{"u", torch::Tensor()}});
  EXPECT_NE(m.find("undefined"), std::string::npos) << m;
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << "nothing written on error";
}

TEST(Safetensors, GpuTensorsAreWrittenFromTheHost) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  TempDir dir;
  const std::string path = dir.file("gpu.safetensors");
  const torch::Tensor t = wave({3, 5}, 2.0).to(torch::kFloat32).to(torch::kCUDA);
  semsec::write_safetensors(path, {{"g", t}}, {});
  const semsec::SafetensorsFile file = semsec::read_safetensors(path);
  EXPECT_TRUE(torch::equal(file.tensors.at(0).second, t.cpu()));
}

TEST_F(SafetensorsCorrupt, UnmodifiedReassemblyReads) {
  // Guards the helpers: re-serialising the header unchanged must still be valid.
  EXPECT_EQ(error_for(valid_), "");
  EXPECT_EQ(error_with_header([](Json&) {}), "");
  EXPECT_EQ(error_with_text("\"a\":{", "\"a\":{"), "");
}

TEST_F(SafetensorsCorrupt, ShorterThanPrefix) {
  expect_rejected(error_for(valid_.substr(0, 5)), "file is 5 bytes, shorter than the 8-byte header length prefix");
  expect_rejected(error_for(""), "file is 0 bytes");
}

TEST_F(SafetensorsCorrupt, HeaderLengthBeyondFile) {
  std::string bytes = valid_;
  const uint64_t n = bytes.size() - 8 + 1;
  std::memcpy(bytes.data(), &n, 8);
  expect_rejected(error_for(bytes), fmt::format("header length {} is larger than the {} bytes after the length prefix",
                                                n, bytes.size() - 8));
}

TEST_F(SafetensorsCorrupt, HeaderLengthBeyondLimit) {
  std::string bytes = valid_;
  for (uint64_t n : {uint64_t{100'000'001}, ~uint64_t{0}}) {
    std::memcpy(bytes.data(), &n, 8);
    expect_rejected(error_for(bytes), fmt::format("header length {} is larger than the 100000000-byte limit", n));
  }
}

TEST_F(SafetensorsCorrupt, InvalidJson) {
  const size_t brace = parts_.header.rfind('}');
  std::string header = parts_.header;
  header[brace] = ' ';
  expect_rejected(error_for(assemble(header, parts_.data)), "header is not valid JSON");
  header = parts_.header;
  header[0] = '\xff';
  expect_rejected(error_for(assemble(header, parts_.data)), "header is not valid JSON");
  // Invalid UTF-8 inside a string.
  expect_rejected(error_with_text("\"epoch\":\"3\"", "\"epoch\":\"\xc3\x28\""), "header is not valid JSON");
}

TEST_F(SafetensorsCorrupt, HeaderNotAnObject) {
  expect_rejected(error_for(assemble("[1,2]", "")), "header is a JSON array, expected an object");
  expect_rejected(error_for(assemble("\"a\"", "")), "header is a JSON string, expected an object");
}

TEST_F(SafetensorsCorrupt, UnknownDtype) {
  expect_rejected(error_with_header([](Json& h) { h["a"]["dtype"] = "F8_E5M2"; }),
                  "tensor 'a': unknown dtype 'F8_E5M2' (supported: F32 F64 F16 BF16 I64 I32 I16 I8 U8 BOOL)");
  expect_rejected(error_with_header([](Json& h) { h["a"]["dtype"] = "f32"; }), "unknown dtype 'f32'");
  expect_rejected(error_with_header([](Json& h) { h["a"]["dtype"] = 4; }),
                  "tensor 'a': dtype is a JSON number, expected a string");
}

TEST_F(SafetensorsCorrupt, NegativeShape) {
  expect_rejected(error_with_header([](Json& h) { h["a"]["shape"] = {-2, -3}; }),
                  "tensor 'a': shape[0] is negative (-2)");
  expect_rejected(error_with_header([](Json& h) { h["b"]["shape"][0] = -2; }), "tensor 'b': shape[0] is negative");
}

TEST_F(SafetensorsCorrupt, NonIntegerShape) {
  expect_rejected(error_with_header([](Json& h) { h["a"]["shape"] = {2, 3.0}; }),
                  "tensor 'a': shape[1] is not an integer (3.0)");
  expect_rejected(error_with_header([](Json& h) { h["a"]["shape"] = {"2", 3}; }),
                  "tensor 'a': shape[0] is not an integer (\"2\")");
  expect_rejected(error_with_header([](Json& h) { h["a"]["shape"] = 6; }),
                  "tensor 'a': shape is a JSON number, expected an array");
}

TEST_F(SafetensorsCorrupt, ShapeOverflow) {
  const uint64_t big = uint64_t{1} << 32;
  expect_rejected(error_with_header([&](Json& h) { h["a"]["shape"] = {big, big}; }), "tensor 'a': shape");
  expect_rejected(error_with_header([&](Json& h) { h["a"]["shape"] = {big, big}; }), "overflows");
  // numel * itemsize overflows while numel itself fits.
  expect_rejected(error_with_header([](Json& h) { h["a"]["shape"] = {uint64_t{1} << 62}; }), "overflows");
  // Empty, but torch's strides would not fit in int64.
  expect_rejected(error_with_header([&](Json& h) { h["a"]["shape"] = {uint64_t{0}, big, big}; }), "overflows");
  // Beyond uint64 the JSON number is a float: not an integer.
  expect_rejected(error_with_text("\"shape\":[2,3]", "\"shape\":[2,30000000000000000000000]"),
                  "shape[1] is not an integer");
}

TEST_F(SafetensorsCorrupt, MalformedDataOffsets) {
  for (const Json& bad : {Json::array({0}), Json::array({0, 24, 24}), Json(24), Json::array({0, -24}),
                          Json::array({0, 24.0}), Json::array({"0", "24"}), Json::object()}) {
    SCOPED_TRACE(bad.dump());
    expect_rejected(error_with_header([&](Json& h) { h["a"]["data_offsets"] = bad; }),
                    "tensor 'a': data_offsets must be [begin, end] with non-negative integers");
  }
}

TEST_F(SafetensorsCorrupt, EndBeforeBegin) {
  expect_rejected(error_with_header([](Json& h) { h["a"]["data_offsets"] = {24, 0}; }),
                  "tensor 'a': data_offsets end 0 is before begin 24");
}

TEST_F(SafetensorsCorrupt, SpanDoesNotMatchShape) {
  expect_rejected(error_with_header([](Json& h) { h["a"]["data_offsets"] = {0, 20}; }),
                  "tensor 'a': data_offsets [0, 20] span 20 bytes, but shape [2, 3] of F32 needs 24");
  expect_rejected(error_with_header([](Json& h) { h["b"]["dtype"] = "I32"; }),
                  "span 16 bytes, but shape [2] of I32 needs 8");
}

TEST_F(SafetensorsCorrupt, OffsetsBeyondDataSection) {
  expect_rejected(error_with_header([](Json& h) { h["c"]["data_offsets"] = {41, 44}; }),
                  "tensor 'c': data_offsets [41, 44] reach beyond the end of the data section (43 bytes)");
  // Also when the span is right but the file was cut short.
  expect_rejected(error_for(assemble(parts_.header, parts_.data.substr(0, 42))), "beyond the end of the data section");
}

TEST_F(SafetensorsCorrupt, OverlappingTensors) {
  expect_rejected(error_with_header([](Json& h) { h["b"]["data_offsets"] = {16, 32}; }),
                  "tensors 'a' (bytes [0, 24)) and 'b' (bytes [16, 32)) overlap");
  // Two tensors on exactly the same bytes.
  expect_rejected(error_with_header([](Json& h) {
                    h["c"]["dtype"] = "F32";
                    h["c"]["shape"] = {2, 3};
                    h["c"]["data_offsets"] = {0, 24};
                  }),
                  "overlap");
}

TEST_F(SafetensorsCorrupt, GapBetweenTensors) {
  expect_rejected(error_with_header(
                      [](Json& h) {
                        h["b"]["data_offsets"] = {25, 41};
                        h["c"]["data_offsets"] = {41, 44};
                      },
                      "x"),
                  "gap in the data section: bytes [24, 25) before tensor 'b' belong to no tensor");
  // A gap at the very start.
  expect_rejected(error_with_header(
                      [](Json& h) {
                        h["a"]["data_offsets"] = {1, 25};
                        h["b"]["data_offsets"] = {25, 41};
                        h["c"]["data_offsets"] = {41, 44};
                      },
                      "x"),
                  "bytes [0, 1) before tensor 'a'");
}

TEST_F(SafetensorsCorrupt, DuplicateNames) {
  expect_rejected(error_with_text("\"c\":{", "\"b\":{"), "duplicate tensor name 'b' in the header");
  expect_rejected(error_with_text("\"dtype\":\"U8\"", "\"dtype\":\"U8\",\"dtype\":\"U8\""), "duplicate key 'dtype'");
  expect_rejected(error_with_text("\"epoch\":\"3\"", "\"epoch\":\"3\",\"epoch\":\"4\""), "duplicate key 'epoch'");
}

TEST_F(SafetensorsCorrupt, MetadataNotStrings) {
  expect_rejected(error_with_header([](Json& h) { h["__metadata__"]["epoch"] = 3; }),
                  "__metadata__ value for 'epoch' is a JSON number, expected a string");
  expect_rejected(error_with_header([](Json& h) { h["__metadata__"]["x"] = Json::array(); }),
                  "__metadata__ value for 'x' is a JSON array");
  expect_rejected(error_with_header([](Json& h) { h["__metadata__"] = "epoch 3"; }),
                  "__metadata__ is a JSON string, expected an object of strings");
}

TEST_F(SafetensorsCorrupt, TrailingBytes) {
  expect_rejected(error_for(valid_ + "12345"),
                  "5 trailing bytes after the last tensor (tensors end at byte 43 of a 48-byte data section)");
  expect_rejected(error_for(assemble("{}", "z")), "1 trailing bytes");
}

TEST_F(SafetensorsCorrupt, EntryStructure) {
  expect_rejected(error_with_header([](Json& h) { h["a"].erase("shape"); }), "tensor 'a': missing field 'shape'");
  expect_rejected(error_with_header([](Json& h) { h["a"]["offset"] = 0; }), "tensor 'a': unknown field 'offset'");
  expect_rejected(error_with_header([](Json& h) { h["a"] = Json::array({1}); }), "tensor 'a': entry is a JSON array");
}

TEST_F(SafetensorsCorrupt, BoolBytesMustBeZeroOrOne) {
  std::string header = parts_.header;
  header.replace(header.find("\"dtype\":\"U8\""), 12, "\"dtype\":\"BOOL\"");
  EXPECT_EQ(error_for(assemble(header, parts_.data)), "");  // bytes 1, 0, 1
  std::string data = parts_.data;
  data[41] = 2;
  expect_rejected(error_for(assemble(header, data)), "tensor 'c': BOOL element 1 holds byte value 2");
}

TEST(TensorLayout, MatchesAndMismatches) {
  const NamedTensorList found = {{"w", torch::zeros({4, 3})}, {"b", torch::zeros({4})}, {"s", torch::zeros({})}};
  EXPECT_NO_THROW(semsec::check_tensor_layout("ok.safetensors", found, {{"b", {4}}, {"w", {4, 3}}, {"s", {}}}));

  std::string m;
  try {
    semsec::check_tensor_layout("runs/x/model.safetensors", found, {{"w", {3, 4}}, {"b", {4}}, {"gain", {1}}});
  } catch (const semsec::Error& e) {
    m = e.what();
  }
  EXPECT_NE(m.find("runs/x/model.safetensors"), std::string::npos) << m;
  EXPECT_NE(m.find("3 problems"), std::string::npos) << m;
  EXPECT_NE(m.find("tensor 'w' has shape [4, 3], expected [3, 4]"), std::string::npos) << m;
  EXPECT_NE(m.find("tensor 'gain' is missing (expected shape [1])"), std::string::npos) << m;
  EXPECT_NE(m.find("unexpected tensor 's' (shape [])"), std::string::npos) << m;
  EXPECT_EQ(m.find("'b'"), std::string::npos) << m;
}

TEST(TorchStateDict, RoundTripThroughLibtorch) {
  TempDir dir;
  const std::string path = dir.file("model.pt");
  const NamedTensorList tensors = sample_tensors();
  semsec::write_torch_state_dict(path, tensors);
  const std::string bytes = read_bytes(path);
  const torch::IValue value = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  ASSERT_TRUE(value.isGenericDict());
  const auto dict = value.toGenericDict();
  ASSERT_EQ(dict.size(), tensors.size());
  size_t i = 0;
  for (const auto& item : dict) {  // insertion order is kept
    SCOPED_TRACE(tensors[i].first);
    EXPECT_EQ(item.key().toStringRef(), tensors[i].first);
    const torch::Tensor t = item.value().toTensor();
    EXPECT_EQ(t.scalar_type(), tensors[i].second.scalar_type());
    EXPECT_EQ(t.sizes().vec(), tensors[i].second.sizes().vec());
    EXPECT_EQ(hex(tensor_bytes(t)), hex(tensor_bytes(tensors[i].second)));
    ++i;
  }
  std::string m;
  try {
    semsec::write_torch_state_dict(path, {{"a", torch::ones({1})}, {"a", torch::ones({1})}});
  } catch (const semsec::Error& e) {
    m = e.what();
  }
  EXPECT_NE(m.find("duplicate tensor name 'a'"), std::string::npos) << m;
}

TEST(SafetensorsPython, ReadsOurSafetensors) {
  TempDir dir;
  const std::string path = dir.file("ours.safetensors");
  const NamedTensorList tensors = sample_tensors();
  semsec::write_safetensors(path, tensors, sample_metadata());
  const semsec::testing::CommandOutput r = run_python(dir, R"PY(
path = sys.argv[1]
tensors = load_file(path)
with safe_open(path, framework="pt") as f:
    metadata = f.metadata()
    keys = list(f.keys())
print(json.dumps({"tensors": {k: describe(v) for k, v in tensors.items()}, "metadata": metadata, "keys": keys}))
)PY",
                              "'" + path + "'");
  if (r.status == semsec::testing::kPythonSkip) GTEST_SKIP() << r.out;
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json out = last_json_line(r.out);
  expect_described(out["tensors"], tensors);
  EXPECT_EQ((out["metadata"].get<std::map<std::string, std::string>>()), sample_metadata());
  EXPECT_EQ(out["keys"].size(), tensors.size());
}

TEST(SafetensorsPython, TorchLoadReadsOurStateDictWithDefaults) {
  TempDir dir;
  const std::string path = dir.file("state.pt");
  const NamedTensorList tensors = sample_tensors();
  semsec::write_torch_state_dict(path, tensors);
  // torch.load with default arguments: weights_only=True since torch 2.6.
  const semsec::testing::CommandOutput r = run_python(dir, R"PY(
d = torch.load(sys.argv[1])
print(json.dumps({"type": type(d).__name__, "keys": list(d.keys()), "tensors": {k: describe(v) for k, v in d.items()},
                  "devices": sorted({str(v.device) for v in d.values()})}))
)PY",
                              "'" + path + "'");
  if (r.status == semsec::testing::kPythonSkip) GTEST_SKIP() << r.out;
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json out = last_json_line(r.out);
  EXPECT_EQ(out["type"], "dict");
  std::vector<std::string> names;
  for (const auto& [name, t] : tensors) names.push_back(name);
  EXPECT_EQ(out["keys"].get<std::vector<std::string>>(), names);
  EXPECT_EQ(out["devices"].get<std::vector<std::string>>(), std::vector<std::string>{"cpu"});
  expect_described(out["tensors"], tensors);
}

TEST(SafetensorsPython, WeReadPythonSafetensors) {
  TempDir dir;
  const std::string path = dir.file("theirs.safetensors");
  const semsec::testing::CommandOutput r = run_python(dir, R"PY(
path = sys.argv[1]
g = torch.sin(torch.arange(60, dtype=torch.float64) * 0.377 + 0.1)
tensors = {
    "layer.0.weight": (g[:12] * 5).reshape(3, 4).float(),
    "layer.0.bias": g[:5].clone(),
    "h": (g[:6] * 300).reshape(2, 3).half(),
    "bf": (g[:8] * 3).reshape(2, 2, 2).bfloat16(),
    "i64": torch.tensor([-(2**63), 2**63 - 1, 0, 42]),
    "i32": (g[:6] * 1e9).int(),
    "i16": torch.tensor([-32768, 7, 32767], dtype=torch.int16),
    "i8": torch.tensor([[-128, 3], [0, 127]], dtype=torch.int8),
    "u8": torch.tensor([0, 200, 255], dtype=torch.uint8),
    "flags": g[:7] > 0,
    "scalar": torch.tensor(-1.25, dtype=torch.float64),
    "empty": torch.zeros(0, 5, dtype=torch.float16),
}
tensors["layer.0.weight"][0, 0] = float("nan")
metadata = {"framework": "pt", "step": "1200", "text": "\u03b1\u03b2"}
save_file(tensors, path, metadata=metadata)
print(json.dumps({"tensors": {k: describe(v) for k, v in tensors.items()}, "metadata": metadata}))
)PY",
                              "'" + path + "'");
  if (r.status == semsec::testing::kPythonSkip) GTEST_SKIP() << r.out;
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json out = last_json_line(r.out);
  const semsec::SafetensorsFile file = semsec::read_safetensors(path);
  expect_described(out["tensors"], file.tensors);
  EXPECT_EQ(file.metadata, (out["metadata"].get<std::map<std::string, std::string>>()));
  EXPECT_EQ(file.metadata.at("text"), "\xce\xb1\xce\xb2");
}
