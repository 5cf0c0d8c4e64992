// Grid-batched linear layers and MLPs.
#include "models/grid_linear.h"

#include <cmath>

#include "core/errors.h"
#include "kernels/loss/loss_op.h"
#include "kernels/philox.h"

namespace semsec::models {

namespace {

// [G, n] float32 on the CPU; element i of row g from block (i / 4, slot i % 4) of the draw
// (key of seeds[g], kStreamInit, step = module_id, sample = i / 4), mapped by value(block, slot).
template <typename Value>
torch::Tensor philox_fill(const std::vector<uint64_t>& seeds, int64_t n, uint32_t module_id, Value value) {
  const auto num_points = static_cast<int64_t>(seeds.size());
  torch::Tensor out = torch::empty({num_points, n}, torch::kFloat32);
  float* p = out.data_ptr<float>();
  for (int64_t g = 0; g < num_points; ++g) {
    const rng::Key key = rng::make_key(seeds[g]);
    for (int64_t i = 0; i < n; i += 4) {
      const rng::Philox4 r = rng::draw(key, rng::kStreamInit, module_id, static_cast<uint32_t>(i / 4), 0);
      for (int64_t k = 0; k < 4 && i + k < n; ++k) p[g * n + i + k] = value(r, static_cast<int>(k));
    }
  }
  return out;
}

}  // namespace

torch::Tensor philox_uniform(const std::vector<uint64_t>& seeds, int64_t n, double bound, uint32_t module_id) {
  return philox_fill(seeds, n, module_id, [bound](const rng::Philox4& r, int k) {
    return static_cast<float>((2.0 * rng::to_unit(r.v[k]) - 1.0) * bound);
  });
}

torch::Tensor philox_normal(const std::vector<uint64_t>& seeds, int64_t n, double std, uint32_t module_id) {
  return philox_fill(seeds, n, module_id, [std](const rng::Philox4& r, int k) {
    double z[4];
    rng::normal4(r, z);
    return static_cast<float>(std * z[k]);
  });
}

GridLinearImpl::GridLinearImpl(const std::vector<uint64_t>& seeds, int64_t in, int64_t out, uint32_t module_id)
    : in_(in), out_(out) {
  if (seeds.empty()) fail("GridLinear: at least one grid point is required");
  if (in <= 0 || out <= 0) fail("GridLinear: sizes must be positive, got in={} out={}", in, out);
  const auto num_points = static_cast<int64_t>(seeds.size());
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  // Two module ids per layer: 2*id for the weight, 2*id + 1 for the bias.
  weight =
      register_parameter("weight", philox_uniform(seeds, in * out, bound, 2 * module_id).view({num_points, in, out}));
  bias = register_parameter("bias", philox_uniform(seeds, out, bound, 2 * module_id + 1).view({num_points, 1, out}));
}

void GridLinearImpl::check_input(const torch::Tensor& x) const {
  TORCH_CHECK(x.dim() == 3 && x.size(0) == weight.size(0) && x.size(2) == in_,
              "GridLinear: expected input [G=", weight.size(0), ", B, ", in_, "], got ", x.sizes());
}

torch::Tensor GridLinearImpl::forward(const torch::Tensor& x) {
  check_input(x);
  // One output: a GEMV shape, which LibTorch's bmm computes down another path for G = 1 than for
  // G > 1 (other rounding, so a point would differ alone and in a grid); a product and a sum over
  // the inputs round the same for any G.
  if (out_ == 1) return (x * weight.transpose(1, 2)).sum(-1, /*keepdim=*/true) + bias;
  return torch::baddbmm(bias, x, weight);
}

torch::Tensor GridLinearImpl::forward_point(int64_t g, const torch::Tensor& x) const {
  TORCH_CHECK(g >= 0 && g < weight.size(0) && x.dim() == 2 && x.size(1) == in_, "GridLinear::forward_point: point ", g,
              " of ", weight.size(0), ", input [B, ", in_, "] expected, got ", x.sizes());
  return torch::addmm(bias[g], x, weight[g]);
}

GridMlpImpl::GridMlpImpl(const std::vector<uint64_t>& seeds, const std::vector<int64_t>& sizes, Activation out_act,
                         uint32_t module_id)
    : sizes_(sizes), out_act_(out_act) {
  if (sizes.size() < 2) fail("GridMlp: needs at least input and output sizes");
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    layers_.push_back(register_module(fmt::format("fc{}", i),
                                      GridLinear(seeds, sizes[i], sizes[i + 1], module_id + static_cast<uint32_t>(i))));
  }
}

namespace {
torch::Tensor activate(Activation act, const torch::Tensor& x) {
  switch (act) {
    case Activation::kRelu:
      return torch::relu(x);
    case Activation::kSigmoid:
      return torch::sigmoid(x);
    case Activation::kNone:
      break;
  }
  return x;
}
}  // namespace

torch::Tensor GridMlpImpl::hidden(torch::Tensor x) {
  // In place: each layer output is a fresh tensor that only the ReLU reads (baddbmm saves its
  // inputs, not its output, for the backward), so no second [G, B, width] buffer is allocated.
  for (size_t i = 0; i + 1 < layers_.size(); ++i) {
    x = layers_[i]->forward(x);
    x.relu_();
  }
  return x;
}

torch::Tensor GridMlpImpl::forward(torch::Tensor x) { return activate(out_act_, layers_.back()->forward(hidden(x))); }

torch::Tensor GridMlpImpl::sigmoid_mse(torch::Tensor x, const torch::Tensor& target) {
  if (out_act_ != Activation::kSigmoid) fail("GridMlp::sigmoid_mse: the network's output is not a sigmoid");
  const GridLinear& last = layers_.back();
  return kernels::linear_sigmoid_mse(hidden(x), last->weight, last->bias, target);
}

void copy_into_rows(torch::nn::Module& src, torch::nn::Module& dst, int64_t rows_per_point, int64_t first,
                    int64_t count) {
  const auto from = src.parameters(), to = dst.parameters();
  if (from.size() != to.size()) fail("copy_into_rows: {} parameters into {}", from.size(), to.size());
  if (first < 0 || count < 0 || first + count > rows_per_point)
    fail("copy_into_rows: rows [{}, {}) of blocks of {}", first, first + count, rows_per_point);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < from.size(); ++i) {
    const int64_t points = from[i].size(0);
    if (to[i].size(0) != points * rows_per_point || to[i].numel() != from[i].numel() * rows_per_point)
      fail("copy_into_rows: parameter {} of shape {} does not hold {} rows per point of shape {}", i,
           c10::str(to[i].sizes()), rows_per_point, c10::str(from[i].sizes()));
    to[i]
        .view({points, rows_per_point, -1})
        .narrow(1, first, count)
        .copy_(from[i].reshape({points, 1, -1}).expand({points, count, -1}));
  }
}

torch::Tensor GridMlpImpl::forward_point(int64_t g, torch::Tensor x) const {
  for (size_t i = 0; i < layers_.size(); ++i) {
    x = layers_[i]->forward_point(g, x);
    if (i + 1 < layers_.size()) x = torch::relu(x);
  }
  return activate(out_act_, x);
}

}  // namespace semsec::models
