// The fused sigmoid + squared error against the composed ATen ops (values and gradients) and
// against central finite differences of its own forward.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/loss.h"
#include "kernels/loss_ops.h"

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

TEST(FusedLoss, SigmoidMseMatchesTheComposedOpsAndTheirGradient) {
  torch::manual_seed(2);
  // G = 3, B = 5, D = 37 (not a multiple of the vector width), logits up to +-40.
  const torch::Tensor a0 = torch::randn({3, 5, 37}) * 8.0;
  const torch::Tensor x = torch::rand({3, 5, 37});
  torch::Tensor a1 = a0.clone().requires_grad_(true), a2 = a0.clone().requires_grad_(true);
  const torch::Tensor ours = sk::sigmoid_mse(a1, x), ref = composed(a2, x);
  ASSERT_EQ(ours.sizes(), (std::vector<int64_t>{3}));
  EXPECT_TRUE(torch::allclose(ours, ref, 1e-5, 1e-7)) << ours << ref;
  const torch::Tensor w = torch::tensor({1.0f, -2.0f, 0.5f});  // distinct upstream gradient per point
  (ours * w).sum().backward();
  (ref * w).sum().backward();
  EXPECT_TRUE(torch::allclose(a1.grad(), a2.grad(), 1e-4, 1e-8)) << (a1.grad() - a2.grad()).abs().max();
}

TEST(FusedLoss, FusedBiasMatchesTheComposedOpsAndTheirGradients) {
  // B = 37 rows per point: two full chunks of 16 and a partial one for the bias-gradient sums.
  torch::manual_seed(3);
  const torch::Tensor a0 = torch::randn({2, 37, 50}) * 4.0, b0 = torch::randn({2, 1, 50});
  const torch::Tensor x = torch::rand({2, 37, 50});
  torch::Tensor a1 = a0.clone().requires_grad_(true), b1 = b0.clone().requires_grad_(true);
  torch::Tensor a2 = a0.clone().requires_grad_(true), b2 = b0.clone().requires_grad_(true);
  const torch::Tensor ours = sk::sigmoid_mse(a1, x, b1), ref = composed(a2 + b2, x);
  EXPECT_TRUE(torch::allclose(ours, ref, 1e-5, 1e-7)) << ours << ref;
  const torch::Tensor w = torch::tensor({1.5f, -0.5f});
  (ours * w).sum().backward();
  (ref * w).sum().backward();
  EXPECT_TRUE(torch::allclose(a1.grad(), a2.grad(), 1e-4, 1e-8)) << (a1.grad() - a2.grad()).abs().max();
  EXPECT_TRUE(torch::allclose(b1.grad(), b2.grad(), 1e-4, 1e-7)) << (b1.grad() - b2.grad()).abs().max();
  EXPECT_THROW(sk::sigmoid_mse(a1, x, b0.view({2, 50, 1})), std::exception);  // bias must be [G, 1, D]
}

TEST(FusedLoss, GradientMatchesFiniteDifferences) {
  // The fused path is float32 only and returns a float loss, so a central difference carries
  // ~1e-7 |f| / h of rounding: a small problem (15 elements a point) keeps the derivatives large
  // against it; h = 1e-2 leaves a truncation error O(h^2) ~ 1e-4 relative.
  torch::manual_seed(4);
  const torch::Tensor a0 = torch::randn({2, 3, 5}) * 2.0;
  const torch::Tensor x = torch::rand({2, 3, 5});
  const torch::Tensor b0 = torch::randn({2, 1, 5});
  torch::Tensor a = a0.clone().requires_grad_(true), b = b0.clone().requires_grad_(true);
  const torch::Tensor w = torch::tensor({0.7f, 1.3f});
  (sk::sigmoid_mse(a, x, b) * w).sum().backward();
  const float h = 1e-2f;
  auto f = [&](const torch::Tensor& ta, const torch::Tensor& tb) {
    return (sk::sigmoid_mse(ta, x, tb) * w).sum().item<double>();
  };
  for (int64_t i = 0; i < a0.numel(); ++i) {
    torch::Tensor plus = a0.clone(), minus = a0.clone();
    plus.view(-1)[i] += h;
    minus.view(-1)[i] -= h;
    const double fd = (f(plus, b0) - f(minus, b0)) / (2.0 * h);
    const double an = a.grad().view(-1)[i].item<double>();
    EXPECT_NEAR(an, fd, 2e-3 * std::abs(fd) + 2e-6) << "element " << i;
  }
  for (int64_t i = 0; i < b0.numel(); ++i) {
    torch::Tensor plus = b0.clone(), minus = b0.clone();
    plus.view(-1)[i] += h;
    minus.view(-1)[i] -= h;
    const double fd = (f(a0, plus) - f(a0, minus)) / (2.0 * h);
    EXPECT_NEAR(b.grad().view(-1)[i].item<double>(), fd, 2e-3 * std::abs(fd) + 2e-6) << "bias element " << i;
  }
}

TEST(FusedLoss, OtherDtypesAndBadShapes) {
  const torch::Tensor a = torch::randn({2, 3, 4}, torch::kFloat64), x = torch::rand({2, 3, 4}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(sk::sigmoid_mse(a, x), composed(a, x)));  // double: the composed path
  EXPECT_THROW(sk::sigmoid_mse(a, x.view({2, 12, 1})), std::exception);
  EXPECT_THROW(sk::sigmoid_mse(a.view({6, 4}), x.view({6, 4})), std::exception);
}

}  // namespace
