// The SS-ISAC security modules.
#include "models/security.h"

#include "core/errors.h"

namespace semsec::models {
namespace {
// Module-id bases continue after the general system's (0..95).
constexpr uint32_t kIdEnc = 128, kIdDecBs = 144, kIdDecUe = 160;

void zero_last_layer(torch::nn::Module& mlp) {
  torch::NoGradGuard no_grad;
  auto params = mlp.parameters();
  // GridMlp registers fc0.weight, fc0.bias, fc1.weight, ...: the last two belong to the last layer.
  params[params.size() - 1].zero_();
  params[params.size() - 2].zero_();
}
}  // namespace

PairedArnImpl::PairedArnImpl(const std::vector<uint64_t>& seeds, const ArnSizes& s)
    : latent_dim_(s.latent_dim), key_dim_(s.key_dim) {
  if (s.key_dim != 0 && s.key_dim < s.latent_dim)
    fail("PairedArn: key_dim is {}; expected 0 (unkeyed) or at least latent_dim ({})", s.key_dim, s.latent_dim);
  const int64_t l = s.latent_dim, y = 2 * s.latent_dim, k = s.key_dim;
  enc = register_module("enc",
                        GridMlp(seeds, std::vector<int64_t>{l + k, s.enc_h1, s.enc_h2, l}, Activation::kNone, kIdEnc));
  dec_bs = register_module(
      "dec_bs", GridMlp(seeds, std::vector<int64_t>{y + k, s.dec_bs_h1, s.dec_bs_h2, y}, Activation::kNone, kIdDecBs));
  dec_ue = register_module(
      "dec_ue", GridMlp(seeds, std::vector<int64_t>{y + k, s.dec_ue_h1, s.dec_ue_h2, y}, Activation::kNone, kIdDecUe));
  zero_last_layer(*enc);
  zero_last_layer(*dec_bs);
  zero_last_layer(*dec_ue);
}

torch::Tensor PairedArnImpl::keyed(const torch::Tensor& x, const torch::Tensor& key) const {
  if (key_dim_ == 0) {
    if (key.defined()) fail("PairedArn: a key was given to an unkeyed pair");
    return x;
  }
  if (!key.defined() || key.dim() != x.dim() || key.size(-1) != key_dim_ ||
      key.sizes().slice(0, x.dim() - 1) != x.sizes().slice(0, x.dim() - 1)) {
    fail("PairedArn: a keyed pair needs keys [G, B, {}] next to its input {}", key_dim_, c10::str(x.sizes()));
  }
  return torch::cat({x, key.to(x.scalar_type())}, -1);
}

torch::Tensor PairedArnImpl::sign(const torch::Tensor& out, const torch::Tensor& key, int64_t repeat) const {
  if (key_dim_ == 0) return out;
  const torch::Tensor k = key.narrow(-1, 0, latent_dim_).to(out.scalar_type());
  return out * (repeat == 1 ? k : k.repeat_interleave(repeat, -1));
}

torch::Tensor PairedArnImpl::delta(const torch::Tensor& z, const torch::Tensor& key) {
  return sign(enc->forward(keyed(z, key)), key, 1);
}
torch::Tensor PairedArnImpl::decrypt_bs(const torch::Tensor& y_bs, const torch::Tensor& key) {
  return y_bs - sign(dec_bs->forward(keyed(y_bs, key)), key, 2);
}
torch::Tensor PairedArnImpl::decrypt_ue(const torch::Tensor& y_ue, const torch::Tensor& key) {
  return y_ue - sign(dec_ue->forward(keyed(y_ue, key)), key, 2);
}

EveClassifierImpl::EveClassifierImpl(const std::vector<uint64_t>& seeds, int64_t input_dim,
                                     const std::vector<int64_t>& hidden, int64_t num_classes, uint32_t module_id) {
  std::vector<int64_t> sizes{input_dim};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  sizes.push_back(num_classes);
  net = register_module("net", GridMlp(seeds, sizes, Activation::kNone, module_id));
}

torch::Tensor EveClassifierImpl::forward(const torch::Tensor& y) { return net->forward(y); }

}  // namespace semsec::models
