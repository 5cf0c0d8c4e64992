// The fused output layer + sigmoid + squared error against the composed ATen ops (values and
// gradients), against central finite differences of its own forward, and alone vs in a grid.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/loss/loss.h"
#include "kernels/loss/loss_op.h"
#include "tests/test_util.h"

namespace sk = semsec::kernels;

namespace {

torch::Tensor composed(const torch::Tensor& a, const torch::Tensor& x) {
  return (torch::sigmoid(a) - x).square().mean({1, 2});
}

TEST(FusedLoss, ExpIsAccurateOverTheSigmoidRange) {
  double worst = 0.0;
  for (int i = -87000; i <= 87000; ++i) {
    const float v = static_cast<float>(i) / 1000.0f;
    worst = std::max(worst, std::abs(sk::exp_f(v) / std::exp(static_cast<double>(v)) - 1.0));
  }
  EXPECT_LT(worst, 4e-7);
  EXPECT_EQ(sk::sigmoid_f(-200.0f), 1.0f / (1.0f + sk::exp_f(87.0f)));  // clamped, finite
  EXPECT_EQ(sk::sigmoid_f(200.0f), 1.0f);
}

struct LinearCase {
  torch::Tensor h, w, b, x;
};

// G points, B rows, K hidden, D pixels; logits spread wide enough to reach the sigmoid's tails.
LinearCase linear_case(int64_t g, int64_t batch, int64_t k, int64_t d, uint64_t seed,
                       torch::ScalarType dtype = torch::kFloat32) {
  torch::manual_seed(seed);
  auto o = torch::TensorOptions().dtype(dtype);
  return {torch::randn({g, batch, k}, o) * 2.0, torch::randn({g, k, d}, o), torch::randn({g, 1, d}, o),
          torch::rand({g, batch, d}, o)};
}

torch::Tensor composed_linear(const torch::Tensor& h, const torch::Tensor& w, const torch::Tensor& b,
                              const torch::Tensor& x) {
  return composed(torch::baddbmm(b, h, w), x);
}

// Values and the gradients of h, W and b against the composed ops, with a distinct upstream
// gradient per point.
void expect_matches_composed(const LinearCase& c) {
  torch::Tensor h1 = c.h.clone().requires_grad_(true), w1 = c.w.clone().requires_grad_(true);
  torch::Tensor b1 = c.b.clone().requires_grad_(true);
  torch::Tensor h2 = c.h.clone().requires_grad_(true), w2 = c.w.clone().requires_grad_(true);
  torch::Tensor b2 = c.b.clone().requires_grad_(true);
  const torch::Tensor ours = sk::linear_sigmoid_mse(h1, w1, b1, c.x), ref = composed_linear(h2, w2, b2, c.x);
  ASSERT_EQ(ours.sizes(), (std::vector<int64_t>{c.h.size(0)}));
  EXPECT_TRUE(torch::allclose(ours, ref, 1e-5, 1e-7)) << ours << ref;
  const torch::Tensor up = torch::arange(1, c.h.size(0) + 1, torch::kFloat32) * 0.75 - 1.0;
  (ours * up).sum().backward();
  (ref * up).sum().backward();
  EXPECT_TRUE(torch::allclose(h1.grad(), h2.grad(), 1e-4, 1e-7)) << (h1.grad() - h2.grad()).abs().max();
  EXPECT_TRUE(torch::allclose(w1.grad(), w2.grad(), 1e-4, 1e-7)) << (w1.grad() - w2.grad()).abs().max();
  EXPECT_TRUE(torch::allclose(b1.grad(), b2.grad(), 1e-4, 1e-7)) << (b1.grad() - b2.grad()).abs().max();
}

TEST(FusedLoss, LinearSigmoidMseMatchesTheComposedOpsAndTheirGradients) {
  // D = 37: one column block of two full vectors and a tail; B = 5, K = 3.
  expect_matches_composed(linear_case(3, 5, 3, 37, 2));
  // The model's shape (K = 16, D = 784: seven column blocks of 112) with a small batch.
  expect_matches_composed(linear_case(2, 9, 16, 784, 3));
  // D = 300: 19 vectors in three uneven blocks, the last one ending in a tail.
  expect_matches_composed(linear_case(1, 4, 7, 300, 4));
}

TEST(FusedLoss, OnlyTheInputsThatRequireGradGetOne) {
  const LinearCase c = linear_case(2, 6, 4, 40, 5);
  torch::Tensor h = c.h.clone().requires_grad_(true);
  sk::linear_sigmoid_mse(h, c.w, c.b, c.x).sum().backward();  // frozen layer: gradient to h only
  torch::Tensor h2 = c.h.clone().requires_grad_(true);
  composed_linear(h2, c.w, c.b, c.x).sum().backward();
  EXPECT_TRUE(torch::allclose(h.grad(), h2.grad(), 1e-4, 1e-7));
  // Fixed input, trained layer: gradients to W and b only.
  torch::Tensor w = c.w.clone().requires_grad_(true), b = c.b.clone().requires_grad_(true);
  torch::Tensor w2 = c.w.clone().requires_grad_(true), b2 = c.b.clone().requires_grad_(true);
  sk::linear_sigmoid_mse(c.h, w, b, c.x).sum().backward();
  composed_linear(c.h, w2, b2, c.x).sum().backward();
  EXPECT_TRUE(torch::allclose(w.grad(), w2.grad(), 1e-4, 1e-7));
  EXPECT_TRUE(torch::allclose(b.grad(), b2.grad(), 1e-4, 1e-7));
  torch::NoGradGuard no_grad;  // evaluation: the loss alone, equal to the composed ops
  EXPECT_TRUE(
      torch::allclose(sk::linear_sigmoid_mse(h, c.w, c.b, c.x), composed_linear(c.h, c.w, c.b, c.x), 1e-5, 1e-7));
}

TEST(FusedLoss, PointsAndThreadsDoNotChangeTheResult) {
  // A point alone and inside a grid, one thread and two: the same bits (the summation order is
  // fixed by the shapes).
  const LinearCase c = linear_case(3, 20, 16, 784, 6);
  auto run = [&](int64_t g0, int64_t g1) {
    torch::Tensor h = c.h.slice(0, g0, g1).clone().requires_grad_(true);
    torch::Tensor w = c.w.slice(0, g0, g1).clone().requires_grad_(true);
    torch::Tensor b = c.b.slice(0, g0, g1).clone().requires_grad_(true);
    const torch::Tensor loss = sk::linear_sigmoid_mse(h, w, b, c.x.slice(0, g0, g1));
    loss.sum().backward();
    return std::vector<torch::Tensor>{loss.detach(), h.grad(), w.grad(), b.grad()};
  };
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const auto one = run(0, 3);
  at::set_num_threads(std::max(2, threads));
  const auto grid = run(0, 3), alone = run(1, 2);
  at::set_num_threads(threads);
  for (size_t i = 0; i < grid.size(); ++i) {
    EXPECT_TRUE(torch::equal(grid[i], one[i])) << "output " << i;
    EXPECT_TRUE(torch::equal(grid[i].slice(0, 1, 2), alone[i])) << "output " << i;
  }
}

TEST(FusedLoss, GradientMatchesFiniteDifferences) {
  // The fused path is float32 only and returns a float loss, so a central difference carries
  // ~1e-7 |f| / eps of rounding (allowed for below): a small problem (15 pixels a point) keeps
  // the derivatives large against it; eps = 1e-2 leaves a truncation error O(eps^2) ~ 1e-4
  // relative.
  const LinearCase c = linear_case(2, 3, 2, 5, 7);
  torch::Tensor h = c.h.clone().requires_grad_(true), w = c.w.clone().requires_grad_(true);
  torch::Tensor b = c.b.clone().requires_grad_(true);
  const torch::Tensor up = torch::tensor({0.7f, 1.3f});
  (sk::linear_sigmoid_mse(h, w, b, c.x) * up).sum().backward();
  const float eps = 1e-2f;
  // f is formed and returned in float: each evaluation is off by a few float epsilons of |f|.
  const double f0 = (sk::linear_sigmoid_mse(c.h, c.w, c.b, c.x) * up).sum().item<double>();
  const double kNoise = 4.0 * 1.2e-7 * std::abs(f0) / (2.0 * eps);
  const std::vector<std::pair<torch::Tensor, torch::Tensor>> inputs{{c.h, h.grad()}, {c.w, w.grad()}, {c.b, b.grad()}};
  for (size_t which = 0; which < inputs.size(); ++which) {
    const auto& [base, grad] = inputs[which];
    for (int64_t i = 0; i < base.numel(); ++i) {
      auto f = [&](float delta) {
        std::vector<torch::Tensor> v{c.h, c.w, c.b};
        v[which] = base.clone();
        v[which].view(-1)[i] += delta;
        return (sk::linear_sigmoid_mse(v[0], v[1], v[2], c.x) * up).sum().item<double>();
      };
      const double fd = (f(eps) - f(-eps)) / (2.0 * eps);
      EXPECT_NEAR(grad.view(-1)[i].item<double>(), fd, 2e-3 * std::abs(fd) + kNoise)
          << "input " << which << " element " << i;
    }
  }
}

TEST(FusedLoss, OtherDtypesAndBadShapes) {
  const LinearCase c = linear_case(2, 3, 4, 6, 8, torch::kFloat64);  // double: the composed path
  EXPECT_TRUE(torch::allclose(sk::linear_sigmoid_mse(c.h, c.w, c.b, c.x), composed_linear(c.h, c.w, c.b, c.x)));
  using semsec::testing::expect_error;
  expect_error<c10::Error>(
      [&] {
        sk::linear_sigmoid_mse(c.h, c.w, c.b.view({2, 6, 1}), c.x);
      },
      {"linear_sigmoid_mse: bias must be [G, 1, D] = [2, 1, 6], got [2, 6, 1]"});
  expect_error<c10::Error>([&] { sk::linear_sigmoid_mse(c.h, c.w.transpose(1, 2), c.b, c.x); },
                           {"linear_sigmoid_mse: expected h [G, B, K] and weight [G, K, D] with the same G and K",
                            "got [2, 3, 4] and [2, 6, 4]"});
  expect_error<c10::Error>(
      [&] {
        sk::linear_sigmoid_mse(c.h, c.w, c.b, c.x.view({2, 18, 1}));
      },
      {"linear_sigmoid_mse: target must be [G, B, D] = [2, 3, 6], got [2, 18, 1]"});
  expect_error<c10::Error>([&] { sk::linear_sigmoid_mse(c.h, c.w, c.b, c.x.to(torch::kFloat32)); },
                           {"linear_sigmoid_mse: h, weight, bias and target must share device and dtype"});
}

}  // namespace
