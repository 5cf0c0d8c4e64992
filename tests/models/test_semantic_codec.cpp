// The CLSSR semantic codec: index bits, the masked quantiser, grid == alone, the
// straight-through gradient, VQ-VAE pretraining and the semantic-noise stage.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/fs.h"
#include "datasets/loader.h"
#include "datasets/synthetic.h"
#include "models/semantic_codec.h"
#include "tests/test_util.h"
#include "trainers/clssr/codec_training.h"

namespace semsec {
namespace {

using models::CodecSizes;
using models::SemanticCodec;

// Small synthetic Fashion-MNIST look-alike, written once per process.
const data::Split& synthetic_train() {
  static const data::Split split = [] {
    const testing::TempDir dir("codec");
    data::write_synthetic_dataset(dir.path(), 2048, 16, 5, false);
    return data::load_split(dir.path(), "train");
  }();
  return split;
}

// The first 3000 Fashion-MNIST training images, or an undefined split when the data set is
// not installed (the training-quality tests then skip).
const data::Split& fashion_train() {
  static const data::Split split = [] {
    const std::string root = data::default_data_root();
    return fs::is_directory(root) ? data::load_split(root, "train", 3000) : data::Split{};
  }();
  return split;
}

CodecSizes small_sizes(int64_t b_min, int64_t b_max) {
  CodecSizes s;
  s.hidden = 64;
  s.num_symbols = 8;
  s.symbol_dim = 4;
  s.b_min = b_min;
  s.b_max = b_max;
  return s;
}

trainers::CodecTrainOptions quiet_options() {
  trainers::CodecTrainOptions o;
  o.batch_size = 64;
  o.log_progress = false;
  return o;
}

// Each codec stage call in a run directory of its own: a stage resumes from (or skips to the end
// of) a checkpoint it finds in its run, so two trainings must not share one.
template <typename Train>
void in_fresh_run(Train&& train) {
  const testing::TempDir dir("codecrun");
  trainers::RunContext ctx = trainers::open_run(dir.path(), torch::kCPU, /*resume=*/false, /*tensorboard=*/false);
  ctx.quiet = true;
  train(ctx);
}

void pretrain(SemanticCodec& codec, const data::Split& train, const trainers::CodecTrainOptions& o,
              const std::vector<uint64_t>& seeds) {
  in_fresh_run([&](trainers::RunContext& ctx) { trainers::pretrain_codec(codec, train, o, seeds, ctx); });
}

void train_noise(SemanticCodec& codec, const data::Split& train, const trainers::CodecTrainOptions& o,
                 const std::vector<uint64_t>& seeds) {
  in_fresh_run([&](trainers::RunContext& ctx) { trainers::train_semantic_noise(codec, train, o, seeds, ctx); });
}

// Named tensors of a module, copied.
std::vector<std::pair<std::string, torch::Tensor>> snapshot(torch::nn::Module& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : m.named_parameters()) out.emplace_back(p.key(), p.value().detach().clone());
  return out;
}

TEST(CodecBits, RoundTripAndMostSignificantBitFirst) {
  torch::manual_seed(1);  // random test inputs only; the codec itself draws from Philox
  const torch::Tensor idx = torch::tensor({5, 0, 7, 2}, torch::kInt64).view({1, 4});
  const torch::Tensor bits = models::indices_to_bits(idx, 3);
  EXPECT_EQ(bits.scalar_type(), torch::kUInt8);
  const std::vector<uint8_t> expect = {1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0};
  ASSERT_EQ(bits.sizes(), (std::vector<int64_t>{1, 12}));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(bits[0][i].item<int>(), expect[i]) << "bit " << i;
  EXPECT_TRUE(torch::equal(models::bits_to_indices(bits, 3), idx));
  // One-hot bits read back as powers of two, the first bit being the most significant.
  EXPECT_EQ(models::bits_to_indices(torch::tensor({1, 0, 0, 0, 0, 0, 0, 1}, torch::kUInt8), 4)[0].item<int64_t>(), 8);
  EXPECT_EQ(models::bits_to_indices(torch::tensor({1, 0, 0, 0, 0, 0, 0, 1}, torch::kUInt8), 4)[1].item<int64_t>(), 1);
  for (int64_t b : {1, 2, 6, 12}) {
    const torch::Tensor r = torch::randint(0, int64_t{1} << b, {3, 5, 16}, torch::kInt64);
    const torch::Tensor rb = models::indices_to_bits(r, b);
    EXPECT_EQ(rb.sizes(), (std::vector<int64_t>{3, 5, 16 * b}));
    EXPECT_TRUE(torch::equal(models::bits_to_indices(rb, b), r)) << "b = " << b;
  }
  testing::expect_error([&] { models::indices_to_bits(idx, 0); },
                        {"indices_to_bits: b is 0", "expected 1 to 62 bits per index"});
  testing::expect_error<c10::Error>([&] { models::bits_to_indices(bits, 5); },
                                    {"bits_to_indices: the last dimension ([1, 12])", "multiple of b = 5"});
}

TEST(CodecSizes, ValidationNamesTheField) {
  EXPECT_NO_THROW(CodecSizes{}.validate());
  const auto rejects = [](const std::function<void(CodecSizes&)>& edit, const std::vector<std::string>& parts) {
    CodecSizes s;
    edit(s);
    testing::expect_error([&] { s.validate(); }, parts);
  };
  rejects([](CodecSizes& s) { s.b_max = 13; }, {"codec.b_max is 13", "expected 1 to 12 index bits"});
  rejects([](CodecSizes& s) { s.b_min = 0; }, {"codec.b_min is 0", "expected 1 to 12 index bits"});
  rejects([](CodecSizes& s) { s.b_min = 5, s.b_max = 4; },
          {"codec.b_max is 4 but codec.b_min is 5", "expected b_min <= b_max"});
  rejects([](CodecSizes& s) { s.hidden = 0; }, {"codec.hidden is 0", "expected a positive width"});
  rejects([](CodecSizes& s) { s.symbol_dim = 0; }, {"codec.symbol_dim (k) is 0", "expected a positive dimension"});
  // G = 5 (b = 2..6) needs 5 seeds.
  const std::vector<uint64_t> two_seeds{1, 2};
  testing::expect_error([&] { SemanticCodec(CodecSizes{}, two_seeds); },
                        {"SemanticCodec: 2 seeds given; expected one per grid point, 5 (b = 2..6)"});
}

TEST(SemanticCodec, ShapesAndBitsPerPoint) {
  torch::manual_seed(1);
  const CodecSizes s = small_sizes(2, 4);
  SemanticCodec codec(s, std::vector<uint64_t>{1, 2, 3});
  ASSERT_EQ(codec->grid_size(), 3);
  EXPECT_EQ(codec->bits(0), 2);
  EXPECT_EQ(codec->bits(2), 4);
  testing::expect_error([&] { codec->bits(3); }, {"grid point 3 does not exist", "expected 0 to 2"});
  EXPECT_EQ(codec->codebook.sizes(), (std::vector<int64_t>{3, 16, 4}));
  EXPECT_EQ(codec->semantic_noise.sizes(), (std::vector<int64_t>{3, 8, 4}));
  // Padding rows are zero and marked invalid.
  EXPECT_EQ(codec->valid_codes().sum(1)[0].item<int64_t>(), 4);
  EXPECT_EQ(codec->valid_codes().sum(1)[2].item<int64_t>(), 16);
  EXPECT_EQ(codec->codebook[0].narrow(0, 4, 12).abs().sum().item<float>(), 0.0f);
  const torch::Tensor x = torch::rand({3, 5, 784});
  const torch::Tensor d = codec->encode(x);
  EXPECT_EQ(d.sizes(), (std::vector<int64_t>{3, 5, 8, 4}));
  const torch::Tensor idx = codec->transmit_indices(x, false);
  EXPECT_EQ(idx.scalar_type(), torch::kInt64);
  EXPECT_TRUE(torch::equal(idx, codec->quantize(d)));
  const torch::Tensor q = codec->lookup(idx);
  EXPECT_EQ(q.sizes(), (std::vector<int64_t>{3, 5, 8, 4}));
  for (const auto& y : {codec->decode_plain(q), codec->decode_aware(q)}) {
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{3, 5, 784}));
    EXPECT_GE(y.min().item<float>(), 0.0f);
    EXPECT_LE(y.max().item<float>(), 1.0f);
  }
  testing::expect_error<c10::Error>(
      [&] {
        codec->encode(torch::rand({2, 5, 784}));
      },
      {"SemanticCodec::encode: expected x [G=3, B, D=784], got [2, 5, 784]"});
}

TEST(SemanticCodec, QuantizePicksTheNearestValidCodeword) {
  torch::manual_seed(1);
  const CodecSizes s = small_sizes(1, 5);
  SemanticCodec codec(s, std::vector<uint64_t>{7, 8, 9, 10, 11});
  const int64_t g_count = codec->grid_size(), kmax = s.max_codes();
  torch::NoGradGuard no_grad;
  // Fill the padding rows with the symbols themselves: if they were searched they would win.
  // 4000 x 8 rows: more than one of quantize's chunks (2^24 / (G K k) = 26214 rows).
  const torch::Tensor d = 1.5 * torch::randn({g_count, 4000, s.num_symbols, s.symbol_dim});
  for (int64_t g = 0; g < g_count; ++g) {
    const int64_t valid = codec->num_codes(g);
    if (valid < kmax) codec->codebook[g].narrow(0, valid, 1).copy_(d[g][0][0].unsqueeze(0));
  }
  const torch::Tensor idx = codec->quantize(d);
  ASSERT_EQ(idx.sizes(), (std::vector<int64_t>{g_count, 4000, s.num_symbols}));
  for (int64_t g = 0; g < g_count; ++g) {
    const int64_t valid = codec->num_codes(g);
    EXPECT_LT(idx[g].max().item<int64_t>(), valid) << "grid point " << g;
    EXPECT_GE(idx[g].min().item<int64_t>(), 0);
    // Brute force over the valid rows.
    const torch::Tensor rows = codec->codebook[g].narrow(0, 0, valid);        // [K, k]
    const torch::Tensor dist = (d[g].unsqueeze(-2) - rows).square().sum(-1);  // [B, n, K]
    EXPECT_TRUE(torch::equal(idx[g], dist.argmin(-1))) << "grid point " << g;
  }
  // lookup returns the codebook rows.
  const torch::Tensor q = codec->lookup(idx);
  EXPECT_TRUE(torch::equal(q[2][3][1], codec->codebook[2][idx[2][3][1].item<int64_t>()]));
}

TEST(SemanticCodec, DecodingOnePointEqualsItsSliceOfTheGrid) {
  torch::NoGradGuard no_grad;
  const CodecSizes s = small_sizes(2, 4);
  SemanticCodec codec(s, std::vector<uint64_t>{5, 6, 7});
  codec->decoder_aware->parameters()[0].add_(0.25);  // make the two decoders differ
  const torch::Tensor x = torch::rand({3, 6, s.image_dim});
  const torch::Tensor idx = codec->quantize(codec->encode(x));
  for (bool aware : {false, true}) {
    const torch::Tensor all = aware ? codec->decode_aware(codec->lookup(idx)) : codec->decode_plain(codec->lookup(idx));
    for (int64_t g = 0; g < 3; ++g) {
      const torch::Tensor one = codec->decode_point(g, idx[g], aware);
      EXPECT_TRUE(torch::allclose(one, all[g], 1e-5, 1e-6)) << "point " << g << " aware " << aware;
    }
  }
  testing::expect_error<c10::Error>([&] { codec->decode_point(3, idx[0], false); },
                                    {"SemanticCodec::decode_point: point 3", "[B, n=8] expected"});
}

TEST(SemanticCodec, StraightThroughGradientReachesTheEncoder) {
  torch::manual_seed(1);
  SemanticCodec codec(small_sizes(3, 3), std::vector<uint64_t>{4});
  const torch::Tensor x = torch::rand({1, 16, 784});
  const torch::Tensor d = codec->encode(x);
  const torch::Tensor q = codec->straight_through(d);
  EXPECT_TRUE(torch::allclose(q.detach(), codec->lookup(codec->quantize(d)), 1e-6, 1e-6));
  codec->decode_plain(q).square().sum().backward();
  for (const auto& p : codec->encoder->parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_GT(p.grad().abs().sum().item<double>(), 0.0);
  }
  EXPECT_FALSE(codec->decoder_aware->parameters()[0].grad().defined());
}

TEST(CodecTraining, PointIsTheSameAloneAndInsideTheGrid) {
  const data::Split& train = synthetic_train();
  data::Split subset{train.images.narrow(0, 0, 512), train.labels.narrow(0, 0, 512), train.rows, train.cols};
  auto o = quiet_options();
  o.pretrain_epochs = 2;
  o.restart_every = 3;  // exercise the dead-code restarts too
  o.noise_epochs = 1;
  o.noise_commitment = 1.0;
  const std::vector<uint64_t> model_seeds = {21, 22}, train_seeds = {31, 32};
  SemanticCodec grid(small_sizes(2, 3), model_seeds);
  pretrain(grid, subset, o, train_seeds);
  train_noise(grid, subset, o, train_seeds);
  const torch::Tensor images = train.images.narrow(0, 1024, 100);
  const auto grid_eval = trainers::evaluate_codec(grid, images, 64);
  for (int64_t g = 0; g < 2; ++g) {
    SemanticCodec alone(small_sizes(2 + g, 2 + g), std::vector<uint64_t>{model_seeds[g]});
    pretrain(alone, subset, o, {train_seeds[g]});
    train_noise(alone, subset, o, {train_seeds[g]});
    const int64_t valid = alone->num_codes(0);
    EXPECT_TRUE(torch::allclose(alone->codebook[0], grid->codebook[g].narrow(0, 0, valid), 1e-5, 1e-5)) << g;
    const auto a = snapshot(*alone), b = snapshot(*grid);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].first == "codebook") continue;  // padded differently, compared above
      // Batched GEMMs over G = 2 and G = 1 may round differently: float tolerance, not bits.
      EXPECT_TRUE(torch::allclose(a[i].second[0], b[i].second[g], 1e-5, 1e-5))
          << a[i].first << " point " << g << ": max diff "
          << (a[i].second[0] - b[i].second[g]).abs().max().item<float>();
    }
    const auto alone_eval = trainers::evaluate_codec(alone, images, 64);
    EXPECT_TRUE(torch::allclose(alone_eval.user_aware[0], grid_eval.user_aware[g], 1e-4, 1e-6)) << g;
    EXPECT_TRUE(torch::allclose(alone_eval.eve_noisy[0], grid_eval.eve_noisy[g], 1e-4, 1e-6)) << g;
  }
  // Training is deterministic: a second run gives the same weights bit for bit.
  SemanticCodec again(small_sizes(2, 3), model_seeds);
  pretrain(again, subset, o, train_seeds);
  train_noise(again, subset, o, train_seeds);
  const auto a = snapshot(*again), b = snapshot(*grid);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
}

// Dead-code restarts replace only the valid codewords used fewer than restart_min_uses times since
// the last check: with a threshold of 0 none is dead, so restarting at every step changes nothing;
// with a threshold no codeword reaches, every one is replaced and training differs.
TEST(CodecTraining, RestartsReplaceOnlyDeadCodewords) {
  const data::Split& train = synthetic_train();
  data::Split subset{train.images.narrow(0, 0, 256), train.labels.narrow(0, 0, 256), train.rows, train.cols};
  auto o = quiet_options();
  o.pretrain_epochs = 1;
  auto trained = [&](int64_t every, int64_t min_uses) {
    o.restart_every = every;
    o.restart_min_uses = min_uses;
    SemanticCodec codec(small_sizes(2, 3), std::vector<uint64_t>{21, 22});
    pretrain(codec, subset, o, {31, 32});
    return snapshot(*codec);
  };
  const auto never = trained(0, 1), none_dead = trained(1, 0), all_dead = trained(1, 1 << 30);
  for (size_t i = 0; i < never.size(); ++i)
    EXPECT_TRUE(torch::equal(never[i].second, none_dead[i].second)) << never[i].first;
  bool differs = false;
  for (size_t i = 0; i < never.size(); ++i) differs |= !torch::equal(never[i].second, all_dead[i].second);
  EXPECT_TRUE(differs);
}

// Input-dependent semantic noise (CodecSizes::noise_hidden > 0, codec.noise=input): Delta z(d)
// starts as the constant shift for every codeword, training moves the network so that Delta z
// differs from image to image, the frozen parts stay fixed, and the indices sent follow
// quantize(d + Delta z(d)).
TEST(CodecTraining, InputDependentNoiseStartsConstantAndLearnsPerImageShifts) {
  const data::Split& train = synthetic_train();
  data::Split subset{train.images.narrow(0, 0, 512), train.labels.narrow(0, 0, 512), train.rows, train.cols};
  auto o = quiet_options();
  o.pretrain_epochs = 1;
  o.noise_epochs = 2;
  CodecSizes sizes = small_sizes(2, 3);
  sizes.noise_hidden = 16;
  SemanticCodec codec(sizes, std::vector<uint64_t>{41, 42});
  ASSERT_TRUE(codec->noise_net);
  pretrain(codec, subset, o, {51, 52});
  const torch::Tensor x = train.images.narrow(0, 1024, 50).unsqueeze(0).expand({2, 50, 784}).contiguous();
  {
    torch::NoGradGuard no_grad;
    codec->semantic_noise.fill_(0.3);
    const torch::Tensor dz = codec->noise(codec->encode(x));
    EXPECT_TRUE(torch::equal(dz, codec->semantic_noise.unsqueeze(1).expand_as(dz)));  // constant at the start
    codec->semantic_noise.zero_();
  }
  const auto before = snapshot(*codec);
  train_noise(codec, subset, o, {51, 52});
  const auto after = snapshot(*codec);
  for (size_t i = 0; i < before.size(); ++i) {
    const std::string& name = before[i].first;
    const bool trained =
        name == "semantic_noise" || name.rfind("decoder_aware.", 0) == 0 || name.rfind("noise_net.", 0) == 0;
    EXPECT_EQ(torch::equal(before[i].second, after[i].second), !trained) << name;
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor d = codec->encode(x);
  const torch::Tensor dz = codec->noise(d);
  for (int64_t g = 0; g < 2; ++g) EXPECT_GT(dz[g].std(0).mean().item<double>(), 1e-4) << "point " << g;
  EXPECT_TRUE(torch::equal(codec->transmit_indices(x, true), codec->quantize(d + dz)));
  // Without noise_hidden the network does not exist and Delta z is the shift alone.
  SemanticCodec constant(small_sizes(2, 3), std::vector<uint64_t>{41, 42});
  EXPECT_FALSE(constant->noise_net);
  sizes.noise_hidden = -1;
  testing::expect_error([&] { sizes.validate(); }, {"codec.noise_hidden is -1"});
}

// Every later CLSSR step needs every bit width, so a diverging point is not frozen and left out as
// a sweep point is: it stops the stage with a message naming the stage, the point and the step.
TEST(CodecTraining, ADivergingPointStopsItsStage) {
  const data::Split& train = synthetic_train();
  data::Split subset{train.images.narrow(0, 0, 256), train.labels.narrow(0, 0, 256), train.rows, train.cols};
  auto o = quiet_options();
  o.pretrain_epochs = 1;
  o.lr = 1e38;  // Adam moves every weight by about lr: the reconstructions overflow
  SemanticCodec codec(small_sizes(2, 3), std::vector<uint64_t>{21, 22});
  semsec::testing::expect_error(
      [&] {
        pretrain(codec, subset, o, {31, 32});
      },
      {"stage codec_pretrain: point 0 diverged at step ",
       "every grid point of this stage is needed, so the run stops"});
}

// Pretrains a four-point codec (b = 2..5) on real images once for the tests below.
class TrainedCodec : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const data::Split& train = fashion_train();
    if (!train.images.defined()) return;
    codec_ = new SemanticCodec(small_sizes(2, 5), std::vector<uint64_t>{41, 42, 43, 44});
    auto o = quiet_options();
    o.batch_size = 32;
    o.pretrain_epochs = 12;
    o.lr = 3e-3;
    pretrain(*codec_, train, o, {51, 52, 53, 54});
  }
  static void TearDownTestSuite() {
    delete codec_;
    codec_ = nullptr;
  }
  static SemanticCodec* codec_;
};
SemanticCodec* TrainedCodec::codec_ = nullptr;

// One test (one process under ctest) so the pretraining, the slow part, runs once.
TEST_F(TrainedCodec, PretrainingBeatsTheMeanImageThenSemanticNoiseHurtsEveMoreThanTheUser) {
  {
    const data::Split& train = fashion_train();
    if (!codec_)
      SEMSEC_SKIP_OR_FAIL_IN_CI(data::default_data_root() << " not installed (Debian dataset-fashion-mnist)");
    const torch::Tensor images = train.images.narrow(0, 0, 1024);
    const double baseline = (images - images.mean(0)).square().mean().item<double>();
    const auto r = trainers::evaluate_codec(*codec_, images, 256);
    ASSERT_EQ(r.user_plain.sizes(), (std::vector<int64_t>{4, 1024}));
    for (int64_t g = 0; g < 4; ++g) {
      EXPECT_LT(r.user_plain[g].mean().item<double>(), 0.5 * baseline) << "b = " << (*codec_)->bits(g);
    }
    // Before the noise stage Delta z = 0 and the aware decoder is the plain one.
    EXPECT_TRUE(torch::equal(r.user_plain, r.user_aware));
    EXPECT_TRUE(torch::equal(r.user_plain, r.eve_noisy));
    // Most codewords are in use (the first-batch init and the restarts keep them alive).
    torch::NoGradGuard no_grad;
    const torch::Tensor x = images.unsqueeze(0).expand({4, 1024, 784}).contiguous();
    const torch::Tensor idx = (*codec_)->transmit_indices(x, false);
    for (int64_t g = 0; g < 4; ++g) {
      const int64_t used = std::get<0>(at::_unique(idx[g].flatten())).numel();
      EXPECT_GE(used, (*codec_)->num_codes(g) * 3 / 4) << "b = " << (*codec_)->bits(g);
    }
  }
  {
    const data::Split& train = fashion_train();
    SemanticCodec& codec = *codec_;
    const auto before = snapshot(*codec);
    auto o = quiet_options();
    o.noise_epochs = 4;
    train_noise(codec, train, o, {61, 62, 63, 64});
    const auto after = snapshot(*codec);
    for (size_t i = 0; i < before.size(); ++i) {
      const std::string& name = before[i].first;
      const bool trained = name == "semantic_noise" || name.rfind("decoder_aware.", 0) == 0;
      EXPECT_EQ(torch::equal(before[i].second, after[i].second), !trained) << name;
    }
    for (const auto& p : codec->parameters()) EXPECT_TRUE(p.requires_grad());  // the freeze is undone

    const auto r = trainers::evaluate_codec(codec, train.images.narrow(0, 0, 1024), 256);
    for (int64_t g = 0; g < 4; ++g) {
      const double plain = r.user_plain[g].mean().item<double>();
      const double user = r.user_aware[g].mean().item<double>(), eve = r.eve_noisy[g].mean().item<double>();
      EXPECT_GT(eve, 2.0 * user) << "b = " << codec->bits(g);
      // Per image too, for the large majority (the codec is small and briefly trained here).
      EXPECT_GT((r.eve_noisy[g] > r.user_aware[g]).to(torch::kFloat32).mean().item<float>(), 0.8f) << codec->bits(g);
      // The noise costs the user (aware decoder) far less than it costs Eve.
      EXPECT_GT(eve - plain, 3.0 * (user - plain)) << "b = " << codec->bits(g);
    }
  }
}

}  // namespace
}  // namespace semsec
