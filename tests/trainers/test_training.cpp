// Grid-batched layers, GridAdam, checkpoints and the stage runner.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "core/checkpoint.h"
#include "core/errors.h"
#include "core/fs.h"
#include "models/grid_linear.h"
#include "models/gs_isac.h"
#include "tests/test_util.h"
#include "trainers/engine/graph_step.h"
#include "trainers/engine/grid_adam.h"

namespace semsec {
namespace {

TEST(GridLinear, InitialisedLikeTorchLinearWithinBound) {
  models::GridLinear layer(std::vector<uint64_t>{7}, 100, 30, 3);
  const double bound = 1.0 / std::sqrt(100.0);
  EXPECT_LE(layer->weight.abs().max().item<double>(), bound);
  EXPECT_LE(layer->bias.abs().max().item<double>(), bound);
  // Uniform(-b, b) has variance b^2 / 3.
  EXPECT_NEAR(layer->weight.var().item<double>(), bound * bound / 3.0, 0.1 * bound * bound / 3.0);
}

TEST(GridLinear, PointIsTheSameAloneAndInsideAnEnsemble) {
  models::GridLinear alone(std::vector<uint64_t>{42}, 8, 5, 1);
  models::GridLinear grid(std::vector<uint64_t>{1, 2, 42, 3}, 8, 5, 1);
  EXPECT_TRUE(torch::equal(alone->weight[0], grid->weight[2]));
  EXPECT_TRUE(torch::equal(alone->bias[0], grid->bias[2]));
  EXPECT_FALSE(torch::equal(grid->weight[0], grid->weight[1]));
  const torch::Tensor x = torch::randn({4, 6, 8});
  const torch::Tensor y = grid->forward(x);
  const torch::Tensor y2 = alone->forward(x.slice(0, 2, 3));
  EXPECT_TRUE(torch::allclose(y[2], y2[0], 1e-6, 1e-6));
  // Each point is its own matmul: y[g] = x[g] W[g] + b[g].
  for (int g = 0; g < 4; ++g) {
    EXPECT_TRUE(torch::allclose(y[g], x[g].matmul(grid->weight[g]) + grid->bias[g], 1e-5, 1e-5));
  }
}

TEST(GsIsac, TransmitsUnitPowerCodewordsOfTheConfiguredLength) {
  models::GsIsacSizes sizes;
  models::GsIsac net(std::vector<uint64_t>{0, 1}, sizes);
  const torch::Tensor z = net->transmit(torch::rand({2, 5, 784}));
  ASSERT_EQ(z.sizes(), (std::vector<int64_t>{2, 5, 23}));
  EXPECT_TRUE(torch::allclose(z.square().sum(-1), torch::ones({2, 5}), 1e-5, 1e-5));
  EXPECT_EQ(net->receive_bs(torch::randn({2, 5, 46})).sizes(), (std::vector<int64_t>{2, 5}));
  const torch::Tensor x_hat = net->receive_ue(torch::randn({2, 5, 46}));
  EXPECT_EQ(x_hat.sizes(), (std::vector<int64_t>{2, 5, 784}));
  EXPECT_GE(x_hat.min().item<float>(), 0.0f);
  EXPECT_LE(x_hat.max().item<float>(), 1.0f);
}

TEST(GridAdam, MatchesTorchAdamPerPoint) {
  torch::manual_seed(3);
  const torch::Tensor init = torch::randn({1, 4, 3});
  torch::Tensor a = init.clone().requires_grad_(true);
  torch::Tensor b = init.clone().requires_grad_(true);
  trainers::GridAdam ours({a}, {1e-2}, {});
  torch::optim::Adam theirs({b}, torch::optim::AdamOptions(1e-2));
  for (int step = 0; step < 25; ++step) {
    const torch::Tensor target = torch::randn({1, 4, 3});
    ours.zero_grad();
    theirs.zero_grad();
    (a - target).square().sum().backward();
    (b - target).square().sum().backward();
    ours.step();
    theirs.step();
  }
  EXPECT_TRUE(torch::allclose(a, b, 1e-6, 1e-6)) << (a - b).abs().max();
  EXPECT_EQ(ours.step_count().item<double>(), 25.0);
}

// A float parameter is updated in float, as torch and the CUDA kernel do: bit for bit the
// scalar float recurrence below (its per-step scalars formed in double and rounded once, as
// GridAdam does). The CPU update once rounded through double here (C's sqrt(double) found by an
// unqualified sqrt), which this test rejects: that path differs in the last bits.
TEST(GridAdam, FloatParametersAreUpdatedInFloat) {
  torch::manual_seed(7);
  const double lr = 3e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  const torch::Tensor init = torch::randn({1, 257});
  torch::Tensor p = init.clone().requires_grad_(true);
  trainers::GridAdam ours({p}, {lr}, {beta1, beta2, eps});
  std::vector<float> ref(init.data_ptr<float>(), init.data_ptr<float>() + 257), m(257, 0.0f), v(257, 0.0f);
  for (int step = 1; step <= 20; ++step) {
    const torch::Tensor grad = torch::randn({1, 257}) * (step % 3 == 0 ? 1e-4 : 1.0);
    ours.zero_grad();
    p.mutable_grad() = grad.clone();
    ours.step();
    const auto ss = static_cast<float>(lr / (1.0 - std::pow(beta1, step)));
    const auto bc = static_cast<float>(std::sqrt(1.0 - std::pow(beta2, step)));
    const auto omb1 = static_cast<float>(1.0 - beta1), b2 = static_cast<float>(beta2);
    const auto omb2 = static_cast<float>(1.0 - beta2), e = static_cast<float>(eps);
    for (int i = 0; i < 257; ++i) {
      const float g = grad.data_ptr<float>()[i];
      m[i] = m[i] + omb1 * (g - m[i]);
      v[i] = v[i] * b2 + omb2 * g * g;
      ref[i] = ref[i] - ss * m[i] / (std::sqrt(v[i]) / bc + e);
    }
  }
  const torch::Tensor got = p.detach().contiguous();
  EXPECT_EQ(std::memcmp(got.data_ptr<float>(), ref.data(), ref.size() * sizeof(float)), 0)
      << "largest difference " << (got.flatten() - torch::tensor(ref)).abs().max().item<float>();
}

TEST(GridAdam, EachPointMatchesItsOwnTorchAdamInDoublePrecision) {
  // G = 3 points with their own learning rates in one fused update == three torch::optim::Adam.
  torch::manual_seed(5);
  const std::vector<double> lr{1e-2, 3e-3, 5e-2};
  const torch::Tensor init = torch::randn({3, 7, 5}, torch::kFloat64);
  torch::Tensor ours_p = init.clone().requires_grad_(true);
  trainers::GridAdam ours({ours_p}, lr, {0.8, 0.99, 1e-6});
  std::vector<torch::Tensor> theirs_p;
  std::vector<std::unique_ptr<torch::optim::Adam>> theirs;
  for (int g = 0; g < 3; ++g) {
    theirs_p.push_back(init[g].clone().requires_grad_(true));
    theirs.push_back(std::make_unique<torch::optim::Adam>(
        std::vector<torch::Tensor>{theirs_p.back()}, torch::optim::AdamOptions(lr[g]).betas({0.8, 0.99}).eps(1e-6)));
  }
  for (int step = 0; step < 30; ++step) {
    const torch::Tensor target = torch::randn({3, 7, 5}, torch::kFloat64);
    ours.zero_grad();
    (ours_p - target).pow(3).abs().sum().backward();
    ours.step();
    for (int g = 0; g < 3; ++g) {
      theirs[g]->zero_grad();
      (theirs_p[g] - target[g]).pow(3).abs().sum().backward();
      theirs[g]->step();
    }
  }
  for (int g = 0; g < 3; ++g) {
    EXPECT_TRUE(torch::allclose(ours_p[g], theirs_p[g], 1e-12, 1e-12))
        << "point " << g << ": " << (ours_p[g] - theirs_p[g]).abs().max();
  }
}

TEST(GridAdam, RejectsParametersItCannotUpdate) {
  const torch::Tensor p = torch::zeros({2, 3}).requires_grad_(true);
  testing::expect_error<c10::Error>([&] { trainers::GridAdam({p}, {0.1}, {}); },
                                    {"GridAdam: parameter of shape [2, 3] does not lead with the grid dimension G=1"});
  testing::expect_error<c10::Error>(
      [&] {
        trainers::GridAdam({p.t()}, {0.1, 0.1, 0.1}, {});
      },
      {"GridAdam: parameters must be contiguous"});
  const torch::Tensor i = torch::zeros({2, 3}, torch::kInt64);
  testing::expect_error<c10::Error>(
      [&] {
        trainers::GridAdam({i}, {0.1, 0.1}, {});
      },
      {"GridAdam: parameters must be float32 or float64, got Long"});
  testing::expect_error([] { trainers::GridAdam({}, {0.1}, {}); }, {"GridAdam: no parameters to optimise"});
}

TEST(GraphedStep, RefusesADeviceWithoutCudaGraphs) {
  testing::expect_error([] { trainers::GraphedStep graphed(torch::kCPU); }, {"train.cuda_graph", "cpu"});
}

TEST(GridAdam, LearningRatesArePerPointAndPointsNeverMix) {
  torch::Tensor p = torch::zeros({3, 2}).requires_grad_(true);
  trainers::GridAdam opt({p}, {0.1, 0.0, 0.2}, {});
  (p * torch::tensor({{1.0f, 1.0f}, {1.0f, 1.0f}, {-1.0f, -1.0f}})).sum().backward();
  opt.step();
  // First Adam step moves each element by lr * sign(grad).
  EXPECT_NEAR(p[0][0].item<float>(), -0.1f, 1e-6);
  EXPECT_EQ(p[1][0].item<float>(), 0.0f);
  EXPECT_NEAR(p[2][1].item<float>(), 0.2f, 1e-6);
}

// Parameter groups: each group steps with its own learning rates, and the result is what one
// optimizer per group gives (one step count serves both).
TEST(GridAdam, GroupsTrainWithTheirOwnLearningRatesAsSeparateOptimizersWould) {
  auto make = [] {
    return std::vector<torch::Tensor>{torch::linspace(-1, 1, 6).reshape({2, 3}).requires_grad_(true),
                                      torch::linspace(0, 2, 8).reshape({2, 4}).requires_grad_(true)};
  };
  const std::vector<torch::Tensor> a = make(), b = make();
  trainers::GridAdam grouped({{{a[0]}, {0.1, 0.2}}, {{a[1]}, {0.003, 0.0}}}, {});
  trainers::GridAdam first({b[0]}, {0.1, 0.2}, {}), second({b[1]}, {0.003, 0.0}, {});
  for (int step = 0; step < 3; ++step) {
    for (const auto* ps : {&a, &b}) {
      for (const auto& p : *ps) p.mutable_grad() = torch::Tensor();
      ((*ps)[0].square().sum() + (*ps)[1].sin().sum()).backward();
    }
    grouped.step();
    first.step();
    second.step();
  }
  EXPECT_TRUE(torch::equal(a[0], b[0]));
  EXPECT_TRUE(torch::equal(a[1], b[1]));
  EXPECT_TRUE(torch::equal(a[1][1], torch::linspace(0, 2, 8).reshape({2, 4})[1]));  // lr 0 leaves it
  EXPECT_EQ(grouped.state_names().size(), 2u * 2 + 1);  // exp_avg.0, exp_avg_sq.0, exp_avg.1, ..., step
  testing::expect_error<c10::Error>(
      [&] {
        trainers::GridAdam({{{a[0]}, {0.1, 0.2}}, {{a[1]}, {0.1}}}, {});
      },
      {"a parameter group has 1 learning rates; expected one per grid point (2)"});
}

// copy_into_rows: point g's weights into rows [first, first + count) of its block, the other rows
// untouched (the min-max population's first member, a threat grid's fine-tuned start).
TEST(GridLinear, CopyIntoRowsFillsEachPointsBlock) {
  models::GridMlp src(std::vector<uint64_t>{1, 2}, std::vector<int64_t>{3, 4, 2}, models::Activation::kNone, 9);
  models::GridMlp dst(std::vector<uint64_t>{5, 5, 5, 6, 6, 6}, std::vector<int64_t>{3, 4, 2}, models::Activation::kNone,
                      9);
  const auto before = dst->parameters()[0].clone();
  models::copy_into_rows(*src, *dst, 3, 1, 2);
  const auto from = src->parameters(), to = dst->parameters();
  for (size_t i = 0; i < from.size(); ++i) {
    for (int64_t g = 0; g < 2; ++g) {
      EXPECT_TRUE(torch::equal(to[i][3 * g + 1], from[i][g])) << i << " " << g;
      EXPECT_TRUE(torch::equal(to[i][3 * g + 2], from[i][g])) << i << " " << g;
    }
  }
  EXPECT_TRUE(torch::equal(to[0][0], before[0]));
  EXPECT_TRUE(torch::equal(to[0][3], before[3]));
  testing::expect_error([&] { models::copy_into_rows(*src, *dst, 3, 2, 2); }, {"rows [2, 4) of blocks of 3"});
  testing::expect_error([&] { models::copy_into_rows(*src, *dst, 2, 0, 1); }, {"does not hold 2 rows per point"});
}

TEST(Checkpoint, RoundTripsTensorsExactly) {
  const testing::TempDir dir("train");
  const std::string path = dir.file("c.pt");
  TensorMap m{{"a", torch::randn({3, 4})}, {"b.c", torch::arange(5)}, {"step", int_tensor(17)}};
  save_tensors(path, m);
  const TensorMap back = load_tensors(path);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_TRUE(torch::equal(back.at("a"), m.at("a")));
  EXPECT_TRUE(torch::equal(back.at("b.c"), m.at("b.c")));
  EXPECT_EQ(get_int(back, "step", path), 17);
  torch::Tensor dest = torch::zeros({3, 4});
  restore_tensor(back, "a", dest, path);
  EXPECT_TRUE(torch::equal(dest, m.at("a")));
  // No temporary file is left behind.
  EXPECT_EQ(fs::list_dir(dir.path()), std::vector<std::string>{"c.pt"});
}

TEST(Checkpoint, RejectsShapeMismatchAndCorruptFilesWithTheFileName) {
  const testing::TempDir dir("train");
  const std::string path = dir.file("c.pt");
  save_tensors(path, {{"w", torch::randn({2, 2})}});
  const TensorMap back = load_tensors(path);
  torch::Tensor wrong = torch::zeros({3, 2});
  testing::expect_error([&] { restore_tensor(back, "w", wrong, path); },
                        {path + ": tensor 'w' has shape [2, 2] Float but the model expects [3, 2] Float"});
  testing::expect_error([&] { restore_tensor(back, "missing", wrong, path); },
                        {path + ": tensor 'missing' is missing"});
  // Truncate the file: loading names the file.
  {
    std::string bytes;
    {
      std::ifstream in(path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  testing::expect_error([&] { load_tensors(path); }, {path + ": not a readable checkpoint (corrupt or truncated)"});
  testing::expect_error([&] { load_tensors(dir.file("absent.pt")); }, {dir.file("absent.pt") + ": cannot open file"});
}

}  // namespace
}  // namespace semsec
