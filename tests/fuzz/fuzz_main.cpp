// The libFuzzer entry of one harness (SEMSEC_FUZZ_ENTRY, set per executable by CMake).
#include "tests/fuzz/harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return semsec::fuzz::SEMSEC_FUZZ_ENTRY(data, size);
}
