// Run directories and atomic file output.
#include "core/rundir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "core/fs.h"
#include "core/progress.h"

namespace semsec {

namespace {

// Test hook for storage faults: with SEMSEC_TEST_FAIL_WRITES=TEXT[@N] in the environment, the N-th
// (default: first) and every later write to a path that contains TEXT fails half-way with ENOSPC,
// as on a full disk, through the same clean-up as a real failure.
bool injected_write_failure(const std::string& path) {
  const char* env = std::getenv("SEMSEC_TEST_FAIL_WRITES");
  if (env == nullptr || *env == '\0') return false;
  std::string text = env;
  int64_t from = 1;
  if (const size_t at = text.rfind('@'); at != std::string::npos) {
    from = std::atoll(text.c_str() + at + 1);
    text.resize(at);
  }
  if (path.find(text) == std::string::npos) return false;
  static int64_t seen = 0;
  return ++seen >= from;
}

}  // namespace

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
  const bool inject = injected_write_failure(path);
  for (size_t done = 0; done < content.size() || inject;) {
    if (inject && done >= content.size() / 2) {
      errno = ENOSPC;
      abandon("write (disk full?)");
    }
    const size_t want = std::min(content.size() - done, kChunk);
    const ssize_t w = ::write(fd, content.data() + done, inject ? std::min(want, content.size() / 2 - done) : want);
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

void append_file_durable(const std::string& path, std::string_view content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) fail("{}: cannot open for appending: {}", path, std::strerror(errno));
  const bool inject = injected_write_failure(path);
  const size_t limit = inject ? content.size() / 2 : content.size();
  for (size_t done = 0; done < limit || inject;) {
    if (inject && done >= limit) {
      ::close(fd);
      fail("{}: append (disk full?) failed: {}", path, std::strerror(ENOSPC));
    }
    const ssize_t w = ::write(fd, content.data() + done, limit - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      fail("{}: append (disk full?) failed: {}", path, std::strerror(err));
    }
    done += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    fail("{}: fsync failed: {}", path, std::strerror(err));
  }
  if (::close(fd) != 0) fail("{}: close failed: {}", path, std::strerror(errno));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open file", path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string choose_run_dir(const std::string& out, const std::string& experiment) {
  if (!out.empty()) return out;
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  std::string dir = fs::join(fs::join("runs", experiment), stamp);
  for (int n = 1; fs::exists(dir); ++n) dir = fs::join(fs::join("runs", experiment), fmt::format("{}-{}", stamp, n));
  return dir;
}

std::string new_run_dir(const std::string& out, const std::string& marker, const std::string& name,
                        const std::string& resume_hint) {
  if (!out.empty() && fs::exists(fs::join(out, marker))) {
    fail("--out {}: already holds {}; {}choose another directory", out, marker, resume_hint);
  }
  if (!out.empty() && fs::exists(out) && !fs::is_directory(out)) fail("--out {}: exists and is not a directory", out);
  return choose_run_dir(out, name);
}

bool holds_checkpoint(const std::string& dir) {
  for (const std::string& name : fs::list_dir(dir)) {
    const std::string path = fs::join(dir, name);
    if (fs::is_directory(path)) {
      if (holds_checkpoint(path)) return true;
    } else if (name.ends_with(".pt") || name.ends_with(".ckpt")) {
      return true;
    }
  }
  return false;
}

RunDirGuard::RunDirGuard(std::string dir) : dir_(std::move(dir)), uncaught_(std::uncaught_exceptions()) {
  for (std::string d = dir_; !d.empty() && !fs::exists(d); d = fs::parent(d)) created_.insert(created_.begin(), d);
  before_ = fs::list_dir(dir_);
  const std::string err = fs::create_directories(dir_);
  if (!err.empty()) {
    created_.clear();  // nothing of ours to remove beyond what create_directories made
    fail("{}: cannot create the run directory: {}", dir_, err);
  }
  try {
    lock_.emplace(dir_);
  } catch (...) {
    clean_up();
    throw;
  }
}

DirLock::DirLock(std::string dir) : dir_(std::move(dir)) {
  const std::string lock_path = fs::join(dir_, ".semsec.lock");
  // The holder removes the lock file when it lets go; a process that opened it just before that
  // holds a lock on a file that is no longer there, so it checks and tries again.
  bool locked = false;
  for (int attempt = 0; !locked; ++attempt) {
    fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      const int e = errno;
      fail("{}: cannot open the lock file {}: {}", dir_, lock_path, std::strerror(e));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) break;  // held by someone else
    struct stat held {}, named {};
    locked = ::fstat(fd_, &held) == 0 && ::stat(lock_path.c_str(), &named) == 0 &&
             held.st_ino == named.st_ino && held.st_dev == named.st_dev;
    if (!locked) {
      ::close(fd_);
      fd_ = -1;
      if (attempt == 100) fail("{}: cannot take the lock {}: it keeps being replaced", dir_, lock_path);
    }
  }
  if (!locked) {
    const int e = errno;
    std::string holder = read_file(lock_path);
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (e == EWOULDBLOCK) {
      fail("{}: in use by another semsec process (pid {}); wait for it to finish or choose another directory", dir_,
           holder.empty() ? std::string("unknown") : holder);
    }
    fail("{}: cannot lock {}: {}", dir_, lock_path, std::strerror(e));
  }
  // This process holds the lock: record its pid for the message another process would print.
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    log::info("{}: could not record the pid in the lock file ({})", dir_, std::strerror(errno));
  }
}

DirLock::~DirLock() {
  if (fd_ >= 0) {
    ::unlink(fs::join(dir_, ".semsec.lock").c_str());  // while still held: nobody else owns this name
    ::close(fd_);                                      // releases the flock
  }
}

RunDirGuard::~RunDirGuard() {
  if (std::uncaught_exceptions() > uncaught_) clean_up();
  // lock_ is released after the clean-up, by its own destructor.
}

void RunDirGuard::clean_up() const {
  if (holds_checkpoint(dir_)) return;  // resumable: keep everything
  for (const std::string& name : fs::list_dir(dir_)) {
    if (!std::binary_search(before_.begin(), before_.end(), name)) fs::remove_all(fs::join(dir_, name));
  }
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) ::rmdir(it->c_str());  // only empty ones go
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
