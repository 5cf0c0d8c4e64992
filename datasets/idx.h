// MNIST-style IDX files of unsigned bytes, read and written raw or gzip-compressed
// (the format is detected from the content, not the file name).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace semsec::data {

// IDX type code of unsigned bytes, the only element type semsec reads.
inline constexpr uint8_t kIdxUnsignedByte = 0x08;

struct IdxArray {
  std::vector<int64_t> dims;  // e.g. [N, rows, cols] for images, [N] for labels
  std::vector<uint8_t> data;  // row-major, product(dims) bytes
};

// Reads an IDX file of type 0x08. Throws semsec::Error naming the file for a
// missing file, bad magic, another type code, zero or absurd dimensions, truncated
// or trailing data, and corrupt gzip streams.
IdxArray read_idx(const std::string& path);

// Writes an IDX file of type 0x08, gzip-compressed when `gzip`. The file appears
// atomically: it is written to a temporary file in the same directory and renamed.
void write_idx(const std::string& path, const std::vector<int64_t>& dims, const std::vector<uint8_t>& data, bool gzip);

}  // namespace semsec::data
