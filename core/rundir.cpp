// Run directories and atomic file output.
#include "core/rundir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "core/fs.h"

namespace semsec {

void write_file_atomic(const std::string& path, std::string_view content) {
  const std::string up = fs::parent(path);
  if (!up.empty()) {
    const std::string err = fs::create_directories(up);
    if (!err.empty()) fail("{}: cannot create directory {}: {}", path, up, err);
  }
  // The temporary file sits beside the target (rename is atomic only within one file system)
  // under a unique name, so concurrent writers never share it.
  std::string name = ".";
  name += fs::basename(path);
  name += ".tmp.XXXXXX";
  std::string tmp = fs::join(up.empty() ? "." : up, name);
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) fail("{}: cannot create a temporary file beside it: {}", path, std::strerror(errno));
  auto abandon = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    fail("{}: {} failed: {}", path, what, std::strerror(err));
  };
  constexpr size_t kChunk = size_t{1} << 30;  // write(2) moves at most about 2 GiB per call
  for (size_t done = 0; done < content.size();) {
    const ssize_t w = ::write(fd, content.data() + done, std::min(content.size() - done, kChunk));
    if (w < 0) {
      if (errno == EINTR) continue;
      abandon("write (disk full?)");
    }
    done += static_cast<size_t>(w);
  }
  if (::fchmod(fd, 0644) != 0) abandon("fchmod");
  if (::fsync(fd) != 0) abandon("fsync");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("{}: close failed: {}", path, std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("{}: cannot rename {} into place: {}", path, tmp, std::strerror(err));
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
