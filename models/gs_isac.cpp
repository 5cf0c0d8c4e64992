// The general semantic ISAC networks.
#include "models/gs_isac.h"

namespace semsec::models {

namespace {
// Module-id bases: each network owns 16 ids so their Philox init streams never overlap.
constexpr uint32_t kIdSe = 0, kIdJsce = 16, kIdJscdBs = 32, kIdSdBs = 48, kIdJscdUe = 64, kIdSdUe = 80;
}  // namespace

torch::Tensor normalize_power(const torch::Tensor& z) {
  return z * torch::rsqrt(z.square().sum(-1, /*keepdim=*/true) + 1e-12);
}

GsIsacImpl::GsIsacImpl(const std::vector<uint64_t>& seeds, const GsIsacSizes& s) : sizes_(s) {
  const int64_t y_dim = 2 * s.latent_dim;
  se = register_module(
      "se", GridMlp(seeds, std::vector<int64_t>{s.input_dim, s.bs_hidden, s.feature_dim}, Activation::kRelu, kIdSe));
  jsce = register_module("jsce", GridMlp(seeds, std::vector<int64_t>{s.feature_dim, s.bs_hidden, s.latent_dim},
                                         Activation::kNone, kIdJsce));
  jscd_bs = register_module(
      "jscd_bs", GridMlp(seeds, std::vector<int64_t>{y_dim, s.bs_hidden, s.feature_dim}, Activation::kRelu, kIdJscdBs));
  sd_bs = register_module(
      "sd_bs", GridMlp(seeds, std::vector<int64_t>{s.feature_dim, s.bs_hidden, 1}, Activation::kNone, kIdSdBs));
  jscd_ue = register_module(
      "jscd_ue", GridMlp(seeds, std::vector<int64_t>{y_dim, s.ue_hidden, s.feature_dim}, Activation::kRelu, kIdJscdUe));
  sd_ue = register_module("sd_ue", GridMlp(seeds, std::vector<int64_t>{s.feature_dim, s.ue_hidden, s.input_dim},
                                           Activation::kSigmoid, kIdSdUe));
}

torch::Tensor GsIsacImpl::transmit(const torch::Tensor& x) { return normalize_power(jsce->forward(se->forward(x))); }

torch::Tensor GsIsacImpl::receive_bs(const torch::Tensor& y_bs) {
  return sd_bs->forward(jscd_bs->forward(y_bs)).squeeze(-1);
}

torch::Tensor GsIsacImpl::receive_ue(const torch::Tensor& y_ue) { return sd_ue->forward(jscd_ue->forward(y_ue)); }

torch::Tensor GsIsacImpl::ue_mse(const torch::Tensor& y_ue, const torch::Tensor& x) {
  return sd_ue->sigmoid_mse(jscd_ue->forward(y_ue), x);
}

}  // namespace semsec::models
