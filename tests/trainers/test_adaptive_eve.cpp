// Defences against an adaptive eavesdropper, in process on synthetic data: min-max training
// retrains its Eves while the base system stays frozen, the keyed pair needs its key, the frame
// keys are fair bits, and the threat model's grid rows are independent of one another.
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <map>
#include <sstream>

#include "core/config.h"
#include "core/fs.h"
#include "core/rundir.h"
#include "datasets/synthetic.h"
#include "tests/test_util.h"
#include "trainers/ss_isac/experiment.h"
#include "trainers/ss_isac/losses.h"
#include "trainers/ss_isac/run.h"
#include "trainers/ss_isac/schema.h"

namespace semsec::trainers {
namespace {

class AdaptiveEveTest : public testing::TempDirTest {
 protected:
  AdaptiveEveTest() : TempDirTest("adaptive") {}
  void SetUp() override {
    TempDirTest::SetUp();
    data_ = fs::join(dir_, "data");
    data::write_synthetic_dataset(data_, 512, 128, 5, false);
  }

  config::Config make_config(std::vector<std::string> extra) {
    std::vector<std::string> o{"data.root=" + data_,
                               "train.steps=30",
                               "train.batch_size=32",
                               "train.lr=0.003",
                               "eve.steps=20",
                               "eve.lr=0.003",
                               "security.steps=6",
                               "eval.batch_size=64",
                               "eval.test_snr_db=[20]",
                               "train.log_every=2",
                               "train.checkpoint_every=3",
                               "security.enabled=true",
                               "security.blackbox=false",
                               "security.adaptive_eve=false",
                               "threat.steps=3",
                               "threat.samples=[40,0]",
                               "threat.large_hidden=[8]"};
    o.insert(o.end(), extra.begin(), extra.end());
    return config::Config::load(isac_schema(), "", o);
  }

  RunContext context(const std::string& name) {
    return open_run(fs::join(dir_, name), torch::kCPU, /*resume=*/false, /*tensorboard=*/false);
  }

  std::string data_;
};

std::vector<torch::Tensor> snapshot(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m.parameters()) out.push_back(p.detach().clone());
  return out;
}

bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i], b[i])) return false;
  }
  return true;
}

// One member's rows of a population parameter [G * P, ...]: member p of point 0.
torch::Tensor member(const torch::Tensor& t, int64_t p) { return t.select(0, p); }

// A defences.csv line's fields by header name.
std::map<std::string, std::string> fields(const std::string& line) {
  std::map<std::string, std::string> out;
  std::istringstream h(defences_header()), v(line);
  std::string name, value;
  while (std::getline(h, name, ',')) {
    std::getline(v, value, ',');
    out[name] = value;
  }
  return out;
}

TEST_F(AdaptiveEveTest, MinmaxRetrainsItsEvesWhileTheBaseSystemAndPEveStayFrozen) {
  const config::Config cfg =
      make_config({"minmax.enabled=true", "minmax.population=2", "minmax.eve_steps=2", "minmax.eve_lr=0.003"});
  RunContext ctx = context("minmax");
  IsacExperiment exp(cfg, {point_from_config(cfg)}, ctx);
  exp.train_general();
  exp.train_eves();
  const auto base = snapshot(*exp.model()), p_eve = snapshot(*exp.eve_whitebox());
  const auto eves_before = snapshot(*exp.eve_minmax()), arn_before = snapshot(*exp.arn_minmax());
  exp.train_defences();
  EXPECT_TRUE(same(base, snapshot(*exp.model()))) << "the base system moved";
  EXPECT_TRUE(same(p_eve, snapshot(*exp.eve_whitebox()))) << "P_Eve moved";
  EXPECT_FALSE(same(arn_before, snapshot(*exp.arn_minmax()))) << "the ARN pair did not train";
  // Both members of the population trained: neither is where it started (member 0 started from P_Eve).
  const auto eves_after = snapshot(*exp.eve_minmax());
  for (int64_t p = 0; p < 2; ++p) {
    EXPECT_FALSE(torch::equal(member(eves_after[0], p), p == 0 ? member(p_eve[0], 0) : member(eves_before[0], p)))
        << "member " << p << " did not train";
  }
  // Both players' losses are logged.
  ctx.metrics->save();
  const std::string metrics = read_file(fs::join(ctx.run_dir, "metrics.csv"));
  for (const char* term : {"arn_minmax,", "l_pri", "eve_loss", "eve_accuracy"})
    EXPECT_NE(metrics.find(term), std::string::npos) << term;
}

TEST_F(AdaptiveEveTest, MinmaxPopulationStartsFromPEveAndFreshInitialisations) {
  // With the Eves' learning rate at zero they keep their starting weights.
  const config::Config cfg = make_config({"minmax.enabled=true", "minmax.population=3", "minmax.eve_lr=0"});
  RunContext ctx = context("start");
  IsacExperiment exp(cfg, {point_from_config(cfg)}, ctx);
  exp.train_general();
  exp.train_eves();
  const auto fresh = snapshot(*exp.eve_minmax());
  exp.train_defences();
  const auto eves = snapshot(*exp.eve_minmax());
  const auto p_eve = snapshot(*exp.eve_whitebox());
  for (size_t i = 0; i < eves.size(); ++i) {
    EXPECT_TRUE(torch::equal(member(eves[i], 0), member(p_eve[i], 0))) << i;
    EXPECT_TRUE(torch::equal(member(eves[i], 1), member(fresh[i], 1))) << i;
    EXPECT_FALSE(torch::equal(member(eves[i], 1), member(eves[i], 2))) << "members 1 and 2 share their start";
  }
}

TEST(PopulationPrivacy, MaxMeanAndTheSoftMaximumBetweenThem) {
  // Two points of three members each.
  const torch::Tensor l = torch::tensor({0.1, 0.4, 0.2, 0.9, 0.3, 0.6}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(population_privacy(l, 3, "max", 1.0), torch::tensor({0.4, 0.9}, torch::kFloat64)));
  EXPECT_TRUE(torch::allclose(population_privacy(l, 3, "mean", 1.0), torch::tensor({0.7 / 3, 0.6}, torch::kFloat64)));
  EXPECT_TRUE(
      torch::allclose(population_privacy(l, 3, "softmax", 1e4), torch::tensor({0.4, 0.9}, torch::kFloat64), 0, 2e-4));
  EXPECT_TRUE(torch::allclose(population_privacy(l, 3, "softmax", 1e-6), torch::tensor({0.7 / 3, 0.6}, torch::kFloat64),
                              0, 1e-6));
  // In between: log(mean(exp(t l))) / t at t = 10 for the first point.
  const double want = std::log((std::exp(1.0) + std::exp(4.0) + std::exp(2.0)) / 3.0) / 10.0;
  EXPECT_NEAR(population_privacy(l, 3, "softmax", 10.0)[0].item<double>(), want, 1e-12);
  testing::expect_error([&] { population_privacy(l, 3, "median", 1.0); }, {"minmax.aggregate: 'median'"});
}

TEST_F(AdaptiveEveTest, FrameKeysAreFairBitsOfTheirSecretAndStream) {
  const config::Config cfg = make_config({"keyed.enabled=true", "keyed.bits=40"});
  RunContext ctx = context("keys");
  IsacExperiment exp(cfg, {{3, 15.0, 1e-3}, {4, 15.0, 1e-3}}, ctx);
  const torch::Tensor k = exp.frame_keys(7, 500, false, 1);
  ASSERT_EQ(k.sizes(), (std::vector<int64_t>{2, 500, 40}));
  EXPECT_TRUE(torch::equal(k.abs(), torch::ones_like(k)));
  EXPECT_TRUE(torch::equal(k, exp.frame_keys(7, 500, false, 1)));
  // 40 000 fair bits per point: the mean of +-1 has standard deviation 1 / 200.
  for (int64_t g = 0; g < 2; ++g) EXPECT_LT(std::abs(k[g].mean().item<double>()), 4.0 / 200.0);
  // Another secret, another step, the evaluation stream and another point: other keys (at most
  // chance agreement, 1/2 of the bits, within 4 standard deviations).
  const auto agreement = [&](const torch::Tensor& a, const torch::Tensor& b) {
    return (a == b).to(torch::kFloat64).mean().item<double>();
  };
  EXPECT_NEAR(agreement(k, exp.frame_keys(7, 500, false, 2)), 0.5, 4.0 / 400.0 * 2);
  EXPECT_NEAR(agreement(k, exp.frame_keys(8, 500, false, 1)), 0.5, 4.0 / 400.0 * 2);
  EXPECT_NEAR(agreement(k, exp.frame_keys(7, 500, true, 1)), 0.5, 4.0 / 400.0 * 2);
  EXPECT_NEAR(agreement(k[0], k[1]), 0.5, 4.0 / 200.0 * 2);
}

// The keyed pair trained against an adaptive Eve with room to perturb (PSR 0 dB) and weight on
// privacy: with its key the UE decodes within 15 % of the unkeyed min-max pair trained alike; with a
// wrong key its error beyond the unprotected system's is more than twice the right key's.
TEST_F(AdaptiveEveTest, KeyedPairDecodesWithItsKeyAndNotWithAWrongOne) {
  const config::Config cfg =
      make_config({"keyed.enabled=true", "minmax.enabled=true", "security.psr_db=0", "security.lambda_pri=1",
                   "security.steps=300", "security.lr=0.003", "minmax.eve_lr=0.003", "train.steps=300"});
  RunContext ctx = context("keyed");
  IsacExperiment exp(cfg, {point_from_config(cfg)}, ctx);
  exp.train_general();
  exp.train_eves();
  exp.train_arns();
  exp.train_defences();
  std::map<std::string, std::map<std::string, std::string>> by_defence;
  for (const std::string& line : exp.evaluate_threats().defences) {
    auto f = fields(line);
    by_defence[f["defence"]] = f;
  }
  ASSERT_EQ(by_defence.size(), 4u);
  const auto& keyed = by_defence["keyed"];
  const auto value = [&](const std::string& defence, const std::string& column) {
    return std::stod(by_defence[defence].at(column));
  };
  // The UE's image error beyond the unprotected system's, with the right key and a wrong one. (The
  // BS's sensing error is not checked: at this size the azimuth hardly depends on the perturbation.)
  const double base = value("unprotected", "mse_com");
  const double com_right = value("keyed", "mse_com") - base, com_wrong = value("keyed", "mse_com_wrong_key") - base;
  EXPECT_GT(com_wrong, 0.0);
  EXPECT_GT(com_wrong, 2.0 * com_right) << "excess over unprotected: right key " << com_right << ", wrong key "
                                        << com_wrong;
  const double unkeyed = value("minmax", "mse_com");
  std::cout << "UE excess error: right key " << com_right << ", wrong key " << com_wrong << "; mse_com keyed "
            << value("keyed", "mse_com") << ", unkeyed " << unkeyed << "\n";
  EXPECT_NEAR(value("keyed", "mse_com"), unkeyed, 0.15 * unkeyed);
  EXPECT_TRUE(by_defence["minmax"].at("mse_com_wrong_key").empty());
  // The realised PSR stays within the nominal 0 dB (projection).
  EXPECT_LE(std::stod(keyed.at("psr_p99_db")), 1e-3);
}

// A row of the threat grid trains on its own samples and updates: the Eves with 40 samples reach the
// same P_c whether the grid also holds Eves with every sample or not.
TEST_F(AdaptiveEveTest, ThreatRowsAreIndependentOfTheOtherSampleCounts) {
  auto pc_of_40 = [&](const std::string& samples, const std::string& name) {
    const config::Config cfg = make_config({"threat.samples=" + samples, "threat.steps=20", "eve.lr=0.01"});
    RunContext ctx = context(name);
    IsacExperiment exp(cfg, {point_from_config(cfg)}, ctx);
    exp.train_general();
    exp.train_eves();
    exp.train_arns();
    std::map<std::string, double> out;
    const auto rows = exp.evaluate_threats().adaptive;
    for (const std::string& line : rows) {
      std::vector<std::string> f;
      std::istringstream in(line);
      for (std::string v; std::getline(in, v, ',');) f.push_back(v);
      if (f.at(5) == "40") out[f[2] + "/" + f[3] + "/" + f[4]] = std::stod(f.at(9));
    }
    return std::make_pair(out, rows.size());
  };
  const auto [alone, n_alone] = pc_of_40("[40]", "alone");
  const auto [with_all, n_all] = pc_of_40("[40,0]", "with_all");
  // 2 defences x (paper: 2 starts + large: 1) x counts x 1 test SNR.
  EXPECT_EQ(n_alone, 2u * 3u);
  EXPECT_EQ(n_all, 2u * 3u * 2u);
  ASSERT_EQ(alone.size(), 6u);
  for (const auto& [key, pc] : alone) {
    EXPECT_GE(pc, 0.0);
    EXPECT_LE(pc, 1.0);
    EXPECT_NEAR(pc, with_all.at(key), 0.02) << key;
  }
}

}  // namespace
}  // namespace semsec::trainers
