// The SS-ISAC experiment on a grid of points: data, the general system (eq. 1-9) and its stage
// (general.cpp), Eve's classifiers, the paired ARNs (eq. 19-29) and the adaptive Eve
// (security.cpp), and their evaluation over test SNRs. `semsec train` runs one grid point
// (G = 1); run.h strings the stages together.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/config.h"
#include "datasets/loader.h"
#include "kernels/isac_link/isac_link_op.h"
#include "models/gs_isac.h"
#include "models/isac_channel.h"
#include "models/security.h"
#include "trainers/engine/stage.h"
#include "trainers/ss_isac/grid.h"
#include "trainers/ss_isac/losses.h"
#include "trainers/ss_isac/settings.h"
#include "trainers/ss_isac/stages.h"

namespace semsec::trainers {

// One row of summary.csv: one grid point, variant, eavesdropper and test SNR.
struct SummaryRow {
  int64_t point = 0;
  std::string variant = "unplug";  // unplug | decrypt_only | plugged | clean (eve.clean_ceiling)
  std::string eve = "none";        // none | whitebox | blackbox | adaptive | clean
  double train_snr_db = 0, test_snr_db = 0;
  double psr_db = std::numeric_limits<double>::quiet_NaN();
  uint64_t seed = 0;
  double mse_sen = 0, mse_com = 0;
  double pc_eve = std::numeric_limits<double>::quiet_NaN();
  // The realised PSR of the plugged signal on the test set (10 log10 of ||z' - z||^2 / ||z||^2): the
  // mean over the codewords and their 99th percentile, in dB; plugged rows only.
  double psr_real_db = std::numeric_limits<double>::quiet_NaN();
  double psr_p99_db = std::numeric_limits<double>::quiet_NaN();
  // "ok", or "diverged@STAGE:STEP" when the point stopped training (DivergenceGuard); the metric
  // columns of such a row are left empty.
  std::string status = "ok";
};

std::string summary_header();
std::string summary_line(const SummaryRow& r);

// The system's sizes (input_dim: pixels per image of the data).
models::GsIsacSizes gs_isac_sizes(const IsacSettings& s, int64_t input_dim = 784);
// The ARN pair's sizes for the system's latent size.
models::ArnSizes arn_sizes(const IsacSettings& s);
// The ISAC link's parameters (channel.*, model.num_antennas and the azimuth range); fails naming
// the beamformer when its mean gain over the range is zero.
kernels::IsacLinkParams isac_link_params(const IsacSettings& s);

// Loads an exported ARN pair (`semsec export`, read once) into every module of `arns`,
// checking every tensor.
void load_arn_weights(const std::string& path, const std::vector<torch::nn::Module*>& arns);

class IsacExperiment {
 public:
  IsacExperiment(const config::Config& cfg, std::vector<GridPoint> points, RunContext& ctx);

  void train_general();
  std::vector<SummaryRow> evaluate_general();

  // Security stages (Sec. III): Eve's classifier P_Eve and the black-box substitute trained on
  // unplugged signals (and, with eve.clean_ceiling, P_Eve's architecture on the clean codewords); ARN pairs trained
  // against each with the composite loss (eq. 25-29); an adaptive Eve retrained on the encrypted signals of the
  // white-box ARNs.
  void train_eves();
  void train_arns();
  void train_adaptive_eve();
  std::vector<SummaryRow> evaluate_security();

  // Defences against an eavesdropper that adapts (adversary.cpp): the min-max pair (minmax.enabled),
  // the keyed pair (keyed.enabled) and the confusion pair (confusion.enabled), each trained against a
  // population of Eves retrained on its encrypted signals, k Eve updates per ARN update.
  void train_defences();
  // The threat model (threat.cpp, threat.enabled): for every defence, Eves of both architectures
  // trained as one grid on n labelled encrypted samples for each n and start, and their P_c on the
  // test set; returns the rows of adaptive_eve.csv and defences.csv.
  struct ThreatRows {
    std::vector<std::string> adaptive, defences;
  };
  ThreatRows evaluate_threats();
  // The frame keys of the keyed pair for `batch` codewords at counter `step` [G, B, keyed.bits],
  // entries +-1; `secret` is the key stream's seed (keyed.secret; another value is a wrong key).
  torch::Tensor frame_keys(int64_t step, int64_t batch, bool eval, uint64_t secret) const;

  models::PairedArn& arn_whitebox() { return arn_wb_; }
  models::EveClassifier& eve_whitebox() { return eve_wb_; }
  models::EveClassifier& eve_adaptive() { return eve_adapt_; }
  // P_Eve's architecture on the clean codewords; null unless eve.clean_ceiling.
  models::EveClassifier& eve_clean() { return eve_clean_; }
  // The min-max and keyed pairs and their Eve populations [G * minmax.population rows]; null unless
  // minmax.enabled / keyed.enabled.
  models::PairedArn& arn_minmax() { return arn_mm_; }
  models::PairedArn& arn_keyed() { return arn_key_; }
  models::EveClassifier& eve_minmax() { return eve_mm_; }
  models::EveClassifier& eve_keyed() { return eve_key_; }
  models::PairedArn& arn_confusion() { return arn_conf_; }
  const Grid& grid() const { return grid_; }
  const std::vector<GridPoint>& points() const { return grid_.points(); }
  const config::Config& config() const { return cfg_; }
  const IsacSettings& settings() const { return settings_; }
  const kernels::IsacLinkParams& link_params() const { return channel_.params(); }
  const data::Split& train_split() const { return train_; }
  const data::Split& test_split() const { return test_; }
  // tau of eq. 26 per point [G] (security.enabled only).
  const torch::Tensor& tau() const { return tau_; }
  // security.power_constraint and security.equal_power.
  const Encryption& encryption() const { return encryption_; }

  // The settings of stage `name` (general, eve_whitebox, eve_substitute, eve_adaptive, arn_whitebox,
  // arn_blackbox) from its section (train, eve, security): steps (or epochs x steps per epoch),
  // learning rate per point, logging, checkpoints and Adam; the parameters and loss are the caller's.
  StageSpec stage_spec(const std::string& name) const;

  models::GsIsac& model() { return model_; }
  int64_t num_points() const { return grid_.size(); }

 private:
  // The batch and channel counter of training step s, set before the step: copied into fixed
  // buffers when the step is a replayed CUDA graph, plain assignment otherwise.
  void load_step(int64_t s);
  // The training channel at the loaded step for the loaded batch's azimuths.
  kernels::IsacLinkOut train_channel(const torch::Tensor& z);
  // The evaluation channel (evaluation streams) at counter `step`.
  kernels::IsacLinkOut eval_channel(const torch::Tensor& z, const torch::Tensor& phi, const torch::Tensor& snr_db,
                                    int64_t step);
  // Its first half (generate) for codewords of length L: variants of one batch applied to this one
  // state (models::IsacChannel::apply) see common channel draws, as eval_channel would give each.
  kernels::IsacLinkState eval_state(const torch::Tensor& phi, const torch::Tensor& snr_db, int64_t step,
                                    int64_t length);
  // Trains `eve` on y_Eve of the (encrypted, when `arn` is given) codewords, or on the clean
  // codewords z themselves when `clean` (no channel: eve.clean_ceiling).
  // Stages by their kIsacStages name (stages.h: section, counter range).
  void train_eve(const std::string& stage, models::EveClassifier& eve, models::PairedArn* arn, bool clean = false);
  void train_arn(const std::string& stage, models::PairedArn& arn, models::EveClassifier& eve);
  // The factor of gamma_com and lambda_com: 1 for train.com_loss=mean, the pixels per image for sum.
  double com_loss_scale() const;
  // The linear PSR limit per point [G]: tau L_z (eq. 26).
  torch::Tensor psr_linear() const;
  // Eve's ceiling rows (eve.clean_ceiling): P_c of eve_clean_ on the clean test codewords, one row
  // per point, appended to `rows`.
  void ceiling_rows(int64_t n, int64_t batch, std::vector<SummaryRow>& rows);
  // Min-max training of `arn` against the population `eves` (adversary.cpp); a keyed pair reads the
  // frame keys. confusion: the privacy term is eve_confusion_loss instead of eq. 29.
  void train_minmax(const std::string& stage, models::PairedArn& arn, models::EveClassifier& eves, bool confusion);
  // The frame keys `arn` reads at counter `step` (keyed.secret's), undefined for an unkeyed pair.
  torch::Tensor pair_keys(const models::PairedArn& arn, int64_t step, int64_t batch, bool eval) const;
  // What a defence sends for the codewords z [G, B, L] at counter `step`: z itself (no pair), or
  // the pair's encryption with the frame keys of `secret` when the pair is keyed.
  torch::Tensor defend(models::PairedArn* arn, const torch::Tensor& z, int64_t step, bool eval);
  models::EveClassifier eve_mm_{nullptr}, eve_key_{nullptr}, eve_conf_{nullptr};
  models::PairedArn arn_mm_{nullptr}, arn_key_{nullptr}, arn_conf_{nullptr};
  // The threat model (threat.cpp): one grid of Eves of one architecture, row (g, s, c) for point g,
  // start s and sample count c.
  struct ThreatEves {
    std::string arch;
    std::vector<std::string> starts;
    models::EveClassifier eves{nullptr};
    std::shared_ptr<GridAdam> opt;
  };
  std::vector<ThreatEves> make_threat_eves(int64_t num_counts);
  void train_threat_eves(models::PairedArn* arn, std::vector<ThreatEves>& grids, const std::vector<int64_t>& counts,
                         const torch::Tensor& orders, int64_t steps, int64_t offset, const std::string& name);
  // adaptive_eve.csv's lines of a defence: P_c of every threat Eve at every threat test SNR.
  std::vector<std::string> test_threat_eves(models::PairedArn* arn, const std::string& name,
                                            std::vector<ThreatEves>& grids, const std::vector<int64_t>& counts,
                                            int64_t steps);
  // defences.csv's lines of a defence: utility, realised PSR, P_Eve's P_c, and the keyed pair's
  // utility under a wrong key.
  std::vector<std::string> defence_rows(models::PairedArn* arn, const std::string& name);
  uint64_t secret_ = 0;
  int64_t loaded_step_ = 0;  // the step load_step loaded last
  void make_defences(const models::ArnSizes& arn, int64_t y_dim, const std::vector<int64_t>& hidden,
                     int64_t num_classes);
  std::shared_ptr<data::BatchSampler> sampler_;
  models::EveClassifier eve_wb_{nullptr}, eve_bb_{nullptr}, eve_adapt_{nullptr}, eve_clean_{nullptr};
  models::PairedArn arn_wb_{nullptr}, arn_bb_{nullptr};
  torch::Tensor tau_;
  Encryption encryption_;

  const config::Config& cfg_;
  const IsacSettings settings_;  // cfg_ read once
  Grid grid_;
  RunContext& ctx_;
  data::Split train_, test_;
  double phi_lo_, phi_hi_;
  models::IsacChannel channel_;  // the link, the points' keys and the step counter
  models::GsIsac model_{nullptr};
  torch::Tensor train_snr_t_;
  data::Batch batch_;  // the loaded training batch (load_step)
  bool cuda_graph_ = false;
};

}  // namespace semsec::trainers
