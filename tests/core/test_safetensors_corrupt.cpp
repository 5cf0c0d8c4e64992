// Safetensors reading rejects every kind of malformed file with a semsec::Error that names the file
// and the problem: a valid file cut short, its length prefix or JSON header edited, its data changed.

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

using Json = nlohmann::ordered_json;

using semsec::safetensors_test::assemble;
using semsec::safetensors_test::Parts;
using semsec::safetensors_test::split;
using semsec::safetensors_test::wave;
using semsec::testing::read_bytes;
using semsec::testing::TempDir;
using semsec::testing::write_bytes;

// --- surgical corruption of a valid file -------------------------------------------------

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

}  // namespace

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
  expect_rejected(error_with_header([](Json& h) {
                    h["a"]["shape"] = {-2, -3};
                  }),
                  "tensor 'a': shape[0] is negative (-2)");
  expect_rejected(error_with_header([](Json& h) { h["b"]["shape"][0] = -2; }), "tensor 'b': shape[0] is negative");
}

TEST_F(SafetensorsCorrupt, NonIntegerShape) {
  expect_rejected(error_with_header([](Json& h) {
                    h["a"]["shape"] = {2, 3.0};
                  }),
                  "tensor 'a': shape[1] is not an integer (3.0)");
  expect_rejected(error_with_header([](Json& h) {
                    h["a"]["shape"] = {"2", 3};
                  }),
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
  expect_rejected(error_with_header([](Json& h) {
                    h["a"]["data_offsets"] = {24, 0};
                  }),
                  "tensor 'a': data_offsets end 0 is before begin 24");
}

TEST_F(SafetensorsCorrupt, SpanDoesNotMatchShape) {
  expect_rejected(error_with_header([](Json& h) {
                    h["a"]["data_offsets"] = {0, 20};
                  }),
                  "tensor 'a': data_offsets [0, 20] span 20 bytes, but shape [2, 3] of F32 needs 24");
  expect_rejected(error_with_header([](Json& h) { h["b"]["dtype"] = "I32"; }),
                  "span 16 bytes, but shape [2] of I32 needs 8");
}

TEST_F(SafetensorsCorrupt, OffsetsBeyondDataSection) {
  expect_rejected(error_with_header([](Json& h) {
                    h["c"]["data_offsets"] = {41, 44};
                  }),
                  "tensor 'c': data_offsets [41, 44] reach beyond the end of the data section (43 bytes)");
  // Also when the span is right but the file was cut short.
  expect_rejected(error_for(assemble(parts_.header, parts_.data.substr(0, 42))), "beyond the end of the data section");
}

TEST_F(SafetensorsCorrupt, OverlappingTensors) {
  expect_rejected(error_with_header([](Json& h) {
                    h["b"]["data_offsets"] = {16, 32};
                  }),
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
