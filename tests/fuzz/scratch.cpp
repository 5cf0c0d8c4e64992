// The scratch directory the harnesses write their inputs to.
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "tests/fuzz/harness.h"

namespace semsec::fuzz {
namespace {

std::string make_scratch_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/semsec_fuzz_XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr)
    throw std::runtime_error("fuzz: mkdtemp failed for " + tmpl + ": " + std::strerror(errno));
  return tmpl;
}

const std::string* g_scratch = nullptr;

void remove_scratch() {
  if (g_scratch == nullptr) return;
  ::nftw(
      g_scratch->c_str(), [](const char* p, const struct stat*, int, FTW*) { return ::remove(p); }, 16,
      FTW_DEPTH | FTW_PHYS);
}

}  // namespace

bool g_last_accepted = false;

void rejected(const std::exception& e) {
  static const bool verbose = std::getenv("SEMSEC_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "rejected: %s\n", e.what());
}

const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string d = make_scratch_dir();
    return d;
  }();
  if (g_scratch == nullptr) {
    g_scratch = &dir;
    std::atexit(remove_scratch);
  }
  return dir;
}

std::string scratch_path(const std::string& name) { return scratch_dir() + "/" + name; }

const std::string& fake_data_root() {
  static const std::string dir = [] {
    const std::string d = scratch_path("data");
    if (::mkdir(d.c_str(), 0755) != 0) throw std::runtime_error("fuzz: cannot create " + d);
    for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte.gz",
                             "t10k-labels-idx1-ubyte.gz"})
      write_bytes(d + "/" + name, "", 0);
    return d;
  }();
  return dir;
}

std::string yaml_quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

void write_bytes(const std::string& path, const void* data, size_t size) {
  // A new file rather than a truncated one: ext4 flushes a file truncated and rewritten when it is
  // closed (auto_da_alloc), which cost more than most readers' work.
  std::remove(path.c_str());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("fuzz: cannot write " + path + ": " + std::strerror(errno));
  const size_t wrote = size == 0 ? 0 : std::fwrite(data, 1, size, f);
  const bool ok = std::fclose(f) == 0 && wrote == size;
  if (!ok) throw std::runtime_error("fuzz: cannot write " + path);
}

}  // namespace semsec::fuzz
