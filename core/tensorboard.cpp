// TensorBoard event files without a protobuf dependency: the three messages we need
// (Event, Summary, Summary.Value) are small enough to encode and decode by hand.
#include "core/tensorboard.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>

#include "core/crc32c.h"
#include "core/errors.h"
#include "core/protobuf_wire.h"

namespace semsec::tb {
namespace {

using namespace wire;

// Field numbers of tensorflow/core/util/event.proto and framework/summary.proto.
constexpr int kEventWallTime = 1;
constexpr int kEventStep = 2;
constexpr int kEventFileVersion = 3;
constexpr int kEventSummary = 5;
constexpr int kEventSessionLog = 7;
constexpr int kSessionLogStatus = 1;
constexpr int kSessionStart = 1;

constexpr size_t kFlushThreshold = 64 * 1024;  // bytes buffered before a write to disk

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

// mkdir -p with POSIX calls: libtorch.so exports its own std::filesystem functions,
// which win symbol resolution in our binaries and are not all safe to call.
void make_dirs(const std::string& dir) {
  if (dir.empty()) return;
  for (size_t pos = dir.find('/', 1);; pos = dir.find('/', pos + 1)) {
    const std::string prefix = dir.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST)
      fail("cannot create TensorBoard directory '{}': {} ('{}')", dir, std::strerror(errno), prefix);
    if (pos == std::string::npos) break;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    fail("cannot create TensorBoard directory '{}': it exists and is not a directory", dir);
}

uint64_t get_le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Minimal protobuf reader over one message; errors carry enough context to name the record.
class ProtoReader {
 public:
  ProtoReader(const unsigned char* p, size_t n) : p_(p), end_(p + n) {}
  bool done() const { return p_ == end_; }

  // Returns false (with `error` set) instead of throwing so the caller can add file and offset.
  bool next(int& field, int& wire_type, std::string& error) {
    uint64_t key;
    if (!varint(key, error)) return false;
    field = static_cast<int>(key >> 3);
    wire_type = static_cast<int>(key & 7);
    if (field == 0) {
      error = "field number 0";
      return false;
    }
    return true;
  }

  bool varint(uint64_t& v, std::string& error) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) {
        error = "varint runs past the end of the message";
        return false;
      }
      const unsigned char b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) return true;
    }
    error = "varint longer than 10 bytes";
    return false;
  }

  bool fixed(uint64_t& v, int bytes, std::string& error) {
    if (static_cast<size_t>(end_ - p_) < static_cast<size_t>(bytes)) {
      error = "fixed-width field runs past the end of the message";
      return false;
    }
    v = get_le(p_, bytes);
    p_ += bytes;
    return true;
  }

  bool bytes(const unsigned char*& data, size_t& n, std::string& error) {
    uint64_t len;
    if (!varint(len, error)) return false;
    if (len > static_cast<uint64_t>(end_ - p_)) {
      error = "length-delimited field runs past the end of the message";
      return false;
    }
    data = p_;
    n = static_cast<size_t>(len);
    p_ += n;
    return true;
  }

  bool skip(int wire_type, std::string& error) {
    uint64_t ignored;
    const unsigned char* data;
    size_t n;
    switch (wire_type) {
      case kVarint:
        return varint(ignored, error);
      case kFixed64:
        return fixed(ignored, 8, error);
      case kLengthDelimited:
        return bytes(data, n, error);
      case kFixed32:
        return fixed(ignored, 4, error);
      default:
        error = fmt::format("unsupported wire type {}", wire_type);
        return false;
    }
  }

 private:
  const unsigned char* p_;
  const unsigned char* end_;
};

// Appends the scalars of one Summary.Value; values without simple_value (images, tensors) are skipped.
bool parse_value(const unsigned char* p, size_t n, int64_t step, double wall_time, std::vector<ScalarEvent>& out,
                 std::string& error) {
  ProtoReader r(p, n);
  ScalarEvent ev;
  ev.step = step;
  ev.wall_time = wall_time;
  bool has_simple_value = false;
  while (!r.done()) {
    int field, wire;
    if (!r.next(field, wire, error)) return false;
    if (field == kValueTag && wire == kLengthDelimited) {
      const unsigned char* s;
      size_t len;
      if (!r.bytes(s, len, error)) return false;
      ev.tag.assign(reinterpret_cast<const char*>(s), len);
    } else if (field == kValueSimpleValue && wire == kFixed32) {
      uint64_t bits;
      if (!r.fixed(bits, 4, error)) return false;
      const uint32_t b32 = static_cast<uint32_t>(bits);
      std::memcpy(&ev.value, &b32, 4);
      has_simple_value = true;
    } else if (!r.skip(wire, error)) {
      return false;
    }
  }
  if (has_simple_value) out.push_back(std::move(ev));
  return true;
}

// The summary field may precede step/wall_time in a valid encoding, so values are
// parsed only after the whole Event has been scanned.
bool parse_event(const unsigned char* p, size_t n, std::vector<ScalarEvent>& out, std::string& error) {
  ProtoReader r(p, n);
  int64_t step = 0;
  double wall_time = 0.0;
  std::vector<std::pair<const unsigned char*, size_t>> summaries;
  while (!r.done()) {
    int field, wire;
    if (!r.next(field, wire, error)) return false;
    if (field == kEventWallTime && wire == kFixed64) {
      uint64_t bits;
      if (!r.fixed(bits, 8, error)) return false;
      std::memcpy(&wall_time, &bits, 8);
    } else if (field == kEventStep && wire == kVarint) {
      uint64_t v;
      if (!r.varint(v, error)) return false;
      step = static_cast<int64_t>(v);
    } else if (field == kEventSummary && wire == kLengthDelimited) {
      const unsigned char* s;
      size_t len;
      if (!r.bytes(s, len, error)) return false;
      summaries.emplace_back(s, len);
    } else if (!r.skip(wire, error)) {
      return false;
    }
  }
  for (const auto& [s, len] : summaries) {
    ProtoReader sr(s, len);
    while (!sr.done()) {
      int field, wire;
      if (!sr.next(field, wire, error)) return false;
      if (field == kSummaryValue && wire == kLengthDelimited) {
        const unsigned char* v;
        size_t vlen;
        if (!sr.bytes(v, vlen, error)) return false;
        if (!parse_value(v, vlen, step, wall_time, out, error)) return false;
      } else if (!sr.skip(wire, error)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

void EventWriter::FileCloser::operator()(std::FILE* f) const { std::fclose(f); }

EventWriter::EventWriter(const std::string& dir) {
  make_dirs(dir);

  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const std::string sep = dir.empty() || dir.back() == '/' ? "" : "/";
  const std::string base = fmt::format("{}{}events.out.tfevents.{}.{}.{}", dir, sep, seconds, hostname(), getpid());
  // Two writers created in the same second by one process would otherwise share a
  // name; "x" makes the open fail instead of truncating the other writer's file.
  for (int n = 0;; ++n) {
    path_ = n == 0 ? base : fmt::format("{}.{}", base, n);
    file_.reset(std::fopen(path_.c_str(), "wbx"));
    if (file_) break;
    if (errno != EEXIST || n >= 1000)
      fail("cannot create TensorBoard event file '{}': {}", path_, std::strerror(errno));
  }

  std::string event;
  put_double(event, kEventWallTime, now_seconds());
  put_bytes(event, kEventFileVersion, "brain.Event:2");
  write_record(event);
  flush();  // TensorBoard recognises the run as soon as the header is on disk
}

EventWriter::~EventWriter() {
  if (!file_) return;
  try {
    flush();
  } catch (const std::exception& e) {
    std::cerr << "semsec: warning: " << e.what() << "\n";
  }
}

EventWriter::EventWriter(EventWriter&&) noexcept = default;

EventWriter& EventWriter::operator=(EventWriter&& other) noexcept {
  if (this != &other) {
    if (file_) {
      try {
        flush();
      } catch (const std::exception& e) {
        std::cerr << "semsec: warning: " << e.what() << "\n";
      }
    }
    path_ = std::move(other.path_);
    file_ = std::move(other.file_);
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

void EventWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  std::string v;
  put_bytes(v, kValueTag, tag);
  put_float(v, kValueSimpleValue, static_cast<float>(value));
  add_summary_value(v, step);
}

void EventWriter::add_summary_value(const std::string& value, int64_t step) {
  std::string summary;
  put_bytes(summary, kSummaryValue, value);
  std::string event;
  put_double(event, kEventWallTime, now_seconds());
  put_key(event, kEventStep, kVarint);
  put_varint(event, static_cast<uint64_t>(step));
  put_bytes(event, kEventSummary, summary);
  write_record(event);
  if (buffer_.size() >= kFlushThreshold) flush();
}

void EventWriter::add_session_start(int64_t step) {
  std::string log;
  put_key(log, kSessionLogStatus, kVarint);
  put_varint(log, kSessionStart);
  std::string event;
  put_double(event, kEventWallTime, now_seconds());
  put_key(event, kEventStep, kVarint);
  put_varint(event, static_cast<uint64_t>(step));
  put_bytes(event, kEventSessionLog, log);
  write_record(event);
}

void EventWriter::write_record(const std::string& payload) {
  std::string header;
  put_le(header, payload.size(), 8);
  const uint32_t header_crc = masked_crc32c(header.data(), header.size());
  buffer_ += header;
  put_le(buffer_, header_crc, 4);
  buffer_ += payload;
  put_le(buffer_, masked_crc32c(payload.data(), payload.size()), 4);
}

void EventWriter::flush() {
  if (!file_) fail("TensorBoard event writer for '{}' was moved from", path_);
  if (!buffer_.empty()) {
    const size_t written = std::fwrite(buffer_.data(), 1, buffer_.size(), file_.get());
    if (written != buffer_.size()) fail("cannot write TensorBoard event file '{}': {}", path_, std::strerror(errno));
    buffer_.clear();
  }
  if (std::fflush(file_.get()) != 0) fail("cannot write TensorBoard event file '{}': {}", path_, std::strerror(errno));
}

std::vector<ScalarEvent> read_scalars(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open TensorBoard event file '{}'", path);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail("cannot read TensorBoard event file '{}'", path);

  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  const size_t size = data.size();
  std::vector<ScalarEvent> out;
  size_t offset = 0;
  while (offset < size) {
    const size_t left = size - offset;
    if (left < 12)
      fail("TensorBoard event file '{}': truncated record header at offset {} ({} bytes left, 12 needed)", path, offset,
           left);
    const unsigned char* rec = bytes + offset;
    const uint32_t stored_header_crc = static_cast<uint32_t>(get_le(rec + 8, 4));
    const uint32_t header_crc = masked_crc32c(rec, 8);
    if (stored_header_crc != header_crc)
      fail(
          "TensorBoard event file '{}': length CRC mismatch in record at offset {} (stored {:#010x}, computed "
          "{:#010x})",
          path, offset, stored_header_crc, header_crc);
    const uint64_t length = get_le(rec, 8);
    if (left < 16 || length > left - 16)
      fail("TensorBoard event file '{}': truncated record at offset {} (length {} needs {} bytes, {} left)", path,
           offset, length, length + 16, left);
    const unsigned char* payload = rec + 12;
    const uint32_t stored_crc = static_cast<uint32_t>(get_le(payload + length, 4));
    const uint32_t crc = masked_crc32c(payload, length);
    if (stored_crc != crc)
      fail(
          "TensorBoard event file '{}': data CRC mismatch in record at offset {} (stored {:#010x}, computed "
          "{:#010x})",
          path, offset, stored_crc, crc);
    std::string error;
    if (!parse_event(payload, length, out, error))
      fail("TensorBoard event file '{}': malformed Event in record at offset {}: {}", path, offset, error);
    offset += 16 + length;
  }
  return out;
}

}  // namespace semsec::tb
