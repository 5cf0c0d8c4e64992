// The SS-ISAC configuration as typed values, read once from a checked config::Config
// (isac_settings): the experiment, its stages, the threat model, the run and export read these
// fields instead of looking keys up by string. The grid-batchable keys (train.snr_db, train.lr,
// train.gamma_*, security.psr_db, security.lambda_*, seed) differ from point to point and live in
// the Grid (grid.h), not here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "models/gs_isac.h"
#include "trainers/engine/grid_adam.h"

namespace semsec::trainers {

// A training section's length and learning rate: steps when > 0, else epochs of the training set.
struct StageSection {
  int64_t steps = 0, epochs = 0;
  double lr = 0;  // unused for train (train.lr is a grid key)
};

struct IsacSettings {
  struct Data {
    std::string root;
    int64_t train_limit = 0, test_limit = 0;
    double phi_min_deg = 0, phi_max_deg = 0;
  } data;
  // model.*: the system's sizes (input_dim comes from the data) and the antenna count.
  models::GsIsacSizes model;
  int64_t num_antennas = 0;
  struct Channel {
    std::string beamformer, alpha_phase;
    double steer_deg = 0, alpha_re = 0, alpha_im = 0, si_residual_power = 0, eve_snr_offset_db = 0;
  } channel;
  struct Train {
    int64_t batch_size = 0, log_every = 0, checkpoint_every = 0;
    AdamOptions adam;
    bool cuda_graph = false, tf32 = false;
    bool com_loss_sum = false;  // train.com_loss = sum (eq. 9 / 28's sum over pixels), else mean
  } train;
  StageSection train_stage, eve_stage, security_stage;  // train.*, eve.*, security.*
  struct Security {
    bool enabled = false, blackbox = false, adaptive_eve = false, equal_power = false;
    bool projection = false;  // security.power_constraint = projection
    std::string power_constraint, arn_init;
  } security;
  struct Eve {
    std::vector<int64_t> hidden, substitute_hidden;
    int64_t num_classes = 0;
    bool clean_ceiling = false;
  } eve;
  struct Minmax {
    bool enabled = false;
    int64_t eve_steps = 0, population = 0;
    std::string aggregate;
    double temperature = 0, eve_lr = 0;
  } minmax;
  struct Keyed {
    bool enabled = false;
    int64_t bits = 0;
    uint64_t secret = 0;
  } keyed;
  bool confusion = false;  // confusion.enabled
  struct Threat {
    bool enabled = false;
    std::vector<int64_t> samples, large_hidden;
    std::vector<std::string> starts;
    int64_t steps = 0;
    std::vector<double> test_snr_db;
  } threat;
  struct Eval {
    std::vector<double> test_snr_db;
    int64_t batch_size = 0;
  } eval;
  std::string export_what;  // output.export

  // The section of a kIsacStages row (train, eve or security); fails naming it otherwise.
  const StageSection& section(std::string_view name) const;
};

// Every field above from `cfg` (which Config::load has checked against isac_schema()).
IsacSettings isac_settings(const config::Config& cfg);

}  // namespace semsec::trainers
