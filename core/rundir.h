// Run directories and atomic file output: nothing a user sees is ever half-written.
#pragma once

#include <string>
#include <string_view>

namespace semsec {

// Writes `content` to `path` (creating missing parent directories) through a uniquely named
// temporary file in the same directory, fsynced and then renamed over `path`: readers, a killed
// process and a crashed machine all see either the old file or the complete new one. On failure
// the temporary file is removed and semsec::Error names `path` and the reason.
void write_file_atomic(const std::string& path, std::string_view content);

// Reads a whole file; semsec::Error naming the file if it cannot.
std::string read_file(const std::string& path);

// Creates (parents included) and returns the run directory: `out` when given, else
// runs/<experiment>/<YYYYmmdd-HHMMSS>[-N] (a fresh, unused name).
std::string make_run_dir(const std::string& out, const std::string& experiment);

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
