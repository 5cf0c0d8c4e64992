// Run directories and atomic file output.
#include "core/rundir.h"

#include <cerrno>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "core/errors.h"
#include "core/fs.h"

namespace semsec {

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string dir = fs::parent(path);
  if (!dir.empty()) {
    const std::string err = fs::create_directories(dir);
    if (!err.empty()) fail("{}: cannot create directory {}: {}", path, dir, err);
  }
  const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("{}: cannot open for writing", tmp);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      fail("{}: write failed (disk full?)", tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    std::remove(tmp.c_str());
    fail("{}: cannot rename {} into place: {}", path, tmp, err);
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open file", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string make_run_dir(const std::string& out, const std::string& experiment) {
  std::string dir;
  if (!out.empty()) {
    dir = out;
  } else {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    localtime_r(&now, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    dir = fs::join(fs::join("runs", experiment), stamp);
    for (int n = 1; fs::exists(dir); ++n) dir = fs::join(fs::join("runs", experiment), fmt::format("{}-{}", stamp, n));
  }
  const std::string err = fs::create_directories(dir);
  if (!err.empty()) fail("--out {}: cannot create run directory: {}", dir, err);
  return dir;
}

CsvWriter::CsvWriter(std::string path, std::string header) : path_(std::move(path)), content_(std::move(header)) {
  content_ += '\n';
}

void CsvWriter::row(const std::string& line) {
  content_ += line;
  content_ += '\n';
}

void CsvWriter::close() {
  if (closed_) return;
  write_file_atomic(path_, content_);
  closed_ = true;
}

// A writer destroyed without close() (an exception unwound past it) leaves no file behind.
CsvWriter::~CsvWriter() = default;

}  // namespace semsec
