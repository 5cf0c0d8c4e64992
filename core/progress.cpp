// Log lines and progress display; one mutex orders everything written through here.
#include "core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <mutex>

#include "core/errors.h"

namespace semsec::log {
namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
constexpr int kBarWidth = 30;
constexpr const char* kClearLine = "\r\033[K";  // back to column 0, erase to end of line

// The terminal bar currently occupying the last line of a stream, so that log
// lines written meanwhile can erase it first and the bar knows to redraw.
struct ActiveBar {
  std::mutex mutex;
  std::ostream* os = nullptr;
  const Progress* owner = nullptr;
  bool cleared = false;
};

ActiveBar& active_bar() {
  static ActiveBar bar;
  return bar;
}

std::string clock_hms() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  return fmt::format("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string format_rate(double rate) {
  if (rate >= 100) return fmt::format("{:.0f}", rate);
  if (rate >= 10) return fmt::format("{:.1f}", rate);
  return fmt::format("{:.2f}", rate);
}

}  // namespace

std::string& tag() {
  static std::string t;
  return t;
}

void set_tag(std::string t) { tag() = std::move(t); }

void line(std::ostream& os, std::string_view message) {
  ActiveBar& bar = active_bar();
  std::lock_guard lock(bar.mutex);
  std::string out;
  if (bar.os == &os && bar.owner != nullptr && !bar.cleared) {
    out = kClearLine;
    bar.cleared = true;
  }
  out += tag().empty() ? fmt::format("[semsec {}] {}\n", clock_hms(), message)
                       : fmt::format("[semsec {} {}] {}\n", tag(), clock_hms(), message);
  os << out;
  os.flush();
}

Progress::Progress(std::string label, int64_t total, bool tty, std::ostream& os)
    : label_(std::move(label)), total_(total), tty_(tty), os_(&os) {
  if (total < 0) fail("progress '{}': total must be >= 0, got {}", label_, total);
}

Progress Progress::for_stderr(std::string label, int64_t total) {
  return Progress(std::move(label), total, isatty(STDERR_FILENO) == 1, std::cerr);
}

Progress::Progress(Progress&& other) noexcept
    : label_(std::move(other.label_)),
      total_(other.total_),
      tty_(other.tty_),
      os_(other.os_),
      finished_(other.finished_),
      done_(other.done_),
      metrics_(std::move(other.metrics_)),
      started_(other.started_),
      start_done_(other.start_done_),
      start_time_(other.start_time_),
      now_(other.now_),
      created_(other.created_),
      last_draw_(other.last_draw_),
      drawn_(other.drawn_),
      last_decile_(other.last_decile_),
      last_printed_(other.last_printed_) {
  other.finished_ = true;  // the moved-from object must not print or end the line
  ActiveBar& bar = active_bar();
  std::lock_guard lock(bar.mutex);
  if (bar.owner == &other) bar.owner = this;
}

Progress::~Progress() {
  try {
    finish();
  } catch (...) {
    // An output stream that throws must not take the program down during unwinding.
  }
}

std::string Progress::render(bool with_bar) const {
  std::string s = label_;
  const double frac = total_ > 0 ? std::clamp(static_cast<double>(done_) / static_cast<double>(total_), 0.0, 1.0) : 1.0;
  if (with_bar) {
    const int filled = static_cast<int>(frac * kBarWidth);
    s += fmt::format(" [{}{}]", std::string(filled, '#'), std::string(kBarWidth - filled, '.'));
  }
  s += fmt::format(" {}/{}", done_, total_);
  if (!with_bar) s += fmt::format(" ({:.0f}%)", 100.0 * frac);

  const double elapsed = std::chrono::duration<double>(now_ - start_time_).count();
  const int64_t progressed = done_ - start_done_;
  const bool have_rate = started_ && elapsed > 0.0 && progressed > 0;
  const double rate = have_rate ? static_cast<double>(progressed) / elapsed : 0.0;
  s += have_rate ? fmt::format(" {} it/s", format_rate(rate)) : std::string(" - it/s");
  if (done_ >= total_)
    s += fmt::format(" took {}", format_duration(std::chrono::duration<double>(now_ - created_).count()));
  else
    s += have_rate ? fmt::format(" ETA {}", format_duration(static_cast<double>(total_ - done_) / rate))
                   : std::string(" ETA ?");
  if (!metrics_.empty()) s += " " + metrics_;
  return s;
}

void Progress::draw_tty() {
  const std::string text = kClearLine + render(true);
  ActiveBar& bar = active_bar();
  std::lock_guard lock(bar.mutex);
  bar.os = os_;
  bar.owner = this;
  bar.cleared = false;
  *os_ << text;
  os_->flush();
  last_draw_ = now_;
  drawn_ = true;
}

void Progress::update(int64_t done, const std::string& metrics) {
  if (finished_) return;
  now_ = Clock::now();
  if (!started_) {
    started_ = true;
    start_done_ = done;
    start_time_ = now_;
  }
  done_ = done;
  metrics_ = metrics;

  if (tty_) {
    bool cleared;
    {
      ActiveBar& bar = active_bar();
      std::lock_guard lock(bar.mutex);
      cleared = bar.owner == this && bar.cleared;
    }
    if (!drawn_ || cleared || done_ >= total_ || now_ - last_draw_ >= kRedrawInterval) draw_tty();
    return;
  }

  // Deciles of total rather than fixed strides, so every total gives at most ten lines.
  const int64_t decile = total_ > 0 ? std::min<int64_t>(10, done_ * 10 / total_) : 10;
  if (decile > last_decile_ || (done_ >= total_ && last_printed_ != done_)) {
    line(*os_, render(false));
    last_decile_ = std::max(last_decile_, decile);
    last_printed_ = done_;
  }
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  now_ = Clock::now();
  if (!started_) {
    started_ = true;
    start_time_ = now_;
  }
  if (tty_) {
    const std::string text = kClearLine + render(true) + "\n";
    ActiveBar& bar = active_bar();
    std::lock_guard lock(bar.mutex);
    if (bar.owner == this) {
      bar.owner = nullptr;
      bar.os = nullptr;
    }
    *os_ << text;
    os_->flush();
    return;
  }
  if (last_printed_ != done_) line(*os_, render(false));
}

}  // namespace semsec::log
