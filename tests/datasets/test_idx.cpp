// IDX reader/writer: round trips raw and gzip, and one clear error per kind of damage.
#include <gtest/gtest.h>
#include <zlib.h>

#include "core/fs.h"
#include "datasets/idx.h"
#include "kernels/philox.h"
#include "tests/test_util.h"

namespace semsec::data {
namespace {

using testing::expect_error;

class DataIdx : public testing::TempDirTest {};

std::vector<uint8_t> pattern_bytes(size_t n, uint64_t seed) {
  std::vector<uint8_t> out(n);
  const rng::Key key = rng::make_key(seed);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(rng::draw(key, 99, 0, static_cast<uint32_t>(i), 0).v[0]);
  return out;
}

// Header bytes of an unsigned-byte IDX file with `dims`, followed by `data_bytes` zeros.
std::vector<uint8_t> raw_idx(std::vector<uint32_t> dims, size_t data_bytes, uint8_t type = 0x08) {
  std::vector<uint8_t> out{0, 0, type, static_cast<uint8_t>(dims.size())};
  for (const uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(d >> s));
  }
  out.resize(out.size() + data_bytes, 0);
  return out;
}

std::vector<uint8_t> gzip_buffer(const std::vector<uint8_t>& in) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<uint8_t> out(deflateBound(&zs, in.size()) + 64);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST_F(DataIdx, RoundTripRawAndGzip) {
  const std::vector<int64_t> dims{7, 28, 28};
  const std::vector<uint8_t> data = pattern_bytes(7 * 28 * 28, 5);
  for (const bool gzip : {false, true}) {
    const std::string p = path(gzip ? "img.gz" : "img");
    write_idx(p, dims, data, gzip);
    const std::vector<uint8_t> bytes = read_bytes(gzip ? "img.gz" : "img");
    ASSERT_GE(bytes.size(), 4u);
    if (gzip) {
      EXPECT_EQ(bytes[0], 0x1f);
      EXPECT_EQ(bytes[1], 0x8b);
    } else {
      std::vector<uint8_t> expected = raw_idx({7, 28, 28}, 0);
      expected.insert(expected.end(), data.begin(), data.end());
      EXPECT_EQ(bytes, expected);
      EXPECT_EQ(bytes[2], 0x08);
      EXPECT_EQ(bytes[3], 3);
    }
    const IdxArray back = read_idx(p);
    EXPECT_EQ(back.dims, dims);
    EXPECT_EQ(back.data, data);
  }
  // Labels: 1-D; the format is detected from the content, not the name.
  const std::vector<uint8_t> labels{0, 9, 3, 3, 255};
  write_idx(path("labels.bin"), {5}, labels, true);
  const IdxArray back = read_idx(path("labels.bin"));
  EXPECT_EQ(back.dims, std::vector<int64_t>{5});
  EXPECT_EQ(back.data, labels);
}

TEST_F(DataIdx, ConcatenatedGzipMembersReadAsOne) {
  const std::vector<uint8_t> file = raw_idx({4}, 0);
  std::vector<uint8_t> a(file.begin(), file.begin() + 6), b(file.begin() + 6, file.end());
  b.insert(b.end(), {1, 2, 3, 4});
  std::vector<uint8_t> gz = gzip_buffer(a);
  const std::vector<uint8_t> gz_b = gzip_buffer(b);
  gz.insert(gz.end(), gz_b.begin(), gz_b.end());
  write_bytes("multi.gz", gz);
  const IdxArray back = read_idx(path("multi.gz"));
  EXPECT_EQ(back.dims, std::vector<int64_t>{4});
  EXPECT_EQ(back.data, (std::vector<uint8_t>{1, 2, 3, 4}));
}

TEST_F(DataIdx, WriteReplacesAtomicallyAndLeavesNoTemporaryFiles) {
  write_idx(path("x"), {3}, {1, 2, 3}, false);
  write_idx(path("x"), {2, 2}, {4, 5, 6, 7}, true);
  const IdxArray back = read_idx(path("x"));
  EXPECT_EQ(back.dims, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(fs::list_dir(dir_), std::vector<std::string>{"x"});
}

TEST_F(DataIdx, WriteRejectsInconsistentArguments) {
  expect_error(
      [&] {
        write_idx(path("w"), {2, 3}, std::vector<uint8_t>(5), false);
      },
      {path("w"), "2x3", "6 bytes", "5 were given"});
  expect_error([&] { write_idx(path("w"), {0, 3}, {}, false); }, {path("w"), "dimension 0 is 0"});
  expect_error([&] { write_idx(path("w"), {}, {}, false); }, {path("w"), "0 dimensions"});
  // Missing parent directories are created, as for every semsec output; a parent that is a
  // regular file cannot be, and the error names the target.
  write_idx(path("new_dir/w"), {1}, {1}, false);
  EXPECT_EQ(read_idx(path("new_dir/w")).data, std::vector<uint8_t>{1});
  write_idx(path("file"), {1}, {1}, false);
  expect_error([&] { write_idx(path("file/w"), {1}, {1}, false); }, {path("file/w"), "cannot create directory"});
}

TEST_F(DataIdx, MissingFile) {
  expect_error([&] { read_idx(path("absent-idx3-ubyte")); }, {path("absent-idx3-ubyte"), "No such file or directory"});
  expect_error([&] { read_idx(dir_); }, {dir_, "directory"});
}

TEST_F(DataIdx, BadMagicPrintsBytesAndExpectation) {
  std::vector<uint8_t> bytes{0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0};
  write_bytes("bad", bytes);
  expect_error([&] { read_idx(path("bad")); }, {path("bad"), "0x12345678", "12 34 56 78", "0x00000803", "0x00000801"});
  write_bytes("short", {0, 0});
  expect_error([&] { read_idx(path("short")); }, {path("short"), "2 bytes", "0x00000803"});
  write_bytes("nodims", {0, 0, 8, 0});
  expect_error([&] { read_idx(path("nodims")); }, {path("nodims"), "0x00000800", "0 dimensions"});
}

TEST_F(DataIdx, UnsupportedTypeCode) {
  write_bytes("float", raw_idx({2, 2}, 16, 0x0D));
  expect_error([&] { read_idx(path("float")); }, {path("float"), "type code 0x0D", "float32", "0x08"});
  write_bytes("weird", raw_idx({2}, 2, 0x42));
  expect_error([&] { read_idx(path("weird")); }, {path("weird"), "0x42"});
}

TEST_F(DataIdx, ZeroAndAbsurdDimensions) {
  write_bytes("zero", raw_idx({10, 0, 28}, 0));
  expect_error([&] { read_idx(path("zero")); }, {path("zero"), "dimension 1 of 3 is 0"});
  write_bytes("huge", raw_idx({0xFFFFFFFFu, 0xFFFFFFFFu, 28}, 16));
  expect_error([&] { read_idx(path("huge")); }, {path("huge"), "absurd", "4294967295x4294967295"});
  std::vector<uint8_t> cut = raw_idx({10, 28, 28}, 0);
  cut.resize(10);
  write_bytes("cut_header", cut);
  expect_error([&] { read_idx(path("cut_header")); },
               {path("cut_header"), "truncated header", "16 header bytes", "has 10"});
}

TEST_F(DataIdx, TruncatedAndTrailingData) {
  write_bytes("trunc", raw_idx({10, 28, 28}, 7000));
  expect_error([&] { read_idx(path("trunc")); }, {path("trunc"), "truncated", "10x28x28", "7840", "7000"});
  write_bytes("trail", raw_idx({10, 28, 28}, 7845));
  expect_error([&] { read_idx(path("trail")); }, {path("trail"), "5 trailing bytes", "7840", "7845"});
  // The same checks apply to the decompressed content of a .gz file.
  write_bytes("trunc.gz", gzip_buffer(raw_idx({100}, 99)));
  expect_error([&] { read_idx(path("trunc.gz")); }, {path("trunc.gz"), "truncated data", "100", "99"});
}

TEST_F(DataIdx, CorruptGzip) {
  const std::vector<uint8_t> good = gzip_buffer(raw_idx({50, 28, 28}, 0));
  // Truncated compressed stream.
  write_bytes("cut.gz", std::vector<uint8_t>(good.begin(), good.begin() + static_cast<long>(good.size() / 2)));
  expect_error([&] { read_idx(path("cut.gz")); }, {path("cut.gz"), "corrupt gzip", "ends early"});
  // Damaged payload: the deflate data or the CRC no longer checks out.
  std::vector<uint8_t> flipped = good;
  for (size_t i = 12; i < flipped.size() - 8; i += 7) flipped[i] ^= 0x5A;
  write_bytes("flip.gz", flipped);
  expect_error([&] { read_idx(path("flip.gz")); }, {path("flip.gz"), "corrupt gzip"});
  // Wrong CRC only.
  std::vector<uint8_t> crc = good;
  crc[crc.size() - 8] ^= 0xFF;
  write_bytes("crc.gz", crc);
  expect_error([&] { read_idx(path("crc.gz")); }, {path("crc.gz"), "corrupt gzip", "incorrect data check"});
  // Garbage after the stream.
  std::vector<uint8_t> tail = good;
  tail.insert(tail.end(), {1, 2, 3});
  write_bytes("tail.gz", tail);
  expect_error([&] { read_idx(path("tail.gz")); }, {path("tail.gz"), "corrupt gzip", "3 trailing bytes"});
}

}  // namespace
}  // namespace semsec::data
