// The batch losses of the SS-ISAC training stages, written once for the trainer
// (general.cpp, security.cpp) and `semsec bench`, so the benchmark times the step that
// training runs. Every loss is per grid point, [G].
#pragma once

#include <functional>

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

// ARN pair against Eve (eq. 25-29), base system and Eve frozen: the power hinge against tau [G]
// (eq. 26), sensing and communication MSEs through the decrypting ARNs (eq. 27, 28) and Eve's
// squared confidence in the true label (eq. 29). Terms: loss, l_pow, l_sen, l_com, l_pri, psr.
NamedTensors arn_losses(models::GsIsac& model, models::PairedArn& arn, models::EveClassifier& eve,
                        const torch::Tensor& x, const torch::Tensor& phi, const torch::Tensor& labels,
                        const torch::Tensor& tau, const ChannelFn& channel, const ArnWeights& w);

}  // namespace semsec::trainers
