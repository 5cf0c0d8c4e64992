// Run directories and atomic file output: nothing a user sees is ever half-written.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace semsec {

// Writes `content` to `path` (creating missing parent directories) through a uniquely named
// temporary file in the same directory, fsynced and then renamed over `path`: readers, a killed
// process and a crashed machine all see either the old file or the complete new one. On failure
// the temporary file is removed and semsec::Error names `path` and the reason.
void write_file_atomic(const std::string& path, std::string_view content);

// Appends `content` to `path` (created if missing) and fsyncs it: for logs that grow (metrics.csv),
// where rewriting the whole file each time would cost the square of the run's length. A failure
// (semsec::Error naming `path`) may leave part of `content` at the end; readers of such a file
// drop an unterminated last line. SEMSEC_TEST_FAIL_WRITES applies as to write_file_atomic.
void append_file_durable(const std::string& path, std::string_view content);

// Reads a whole file; semsec::Error naming the file if it cannot.
std::string read_file(const std::string& path);

// The run directory a new run uses: `out` when given, else runs/<experiment>/<YYYYmmdd-HHMMSS>[-N]
// (a fresh, unused name). Creates nothing: RunDirGuard does.
std::string choose_run_dir(const std::string& out, const std::string& experiment);

// An exclusive lock on an existing directory for the lifetime of the object: flock on
// DIR/.semsec.lock, which records the holder's pid; a second process gets semsec::Error naming that
// pid. The lock goes with the process, however it ends.
class DirLock {
 public:
  explicit DirLock(std::string dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  std::string dir_;
  int fd_ = -1;
};

// The directory of a new run: `out` (or runs/<name>/<time>); refuses a directory that already
// holds `marker` (a finished or interrupted result) so nothing a user finished is overwritten,
// with `resume_hint` before "choose another directory". Creates nothing (RunDirGuard does).
std::string new_run_dir(const std::string& out, const std::string& marker, const std::string& name,
                        const std::string& resume_hint);

// One command's hold on its run directory, taken after the configuration and the command line
// have been validated and before anything is written there:
//   - creates the directory (parents included) when it is missing;
//   - locks it (flock on DIR/.semsec.lock, which records the holder's pid): a second semsec
//     process on the same directory gets semsec::Error naming that pid, and the lock goes with
//     the process, however it ends;
//   - when the command fails (an exception leaves the scope of the guard) before the run saved
//     anything resumable (a checkpoint *.pt / *.ckpt anywhere below it), it removes what this
//     command added: every entry that was not there before, and the directory itself (and the
//     parents it created) if this command made it. A directory with a checkpoint is kept whole,
//     for --resume.
class RunDirGuard {
 public:
  explicit RunDirGuard(std::string dir);
  ~RunDirGuard();
  RunDirGuard(const RunDirGuard&) = delete;
  RunDirGuard& operator=(const RunDirGuard&) = delete;
  const std::string& path() const { return dir_; }

 private:
  void clean_up() const;
  std::string dir_;
  std::vector<std::string> created_;  // directories this guard made, outermost first
  std::vector<std::string> before_;   // entries of dir_ before this command
  std::optional<DirLock> lock_;
  int uncaught_ = 0;
};

// True when a file named *.pt or *.ckpt exists anywhere below `dir`.
bool holds_checkpoint(const std::string& dir);

// A CSV file written atomically on close(): header first, then rows.
class CsvWriter {
 public:
  CsvWriter(std::string path, std::string header);
  void row(const std::string& line);
  void close();  // writes everything to `path` atomically
  ~CsvWriter();

 private:
  std::string path_;
  std::string content_;
  bool closed_ = false;
};

}  // namespace semsec
