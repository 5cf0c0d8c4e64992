// SS-ISAC security stages (paper ss-isac-paired-arn, Sec. III): Eve's classifiers, the paired
// ARNs with the composite loss of eq. 25-29, the adaptive Eve, and the evaluation of
// unplug / decrypt_only / plugged against every Eve.
#include <cmath>

#include "core/errors.h"
#include "core/progress.h"
#include "trainers/engine/parameters.h"
#include "trainers/ss_isac/experiment.h"
#include "trainers/ss_isac/losses.h"

namespace semsec::trainers {
namespace {

// Sums over the test set of one evaluated variant, each [G]: squared errors of the azimuth and of
// the image (per-pixel mean), and Eve's hits (P_Eve's, and the adaptive Eve's).
struct SecurityAcc {
  torch::Tensor sen, com, hits, hits_adapt;
};

// The realised PSR of the plugged signal per point, in dB (mean and 99th percentile over the test
// set), for each ARN set (0 white-box, 1 black-box).
struct RealisedPsr {
  std::vector<std::vector<double>> mean_db = std::vector<std::vector<double>>(2),
                                   p99_db = std::vector<std::vector<double>>(2);
};

// One summary row per grid point of a variant at one test SNR, from its sums over n test samples.
void emit_rows(const Grid& grid, double snr_db, int64_t n, const SecurityAcc& a, const std::string& variant,
               const std::string& eve, bool use_adaptive, const RealisedPsr& psr, std::vector<SummaryRow>& rows) {
  const torch::Tensor sen = (a.sen / n).cpu(), com = (a.com / n).cpu();
  const torch::Tensor pc = ((use_adaptive ? a.hits_adapt : a.hits) / n).cpu();
  for (int64_t g = 0; g < static_cast<int64_t>(grid.points().size()); ++g) {
    SummaryRow r;
    r.point = g;
    r.variant = variant;
    r.eve = eve;
    r.seed = grid.points()[g].seed;
    r.train_snr_db = grid.points()[g].train_snr_db;
    r.test_snr_db = snr_db;
    r.psr_db = grid.points()[g].psr_db;
    r.mse_sen = sen[g].item<double>();
    r.mse_com = com[g].item<double>();
    r.pc_eve = pc[g].item<double>();
    if (variant == "plugged") {
      const size_t set = eve == "blackbox" ? 1 : 0;
      r.psr_real_db = psr.mean_db[set][static_cast<size_t>(g)];
      r.psr_p99_db = psr.p99_db[set][static_cast<size_t>(g)];
    }
    rows.push_back(r);
  }
}

}  // namespace

void IsacExperiment::train_eve(const std::string& stage, models::EveClassifier& eve, models::PairedArn* arn,
                               bool clean) {
  const int64_t step_offset = isac_stage(stage).counter;
  set_trainable(*model_, false);
  if (arn) set_trainable(**arn, false);
  StageSpec spec = stage_spec(stage);
  add_parameters(spec.params, *eve);
  spec.prepare = [this, step_offset](int64_t step) { load_step(step_offset + step); };
  spec.loss_fn = [this, &eve, arn, clean]() {
    torch::Tensor z;
    {
      torch::NoGradGuard no_grad;
      z = model_->transmit(batch_.x);
      if (arn) z = encrypt(*arn, z, psr_linear(), encryption_);
    }
    const torch::Tensor logits = eve->forward(clean ? z : train_channel(z).y_eve);
    const torch::Tensor ce = eve_cross_entropy(logits, batch_.labels);
    const torch::Tensor acc = (logits.argmax(-1) == batch_.labels).to(torch::kFloat32).mean(1);
    return NamedTensors{{"loss", ce}, {"accuracy", acc}};
  };
  run_stage(spec, ctx_);
  set_trainable(*eve, false);
}

torch::Tensor IsacExperiment::psr_linear() const { return tau_ * static_cast<double>(model_->sizes().latent_dim); }

void IsacExperiment::train_eves() {
  train_eve("eve_whitebox", eve_wb_, nullptr);
  if (settings_.security.blackbox) train_eve("eve_substitute", eve_bb_, nullptr);
  if (eve_clean_) train_eve("eve_clean", eve_clean_, nullptr, /*clean=*/true);
}

void IsacExperiment::train_arn(const std::string& stage, models::PairedArn& arn, models::EveClassifier& eve) {
  const int64_t step_offset = isac_stage(stage).counter;
  set_trainable(*model_, false);
  set_trainable(*eve, false);
  StageSpec spec = stage_spec(stage);
  add_parameters(spec.params, *arn);
  const ArnWeights w{grid_.tensor("security.lambda_pow", ctx_.device), grid_.tensor("security.lambda_sen", ctx_.device),
                     grid_.tensor("security.lambda_com", ctx_.device) * com_loss_scale(),
                     grid_.tensor("security.lambda_pri", ctx_.device)};
  spec.prepare = [this, step_offset](int64_t step) { load_step(step_offset + step); };
  spec.loss_fn = [=, this, &arn, &eve]() {
    return arn_losses(
        model_, arn, eve, batch_.x, batch_.phi, batch_.labels, tau_,
        [this](const torch::Tensor& z) { return train_channel(z); }, w, encryption_);
  };
  run_stage(spec, ctx_);
  set_trainable(*arn, false);
}

void IsacExperiment::train_arns() {
  train_arn("arn_whitebox", arn_wb_, eve_wb_);
  if (settings_.security.blackbox) train_arn("arn_blackbox", arn_bb_, eve_bb_);
}

void IsacExperiment::train_adaptive_eve() {
  if (settings_.security.adaptive_eve) train_eve("eve_adaptive", eve_adapt_, &arn_wb_);
}

std::vector<SummaryRow> IsacExperiment::evaluate_security() {
  torch::NoGradGuard no_grad;
  const int64_t n = test_.images.size(0);
  const int64_t batch = std::min<int64_t>(settings_.eval.batch_size, n);
  const auto num_points = static_cast<int64_t>(grid_.points().size());
  const bool blackbox = settings_.security.blackbox, adaptive = settings_.security.adaptive_eve;
  auto zeros = [&] {
    return torch::zeros({num_points}, torch::TensorOptions().dtype(torch::kFloat64).device(ctx_.device));
  };
  std::vector<SummaryRow> rows;
  // The realised PSR of each ARN set over the test set (it does not depend on the SNR): per-codeword
  // ratios of the first SNR's pass, then mean and 99th percentile per point, in dB.
  std::vector<std::vector<torch::Tensor>> ratios(2);
  RealisedPsr psr;
  bool first_snr = true;
  for (const double snr_db : settings_.eval.test_snr_db) {
    const torch::Tensor snr =
        torch::full({num_points}, snr_db, torch::TensorOptions().dtype(torch::kFloat32).device(ctx_.device));
    // Index: 0 unplug, 1 decrypt_only (white-box pair), 2 plugged (white-box), 3 decrypt_only (black-box), 4 plugged
    // (black-box).
    std::vector<SecurityAcc> acc(5);
    for (auto& a : acc) a = SecurityAcc{zeros(), zeros(), zeros(), zeros()};
    for (int64_t start = 0; start < n; start += batch) {
      const int64_t bsz = std::min(batch, n - start);
      const int64_t step = start / batch;
      const data::Batch b = data::eval_batch(test_, start, bsz, grid_.seeds(), phi_lo_, phi_hi_, ctx_.device);
      const torch::Tensor z = model_->transmit(b.x);
      auto score = [&](SecurityAcc& a, const torch::Tensor& phi_hat, const torch::Tensor& x_hat,
                       const torch::Tensor& y_eve) {
        a.sen += (phi_hat - b.phi).square().sum(1).to(torch::kFloat64);
        a.com += (x_hat - b.x).square().mean(2).sum(1).to(torch::kFloat64);
        a.hits += (eve_wb_->forward(y_eve).argmax(-1) == b.labels).sum(1).to(torch::kFloat64);
        if (adaptive) a.hits_adapt += (eve_adapt_->forward(y_eve).argmax(-1) == b.labels).sum(1).to(torch::kFloat64);
      };
      // Common random numbers: every variant goes through the same channel state and noise draws.
      const kernels::IsacLinkState channel = eval_state(b.phi, snr, step, z.size(2));
      const kernels::IsacLinkOut y0 = models::IsacChannel::apply(z, channel);
      score(acc[0], model_->receive_bs(y0.y_bs), model_->receive_ue(y0.y_ue), y0.y_eve);
      for (int set = 0; set < (blackbox ? 2 : 1); ++set) {
        models::PairedArn& arn = set == 0 ? arn_wb_ : arn_bb_;
        score(acc[1 + 2 * set], model_->receive_bs(arn->decrypt_bs(y0.y_bs)),
              model_->receive_ue(arn->decrypt_ue(y0.y_ue)), y0.y_eve);
        const torch::Tensor sent = encrypt(arn, z, psr_linear(), encryption_);
        if (first_snr) ratios[static_cast<size_t>(set)].push_back(realised_psr(z, sent).to(torch::kFloat64));
        const kernels::IsacLinkOut y1 = models::IsacChannel::apply(sent, channel);
        score(acc[2 + 2 * set], model_->receive_bs(arn->decrypt_bs(y1.y_bs)),
              model_->receive_ue(arn->decrypt_ue(y1.y_ue)), y1.y_eve);
      }
    }
    if (first_snr) {
      for (size_t set = 0; set < 2; ++set) {
        if (ratios[set].empty()) continue;
        const torch::Tensor r = torch::cat(ratios[set], 1);  // [G, N]
        const torch::Tensor mean = r.mean(1).cpu(), p99 = torch::quantile(r, 0.99, 1).cpu();
        for (int64_t g = 0; g < num_points; ++g) {
          psr.mean_db[set].push_back(10.0 * std::log10(mean[g].item<double>()));
          psr.p99_db[set].push_back(10.0 * std::log10(p99[g].item<double>()));
        }
      }
      first_snr = false;
    }
    auto emit = [&](const SecurityAcc& a, const std::string& variant, const std::string& eve, bool use_adaptive) {
      emit_rows(grid_, snr_db, n, a, variant, eve, use_adaptive, psr, rows);
    };
    // The unplugged and decrypt-only signals are unencrypted: the eavesdropper facing them is P_Eve.
    emit(acc[0], "unplug", "whitebox", false);
    emit(acc[1], "decrypt_only", "whitebox", false);
    emit(acc[2], "plugged", "whitebox", false);
    if (blackbox) {
      emit(acc[0], "unplug", "blackbox", false);
      emit(acc[3], "decrypt_only", "blackbox", false);
      emit(acc[4], "plugged", "blackbox", false);
    }
    if (adaptive) {
      emit(acc[0], "unplug", "adaptive", false);
      emit(acc[1], "decrypt_only", "adaptive", false);
      emit(acc[2], "plugged", "adaptive", true);
    }
  }
  if (eve_clean_) ceiling_rows(n, batch, rows);
  return rows;
}

void IsacExperiment::ceiling_rows(int64_t n, int64_t batch, std::vector<SummaryRow>& rows) {
  // Eve's ceiling: P_Eve's architecture trained and tested on the clean codewords. No channel, so
  // one row per point, without a test SNR or MSEs.
  torch::Tensor hits = torch::zeros({grid_.size()}, torch::TensorOptions().dtype(torch::kFloat64).device(ctx_.device));
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t bsz = std::min(batch, n - start);
    const data::Batch b = data::eval_batch(test_, start, bsz, grid_.seeds(), phi_lo_, phi_hi_, ctx_.device);
    hits += (eve_clean_->forward(model_->transmit(b.x)).argmax(-1) == b.labels).sum(1).to(torch::kFloat64);
  }
  const torch::Tensor pc = (hits / n).cpu();
  for (int64_t g = 0; g < grid_.size(); ++g) {
    SummaryRow r;
    r.point = g;
    r.variant = "clean";
    r.eve = "clean";
    r.seed = grid_.points()[g].seed;
    r.train_snr_db = grid_.points()[g].train_snr_db;
    r.test_snr_db = r.mse_sen = r.mse_com = std::numeric_limits<double>::quiet_NaN();
    r.psr_db = grid_.points()[g].psr_db;
    r.pc_eve = pc[g].item<double>();
    rows.push_back(r);
  }
}

}  // namespace semsec::trainers
