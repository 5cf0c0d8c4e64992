// fuzz_idx: the IDX reader, raw and gzip-compressed.
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "core/errors.h"
#include "datasets/idx.h"
#include "tests/fuzz/harness.h"

namespace semsec::fuzz {
namespace {

// A valid gzip stream of `in` (the harness's inputs are small: one deflate call).
std::vector<uint8_t> gzip(const uint8_t* in, size_t size) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("fuzz_idx: deflateInit2 failed");
  std::vector<uint8_t> out(deflateBound(&zs, static_cast<uLong>(size)) + 64);
  zs.next_in = const_cast<Bytef*>(in);
  zs.avail_in = static_cast<uInt>(size);
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int ret = deflate(&zs, Z_FINISH);
  const size_t n = zs.total_out;
  deflateEnd(&zs);
  if (ret != Z_STREAM_END) throw std::runtime_error("fuzz_idx: deflate failed");
  out.resize(n);
  return out;
}

}  // namespace

int fuzz_idx_one(const uint8_t* data, size_t size) {
  g_last_accepted = false;
  if (size == 0) return 0;
  static const std::string raw = scratch_path("images-idx3-ubyte");
  static const std::string gz = scratch_path("images-idx3-ubyte.gz");
  const uint8_t mode = data[0];
  const uint8_t* rest = data + 1;
  const size_t n = size - 1;
  std::string path = gz;
  if ((mode & 1) == 0) {
    path = raw;
    write_bytes(raw, rest, n);
  } else if (mode & 2) {
    const std::vector<uint8_t> z = gzip(rest, n);
    write_bytes(gz, z.data(), z.size());
  } else {
    write_bytes(gz, rest, n);
  }
  try {
    const data::IdxArray a = data::read_idx(path);
    uint64_t total = 1;
    for (const int64_t d : a.dims) total *= static_cast<uint64_t>(d);
    if (a.dims.empty() || total != a.data.size()) {
      std::fprintf(stderr, "fuzz_idx: %zu dimensions of product %llu but %zu data bytes\n", a.dims.size(),
                   static_cast<unsigned long long>(total), a.data.size());
      std::abort();
    }
    g_last_accepted = true;
  } catch (const semsec::Error& e) {
    rejected(e);
  }
  return 0;
}

}  // namespace semsec::fuzz
