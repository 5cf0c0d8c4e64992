// Safetensors round trips, layout checks, torch state dicts, and interoperability with the Python
// safetensors package and torch.load. Rejection of malformed files: test_safetensors_corrupt.cpp.
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
#include "tests/core/safetensors_test_util.h"
#include "tests/test_util.h"

namespace {

using semsec::NamedTensorList;
using Json = nlohmann::ordered_json;

using semsec::safetensors_test::hex;
using semsec::safetensors_test::Parts;
using semsec::safetensors_test::split;
using semsec::safetensors_test::tensor_bytes;
using semsec::safetensors_test::wave;
using semsec::testing::read_bytes;
using semsec::testing::TempDir;

std::string python_dtype(torch::Dtype d) {
  static const std::map<torch::Dtype, std::string> names = {
      {torch::kFloat32, "torch.float32"},   {torch::kFloat64, "torch.float64"}, {torch::kFloat16, "torch.float16"},
      {torch::kBFloat16, "torch.bfloat16"}, {torch::kInt64, "torch.int64"},     {torch::kInt32, "torch.int32"},
      {torch::kInt16, "torch.int16"},       {torch::kInt8, "torch.int8"},       {torch::kUInt8, "torch.uint8"},
      {torch::kBool, "torch.bool"}};
  return names.at(d);
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
  auto rejects = [&](const NamedTensorList& t, const std::string& problem) {
    SCOPED_TRACE(problem);
    semsec::testing::expect_error([&] { semsec::write_safetensors(path, t, {}); }, {path, problem});
  };
  rejects({{"a", torch::ones({1})}, {"a", torch::ones({2})}}, "duplicate tensor name 'a'");
  rejects({{"__metadata__", torch::ones({1})}}, "reserved");
  rejects({{"z", torch::ones({2}, torch::kComplexFloat)}}, "does not support");
  rejects({{"u", torch::Tensor()}}, "undefined");
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << "nothing written on error";
}

TEST(Safetensors, GpuTensorsAreWrittenFromTheHost) {
  SEMSEC_SKIP_WITHOUT_CUDA();
  TempDir dir;
  const std::string path = dir.file("gpu.safetensors");
  const torch::Tensor t = wave({3, 5}, 2.0).to(torch::kFloat32).to(torch::kCUDA);
  semsec::write_safetensors(path, {{"g", t}}, {});
  const semsec::SafetensorsFile file = semsec::read_safetensors(path);
  EXPECT_TRUE(torch::equal(file.tensors.at(0).second, t.cpu()));
}

TEST(TensorLayout, MatchesAndMismatches) {
  const NamedTensorList found = {{"w", torch::zeros({4, 3})}, {"b", torch::zeros({4})}, {"s", torch::zeros({})}};
  EXPECT_NO_THROW(semsec::check_tensor_layout("ok.safetensors", found, {{"b", {4}}, {"w", {4, 3}}, {"s", {}}}));

  const std::string m = semsec::testing::expect_error(
      [&] {
        semsec::check_tensor_layout("runs/x/model.safetensors", found, {{"w", {3, 4}}, {"b", {4}}, {"gain", {1}}});
      },
      {"runs/x/model.safetensors", "3 problems", "tensor 'w' has shape [4, 3], expected [3, 4]",
       "tensor 'gain' is missing (expected shape [1])", "unexpected tensor 's' (shape [])"});
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
  semsec::testing::expect_error(
      [&] {
        semsec::write_torch_state_dict(path, {{"a", torch::ones({1})}, {"a", torch::ones({1})}});
      },
      {path, "duplicate tensor name 'a'"});
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
  if (r.status == semsec::testing::kPythonSkip) SEMSEC_SKIP_OR_FAIL_IN_CI(r.out);
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
  if (r.status == semsec::testing::kPythonSkip) SEMSEC_SKIP_OR_FAIL_IN_CI(r.out);
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
  if (r.status == semsec::testing::kPythonSkip) SEMSEC_SKIP_OR_FAIL_IN_CI(r.out);
  ASSERT_EQ(r.status, 0) << r.out;
  const nlohmann::json out = last_json_line(r.out);
  const semsec::SafetensorsFile file = semsec::read_safetensors(path);
  expect_described(out["tensors"], file.tensors);
  EXPECT_EQ(file.metadata, (out["metadata"].get<std::map<std::string, std::string>>()));
  EXPECT_EQ(file.metadata.at("text"), "\xce\xb1\xce\xb2");
}
