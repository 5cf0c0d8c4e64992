// Shared by the safetensors tests (test_safetensors.cpp, test_safetensors_corrupt.cpp): hex dumps,
// the raw bytes of a tensor, deterministic test values, and splitting a file into header and data.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace semsec::safetensors_test {

inline std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (unsigned char c : bytes) {
    s += digits[c >> 4];
    s += digits[c & 15];
  }
  return s;
}

// The raw little-endian bytes of a tensor, as safetensors stores them.
inline std::string tensor_bytes(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.nbytes());
}

// Deterministic, varied values (no randomness needed: exact bytes are compared).
inline torch::Tensor wave(std::vector<int64_t> shape, double scale) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return torch::sin(torch::arange(n, torch::kFloat64) * 0.731 + 0.2).mul(scale).reshape(shape);
}

struct Parts {
  std::string header;  // JSON text, padding included
  std::string data;
};

inline Parts split(const std::string& bytes) {
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  return {bytes.substr(8, n), bytes.substr(8 + n)};
}

inline std::string assemble(std::string header, const std::string& data) {
  header.append((8 - header.size() % 8) % 8, ' ');
  const uint64_t n = header.size();
  std::string out(reinterpret_cast<const char*>(&n), 8);
  return out + header + data;
}

}  // namespace semsec::safetensors_test
