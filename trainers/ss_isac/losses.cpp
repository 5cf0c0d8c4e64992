// The batch losses of the SS-ISAC stages.
#include "trainers/ss_isac/losses.h"

namespace semsec::trainers {

NamedTensors general_losses(models::GsIsac& model, const torch::Tensor& x, const torch::Tensor& phi,
                            const ChannelFn& channel, const torch::Tensor& gamma_sen, const torch::Tensor& gamma_com) {
  const torch::Tensor z = model->transmit(x);
  const kernels::IsacLinkOut y = channel(z);
  const torch::Tensor l_sen = (model->receive_bs(y.y_bs) - phi).square().mean(1);  // eq. 27, [G]
  const torch::Tensor l_com = model->ue_mse(y.y_ue, x);                            // eq. 28 per pixel
  return NamedTensors{{"loss", gamma_sen * l_sen + gamma_com * l_com}, {"l_sen", l_sen}, {"l_com", l_com}};
}

torch::Tensor encrypt(models::PairedArn& arn, const torch::Tensor& z, const torch::Tensor& psr, const Encryption& e,
                      torch::Tensor* delta_out, const torch::Tensor& key) {
  torch::Tensor delta = arn->delta(z, key);  // eq. 19-20
  const torch::Tensor z2 = z.square().sum(-1, /*keepdim=*/true);
  if (e.projection) {
    // Scale onto the sphere ||delta||^2 = PSR ||z||^2 where delta lies outside it; the clamp keeps
    // delta = 0 (and its gradient) finite.
    const torch::Tensor d2 = delta.square().sum(-1, /*keepdim=*/true);
    const torch::Tensor limit = psr.view({-1, 1, 1}).to(z.scalar_type()) * z2;
    delta = delta * torch::sqrt(limit / d2.clamp_min(1e-30)).clamp_max(1.0);
  }
  if (delta_out != nullptr) *delta_out = delta;
  torch::Tensor sent = z + delta;
  if (e.equal_power) sent = sent * torch::sqrt(z2 / sent.square().sum(-1, /*keepdim=*/true).clamp_min(1e-30));
  return sent;
}

torch::Tensor realised_psr(const torch::Tensor& z, const torch::Tensor& z_sent) {
  return (z_sent - z).square().sum(-1) / z.square().sum(-1);
}

void set_trainable(torch::nn::Module& m, bool on) {
  for (auto& p : m.parameters()) p.set_requires_grad(on);
}

torch::Tensor eve_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels) {
  return -torch::log_softmax(logits, -1).gather(-1, labels.unsqueeze(-1)).squeeze(-1).mean(1);
}

torch::Tensor eve_confidence_loss(models::EveClassifier& eve, const torch::Tensor& y_eve, const torch::Tensor& labels) {
  const torch::Tensor conf = torch::softmax(eve->forward(y_eve), -1).gather(-1, labels.unsqueeze(-1)).squeeze(-1);
  return conf.square().mean(1);  // eq. 29
}

torch::Tensor eve_confusion_loss(models::EveClassifier& eve, const torch::Tensor& y_eve) {
  return -torch::log_softmax(eve->forward(y_eve), -1).mean(-1).mean(1);
}

NamedTensors arn_losses(models::GsIsac& model, models::PairedArn& arn, models::EveClassifier& eve,
                        const torch::Tensor& x, const torch::Tensor& phi, const torch::Tensor& labels,
                        const torch::Tensor& tau, const ChannelFn& channel, const ArnWeights& w, const Encryption& e) {
  const PrivacyFn privacy = [&eve](const torch::Tensor& y_eve, const torch::Tensor& l) {
    return eve_confidence_loss(eve, y_eve, l);
  };
  return arn_losses(model, arn, privacy, x, phi, labels, tau, channel, w, e, torch::Tensor());
}

NamedTensors arn_losses(models::GsIsac& model, models::PairedArn& arn, const PrivacyFn& privacy, const torch::Tensor& x,
                        const torch::Tensor& phi, const torch::Tensor& labels, const torch::Tensor& tau,
                        const ChannelFn& channel, const ArnWeights& w, const Encryption& e, const torch::Tensor& key) {
  torch::Tensor z;
  {
    torch::NoGradGuard no_grad;
    z = model->transmit(x);
  }
  const int64_t latent = z.size(-1);
  torch::Tensor delta;
  const torch::Tensor sent = encrypt(arn, z, tau * static_cast<double>(latent), e, &delta, key);  // PSR = tau L_z
  const kernels::IsacLinkOut y = channel(sent);
  const torch::Tensor phi_hat = model->receive_bs(arn->decrypt_bs(y.y_bs, key));  // eq. 16, 21
  // eq. 26 per sample: max(0, ||delta||^2 / L_t - tau), averaged over the batch.
  const torch::Tensor l_pow = torch::relu(delta.square().sum(-1) / latent - tau.unsqueeze(1)).mean(1);
  const torch::Tensor l_sen = (phi_hat - phi).square().mean(1);                              // eq. 27
  const torch::Tensor l_com = model->ue_mse(arn->decrypt_ue(y.y_ue, key), x);                // eq. 17, 23, 28
  const torch::Tensor l_pri = privacy(y.y_eve, labels);                                      // eq. 29
  const torch::Tensor loss = w.pow * l_pow + w.sen * l_sen + w.com * l_com + w.pri * l_pri;  // eq. 25
  const torch::Tensor psr = realised_psr(z, sent.detach()).mean(1);
  return NamedTensors{{"loss", loss},   {"l_pow", l_pow}, {"l_sen", l_sen},
                      {"l_com", l_com}, {"l_pri", l_pri}, {"psr", psr}};
}

}  // namespace semsec::trainers
