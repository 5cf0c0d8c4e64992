// CRC-32C (Castagnoli), the checksum of TFRecord framing and of our own file
// integrity checks, plus TFRecord's "masked" form of it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace semsec {

// Extends `crc` (the value a previous call returned, 0 to start) over `data`,
// so crc32c(b, nb, crc32c(a, na)) == crc32c(a ++ b). Uses SSE4.2 when the CPU has it.
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

// TFRecord stores CRCs rotated and offset so that a CRC over data that itself
// contains CRCs does not degenerate.
uint32_t masked_crc32c(const void* data, size_t n);

namespace detail {
// Both implementations are exposed so tests can check them against each other.
uint32_t crc32c_portable(const void* data, size_t n, uint32_t crc);
uint32_t crc32c_hardware(const void* data, size_t n, uint32_t crc);  // only if crc32c_hardware_available()
bool crc32c_hardware_available();
}  // namespace detail

}  // namespace semsec
