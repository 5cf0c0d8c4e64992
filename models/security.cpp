// The SS-ISAC security modules.
#include "models/security.h"

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

PairedArnImpl::PairedArnImpl(const std::vector<uint64_t>& seeds, const ArnSizes& s) {
  const int64_t l = s.latent_dim, y = 2 * s.latent_dim;
  enc =
      register_module("enc", GridMlp(seeds, std::vector<int64_t>{l, s.enc_h1, s.enc_h2, l}, Activation::kNone, kIdEnc));
  dec_bs = register_module(
      "dec_bs", GridMlp(seeds, std::vector<int64_t>{y, s.dec_bs_h1, s.dec_bs_h2, y}, Activation::kNone, kIdDecBs));
  dec_ue = register_module(
      "dec_ue", GridMlp(seeds, std::vector<int64_t>{y, s.dec_ue_h1, s.dec_ue_h2, y}, Activation::kNone, kIdDecUe));
  zero_last_layer(*enc);
  zero_last_layer(*dec_bs);
  zero_last_layer(*dec_ue);
}

torch::Tensor PairedArnImpl::delta(const torch::Tensor& z) { return enc->forward(z); }
torch::Tensor PairedArnImpl::decrypt_bs(const torch::Tensor& y_bs) { return y_bs - dec_bs->forward(y_bs); }
torch::Tensor PairedArnImpl::decrypt_ue(const torch::Tensor& y_ue) { return y_ue - dec_ue->forward(y_ue); }

EveClassifierImpl::EveClassifierImpl(const std::vector<uint64_t>& seeds, int64_t input_dim,
                                     const std::vector<int64_t>& hidden, int64_t num_classes, uint32_t module_id) {
  std::vector<int64_t> sizes{input_dim};
  sizes.insert(sizes.end(), hidden.begin(), hidden.end());
  sizes.push_back(num_classes);
  net = register_module("net", GridMlp(seeds, sizes, Activation::kNone, module_id));
}

torch::Tensor EveClassifierImpl::forward(const torch::Tensor& y) { return net->forward(y); }

}  // namespace semsec::models
