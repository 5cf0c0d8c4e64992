// Batches on a CUDA device equal the CPU batches, whether the split stays on the host
// or was moved to the device first. Skips without a GPU. (The make_batch timings are rows of
// `semsec bench --only io`.)
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "core/fs.h"
#include "datasets/loader.h"
#include "datasets/synthetic.h"
#include "tests/test_util.h"

namespace semsec::data {
namespace {

class DataGpuBatch : public testing::TempDirTest {
 protected:
  void SetUp() override {
    SEMSEC_SKIP_WITHOUT_CUDA();
    TempDirTest::SetUp();
    write_synthetic_dataset(path("s"), 600, 40, 3, false);
    train_ = load_split(path("s"), "train");
  }
  Split train_;
};

TEST_F(DataGpuBatch, MakeBatchAndEvalBatchMatchTheCpu) {
  const std::vector<uint64_t> seeds{5, 6, 7, 8};
  BatchSampler sampler(600, 32, seeds);
  Split on_device{train_.images.cuda(), train_.labels.cuda(), 28, 28};
  for (int64_t step : {0, 7, 40}) {
    const Batch ref = make_batch(train_, sampler, seeds, step, -0.3, 0.3, torch::kCPU);
    for (const Split* split : {&train_, &on_device}) {
      const Batch b = make_batch(*split, sampler, seeds, step, -0.3, 0.3, torch::kCUDA);
      EXPECT_TRUE(b.x.is_cuda());
      EXPECT_TRUE(b.labels.is_cuda());
      EXPECT_TRUE(b.phi.is_cuda());
      EXPECT_TRUE(torch::equal(b.x.cpu(), ref.x));
      EXPECT_TRUE(torch::equal(b.labels.cpu(), ref.labels));
      EXPECT_TRUE(torch::equal(b.phi.cpu(), ref.phi));
    }
  }
  for (const Split* split : {&train_, &on_device}) {
    const Batch e = eval_batch(*split, 590, 16, seeds, -0.3, 0.3, torch::kCUDA);
    const Batch ref = eval_batch(train_, 590, 16, seeds, -0.3, 0.3, torch::kCPU);
    EXPECT_EQ(e.x.size(1), 10);
    EXPECT_TRUE(torch::equal(e.x.cpu(), ref.x));
    EXPECT_TRUE(torch::equal(e.labels.cpu(), ref.labels));
    EXPECT_TRUE(torch::equal(e.phi.cpu(), ref.phi));
  }
}

}  // namespace
}  // namespace semsec::data
