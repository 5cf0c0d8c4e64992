// Defences against an eavesdropper that adapts: min-max training of an ARN pair against a
// population of Eves retrained on its encrypted signals (k Eve updates per ARN update), and the
// keyed pair whose blocks read a secret frame key shared by the BS and the UE.
#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "kernels/philox.h"
#include "trainers/engine/parameters.h"
#include "trainers/ss_isac/counters.h"
#include "trainers/ss_isac/experiment.h"
#include "trainers/ss_isac/losses.h"

namespace semsec::trainers {
namespace {

// Within a min-max stage, the Eves' batches start half a range after the ARN's.
constexpr int64_t kEveHalf = counters::kStride / 2;

// [G, ...] -> [G * P, ...]: each point's rows repeated for its P population members.
torch::Tensor per_member(const torch::Tensor& t, int64_t members) {
  return members == 1 ? t : t.repeat_interleave(members, 0);
}

}  // namespace

torch::Tensor population_privacy(const torch::Tensor& l, int64_t members, const std::string& how, double temperature) {
  const torch::Tensor m = l.view({-1, members});
  if (how == "max") return std::get<0>(m.max(1));
  if (how == "mean") return m.mean(1);
  if (how != "softmax") fail("minmax.aggregate: '{}' is not one of max, softmax, mean", how);
  // A soft maximum between the mean (t -> 0) and the maximum (t -> inf).
  return (torch::logsumexp(m * temperature, 1) - std::log(static_cast<double>(members))) / temperature;
}

torch::Tensor IsacExperiment::frame_keys(int64_t step, int64_t batch, bool eval, uint64_t secret) const {
  const int64_t bits = settings_.keyed.bits;
  if (step < 0 || step > int64_t{UINT32_MAX}) fail("frame_keys: step {} is outside the key stream's counters", step);
  const auto g_count = grid_.size();
  torch::Tensor keys = torch::empty({g_count, batch, bits}, torch::kFloat32);
  float* out = keys.data_ptr<float>();
  const uint32_t stream = rng::kStreamKey + (eval ? rng::kStreamEvalOffset : 0u);
  for (int64_t g = 0; g < g_count; ++g) {
    // The key stream of a point: the shared secret mixed with the point's seed.
    const rng::Key key = rng::make_key(rng::mix_seed(secret) ^ grid_.seeds()[static_cast<size_t>(g)]);
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t block = 0; block * 128 < bits; ++block) {
        const rng::Philox4 r =
            rng::draw(key, stream, static_cast<uint32_t>(step), static_cast<uint32_t>(b), static_cast<uint32_t>(block));
        for (int64_t i = block * 128; i < std::min(bits, (block + 1) * 128); ++i) {
          const uint32_t word = r.v[(i % 128) / 32];
          out[(g * batch + b) * bits + i] = ((word >> (i % 32)) & 1u) != 0 ? 1.0f : -1.0f;
        }
      }
    }
  }
  return keys.to(ctx_.device);
}

torch::Tensor IsacExperiment::pair_keys(const models::PairedArn& arn, int64_t step, int64_t batch, bool eval) const {
  return arn->key_dim() > 0 ? frame_keys(step, batch, eval, secret_) : torch::Tensor();
}

torch::Tensor IsacExperiment::defend(models::PairedArn* arn, const torch::Tensor& z, int64_t step, bool eval) {
  if (arn == nullptr) return z;
  return encrypt(*arn, z, psr_linear(), encryption_, nullptr, pair_keys(*arn, step, z.size(1), eval));
}

void IsacExperiment::train_minmax(const std::string& stage, models::PairedArn& arn, models::EveClassifier& eves,
                                  bool confusion) {
  const int64_t step_offset = isac_stage(stage).counter;
  set_trainable(*model_, false);
  const int64_t members = settings_.minmax.population, k = settings_.minmax.eve_steps;
  const std::string how = settings_.minmax.aggregate;
  const double temperature = settings_.minmax.temperature;
  StageSpec spec = stage_spec(stage);
  spec.cuda_graph = false;  // the Eves' updates run eagerly between the ARN's steps
  if (spec.total_steps * k > kEveHalf) {
    fail(
        "stage {}: {} ARN steps of {} Eve updates each exceed the stage's {} counters; lower security.epochs or "
        "minmax.eve_steps",
        stage, spec.total_steps, k, kEveHalf);
  }
  // Every member starts from P_Eve or (members after the first) its own initialisation; a resumed
  // stage restores them from `extra` below.
  models::copy_into_rows(*eve_wb_, *eves, members, 0, 1);
  GridAdam eve_opt(eves->parameters(),
                   std::vector<double>(static_cast<size_t>(grid_.size() * members), settings_.minmax.eve_lr),
                   spec.adam);
  add_parameters(spec.extra, *eves, "eve.");
  const auto names = eve_opt.state_names();
  const auto states = eve_opt.state_tensors();
  for (size_t i = 0; i < names.size(); ++i) spec.extra.emplace_back("eve_adam." + names[i], states[i]);
  add_parameters(spec.params, *arn);

  // k Eve updates on the encrypted signals of the pair as it stands, each on a batch of its own.
  spec.inner = [=, this, &arn, &eves, &eve_opt](int64_t step) {
    set_trainable(*eves, true);
    NamedTensors terms;
    for (int64_t j = 0; j < k; ++j) {
      const int64_t s = step_offset + kEveHalf + step * k + j;
      load_step(s);
      torch::Tensor y_eve;
      {
        torch::NoGradGuard no_grad;
        y_eve = per_member(train_channel(defend(&arn, model_->transmit(batch_.x), s, false)).y_eve, members);
      }
      const torch::Tensor labels = per_member(batch_.labels, members);
      const torch::Tensor logits = eves->forward(y_eve);
      const torch::Tensor ce = eve_cross_entropy(logits, labels);
      eve_opt.zero_grad();
      ce.sum().backward();
      eve_opt.step();
      const torch::Tensor acc = (logits.argmax(-1) == labels).to(torch::kFloat32).mean(1);
      terms = NamedTensors{{"eve_loss", ce.detach().view({-1, members}).mean(1)},
                           {"eve_accuracy", acc.view({-1, members}).mean(1)}};
    }
    set_trainable(*eves, false);
    return terms;
  };
  spec.prepare = [this, step_offset](int64_t step) { load_step(step_offset + step); };
  const ArnWeights w{grid_.tensor("security.lambda_pow", ctx_.device), grid_.tensor("security.lambda_sen", ctx_.device),
                     grid_.tensor("security.lambda_com", ctx_.device) * com_loss_scale(),
                     grid_.tensor("security.lambda_pri", ctx_.device)};
  spec.loss_fn = [=, this, &arn, &eves]() {
    const PrivacyFn privacy = [&](const torch::Tensor& y_eve, const torch::Tensor& labels) {
      const torch::Tensor y = per_member(y_eve, members);
      return population_privacy(
          confusion ? eve_confusion_loss(eves, y) : eve_confidence_loss(eves, y, per_member(labels, members)), members,
          how, temperature);
    };
    const torch::Tensor key = pair_keys(arn, loaded_step_, batch_.x.size(1), false);
    return arn_losses(
        model_, arn, privacy, batch_.x, batch_.phi, batch_.labels, tau_,
        [this](const torch::Tensor& z) { return train_channel(z); }, w, encryption_, key);
  };
  set_trainable(*eves, false);
  run_stage(spec, ctx_);
  set_trainable(*arn, false);
}

void IsacExperiment::train_defences() {
  if (arn_mm_) train_minmax("arn_minmax", arn_mm_, eve_mm_, /*confusion=*/false);
  if (arn_key_) train_minmax("arn_keyed", arn_key_, eve_key_, /*confusion=*/false);
  if (arn_conf_) train_minmax("arn_confusion", arn_conf_, eve_conf_, /*confusion=*/true);
}

}  // namespace semsec::trainers
