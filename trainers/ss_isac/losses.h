// The batch losses of the SS-ISAC training stages, written once for the trainer
// (general.cpp, security.cpp) and `semsec bench`, so the benchmark times the step that
// training runs. Every loss is per grid point, [G].
#pragma once

#include <functional>
#include <string>

#include <torch/torch.h>

#include "kernels/isac_link/isac_link_op.h"
#include "models/gs_isac.h"
#include "models/security.h"
#include "trainers/engine/stage.h"

namespace semsec::trainers {

// The channel of one training step: symbols z [G, B, L] to the three receivers.
using ChannelFn = std::function<kernels::IsacLinkOut(const torch::Tensor& z)>;

// General system (eq. 9): loss = gamma_sen l_sen + gamma_com l_com with l_sen the azimuth MSE
// (eq. 27) and l_com the per-pixel reconstruction MSE (eq. 28, fused with SD_UE's output layer
// and sigmoid: GsIsac::ue_mse). Terms: loss, l_sen, l_com. The weights are [G], one per point.
NamedTensors general_losses(models::GsIsac& model, const torch::Tensor& x, const torch::Tensor& phi,
                            const ChannelFn& channel, const torch::Tensor& gamma_sen, const torch::Tensor& gamma_com);

struct ArnWeights {
  torch::Tensor pow, sen, com, pri;  // lambda_pow, lambda_sen, lambda_com, lambda_pri, each [G]
};

// How the encrypting ARN's perturbation reaches the channel (security.power_constraint,
// security.equal_power).
struct Encryption {
  // projection: delta scaled per codeword onto ||delta||^2 <= PSR ||z||^2 when it exceeds it (exact,
  // differentiable); hinge: delta as the ARN makes it, eq. 26 only as the penalty l_pow.
  bool projection = true;
  // z' = (z + delta) ||z|| / ||z + delta|| per codeword: plugged sends the unplugged power.
  bool equal_power = false;
};

// The codeword the plugged transmitter sends for z [G, B, L]: z + delta of the ARN (eq. 19-20),
// constrained and renormalised as `e` says, with psr [G] the linear PSR limit of each point
// (10^(psr_db / 10)). `delta_out`, when given, receives the perturbation before renormalisation.
// key: the frame keys [G, B, key_dim] of a keyed pair (undefined for the paper's unkeyed pair).
torch::Tensor encrypt(models::PairedArn& arn, const torch::Tensor& z, const torch::Tensor& psr, const Encryption& e,
                      torch::Tensor* delta_out = nullptr, const torch::Tensor& key = {});

// Realised PSR per codeword: ||z' - z||^2 / ||z||^2, [G, B].
torch::Tensor realised_psr(const torch::Tensor& z, const torch::Tensor& z_sent);

// ARN pair against Eve (eq. 25-29), base system and Eve frozen: the power hinge against tau [G]
// (eq. 26, of the perturbation as applied: zero under the projection), sensing and communication
// MSEs through the decrypting ARNs (eq. 27, 28) and Eve's squared confidence in the true label
// (eq. 29). Terms: loss, l_pow, l_sen, l_com, l_pri, psr (the realised PSR, batch means of
// ||z' - z||^2 over ||z||^2).
NamedTensors arn_losses(models::GsIsac& model, models::PairedArn& arn, models::EveClassifier& eve,
                        const torch::Tensor& x, const torch::Tensor& phi, const torch::Tensor& labels,
                        const torch::Tensor& tau, const ChannelFn& channel, const ArnWeights& w,
                        const Encryption& e = Encryption{});

// Switches weight gradients of every parameter of `m` on or off (a frozen network still passes
// gradients through to its inputs).
void set_trainable(torch::nn::Module& m, bool on);

// The privacy term l_pri [G] of Eve's received signal y_eve [G, B, 2L] with the true labels [G, B].
using PrivacyFn = std::function<torch::Tensor(const torch::Tensor& y_eve, const torch::Tensor& labels)>;

// Eve's cross-entropy per grid point: logits [G, B, K], labels [G, B] -> [G] (the loss every Eve
// classifier trains with).
torch::Tensor eve_cross_entropy(const torch::Tensor& logits, const torch::Tensor& labels);

// eq. 29 for one Eve: the batch mean of her squared confidence in the true label, [G].
torch::Tensor eve_confidence_loss(models::EveClassifier& eve, const torch::Tensor& y_eve, const torch::Tensor& labels);

// The confusion loss of domain confusion (Tzeng et al., "Simultaneous Deep Transfer Across Domains and
// Tasks", ICCV 2015; as a privacy loss against a retrained adversary: Alvi et al., "Turning a Blind
// Eye", ECCV Workshops 2018): the cross-entropy of Eve's posterior against the uniform distribution,
// minimal when she cannot tell the classes apart, [G]. It needs no labels.
torch::Tensor eve_confusion_loss(models::EveClassifier& eve, const torch::Tensor& y_eve);

// The privacy term of a population of Eves: l [G * P] (member p of point g at g * P + p) -> [G], by
// `how`: max, mean, or softmax, log(mean_p exp(t l_p)) / t, between the mean (t -> 0) and the
// maximum (t -> inf).
torch::Tensor population_privacy(const torch::Tensor& l, int64_t members, const std::string& how, double temperature);

// The same composite loss with any privacy term (min-max training against a population of Eves)
// and, for a keyed pair, the frame keys [G, B, key_dim] the BS and the UE share.
NamedTensors arn_losses(models::GsIsac& model, models::PairedArn& arn, const PrivacyFn& privacy, const torch::Tensor& x,
                        const torch::Tensor& phi, const torch::Tensor& labels, const torch::Tensor& tau,
                        const ChannelFn& channel, const ArnWeights& w, const Encryption& e, const torch::Tensor& key);

}  // namespace semsec::trainers
