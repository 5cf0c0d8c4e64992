// Every seed of every fuzz corpus (tests/fuzz/corpus/<harness>/) through the harness's entry
// function, as `fuzz_<harness> corpus/<harness>/*` does in a SEMSEC_FUZZ build: the readers may
// reject a seed only with semsec::Error (the harness swallows it); any other exception fails, and
// a broken promise (a configuration that does not load back equal) aborts. The corpora include
// the inputs that crashed a reader before it was fixed (crash-*). Seeds named bad_* must be
// rejected and the others (but crash-*) read, so that the seeds test what their names say.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <random>
#include <string>
#include <vector>

#include "core/fs.h"
#include "core/rundir.h"
#include "tests/fuzz/harness.h"

namespace semsec::fuzz {
namespace {

class FuzzCorpus : public ::testing::TestWithParam<Harness> {};

TEST_P(FuzzCorpus, EverySeedIsReadOrRejectedWithSemsecError) {
  const Harness h = GetParam();
  const std::string dir = std::string(SEMSEC_SOURCE_DIR) + "/tests/fuzz/corpus/" + h.name;
  const std::vector<std::string> seeds = fs::list_dir(dir);
  ASSERT_GE(seeds.size(), 3u) << dir << " holds too few seeds";
  for (const std::string& name : seeds) {
    const std::string bytes = read_file(fs::join(dir, name));
    try {
      h.one(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      // Broken seeds (bad_*) must be rejected, the others read; crash reproducers (crash-*) only
      // must not crash.
      if (name.starts_with("bad_")) {
        EXPECT_FALSE(g_last_accepted) << "fuzz_" << h.name << " " << name << " was read";
      } else if (!name.starts_with("crash-")) {
        EXPECT_TRUE(g_last_accepted) << "fuzz_" << h.name << " " << name << " was rejected";
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "fuzz_" << h.name << " " << name << ": not a semsec::Error: " << e.what();
    } catch (...) {
      ADD_FAILURE() << "fuzz_" << h.name << " " << name << ": an exception of unknown type";
    }
  }
}

// A short fuzz run in the normal suite (libFuzzer needs the clang build of scripts/fuzz.sh): seeds
// mutated by a fixed-seed generator (bit flips, bytes set to boundary values, ranges deleted,
// duplicated or overwritten with another seed's bytes, truncation), up to 20000 inputs or 3 s per
// harness. The same pass/fail rule as the seeds: semsec::Error or success, nothing else. A failing
// input is written to fuzz_<name>_failure.bin in the working directory for
// `build-fuzz/tests/fuzz/fuzz_<name> FILE`.
std::string mutate(std::mt19937_64& rng, std::string s, const std::vector<std::string>& seeds) {
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 6) {
      case 0:  // flip one bit
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1: {  // a boundary byte
        static const unsigned char kBytes[] = {0x00, 0x01, 0x7f, 0x80, 0xff, '\n', ':', ',', '-', '9'};
        if (!s.empty()) s[pick(s.size())] = static_cast<char>(kBytes[rng() % sizeof kBytes]);
        break;
      }
      case 2: {  // delete a range
        const size_t at = pick(s.size()), n = std::min(s.size() - at, 1 + pick(16));
        s.erase(at, n);
        break;
      }
      case 3: {  // duplicate a range
        if (s.empty()) break;
        const size_t at = pick(s.size()), n = std::min(s.size() - at, 1 + pick(32));
        s.insert(pick(s.size() + 1), s.substr(at, n));
        break;
      }
      case 4: {  // another seed's bytes over this one's
        const std::string& other = seeds[pick(seeds.size())];
        if (other.empty() || s.empty()) break;
        const size_t from = pick(other.size()), n = std::min(other.size() - from, 1 + pick(64));
        const size_t at = pick(s.size());
        s.replace(at, std::min(n, s.size() - at), other.substr(from, n));
        break;
      }
      default:  // truncate
        s.resize(pick(s.size() + 1));
    }
  }
  return s;
}

TEST_P(FuzzCorpus, ShortMutationRunRaisesOnlySemsecErrors) {
  const Harness h = GetParam();
  const std::string dir = std::string(SEMSEC_SOURCE_DIR) + "/tests/fuzz/corpus/" + h.name;
  std::vector<std::string> seeds;
  for (const std::string& name : fs::list_dir(dir)) seeds.push_back(read_file(fs::join(dir, name)));
  ASSERT_FALSE(seeds.empty());
  std::mt19937_64 rng(20261205);
  const auto start = std::chrono::steady_clock::now();
  int runs = 0, accepted = 0;
  for (; runs < 20000 && std::chrono::steady_clock::now() - start < std::chrono::seconds(3); ++runs) {
    const std::string input = mutate(rng, seeds[rng() % seeds.size()], seeds);
    std::string failure;
    try {
      h.one(reinterpret_cast<const uint8_t*>(input.data()), input.size());
      accepted += g_last_accepted ? 1 : 0;
    } catch (const std::exception& e) {
      failure = std::string("not a semsec::Error: ") + e.what();
    } catch (...) {
      failure = "an exception of unknown type";
    }
    if (!failure.empty()) {
      const std::string file = std::string("fuzz_") + h.name + "_failure.bin";
      if (std::FILE* f = std::fopen(file.c_str(), "wb")) {
        std::fwrite(input.data(), 1, input.size(), f);
        std::fclose(f);
      }
      FAIL() << "fuzz_" << h.name << " mutation " << runs << " (saved to " << file << "): " << failure;
    }
  }
  // The mutations must reach past the first checks: some inputs are still read.
  RecordProperty("runs", runs);
  RecordProperty("accepted", accepted);
  EXPECT_GE(runs, 200) << "too slow to fuzz in the suite";
  EXPECT_GT(accepted, 0) << "no mutated input got past the first checks";
  std::printf("fuzz_%s: %d mutated inputs, %d read, the rest rejected with semsec::Error\n", h.name, runs, accepted);
}

INSTANTIATE_TEST_SUITE_P(Harnesses, FuzzCorpus, ::testing::ValuesIn(kHarnesses),
                         [](const ::testing::TestParamInfo<Harness>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace semsec::fuzz
