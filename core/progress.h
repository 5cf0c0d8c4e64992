// Console output of long runs: time-stamped log lines and a progress display that
// redraws one line on a terminal and falls back to sparse log lines in files and CI logs.
#pragma once

#include <chrono>
#include <cstdint>
#include <iostream>
#include <ostream>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace semsec::log {

// Writes "[semsec HH:MM:SS] message\n" (local time) to `os` in one piece. If a
// terminal progress bar is being drawn on the same stream, its line is cleared first
// so the message does not end up glued to the bar.
void line(std::ostream& os, std::string_view message);

// A tag after "semsec" in every line (e.g. "r1" for rank 1 of a multi-process job); empty: none.
void set_tag(std::string tag);

// line() to stderr, message built with fmt.
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  line(std::cerr, fmt::format(f, std::forward<Args>(args)...));
}

class Progress {
 public:
  // total: number of items (steps, batches) the task takes; 0 is allowed (nothing to do).
  // tty: redraw one line in place; otherwise print a log line per 10% of total.
  Progress(std::string label, int64_t total, bool tty, std::ostream& os = std::cerr);
  // tty decided by isatty(STDERR_FILENO).
  static Progress for_stderr(std::string label, int64_t total);
  ~Progress();  // calls finish()
  Progress(Progress&&) noexcept;
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  Progress& operator=(Progress&&) = delete;

  // done: items completed so far (absolute, not an increment); metrics: free text shown after the counts.
  // tty: "\rlabel [#####.....] done/total rate it/s ETA m:ss metrics", at most ~10 redraws a second.
  // Otherwise a log line whenever done crosses the next 10% of total, and when done reaches total.
  void update(int64_t done, const std::string& metrics = "");
  // Draws the final state (tty: then ends the line). Idempotent.
  void finish();

 private:
  using Clock = std::chrono::steady_clock;
  std::string render(bool with_bar) const;
  void draw_tty();

  std::string label_;
  int64_t total_;
  bool tty_;
  std::ostream* os_;
  bool finished_ = false;

  int64_t done_ = 0;
  std::string metrics_;
  // Rate is measured from the first update() so a resumed run (starting at done > 0) is not overstated.
  bool started_ = false;
  int64_t start_done_ = 0;
  Clock::time_point start_time_;
  Clock::time_point now_;
  Clock::time_point created_ = Clock::now();  // for the total time shown at the end

  Clock::time_point last_draw_;
  bool drawn_ = false;
  int64_t last_decile_ = 0;    // non-tty: tenths of total already reported
  int64_t last_printed_ = -1;  // non-tty: done at the last log line
};

}  // namespace semsec::log
