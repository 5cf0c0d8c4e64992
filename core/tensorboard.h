// TensorBoard event files (TFRecord framing of hand-encoded Event protobufs):
// a buffered scalar writer for training runs and a strict reader for tests and tools.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace semsec::tb {

// One hyperparameter of a run for TensorBoard's HParams dashboard: a number or a text.
struct HParam {
  std::string name;
  std::variant<double, std::string> value;
};

class EventWriter {
 public:
  // Creates `dir` if needed and dir/events.out.tfevents.<unix_seconds>.<hostname>.<pid>
  // (with a ".<n>" suffix if that name is taken). The first record carries
  // file_version "brain.Event:2", which TensorBoard expects.
  explicit EventWriter(const std::string& dir);
  ~EventWriter();  // flushes; a failure there is reported on stderr, not thrown
  EventWriter(EventWriter&&) noexcept;
  EventWriter& operator=(EventWriter&&) noexcept;
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  // Buffered; wall_time is the current time.
  void add_scalar(const std::string& tag, double value, int64_t step);
  // A SessionLog START event at `step`: TensorBoard drops every event of this run with a step at or
  // after it that was written before (what a run resumed from a checkpoint at `step` rewrites).
  void add_session_start(int64_t step);
  // TensorBoard's HParams for this run as one session: the HParams plugin's three summaries at
  // step 0 (core/tensorboard_hparams.cpp): the experiment (each hparam's name and type, and
  // `metric_tags` as its metrics), the session's start with `hparams`, and its end with
  // STATUS_SUCCESS when `ok`, else STATUS_FAILURE. A metric's value is the scalar of its tag in
  // this run (add_scalar), which the dashboard reads at the tag's last step.
  void add_hparams(const std::vector<HParam>& hparams, const std::vector<std::string>& metric_tags, bool ok);
  // Writes the buffer to disk and flushes the OS stream; throws semsec::Error naming the file.
  void flush();
  const std::string& path() const { return path_; }

 private:
  struct FileCloser {
    void operator()(std::FILE* f) const;
  };
  void write_record(const std::string& payload);
  // An Event at `step` (wall time now) whose Summary holds the one encoded Summary.Value `value`.
  void add_summary_value(const std::string& value, int64_t step);

  std::string path_;
  std::unique_ptr<std::FILE, FileCloser> file_;
  std::string buffer_;
};

struct ScalarEvent {
  std::string tag;
  int64_t step = 0;
  double wall_time = 0.0;
  float value = 0.0f;
};

// Every simple_value summary in the file, in file order. Checks the framing and
// both CRCs of every record; throws semsec::Error naming the file and byte offset
// of the first corrupt or truncated record.
std::vector<ScalarEvent> read_scalars(const std::string& path);

}  // namespace semsec::tb
