// Every seed of every fuzz corpus (tests/fuzz/corpus/<harness>/) through the harness's entry
// function, as `fuzz_<harness> corpus/<harness>/*` does in a SEMSEC_FUZZ build: the readers may
// reject a seed only with semsec::Error (the harness swallows it); any other exception fails, and
// a broken promise (a configuration that does not load back equal) aborts. The corpora include
// the inputs that crashed a reader before it was fixed (crash-*). Seeds named bad_* must be
// rejected and the others (but crash-*) read, so that the seeds test what their names say.
#include <gtest/gtest.h>

#include <exception>
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

INSTANTIATE_TEST_SUITE_P(Harnesses, FuzzCorpus, ::testing::ValuesIn(kHarnesses),
                         [](const ::testing::TestParamInfo<Harness>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace semsec::fuzz
