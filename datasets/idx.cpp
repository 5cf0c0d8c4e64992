// IDX reader/writer: whole-file reads, gzip through zlib's inflate so that corrupt
// and truncated streams are reported instead of silently yielding short data.
#include "datasets/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/errors.h"
#include "core/fs.h"
#include "core/rundir.h"

namespace semsec::data {
namespace {

// Far above any image set semsec trains on; a header beyond it is garbage, and the
// cap keeps the element count from overflowing before the size checks.
constexpr uint64_t kMaxIdxBytes = uint64_t{1} << 34;
// zlib counts in uInt: feed it at most this much per call.
constexpr size_t kZlibChunk = size_t{1} << 30;
constexpr const char* kExpectedMagic = "expected 0x00000803 for images or 0x00000801 for labels";

std::string join_dims(const std::vector<int64_t>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += 'x';
    s += std::to_string(dims[i]);
  }
  return s;
}

uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void append_be32(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v >> 24));
  out.push_back(static_cast<uint8_t>(v >> 16));
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

const char* type_name(uint8_t code) {
  switch (code) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0B:
      return "int16";
    case 0x0C:
      return "int32";
    case 0x0D:
      return "float32";
    case 0x0E:
      return "float64";
    default:
      return "not an IDX type";
  }
}

std::vector<uint8_t> read_file(const std::string& path) {
  if (fs::is_directory(path)) fail("IDX file '{}': is a directory, expected a file", path);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail("cannot open IDX file '{}': {}", path, std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof(buf), f)) > 0) bytes.insert(bytes.end(), buf, buf + got);
  const bool failed = std::ferror(f);
  const int err = errno;
  std::fclose(f);
  if (failed) fail("cannot read IDX file '{}': {}", path, std::strerror(err));
  return bytes;
}

struct InflateGuard {
  z_stream* zs;
  ~InflateGuard() { inflateEnd(zs); }
};

// Inflates every gzip member of `in`; anything after the last member that is not
// another member is an error, as is a stream that ends early.
std::vector<uint8_t> gunzip(const std::string& path, const std::vector<uint8_t>& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) fail("IDX file '{}': cannot initialise zlib", path);
  InflateGuard guard{&zs};

  // The gzip trailer holds the uncompressed size mod 2^32: a good first guess, capped
  // by deflate's largest expansion (~1032:1) so a damaged trailer cannot make us
  // allocate gigabytes for a small file.
  size_t hint = 1 << 16;
  if (in.size() >= 18) {
    const uint8_t* t = in.data() + in.size() - 4;
    const size_t isize = uint32_t{t[0]} | (uint32_t{t[1]} << 8) | (uint32_t{t[2]} << 16) | (uint32_t{t[3]} << 24);
    hint = std::clamp<size_t>(isize, 1 << 16, std::min(kZlibChunk, in.size() * 1032 + (1 << 16)));
  }
  std::vector<uint8_t> out(hint);
  size_t in_pos = 0, out_pos = 0;
  for (;;) {
    if (zs.avail_in == 0 && in_pos < in.size()) {
      const size_t n = std::min(kZlibChunk, in.size() - in_pos);
      zs.next_in = const_cast<Bytef*>(in.data() + in_pos);
      zs.avail_in = static_cast<uInt>(n);
      in_pos += n;
    }
    if (out_pos == out.size()) {
      if (out.size() >= kMaxIdxBytes) fail("IDX file '{}': gzip content exceeds {} bytes", path, kMaxIdxBytes);
      out.resize(out.size() * 2);
    }
    const size_t room = std::min(kZlibChunk, out.size() - out_pos);
    zs.next_out = out.data() + out_pos;
    zs.avail_out = static_cast<uInt>(room);
    const int ret = inflate(&zs, Z_NO_FLUSH);
    out_pos += room - zs.avail_out;
    if (ret == Z_STREAM_END) {
      const size_t consumed = in_pos - zs.avail_in;
      const size_t remaining = in.size() - consumed;
      if (remaining == 0) break;
      if (remaining >= 2 && in[consumed] == 0x1f && in[consumed + 1] == 0x8b) {
        inflateReset(&zs);  // concatenated gzip members decode as one stream
        continue;
      }
      fail("IDX file '{}': corrupt gzip: {} trailing bytes after the end of the compressed stream", path, remaining);
    }
    if (ret == Z_OK) continue;
    if (ret == Z_BUF_ERROR) {
      if (zs.avail_in == 0 && in_pos == in.size())
        fail("IDX file '{}': corrupt gzip: the compressed stream ends early (truncated .gz, {} compressed bytes)", path,
             in.size());
      continue;  // output buffer full: grown above
    }
    fail("IDX file '{}': corrupt gzip: {} (zlib code {})", path, zs.msg ? zs.msg : "unknown error", ret);
  }
  out.resize(out_pos);
  return out;
}

IdxArray parse_idx(const std::string& path, const std::vector<uint8_t>& bytes) {
  const size_t n = bytes.size();
  if (n < 4) fail("IDX file '{}': {} bytes, too short for the 4-byte magic number ({})", path, n, kExpectedMagic);
  const uint8_t* p = bytes.data();
  const uint32_t magic = read_be32(p);
  if (p[0] != 0 || p[1] != 0)
    fail("IDX file '{}': bad magic number 0x{:08X} (bytes {:02x} {:02x} {:02x} {:02x}); {}", path, magic, p[0], p[1],
         p[2], p[3], kExpectedMagic);
  const uint8_t type = p[2];
  if (type != kIdxUnsignedByte)
    fail(
        "IDX file '{}': unsupported element type code 0x{:02X} ({}) in magic 0x{:08X}; only unsigned bytes (0x08) "
        "are supported, {}",
        path, type, type_name(type), magic, kExpectedMagic);
  const size_t ndim = p[3];
  if (ndim == 0) fail("IDX file '{}': magic 0x{:08X} declares 0 dimensions; {}", path, magic, kExpectedMagic);
  const size_t header = 4 + 4 * ndim;
  if (n < header)
    fail("IDX file '{}': truncated header: {} dimensions need {} header bytes but the file has {}", path, ndim, header,
         n);

  IdxArray out;
  out.dims.resize(ndim);
  uint64_t total = 1;
  for (size_t d = 0; d < ndim; ++d) {
    const uint32_t size = read_be32(p + 4 + 4 * d);
    out.dims[d] = size;
    if (size == 0) fail("IDX file '{}': dimension {} of {} is 0; every dimension must be positive", path, d, ndim);
    total *= size;
    if (total > kMaxIdxBytes)
      fail("IDX file '{}': absurd header: dimensions {} exceed the limit of {} bytes", path,
           join_dims(std::vector<int64_t>(out.dims.begin(), out.dims.begin() + d + 1)), kMaxIdxBytes);
  }
  const size_t found = n - header;
  if (found < total)
    fail("IDX file '{}': truncated data: dimensions {} need {} data bytes but only {} follow the header", path,
         join_dims(out.dims), total, found);
  if (found > total)
    fail("IDX file '{}': {} trailing bytes: dimensions {} need {} data bytes but {} follow the header", path,
         found - total, join_dims(out.dims), total, found);
  out.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return out;
}

std::vector<uint8_t> gzip_bytes(const std::string& path, const std::vector<uint8_t>& in) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    fail("write_idx '{}': cannot initialise zlib", path);
  std::vector<uint8_t> out(deflateBound(&zs, static_cast<uLong>(std::min(in.size(), kZlibChunk))) + 64);
  size_t in_pos = 0, out_pos = 0;
  int ret = Z_OK;
  while (ret != Z_STREAM_END) {
    if (zs.avail_in == 0 && in_pos < in.size()) {
      const size_t n = std::min(kZlibChunk, in.size() - in_pos);
      zs.next_in = const_cast<Bytef*>(in.data() + in_pos);
      zs.avail_in = static_cast<uInt>(n);
      in_pos += n;
    }
    if (out_pos == out.size()) out.resize(out.size() * 2);
    const size_t room = std::min(kZlibChunk, out.size() - out_pos);
    zs.next_out = out.data() + out_pos;
    zs.avail_out = static_cast<uInt>(room);
    const int flush = (in_pos == in.size() && zs.avail_in == 0) ? Z_FINISH : Z_NO_FLUSH;
    ret = deflate(&zs, flush);
    out_pos += room - zs.avail_out;
    if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
      deflateEnd(&zs);
      fail("write_idx '{}': zlib deflate failed (code {})", path, ret);
    }
  }
  deflateEnd(&zs);
  out.resize(out_pos);
  return out;
}

}  // namespace

IdxArray read_idx(const std::string& path) {
  std::vector<uint8_t> bytes = read_file(path);
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) bytes = gunzip(path, bytes);
  return parse_idx(path, bytes);
}

void write_idx(const std::string& path, const std::vector<int64_t>& dims, const std::vector<uint8_t>& data, bool gzip) {
  if (dims.empty() || dims.size() > 255)
    fail("write_idx '{}': {} dimensions given; an IDX file holds 1 to 255", path, dims.size());
  uint64_t total = 1;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (dims[d] <= 0 || dims[d] > int64_t{UINT32_MAX})
      fail("write_idx '{}': dimension {} is {}; expected 1 to {}", path, d, dims[d], UINT32_MAX);
    total *= static_cast<uint64_t>(dims[d]);
    if (total > kMaxIdxBytes)
      fail("write_idx '{}': dimensions {} exceed {} bytes", path, join_dims(dims), kMaxIdxBytes);
  }
  if (total != data.size())
    fail("write_idx '{}': dimensions {} need {} bytes but {} were given", path, join_dims(dims), total, data.size());

  std::vector<uint8_t> bytes;
  bytes.reserve(4 + 4 * dims.size() + data.size());
  bytes.insert(bytes.end(), {0, 0, kIdxUnsignedByte, static_cast<uint8_t>(dims.size())});
  for (const int64_t d : dims) append_be32(bytes, static_cast<uint32_t>(d));
  bytes.insert(bytes.end(), data.begin(), data.end());
  const std::vector<uint8_t> out = gzip ? gzip_bytes(path, bytes) : bytes;
  write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(out.data()), out.size()));
}

}  // namespace semsec::data
