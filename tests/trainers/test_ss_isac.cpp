// The SS-ISAC experiment in process on synthetic data: ensembles equal single runs, the base
// system stays frozen while the ARNs train, and the evaluation grid is complete.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/config.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/safetensors.h"
#include "datasets/synthetic.h"
#include "tests/test_util.h"
#include "trainers/ss_isac/experiment.h"
#include "trainers/ss_isac/schema.h"

namespace semsec::trainers {
namespace {

class SsIsacTest : public testing::TempDirTest {
 protected:
  SsIsacTest() : TempDirTest("ssisac") {}
  void SetUp() override {
    TempDirTest::SetUp();
    data_ = fs::join(dir_, "data");
    data::write_synthetic_dataset(data_, 512, 128, 5, false);
  }

  config::Config make_config(std::vector<std::string> extra) {
    std::vector<std::string> o{
        "data.root=" + data_, "train.steps=6",           "train.batch_size=32", "train.lr=0.003",
        "eve.steps=4",        "security.steps=4",        "eval.batch_size=64",  "eval.test_snr_db=[5,20]",
        "train.log_every=2",  "train.checkpoint_every=3"};
    o.insert(o.end(), extra.begin(), extra.end());
    return config::Config::load(isac_schema(), "", o);
  }

  RunContext context(const std::string& name) {
    return open_run(fs::join(dir_, name), torch::kCPU, /*resume=*/false, /*tensorboard=*/false);
  }

  std::string data_;
};

// train.com_loss=sum is eq. 9 and 28's E||x - x_hat||^2: the per-pixel loss times the pixels per
// image (28 x 28 here), i.e. gamma_com and lambda_com 784 times larger, for the general system and the
// ARNs alike.
TEST_F(SsIsacTest, ComLossSumIsThePerPixelLossWithWeightsTimesThePixelCount) {
  const config::Config sum = make_config({"train.com_loss=sum", "security.enabled=true", "security.blackbox=false",
                                          "security.adaptive_eve=false"});
  const config::Config scaled = make_config({"train.gamma_com=78.4", "security.lambda_com=78.4", "security.enabled=true",
                                             "security.blackbox=false", "security.adaptive_eve=false"});
  const config::Config mean = make_config({"security.enabled=true", "security.blackbox=false",
                                           "security.adaptive_eve=false"});
  RunContext c1 = context("sum"), c2 = context("scaled"), c3 = context("mean");
  IsacExperiment a(sum, {{11, 15.0, 3e-3}}, c1), b(scaled, {{11, 15.0, 3e-3}}, c2), m(mean, {{11, 15.0, 3e-3}}, c3);
  for (IsacExperiment* e : {&a, &b, &m}) {
    e->train_general();
    e->train_eves();
    e->train_arns();
  }
  auto pa = a.model()->named_parameters(), pb = b.model()->named_parameters(), pm = m.model()->named_parameters();
  bool differs_from_mean = false;
  for (const auto& item : pa) {
    EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
    differs_from_mean |= !torch::equal(item.value(), pm[item.key()]);
  }
  EXPECT_TRUE(differs_from_mean);
  auto qa = a.arn_whitebox()->named_parameters(), qb = b.arn_whitebox()->named_parameters();
  for (const auto& item : qa) EXPECT_TRUE(torch::equal(item.value(), qb[item.key()])) << item.key();
}

TEST_F(SsIsacTest, GridPointInsideAnEnsembleMatchesTheSameConfigurationAlone) {
  const config::Config cfg = make_config({});
  RunContext ctx_grid = context("grid"), ctx_alone = context("alone");
  IsacExperiment grid(cfg, {{11, 15.0, 3e-3}, {12, 5.0, 1e-3}, {13, 20.0, 3e-3}, {14, 10.0, 2e-3}}, ctx_grid);
  IsacExperiment alone(cfg, {{12, 5.0, 1e-3}}, ctx_alone);
  grid.train_general();
  alone.train_general();
  auto pg = grid.model()->named_parameters();
  auto pa = alone.model()->named_parameters();
  for (const auto& item : pa) {
    const torch::Tensor g = pg[item.key()][1];
    EXPECT_TRUE(torch::allclose(g, item.value()[0], 1e-5, 1e-6))
        << item.key() << " max diff " << (g - item.value()[0]).abs().max().item<double>();
  }
  const auto rg = grid.evaluate_general();
  const auto ra = alone.evaluate_general();
  ASSERT_EQ(rg.size(), 8u);
  ASSERT_EQ(ra.size(), 2u);
  for (size_t t = 0; t < 2; ++t) {
    const SummaryRow& g = rg[t * 4 + 1];
    EXPECT_EQ(g.seed, 12u);
    EXPECT_NEAR(g.mse_sen, ra[t].mse_sen, 1e-5 * (1 + ra[t].mse_sen));
    EXPECT_NEAR(g.mse_com, ra[t].mse_com, 1e-5 * (1 + ra[t].mse_com));
  }
}

TEST_F(SsIsacTest, OnOneThreadAGridPointEqualsThePointAloneBitForBit) {
  // On one thread LibTorch's GEMMs round the same for any G (with more, a lone point's GEMMs are
  // split across threads and an ensemble's are not), and semsec's kernels always do: the same
  // weights and metrics to the last bit, at the real batch size.
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const config::Config cfg = make_config({"train.steps=3", "train.batch_size=256"});
  RunContext ctx_grid = context("grid1"), ctx_alone = context("alone1");
  IsacExperiment grid(cfg, {{11, 15.0, 3e-3}, {12, 5.0, 1e-3}, {13, 20.0, 3e-3}}, ctx_grid);
  IsacExperiment alone(cfg, {{12, 5.0, 1e-3}}, ctx_alone);
  grid.train_general();
  alone.train_general();
  const auto rg = grid.evaluate_general();
  const auto ra = alone.evaluate_general();
  at::set_num_threads(threads);
  auto pg = grid.model()->named_parameters();
  for (const auto& item : alone.model()->named_parameters()) {
    EXPECT_TRUE(torch::equal(pg[item.key()][1], item.value()[0])) << item.key();
  }
  ASSERT_EQ(rg.size(), 6u);
  for (size_t t = 0; t < 2; ++t) {
    EXPECT_EQ(rg[t * 3 + 1].mse_sen, ra[t].mse_sen);
    EXPECT_EQ(rg[t * 3 + 1].mse_com, ra[t].mse_com);
  }
}

TEST_F(SsIsacTest, LossWeightsArePerGridPoint) {
  // Two points that differ only in their loss weights (eq. 9 and eq. 25) train as one ensemble;
  // the second equals the same weights set through the config and trained alone, bit for bit on
  // one thread, through every stage; the first, with the defaults, ends elsewhere.
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const std::vector<std::string> common{"train.steps=3", "eve.steps=3", "security.steps=3", "security.enabled=true",
                                        "seed=12"};
  const config::Config base = make_config(common);
  std::vector<std::string> weighted = common;
  for (const char* o : {"train.gamma_sen=0.2", "train.gamma_com=0.4", "security.lambda_pow=0.3",
                        "security.lambda_sen=0.2", "security.lambda_com=0.3", "security.lambda_pri=0.05"}) {
    weighted.push_back(o);
  }
  const config::Config cfg_w = make_config(weighted);
  RunContext ctx_grid = context("wgrid"), ctx_alone = context("walone");
  IsacExperiment grid(base, {point_from_config(base), point_from_config(cfg_w)}, ctx_grid);
  IsacExperiment alone(cfg_w, {point_from_config(cfg_w)}, ctx_alone);
  for (IsacExperiment* e : {&grid, &alone}) {
    e->train_general();
    e->train_eves();
    e->train_arns();
  }
  at::set_num_threads(threads);
  auto pg = grid.model()->named_parameters();
  for (const auto& item : alone.model()->named_parameters()) {
    EXPECT_TRUE(torch::equal(pg[item.key()][1], item.value()[0])) << item.key();
  }
  EXPECT_FALSE(torch::equal(pg["se.fc0.weight"][0], pg["se.fc0.weight"][1]));
  auto ag = grid.arn_whitebox()->named_parameters();
  for (const auto& item : alone.arn_whitebox()->named_parameters()) {
    EXPECT_TRUE(torch::equal(ag[item.key()][1], item.value()[0])) << item.key();
  }
}

TEST_F(SsIsacTest, BaseSystemStaysBitForBitFrozenWhileEveAndArnsTrain) {
  const config::Config cfg = make_config({"security.enabled=true"});
  RunContext ctx = context("sec");
  IsacExperiment exp(cfg, {point_from_config(cfg)}, ctx);
  exp.train_general();
  std::vector<torch::Tensor> before;
  for (const auto& p : exp.model()->parameters()) before.push_back(p.detach().clone());
  const torch::Tensor arn_before = exp.arn_whitebox()->parameters().back().detach().clone();
  exp.train_eves();
  exp.train_arns();
  exp.train_adaptive_eve();
  const auto after = exp.model()->parameters();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i])) << "parameter " << i;
  // The ARNs did train.
  EXPECT_FALSE(torch::equal(arn_before, exp.arn_whitebox()->parameters().back()));
  const auto rows = exp.evaluate_security();
  // 2 test SNRs x (3 variants) x (whitebox, blackbox, adaptive).
  ASSERT_EQ(rows.size(), 18u);
  for (const auto& r : rows) {
    EXPECT_GE(r.pc_eve, 0.0);
    EXPECT_LE(r.pc_eve, 1.0);
    EXPECT_TRUE(r.variant == "unplug" || r.variant == "decrypt_only" || r.variant == "plugged");
    EXPECT_DOUBLE_EQ(r.psr_db, -10.0);
  }
}

// eve.clean_ceiling: P_Eve's architecture trained and tested on the codewords z without a channel.
// Eve's channel (her SNR offset) changes P_Eve but neither the clean classifier nor its row, which
// summary.csv writes once per point, without a test SNR or MSEs.
TEST_F(SsIsacTest, EveCeilingTrainsOnTheCleanCodewordsWithoutAChannel) {
  auto run = [&](const std::string& offset, const std::string& name) {
    const config::Config cfg = make_config({"security.enabled=true", "security.blackbox=false",
                                            "security.adaptive_eve=false", "eve.clean_ceiling=true",
                                            "channel.eve_snr_offset_db=" + offset});
    RunContext ctx = context(name);
    IsacExperiment exp(cfg, {{11, 15.0, 3e-3}, {12, 15.0, 3e-3}}, ctx);
    exp.train_general();
    exp.train_eves();
    std::vector<SummaryRow> rows = exp.evaluate_security();
    return std::make_tuple(exp.eve_clean()->parameters().front().detach().clone(),
                           exp.eve_whitebox()->parameters().front().detach().clone(), rows);
  };
  const auto [clean_a, wb_a, rows_a] = run("0", "a");
  const auto [clean_b, wb_b, rows_b] = run("-20", "b");
  EXPECT_TRUE(torch::equal(clean_a, clean_b));
  EXPECT_FALSE(torch::equal(wb_a, wb_b));
  // 2 test SNRs x 3 variants x P_Eve, then one clean row per point.
  ASSERT_EQ(rows_a.size(), 2u * 3u * 2u + 2u);
  for (size_t i = 0; i < rows_a.size(); ++i) {
    const SummaryRow& r = rows_a[i];
    if (r.variant != "clean") continue;
    EXPECT_EQ(r.eve, "clean");
    EXPECT_TRUE(std::isnan(r.test_snr_db));
    EXPECT_GE(r.pc_eve, 0.0);
    EXPECT_LE(r.pc_eve, 1.0);
    EXPECT_EQ(r.pc_eve, rows_b[i].pc_eve);
    EXPECT_EQ(summary_line(r).find(fmt::format("{},clean,clean,15,,-10,{},,,", r.point, r.seed)), 0u) << summary_line(r);
  }
  EXPECT_EQ(std::count_if(rows_a.begin(), rows_a.end(), [](const SummaryRow& r) { return r.variant == "clean"; }), 2);
}

TEST_F(SsIsacTest, FreshArnPairIsTheIdentity) {
  const config::Config cfg = make_config({"security.enabled=true"});
  RunContext ctx = context("ident");
  IsacExperiment exp(cfg, {point_from_config(cfg)}, ctx);
  const torch::Tensor z = torch::randn({1, 8, 23});
  const torch::Tensor y = torch::randn({1, 8, 46});
  EXPECT_TRUE(torch::equal(exp.arn_whitebox()->delta(z), torch::zeros_like(z)));
  EXPECT_TRUE(torch::equal(exp.arn_whitebox()->decrypt_bs(y), y));
  EXPECT_TRUE(torch::equal(exp.arn_whitebox()->decrypt_ue(y), y));
}

TEST_F(SsIsacTest, ArnPairLoadsFromAnExportedFileAndRejectsBadOnes) {
  // An exported pair: the white-box ARN of a briefly trained run, written like `semsec export`.
  const config::Config cfg = make_config({"security.enabled=true"});
  RunContext ctx = context("src");
  IsacExperiment src(cfg, {point_from_config(cfg)}, ctx);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : src.arn_whitebox()->parameters()) p.copy_(torch::randn_like(p));
  }
  NamedTensorList tensors;
  for (const auto& item : src.arn_whitebox()->named_parameters())
    tensors.emplace_back("arn." + item.key(), item.value());
  const std::string good = fs::join(dir_, "arn.safetensors");
  write_safetensors(good, tensors, {});
  RunContext ctx2 = context("dst");
  IsacExperiment dst(make_config({"security.enabled=true", "security.arn_init=" + good}),
                     {{1, 15.0, 1e-3, -10.0}, {2, 15.0, 1e-3, -5.0}}, ctx2);
  const auto a = src.arn_whitebox()->parameters();
  const auto b = dst.arn_whitebox()->parameters();
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::equal(b[i][0], a[i][0]));
    EXPECT_TRUE(torch::equal(b[i][1], a[i][0]));  // broadcast to every grid point
  }
  // A tensor of the wrong shape, and a missing one, are named.
  NamedTensorList wrong = tensors;
  wrong[0].second = torch::zeros({1, 3, 3});
  const std::string bad = fs::join(dir_, "bad.safetensors");
  write_safetensors(bad, wrong, {});
  try {
    IsacExperiment e(make_config({"security.enabled=true", "security.arn_init=" + bad}), {point_from_config(cfg)},
                     ctx2);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("security.arn_init: " + bad + ": tensor '" + tensors[0].first),
              std::string::npos)
        << e.what();
  }
  NamedTensorList fewer(tensors.begin() + 1, tensors.end());
  write_safetensors(bad, fewer, {});
  testing::expect_error(
      [&] {
        IsacExperiment e(make_config({"security.enabled=true", "security.arn_init=" + bad}), {point_from_config(cfg)},
                         ctx2);
      },
      {"security.arn_init: " + bad + ": tensor '" + tensors[0].first + "' is missing"});
}

}  // namespace
}  // namespace semsec::trainers
