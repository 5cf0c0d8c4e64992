#include "models/isac_channel.h"

#include <utility>

namespace semsec::models {

IsacChannel::IsacChannel(kernels::IsacLinkParams params, const std::vector<uint64_t>& seeds, torch::Device device)
    : params_(std::move(params)) {
  kernels::isac_link_args(params_);  // names a bad field now rather than at the first step
  const std::vector<int64_t> keys(seeds.begin(), seeds.end());
  seeds_ = torch::tensor(keys, torch::kInt64).to(device);
  counter_ = torch::zeros({1}, torch::TensorOptions().dtype(torch::kInt64).device(device));
}

void IsacChannel::set_step(int64_t step) { counter_.fill_(step); }

kernels::IsacLinkParams IsacChannel::params_for(bool eval) const {
  kernels::IsacLinkParams p = params_;
  p.eval = eval;
  return p;
}

kernels::IsacLinkOut IsacChannel::operator()(const torch::Tensor& z, const torch::Tensor& phi,
                                             const torch::Tensor& snr_db, bool eval) const {
  return kernels::isac_link(z, phi, snr_db, seeds_, counter_, params_for(eval));
}

kernels::IsacLinkState IsacChannel::generate(const torch::Tensor& phi, const torch::Tensor& snr_db, int64_t length,
                                             bool eval) const {
  return kernels::isac_link_generate(phi, snr_db, seeds_, counter_, length, params_for(eval));
}

}  // namespace semsec::models
