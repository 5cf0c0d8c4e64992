// Every SS-ISAC key that changes behaviour, set by override, reaches the field it configures: the
// channel, the data range and limits, the model sizes, epochs to steps, Adam, the stage learning
// rates, the loss weights and tau. One row per key, each with a value other than its default.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numbers>
#include <string>
#include <vector>

#include "core/config.h"
#include "datasets/synthetic.h"
#include "tests/test_util.h"
#include "trainers/ss_isac/experiment.h"
#include "trainers/ss_isac/schema.h"
#include "trainers/ss_isac/stages.h"

namespace semsec::trainers {
namespace {

constexpr double kDeg = std::numbers::pi / 180.0;

struct KeyCase {
  std::vector<std::string> overrides;
  std::function<void(IsacExperiment&)> check;
};

class SsIsacKeys : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    data::write_synthetic_dataset(path("data"), 200, 40, 3, false);
  }
  // The experiment of the base configuration plus `extra`; security on so every stage exists.
  void with_experiment(const std::vector<std::string>& extra, const std::function<void(IsacExperiment&)>& fn) {
    std::vector<std::string> o{"data.root=" + path("data"), "security.enabled=true", "train.batch_size=16"};
    o.insert(o.end(), extra.begin(), extra.end());
    const config::Config cfg = config::Config::load(isac_schema(), "", o);
    RunContext ctx = open_run(path("run"), torch::kCPU, /*resume=*/false, /*tensorboard=*/false);
    IsacExperiment exp(cfg, {point_from_config(cfg)}, ctx);
    fn(exp);
  }
};

TEST_F(SsIsacKeys, EveryKeyReachesItsField) {
  using E = IsacExperiment;
  const std::vector<KeyCase> cases{
      // The channel.
      {{"model.num_antennas=8"}, [](E& e) { EXPECT_EQ(e.link_params().num_antennas, 8); }},
      {{"model.num_antennas=8"}, [](E& e) { EXPECT_EQ(e.link_params().w.size(), 8u); }},
      {{"channel.beamformer=uniform"},
       [](E& e) { EXPECT_EQ(e.link_params().w, kernels::make_beamformer("uniform", 16)); }},
      {{"channel.beamformer=steer", "channel.steer_deg=12"},
       [](E& e) { EXPECT_EQ(e.link_params().w, kernels::make_beamformer("steer", 16, 12.0)); }},
      {{"channel.alpha_re=0.5"}, [](E& e) { EXPECT_EQ(e.link_params().alpha, std::complex<double>(0.5, 0.0)); }},
      {{"channel.alpha_im=0.25"}, [](E& e) { EXPECT_EQ(e.link_params().alpha, std::complex<double>(1.0, 0.25)); }},
      {{"channel.si_residual_power=0.3"}, [](E& e) { EXPECT_EQ(e.link_params().si_residual_power, 0.3); }},
      {{"channel.eve_snr_offset_db=-6"}, [](E& e) { EXPECT_EQ(e.link_params().eve_snr_offset_db, -6.0); }},
      // The data: the azimuth range sets the sensing reference gain; the limits the split sizes.
      {{"data.phi_min_deg=-10", "data.phi_max_deg=30"},
       [](E& e) {
         EXPECT_DOUBLE_EQ(e.link_params().ref_gain_bs,
                          kernels::mean_sensing_gain(e.link_params(), -10 * kDeg, 30 * kDeg));
       }},
      {{"data.train_limit=64"}, [](E& e) { EXPECT_EQ(e.train_split().images.size(0), 64); }},
      {{"data.test_limit=24"}, [](E& e) { EXPECT_EQ(e.test_split().images.size(0), 24); }},
      // The model.
      {{"model.latent_dim=9"}, [](E& e) { EXPECT_EQ(e.model()->sizes().latent_dim, 9); }},
      {{"model.feature_dim=12"}, [](E& e) { EXPECT_EQ(e.model()->sizes().feature_dim, 12); }},
      {{"model.bs_hidden=10"}, [](E& e) { EXPECT_EQ(e.model()->sizes().bs_hidden, 10); }},
      {{"model.ue_hidden=11"}, [](E& e) { EXPECT_EQ(e.model()->sizes().ue_hidden, 11); }},
      {{"eve.num_classes=7"},
       [](E& e) {
         EXPECT_EQ(e.eve_whitebox()->forward(torch::zeros({1, 1, 46})).size(-1), 7);
       }},
      // Epochs to steps: 200 samples in batches of 16 are 12 steps per epoch; steps > 0 wins.
      {{"train.epochs=3", "train.steps=0"}, [](E& e) { EXPECT_EQ(e.stage_spec("general").total_steps, 36); }},
      {{"train.epochs=3", "train.steps=5"}, [](E& e) { EXPECT_EQ(e.stage_spec("general").total_steps, 5); }},
      {{"data.train_limit=64", "train.epochs=2", "train.steps=0"},
       [](E& e) { EXPECT_EQ(e.stage_spec("general").total_steps, 8); }},
      {{"eve.epochs=2", "eve.steps=0"}, [](E& e) { EXPECT_EQ(e.stage_spec("eve_substitute").total_steps, 24); }},
      {{"eve.steps=7"}, [](E& e) { EXPECT_EQ(e.stage_spec("eve_adaptive").total_steps, 7); }},
      {{"security.epochs=4", "security.steps=0"},
       [](E& e) { EXPECT_EQ(e.stage_spec("arn_whitebox").total_steps, 48); }},
      {{"security.steps=9"}, [](E& e) { EXPECT_EQ(e.stage_spec("arn_blackbox").total_steps, 9); }},
      // Adam and the stage learning rates.
      {{"train.adam_beta1=0.8"}, [](E& e) { EXPECT_EQ(e.stage_spec("eve_whitebox").adam.beta1, 0.8); }},
      {{"train.adam_beta2=0.95"}, [](E& e) { EXPECT_EQ(e.stage_spec("arn_whitebox").adam.beta2, 0.95); }},
      {{"train.adam_eps=1e-5"}, [](E& e) { EXPECT_EQ(e.stage_spec("general").adam.eps, 1e-5); }},
      {{"train.lr=0.02"}, [](E& e) { EXPECT_EQ(e.stage_spec("general").lr, std::vector<double>{0.02}); }},
      {{"eve.clean_ceiling=true"}, [](E& e) { EXPECT_TRUE(e.eve_clean().get() != nullptr); }},
      {{"eve.lr=0.004"}, [](E& e) { EXPECT_EQ(e.stage_spec("eve_whitebox").lr, std::vector<double>{0.004}); }},
      {{"security.lr=0.005"}, [](E& e) { EXPECT_EQ(e.stage_spec("arn_blackbox").lr, std::vector<double>{0.005}); }},
      {{"train.log_every=3"}, [](E& e) { EXPECT_EQ(e.stage_spec("general").log_every, 3); }},
      {{"train.checkpoint_every=4"}, [](E& e) { EXPECT_EQ(e.stage_spec("arn_whitebox").checkpoint_every, 4); }},
      // The loss weights and tau, per grid point.
      {{"train.gamma_sen=0.7"}, [](E& e) { EXPECT_EQ(e.grid().values("train.gamma_sen"), std::vector<double>{0.7}); }},
      {{"train.gamma_com=0.2"}, [](E& e) { EXPECT_EQ(e.grid().values("train.gamma_com"), std::vector<double>{0.2}); }},
      {{"security.lambda_pow=0.3"},
       [](E& e) { EXPECT_EQ(e.grid().values("security.lambda_pow"), std::vector<double>{0.3}); }},
      {{"security.lambda_sen=0.4"},
       [](E& e) { EXPECT_EQ(e.grid().values("security.lambda_sen"), std::vector<double>{0.4}); }},
      {{"security.lambda_com=0.6"},
       [](E& e) { EXPECT_EQ(e.grid().values("security.lambda_com"), std::vector<double>{0.6}); }},
      {{"security.lambda_pri=0.02"},
       [](E& e) { EXPECT_EQ(e.grid().values("security.lambda_pri"), std::vector<double>{0.02}); }},
      {{"security.power_constraint=hinge"}, [](E& e) { EXPECT_FALSE(e.encryption().projection); }},
      {{"security.power_constraint=projection"}, [](E& e) { EXPECT_TRUE(e.encryption().projection); }},
      {{"security.equal_power=true"}, [](E& e) { EXPECT_TRUE(e.encryption().equal_power); }},
      {{"train.snr_db=7"}, [](E& e) { EXPECT_EQ(e.grid().values("train.snr_db"), std::vector<double>{7.0}); }},
      {{"seed=5"}, [](E& e) { EXPECT_EQ(e.grid().seeds(), std::vector<uint64_t>{5}); }},
      {{"security.psr_db=-3", "model.latent_dim=5"},
       [](E& e) { EXPECT_FLOAT_EQ(e.tau()[0].item<float>(), static_cast<float>(std::pow(10.0, -0.3) / 5)); }},
  };
  for (const KeyCase& c : cases) {
    SCOPED_TRACE(c.overrides.front());
    with_experiment(c.overrides, c.check);
  }
}

TEST_F(SsIsacKeys, InconsistentSettingsNameTheKeys) {
  testing::expect_error(
      [&] {
        with_experiment({"data.phi_min_deg=10", "data.phi_max_deg=10"}, [](IsacExperiment&) {});
      },
      {"data.phi_min_deg (10)", "data.phi_max_deg (10)"});
  testing::expect_error([&] { with_experiment({"train.batch_size=500"}, [](IsacExperiment&) {}); },
                        {"train.batch_size (500)", "training set (200 samples)"});
  testing::expect_error(
      [&] { with_experiment({"security.arn_init=" + path("missing.safetensors")}, [](IsacExperiment&) {}); },
      {"missing.safetensors"});
  testing::expect_error([&] { with_experiment({}, [](IsacExperiment& e) { e.stage_spec("codec"); }); },
                        {"no SS-ISAC stage 'codec'"});
}

// The stage table: one row per name, a section the schema has, and counter ranges that never
// overlap (each stage's batches, channel draws and keys are its own), nor the threat model's five.
TEST(IsacStages, NamesAreUniqueAndCounterRangesDisjoint) {
  const config::Config cfg = config::Config::defaults(isac_schema());
  std::vector<int64_t> starts{counters::kThreat, counters::kThreat + 1 * counters::kStride,
                              counters::kThreat + 2 * counters::kStride, counters::kThreat + 3 * counters::kStride,
                              counters::kThreat + 4 * counters::kStride};
  std::vector<std::string_view> names;
  for (const IsacStage& s : kIsacStages) {
    EXPECT_EQ(std::count(names.begin(), names.end(), s.name), 0) << s.name;
    names.push_back(s.name);
    EXPECT_EQ(&isac_stage(s.name), &s);
    EXPECT_NO_THROW(cfg.get_float(std::string(s.section) + ".lr")) << s.name;
    EXPECT_EQ(s.counter % counters::kStride, 0) << s.name;
    starts.push_back(s.counter);
  }
  std::sort(starts.begin(), starts.end());
  EXPECT_EQ(std::adjacent_find(starts.begin(), starts.end()), starts.end()) << "two stages share a counter range";
  EXPECT_THROW(isac_stage("eve_nobody"), Error);
}

}  // namespace
}  // namespace semsec::trainers
