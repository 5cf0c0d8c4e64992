// Inputs that fuzzing (tests/fuzz/, scripts/fuzz.sh) found to break a reader, each fed to it again:
// the reader must now reject it with one semsec::Error naming the file, or read it correctly. The
// inputs are the reproducers kept in tests/fuzz/corpus/<harness>/.
#include <gtest/gtest.h>

#include <string>

#include <caffe2/serialize/inline_container.h>

#include "core/checkpoint.h"
#include "core/errors.h"
#include "tests/test_util.h"

namespace semsec {
namespace {

using testing::expect_error;

class FuzzRegression : public testing::TempDirTest {
 protected:
  FuzzRegression() : TempDirTest("fuzz_regression") {}

  // A corpus file of tests/fuzz/, copied into the test's directory under the same name.
  std::string corpus_file(const std::string& harness, const std::string& name) {
    const std::string bytes =
        testing::read_bytes(std::string(SEMSEC_SOURCE_DIR) + "/tests/fuzz/corpus/" + harness + "/" + name);
    EXPECT_FALSE(bytes.empty()) << "missing reproducer tests/fuzz/corpus/" << harness << "/" << name;
    testing::write_bytes(path(name), bytes);
    return path(name);
  }
};

// fuzz_checkpoint: a mutated checkpoint whose tensor index declares 6 elements over a storage
// record of 2 bytes (LibTorch's unpickler takes both sizes from data.pkl unchecked). load_tensors
// copied 6 bytes from the 2-byte allocation: a heap-buffer-overflow read under AddressSanitizer.
TEST_F(FuzzRegression, CheckpointIndexReachingPastItsStorageIsRejected) {
  const std::string file = corpus_file("checkpoint", "crash-index-past-storage");
  expect_error([&] { load_tensors(file); },
               {file + ": tensor '__semsec_index__' (6 elements of 1 bytes from element 0) reaches past the 2 bytes "
                       "stored for it"});
}

// The same for a payload tensor (data.pkl edited from [5] to [80] float64 over 40 stored bytes),
// which a resume would have copied from 600 bytes of other memory.
TEST_F(FuzzRegression, CheckpointTensorReachingPastItsStorageIsRejected) {
  const std::string file = corpus_file("checkpoint", "crash-tensor-past-storage");
  expect_error([&] { load_tensors(file); },
               {file + ": tensor 'w' (80 elements of 8 bytes from element 0) reaches past the 40 bytes stored for it"});
}

// fuzz_checkpoint (out of memory): a mutated BINUNICODE opcode in data.pkl declaring a 3.5 GB
// string, which LibTorch's unpickler reserved before reading it (std::bad_alloc, or gigabytes
// committed, for a 3 KB file). The pickle's lengths are now checked against its size first.
TEST_F(FuzzRegression, CheckpointPickleLengthBeyondTheFileIsRejected) {
  const std::string file = corpus_file("checkpoint", "crash-pickle-huge-string");
  expect_error([&] { load_tensors(file); },
               {file + ": not a readable checkpoint (corrupt): data.pkl byte 302: opcode 0x58 declares 3523215361 "
                       "bytes but 268 remain"});
}

// fuzz_checkpoint (timeout): data.pkl cut inside a GLOBAL opcode's module name. LibTorch's unpickler
// refills its buffer until the name's newline turns up and never checks for the end, so it looped
// forever (growing its string) on a 2 KB file. The walk over the opcodes now rejects the line, and
// the pickle reader throws if asked for bytes past the end.
TEST_F(FuzzRegression, CheckpointPickleLineWithoutEndIsRejected) {
  const std::string file = corpus_file("checkpoint", "crash-pickle-unterminated-line");
  expect_error([&] { load_tensors(file); },
               {file + ": not a readable checkpoint (corrupt): data.pkl byte 255: opcode 0x63 has no end of line"});
}

// The same guard for a binary argument: data.pkl cut inside BININT's four bytes. The walk stops at
// the truncated argument and leaves it to the unpickler, whose next read finds the end.
TEST_F(FuzzRegression, CheckpointPickleCutInsideAnArgumentIsRejected) {
  const std::string file = path("cut.pt");
  std::string zip;
  {
    caffe2::serialize::PyTorchStreamWriter writer([&](const void* bytes, size_t n) {
      zip.append(static_cast<const char*>(bytes), n);
      return n;
    });
    const std::string pickle = "\x80\x02J\x01\x02";  // PROTO 2, BININT with 2 of its 4 bytes
    writer.writeRecord("data.pkl", pickle.data(), pickle.size());
    writer.writeEndOfFile();
  }
  testing::write_bytes(file, zip);
  expect_error([&] { load_tensors(file); }, {file + ": not a readable checkpoint (corrupt): data.pkl ends early"});
}

// Views save_tensors never writes: an expanded index (64 elements over one stored byte: the first
// fix, reading the index through contiguous(), would have allocated and read whatever size it
// declared) and a strided one.
TEST_F(FuzzRegression, CheckpointIndexViewsAreRejected) {
  const std::string expanded = corpus_file("checkpoint", "crash-expanded-index");
  expect_error([&] { load_tensors(expanded); },
               {expanded + ": tensor '__semsec_index__' (shape [64], strides [0]) is not contiguous"});
  const std::string strided = corpus_file("checkpoint", "bad_strided_index");
  expect_error([&] { load_tensors(strided); },
               {strided + ": tensor '__semsec_index__' (shape [2], strides [2]) is not contiguous"});
}

// What the checks must keep reading: a view at an offset into a larger storage (saved whole, as
// torch.save does), an empty tensor, a scalar.
TEST_F(FuzzRegression, CheckpointViewsWithinTheirStorageStillLoad) {
  const std::string file = path("views.pt");
  const torch::Tensor big = torch::arange(24, torch::kFloat32).reshape({6, 4});
  save_tensors(file, {{"rows", big.narrow(0, 2, 3)}, {"empty", torch::zeros({0, 5})}, {"scalar", torch::tensor(3.5)}});
  const TensorMap m = load_tensors(file);
  EXPECT_TRUE(m.at("rows").equal(big.narrow(0, 2, 3)));
  EXPECT_EQ(m.at("empty").sizes(), (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(m.at("scalar").item<double>(), 3.5);
}

// A bool tensor holding a byte other than 0/1 (undefined behaviour in any use of it) is rejected,
// as read_safetensors rejects one.
TEST_F(FuzzRegression, CheckpointBoolBytesOtherThanZeroOrOneAreRejected) {
  const std::string file = path("bool.pt");
  save_tensors(file, {{"guard.active", torch::tensor({1, 7, 0}, torch::kUInt8).view(torch::kBool)}});
  expect_error([&] { load_tensors(file); }, {file + ": bool tensor 'guard.active' holds bytes other than 0 and 1"});
  save_tensors(file, {{"guard.active", torch::tensor({true, false})}});
  EXPECT_TRUE(load_tensors(file).at("guard.active").equal(torch::tensor({true, false})));
}

// fuzz_checkpoint: a corrupt version record. The message quoted LibTorch's exception with its C++
// backtrace ("frame #0: ...") and the file's bytes, newlines included, cut at 200 characters: now
// one line without the backtrace. (LibTorch also leaks its zip reader here: tests/fuzz/lsan.supp.)
TEST_F(FuzzRegression, CheckpointLibTorchErrorIsOneLineWithoutBacktrace) {
  const std::string file = corpus_file("checkpoint", "bad_version_record");
  const std::string msg = expect_error([&] { load_tensors(file); },
                                       {file + ": not a readable checkpoint (corrupt or truncated): ", "version"});
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_EQ(msg.find("frame #"), std::string::npos) << msg;
}

}  // namespace
}  // namespace semsec
