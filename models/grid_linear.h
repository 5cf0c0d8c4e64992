// Grid-batched layers: every weight carries a leading grid dimension G so a whole
// sweep trains as one model (weight [G, in, out], applied with batched GEMM).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace semsec::models {

// Linear layer for G independent grid points: y[g] = x[g] @ W[g] + b[g].
// Initialised per grid point like torch::nn::Linear (U(-1/sqrt(in), 1/sqrt(in)) for weight
// and bias), drawn from Philox keyed by the point's own seed, so point g has the same
// initial weights whether it is trained alone or inside an ensemble.
class GridLinearImpl : public torch::nn::Module {
 public:
  GridLinearImpl(const std::vector<uint64_t>& seeds, int64_t in, int64_t out, uint32_t module_id);
  torch::Tensor forward(const torch::Tensor& x);  // x [G, B, in] -> [G, B, out]
  // Grid point g alone: x [B, in] -> [B, out] (evaluation of one point without the others' work).
  torch::Tensor forward_point(int64_t g, const torch::Tensor& x) const;

  torch::Tensor weight;  // [G, in, out]
  torch::Tensor bias;    // [G, 1, out]

 private:
  void check_input(const torch::Tensor& x) const;  // [G, B, in] with this layer's G and in
  int64_t in_, out_;
};
TORCH_MODULE(GridLinear);

enum class Activation { kNone, kRelu, kSigmoid };

// Fully connected network sizes[0] -> sizes[1] -> ... with ReLU between layers and
// `out_act` after the last one. Module ids module_id, module_id + 1, ... seed the layers.
class GridMlpImpl : public torch::nn::Module {
 public:
  GridMlpImpl(const std::vector<uint64_t>& seeds, const std::vector<int64_t>& sizes, Activation out_act,
              uint32_t module_id);
  torch::Tensor forward(torch::Tensor x);
  // Per point mean over (B, out) of (forward(x) - target)^2 for a sigmoid output, with the last
  // layer, the sigmoid and the error fused (kernels::linear_sigmoid_mse): x [G, B, in], target
  // [G, B, out] -> [G].
  torch::Tensor sigmoid_mse(torch::Tensor x, const torch::Tensor& target);
  torch::Tensor forward_point(int64_t g, torch::Tensor x) const;  // x [B, in] -> [B, out] of point g
  const std::vector<int64_t>& sizes() const { return sizes_; }

 private:
  torch::Tensor hidden(torch::Tensor x);  // the ReLU layers before the last one
  std::vector<GridLinear> layers_;
  std::vector<int64_t> sizes_;
  Activation out_act_;
};
TORCH_MODULE(GridMlp);

// For every point g of `src` (a grid of G points): its parameters into rows [first, first + count)
// of point g's block of `rows_per_point` rows in `dst`, a module of the same architecture over
// G * rows_per_point rows ordered point-major (e.g. a population of Eves, or a threat grid of Eves
// per start and sample count, that starts from P_Eve's weights).
void copy_into_rows(torch::nn::Module& src, torch::nn::Module& dst, int64_t rows_per_point, int64_t first,
                    int64_t count);

// Philox uniform(-bound, bound) tensor [G, n] (float32, CPU), one row per grid point seed.
torch::Tensor philox_uniform(const std::vector<uint64_t>& seeds, int64_t n, double bound, uint32_t module_id);
// Philox normal(0, std^2) tensor [G, n] (float32, CPU), same counter layout as philox_uniform.
torch::Tensor philox_normal(const std::vector<uint64_t>& seeds, int64_t n, double std, uint32_t module_id);

}  // namespace semsec::models
