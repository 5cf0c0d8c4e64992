// CRC32C vectors, event-file round trips, corruption detection, and interoperability
// with the reader and writer of the `tensorboard` Python package.
#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/crc32c.h"
#include "core/errors.h"
#include "core/tensorboard.h"
#include "kernels/philox.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;  // path arithmetic only (header code, not libtorch's)

namespace {

using semsec::testing::CommandOutput;
using semsec::testing::kPythonSkip;
using semsec::testing::read_bytes;
using semsec::testing::TempDir;
using semsec::testing::write_bytes;

// Runs a Python script with the venv interpreter; kPythonSkip when it or tensorboard is missing.
CommandOutput run_python(const std::string& dir, const std::string& script, const std::string& args) {
  return semsec::testing::run_python_script(SEMSEC_PYTHON_EXE, dir, script, args);
}

// POSIX file operations throughout: libtorch.so exports its own std::filesystem
// functions, which win symbol resolution here and crash (remove_all does).
uint64_t file_size(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return static_cast<uint64_t>(st.st_size);
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
    ::closedir(d);
  }
  return names;
}

// Start offsets of the TFRecord records, walked with the length fields only.
std::vector<size_t> record_offsets(const std::string& bytes) {
  std::vector<size_t> offsets;
  size_t off = 0;
  while (off + 12 <= bytes.size()) {
    uint64_t len = 0;
    for (int i = 7; i >= 0; --i) len = (len << 8) | static_cast<unsigned char>(bytes[off + i]);
    offsets.push_back(off);
    off += 16 + len;
  }
  EXPECT_EQ(off, bytes.size()) << "records do not tile the file";
  return offsets;
}

std::string error_of(const std::string& path) {
  try {
    semsec::tb::read_scalars(path);
  } catch (const semsec::Error& e) {
    return e.what();
  }
  return "";
}

struct Scalar {
  std::string tag;
  double value;
  int64_t step;
};

std::vector<Scalar> sample_scalars() {
  return {{"loss/train", 0.6931471805599453, 0},
          {"loss/train", 0.25, 1},
          {"accuracy/eval", 0.875, 1},
          {"snr_db", -12.5, 2},
          {"big/step", 3.0e38, int64_t{1} << 40},
          {"negative/step", 1e-30, -7},
          {"", 42.0, 3},
          {"unicode/\xce\xb1\xce\xb2", -0.0, 4}};
}

const char* kImportGuard = R"PY(
import sys
try:
    import tensorboard
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
except ImportError as e:
    print("missing tensorboard:", e)
    sys.exit(77)
)PY";

}  // namespace

TEST(Crc32c, KnownVectors) {
  const char* digits = "123456789";
  EXPECT_EQ(semsec::crc32c(digits, 9), 0xE3069283u);
  EXPECT_EQ(semsec::crc32c(nullptr, 0), 0u);

  // RFC 3720 (iSCSI) appendix B.4.
  unsigned char buf[32];
  std::memset(buf, 0, sizeof(buf));
  EXPECT_EQ(semsec::crc32c(buf, 32), 0x8A9136AAu);
  std::memset(buf, 0xFF, sizeof(buf));
  EXPECT_EQ(semsec::crc32c(buf, 32), 0x62A8AB43u);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<unsigned char>(i);
  EXPECT_EQ(semsec::crc32c(buf, 32), 0x46DD794Eu);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<unsigned char>(31 - i);
  EXPECT_EQ(semsec::crc32c(buf, 32), 0x113FDB5Cu);
}

TEST(Crc32c, MaskedMatchesTensorflowDefinition) {
  // Values from the tensorboard package's own masked_crc32c.
  EXPECT_EQ(semsec::masked_crc32c("123456789", 9), 0xC78AB0E5u);
  EXPECT_EQ(semsec::masked_crc32c("", 0), 0xA282EAD8u);
  const unsigned char len24[8] = {24, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(semsec::masked_crc32c(len24, 8), 0x224B7FA3u);
}

TEST(Crc32c, ChainingAndImplementationsAgree) {
  // Random buffers of every length up to 300 at every alignment, drawn with Philox.
  const auto key = semsec::rng::make_key(1234);
  std::vector<unsigned char> data(400);
  for (size_t i = 0; i < data.size(); i += 4) {
    const auto r = semsec::rng::draw(key, 0, 0, static_cast<uint32_t>(i / 4), 0);
    for (int k = 0; k < 4 && i + k < data.size(); ++k) data[i + k] = static_cast<unsigned char>(r.v[k]);
  }
  for (size_t off = 0; off < 8; ++off) {
    for (size_t n = 0; n <= 300; ++n) {
      const unsigned char* p = data.data() + off;
      const uint32_t whole = semsec::crc32c(p, n);
      ASSERT_EQ(semsec::detail::crc32c_portable(p, n, 0), whole) << "n=" << n << " off=" << off;
      ASSERT_EQ(semsec::detail::crc32c_hardware(p, n, 0), whole) << "n=" << n << " off=" << off;
      const size_t split = n / 3;
      ASSERT_EQ(semsec::crc32c(p + split, n - split, semsec::crc32c(p, split)), whole) << "n=" << n;
    }
  }
  if (!semsec::detail::crc32c_hardware_available()) GTEST_LOG_(INFO) << "no SSE4.2: only the portable path ran";
}

TEST(EventWriter, RoundTripsScalars) {
  TempDir dir;
  const auto scalars = sample_scalars();
  std::string path;
  {
    semsec::tb::EventWriter w((fs::path(dir.path()) / "run").string());
    path = w.path();
    for (const auto& s : scalars) w.add_scalar(s.tag, s.value, s.step);
  }  // destructor flushes
  const std::string name = fs::path(path).filename().string();
  EXPECT_EQ(name.rfind(fmt::format("events.out.tfevents."), 0), 0u) << name;
  EXPECT_NE(name.find(fmt::format(".{}", getpid())), std::string::npos) << name;
  EXPECT_EQ(fs::path(path).parent_path(), fs::path(dir.path()) / "run");

  const auto read = semsec::tb::read_scalars(path);
  ASSERT_EQ(read.size(), scalars.size());
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (size_t i = 0; i < scalars.size(); ++i) {
    EXPECT_EQ(read[i].tag, scalars[i].tag);
    EXPECT_EQ(read[i].step, scalars[i].step);
    EXPECT_EQ(read[i].value, static_cast<float>(scalars[i].value)) << scalars[i].tag;
    EXPECT_NEAR(read[i].wall_time, now, 60.0);
  }
  EXPECT_TRUE(std::signbit(read.back().value));  // -0.0 survives

  // The first record is the file_version header and holds no scalars.
  const std::string bytes = read_bytes(path);
  const auto offsets = record_offsets(bytes);
  ASSERT_EQ(offsets.size(), scalars.size() + 1);
  EXPECT_NE(bytes.substr(0, offsets[1]).find("brain.Event:2"), std::string::npos);
}

TEST(EventWriter, BuffersUntilFlush) {
  TempDir dir;
  semsec::tb::EventWriter w(dir.path());
  const auto header_size = file_size(w.path());
  EXPECT_GT(header_size, 0u) << "file_version header should be on disk immediately";
  w.add_scalar("a", 1.0, 1);
  EXPECT_EQ(file_size(w.path()), header_size);
  w.flush();
  EXPECT_GT(file_size(w.path()), header_size);
  EXPECT_EQ(semsec::tb::read_scalars(w.path()).size(), 1u);

  // Large volumes go to disk without an explicit flush.
  for (int i = 0; i < 5000; ++i) w.add_scalar("metrics/some_long_tag_name", i * 0.5, i);
  const auto size_before_flush = file_size(w.path());
  EXPECT_GT(size_before_flush, header_size + 64 * 1024);
  w.flush();
  const auto read = semsec::tb::read_scalars(w.path());
  ASSERT_EQ(read.size(), 5001u);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_EQ(read[i + 1].step, i);
    ASSERT_EQ(read[i + 1].value, static_cast<float>(i * 0.5));
  }
}

TEST(EventWriter, DistinctFilesInSameDirectoryAndMove) {
  TempDir dir;
  semsec::tb::EventWriter a(dir.path());
  semsec::tb::EventWriter b(dir.path());
  EXPECT_NE(a.path(), b.path());
  a.add_scalar("from_a", 1.0, 1);
  b.add_scalar("from_b", 2.0, 2);

  semsec::tb::EventWriter moved(std::move(a));
  moved.add_scalar("from_a", 3.0, 3);
  moved.flush();
  b.flush();
  const auto ra = semsec::tb::read_scalars(moved.path());
  const auto rb = semsec::tb::read_scalars(b.path());
  ASSERT_EQ(ra.size(), 2u);
  EXPECT_EQ(ra[1].value, 3.0f);
  ASSERT_EQ(rb.size(), 1u);
  EXPECT_EQ(rb[0].tag, "from_b");
}

TEST(EventWriter, UncreatableDirectoryNamesIt) {
  TempDir dir;
  const fs::path blocker = fs::path(dir.path()) / "not_a_dir";
  write_bytes(blocker.string(), "x");
  const std::string target = (blocker / "run").string();
  semsec::testing::expect_error([&] { semsec::tb::EventWriter w(target); }, {target});
}

TEST(ReadScalars, DetectsFlippedByteAnywhere) {
  TempDir dir;
  std::string path;
  {
    semsec::tb::EventWriter w(dir.path());
    path = w.path();
    for (const auto& s : sample_scalars()) w.add_scalar(s.tag, s.value, s.step);
  }
  const std::string good = read_bytes(path);
  const auto offsets = record_offsets(good);

  // Every single-bit-pattern flip in every byte must be caught and blamed on its record.
  for (size_t pos = 0; pos < good.size(); ++pos) {
    std::string bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x5A);
    write_bytes(path, bad);
    const std::string err = error_of(path);
    ASSERT_FALSE(err.empty()) << "flip at byte " << pos << " went unnoticed";
    const size_t rec = static_cast<size_t>(std::upper_bound(offsets.begin(), offsets.end(), pos) - offsets.begin()) - 1;
    const size_t rel = pos - offsets[rec];
    ASSERT_NE(err.find(path), std::string::npos) << err;
    // The length CRC is checked before the length is used, so no flip can pose as truncation.
    ASSERT_NE(err.find(fmt::format("offset {}", offsets[rec])), std::string::npos) << "pos " << pos << ": " << err;
    if (rel < 12) {
      ASSERT_NE(err.find("length CRC mismatch"), std::string::npos) << err;
    } else {
      ASSERT_NE(err.find("data CRC mismatch"), std::string::npos) << err;
    }
  }
}

TEST(ReadScalars, ReportsTruncation) {
  TempDir dir;
  std::string path;
  {
    semsec::tb::EventWriter w(dir.path());
    path = w.path();
    for (const auto& s : sample_scalars()) w.add_scalar(s.tag, s.value, s.step);
  }
  const std::string good = read_bytes(path);
  const auto offsets = record_offsets(good);
  const size_t last = offsets.back();

  // Cut inside the header, inside the payload and inside the trailing CRC of the last record.
  for (size_t cut : {last + 5, last + 13, good.size() - 2}) {
    write_bytes(path, good.substr(0, cut));
    const std::string err = error_of(path);
    EXPECT_NE(err.find("truncated"), std::string::npos) << "cut " << cut << ": " << err;
    EXPECT_NE(err.find(fmt::format("offset {}", last)), std::string::npos) << err;
    EXPECT_NE(err.find(path), std::string::npos) << err;
  }
  // A cut on a record boundary is a valid, shorter file.
  write_bytes(path, good.substr(0, last));
  EXPECT_EQ(semsec::tb::read_scalars(path).size(), sample_scalars().size() - 1);

  EXPECT_NE(error_of((fs::path(dir.path()) / "missing").string()).find("missing"), std::string::npos);
}

TEST(TensorboardPython, ReadsOurFile) {
  TempDir dir;
  const auto scalars = sample_scalars();
  std::string path;
  {
    semsec::tb::EventWriter w((fs::path(dir.path()) / "logs").string());
    path = w.path();
    for (const auto& s : scalars) w.add_scalar(s.tag, s.value, s.step);
  }
  const std::string script = std::string(kImportGuard) + R"PY(
path, logdir = sys.argv[1], sys.argv[2]
events = list(LegacyEventFileLoader(path).Load())  # checks both CRCs of every record
print("FILE_VERSION", events[0].file_version)
for e in events[1:]:
    for v in e.summary.value:
        print("RAW", repr(v.tag), e.step, repr(v.simple_value))
acc = event_accumulator.EventAccumulator(logdir)
acc.Reload()
for tag in acc.Tags()["scalars"]:
    for s in acc.Scalars(tag):
        print("ACC", repr(tag), s.step, repr(s.value))
)PY";
  const CommandOutput r =
      run_python(dir.path(), script, fmt::format("'{}' '{}'", path, (fs::path(dir.path()) / "logs").string()));
  if (r.status == kPythonSkip) SEMSEC_SKIP_OR_FAIL_IN_CI(r.out);
  ASSERT_EQ(r.status, 0) << r.out;

  std::istringstream lines(r.out);
  std::string kind;
  std::vector<std::string> raw, acc;
  std::string file_version;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream ls(line);
    ls >> kind;
    if (kind == "FILE_VERSION") ls >> file_version;
    if (kind == "RAW") raw.push_back(line.substr(4));
    if (kind == "ACC") acc.push_back(line.substr(4));
  }
  EXPECT_EQ(file_version, "brain.Event:2");
  ASSERT_EQ(raw.size(), scalars.size()) << r.out;
  // Python's repr of the tag and value; parse the value back and compare as float exactly.
  auto check = [](const std::string& got, const Scalar& s) {
    const size_t q = got.find('\'', 1);
    ASSERT_NE(q, std::string::npos) << got;
    std::istringstream rest(got.substr(q + 1));
    int64_t step;
    std::string value_text;
    rest >> step >> value_text;
    EXPECT_EQ(step, s.step) << got;
    EXPECT_EQ(static_cast<float>(std::strtod(value_text.c_str(), nullptr)), static_cast<float>(s.value)) << got;
  };
  for (size_t i = 0; i < scalars.size(); ++i) {
    // Non-ASCII tags are printed escaped by repr; compare the plain ones literally.
    if (scalars[i].tag.find('\xce') == std::string::npos) {
      EXPECT_EQ(raw[i].substr(0, scalars[i].tag.size() + 2), "'" + scalars[i].tag + "'") << raw[i];
    }
    check(raw[i], scalars[i]);
  }
  // TensorBoard's own accumulator (what the Scalars dashboard uses) sees every scalar.
  EXPECT_EQ(acc.size(), scalars.size()) << r.out;
  bool saw_loss = false;
  for (const auto& a : acc) {
    if (a.rfind("'loss/train' 1 ", 0) == 0) {
      saw_loss = true;
      check(a, scalars[1]);
    }
  }
  EXPECT_TRUE(saw_loss) << r.out;
}

TEST(TensorboardPython, WeReadTheirFile) {
  TempDir dir;
  const std::string script = std::string(kImportGuard) + R"PY(
w = EventFileWriter(sys.argv[1])
for step, (tag, value) in enumerate([("loss", 0.125), ("acc", 0.5), ("loss", 1e-3)]):
    w.add_event(Event(wall_time=1000.0 + step, step=step * 10,
                      summary=Summary(value=[Summary.Value(tag=tag, simple_value=value)])))
w.close()
print(w.get_logdir())
)PY";
  const CommandOutput r =
      run_python(dir.path(), script, fmt::format("'{}'", (fs::path(dir.path()) / "theirs").string()));
  if (r.status == kPythonSkip) SEMSEC_SKIP_OR_FAIL_IN_CI(r.out);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto files = list_dir((fs::path(dir.path()) / "theirs").string());
  ASSERT_EQ(files.size(), 1u);
  const auto read = semsec::tb::read_scalars((fs::path(dir.path()) / "theirs" / files[0]).string());
  ASSERT_EQ(read.size(), 3u);
  EXPECT_EQ(read[0].tag, "loss");
  EXPECT_EQ(read[1].tag, "acc");
  EXPECT_EQ(read[2].step, 20);
  EXPECT_EQ(read[2].value, 1e-3f);
  EXPECT_EQ(read[1].wall_time, 1001.0);
}
