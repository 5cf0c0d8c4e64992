// Divergence in a grid: a point whose training breaks down is frozen where it was last finite,
// and the healthy points of its ensemble end bit for bit where they would have ended without it.
#include <gtest/gtest.h>

#include <cmath>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/fs.h"
#include "datasets/synthetic.h"
#include "tests/test_util.h"
#include "trainers/engine/divergence.h"
#include "trainers/ss_isac/experiment.h"
#include "trainers/ss_isac/schema.h"

namespace semsec::trainers {
namespace {

class DivergenceTest : public testing::TempDirTest {
 protected:
  DivergenceTest() : TempDirTest("divergence") {}
  void SetUp() override {
    TempDirTest::SetUp();
    data_ = path("data");
    data::write_synthetic_dataset(data_, 512, 128, 5, false);
  }

  config::Config make_config(int64_t steps) {
    return config::Config::load(
        isac_schema(), "",
        {"data.root=" + data_, fmt::format("train.steps={}", steps), "train.batch_size=64", "eval.batch_size=64",
         "eval.test_snr_db=[5]", "train.log_every=2", "train.checkpoint_every=3"});
  }

  RunContext context(const std::string& name) {
    return open_run(path(name), torch::kCPU, /*resume=*/false, /*tensorboard=*/false);
  }

  std::string data_;
};

// The healthy points 11 and 13, and point 12 with a learning rate that breaks it at once.
const GridPoint kHealthyA{11, 15.0, 3e-3}, kBroken{12, 5.0, 1e30}, kHealthyB{13, 20.0, 3e-3};

TEST_F(DivergenceTest, ADivergedPointIsFrozenAndTheOthersAreBitIdenticalToARunWithoutIt) {
  // One thread: LibTorch's GEMMs then round the same for any G (see test_ss_isac).
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const config::Config cfg = make_config(6);
  RunContext ctx_with = context("with"), ctx_without = context("without");
  IsacExperiment with(cfg, {kHealthyA, kBroken, kHealthyB}, ctx_with);
  IsacExperiment without(cfg, {kHealthyA, kHealthyB}, ctx_without);
  with.train_general();
  without.train_general();
  at::set_num_threads(threads);

  ASSERT_EQ(ctx_with.point_status.size(), 3u);
  EXPECT_EQ(ctx_with.point_status[0], "ok");
  EXPECT_EQ(ctx_with.point_status[1].rfind("diverged@general:", 0), 0u) << ctx_with.point_status[1];
  EXPECT_EQ(ctx_with.point_status[2], "ok");
  EXPECT_EQ(ctx_without.point_status, (std::vector<std::string>{"ok", "ok"}));
  auto pw = with.model()->named_parameters();
  for (const auto& item : without.model()->named_parameters()) {
    EXPECT_TRUE(torch::equal(pw[item.key()][0], item.value()[0])) << item.key();
    EXPECT_TRUE(torch::equal(pw[item.key()][2], item.value()[1])) << item.key();
    EXPECT_TRUE(torch::isfinite(pw[item.key()][1]).all().item<bool>()) << item.key() << ": frozen while finite";
  }
  // The checkpoint records the frozen point (a healthy run's checkpoint has no guard tensors).
  const TensorMap ckpt_with = load_tensors(stage_checkpoint_path(path("with"), "general"));
  const TensorMap ckpt_without = load_tensors(stage_checkpoint_path(path("without"), "general"));
  ASSERT_EQ(ckpt_with.count("guard.active"), 1u);
  EXPECT_TRUE(torch::equal(ckpt_with.at("guard.active"), torch::tensor({1, 0, 1}, torch::kUInt8)));
  EXPECT_EQ(ckpt_without.count("guard.active"), 0u);
}

TEST_F(DivergenceTest, AFrozenPointKeepsItsWeightsAndAdamMomentsWhileTheOthersTrain) {
  RunContext short_ctx = context("short"), long_ctx = context("long");
  const config::Config short_cfg = make_config(3), long_cfg = make_config(9);  // the experiments keep references
  IsacExperiment short_run(short_cfg, {kHealthyA, kBroken}, short_ctx);
  IsacExperiment long_run(long_cfg, {kHealthyA, kBroken}, long_ctx);
  short_run.train_general();
  long_run.train_general();
  ASSERT_EQ(short_ctx.point_status[1], long_ctx.point_status[1]) << "diverged at the same step";
  const TensorMap a = load_tensors(stage_checkpoint_path(path("short"), "general"));
  const TensorMap b = load_tensors(stage_checkpoint_path(path("long"), "general"));
  int compared = 0;
  for (const auto& [name, t] : a) {
    if (name.rfind("param.", 0) != 0 && name.rfind("adam.exp_avg", 0) != 0) continue;
    EXPECT_TRUE(torch::equal(t[1], b.at(name)[1])) << name << ": the frozen point changed";
    EXPECT_FALSE(torch::equal(t[0], b.at(name)[0])) << name << ": the healthy point did not train on";
    ++compared;
  }
  EXPECT_GT(compared, 10);
}

TEST_F(DivergenceTest, SummaryRowsOfADivergedPointCarryNoMetrics) {
  SummaryRow r;
  r.mse_sen = 0.5, r.mse_com = 0.25, r.pc_eve = 0.1, r.psr_db = -10;
  r.psr_real_db = -10.5, r.psr_p99_db = -10.25;
  EXPECT_EQ(summary_line(r), "0,unplug,none,0,0,-10,0,0.5,0.25,0.1,-10.5,-10.25,ok");
  r.status = "diverged@general:4";
  EXPECT_EQ(summary_line(r), "0,unplug,none,0,0,-10,0,,,,,,diverged@general:4");
}

TEST_F(DivergenceTest, TheBlowUpRuleFlagsALossAThousandTimesItsBest) {
  torch::Tensor w = torch::zeros({3, 2}, torch::kFloat32).requires_grad_();
  GridAdam opt({w}, {1e-3, 1e-3, 1e-3}, AdamOptions{});
  DivergenceGuard guard(opt, "toy", {false, false, false});
  const std::vector<double> best{0.5, 20.0, std::nan("")};
  // Point 0: 999 <= 1000 x max(1, 0.5); point 1: 20001 > 1000 x 20; point 2 has no history yet.
  guard.review(10, {999.0, 20001.0, 1e30}, best);
  EXPECT_EQ(guard.diverged_at(), (std::vector<int64_t>{0, 10, 0}));
  EXPECT_FALSE(guard.all_frozen());
  EXPECT_NE(guard.describe(1).find("blew up at step 10"), std::string::npos) << guard.describe(1);
  guard.review(12, {1000.5, 1.0, 1.0}, best);
  EXPECT_EQ(guard.diverged_at(), (std::vector<int64_t>{12, 10, 0}));
}

TEST_F(DivergenceTest, ANonFiniteGradientFreezesOnlyItsPointBeforeTheUpdate) {
  torch::Tensor w = torch::ones({2, 3}, torch::kFloat32).requires_grad_();
  GridAdam opt({w}, {0.1, 0.1}, AdamOptions{});
  DivergenceGuard guard(opt, "toy", {false, false});
  const torch::Tensor before = w.detach().clone();
  const auto losses = [&] {
    // Point 1's loss is finite but its gradient is not (sqrt at 0).
    const torch::Tensor scale = torch::tensor({1.0f, 0.0f}).unsqueeze(1);
    const torch::Tensor l = (w * scale).sqrt().sum(1) + (w - 2).square().sum(1);
    return NamedTensors{{"loss", l}};
  };
  train_step(opt, losses, false, &guard);
  guard.review(1, {0.0, 0.0}, {std::nan(""), std::nan("")});
  EXPECT_EQ(guard.diverged_at(), (std::vector<int64_t>{0, 1}));
  EXPECT_FALSE(torch::equal(w.detach()[0], before[0]));
  EXPECT_TRUE(torch::equal(w.detach()[1], before[1])) << "the broken step was not applied";
  EXPECT_NE(guard.describe(1).find("not finite"), std::string::npos) << guard.describe(1);
}

}  // namespace
}  // namespace semsec::trainers
