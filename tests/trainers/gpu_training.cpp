// GPU == CPU for whole training: the general system and the security stages trained for a few
// steps on the CPU and on the GPU from the same seeds and counters end with the same weights
// and metrics to float tolerance. Skips without a CUDA device.
#include <gtest/gtest.h>

#include "core/config.h"
#include "core/fs.h"
#include "datasets/synthetic.h"
#include "tests/test_util.h"
#include "trainers/ss_isac/experiment.h"
#include "trainers/ss_isac/schema.h"

namespace semsec::trainers {
namespace {

RunContext make_context(const std::string& run_dir, torch::Device device) {
  return open_run(run_dir, device, /*resume=*/false, /*tensorboard=*/false);
}

void expect_all_close(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b, double rtol,
                      double atol) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::allclose(a[i], b[i], rtol, atol))
        << "tensor " << i << " max diff " << (a[i] - b[i]).abs().max().item<double>();
  }
}

TEST(GpuTraining, CpuAndGpuTrainToTheSameWeightsAndMetrics) {
  SEMSEC_SKIP_WITHOUT_CUDA();
  const testing::TempDir tmp("gputrain");
  const std::string dir = tmp.path(), data = fs::join(dir, "data");
  data::write_synthetic_dataset(data, 512, 128, 3, false);
  const config::Config cfg = config::Config::load(
      isac_schema(), "",
      {"data.root=" + data, "train.steps=8", "train.batch_size=64", "eve.steps=4", "security.steps=4",
       "security.enabled=true", "eval.batch_size=64", "eval.test_snr_db=[5,20]", "train.checkpoint_every=100"});
  std::vector<GridPoint> points{{1, 15.0, 1e-4, -10.0}, {2, 5.0, 2e-4, -5.0}};
  std::vector<std::vector<SummaryRow>> rows;
  std::vector<std::vector<torch::Tensor>> weights;
  for (const torch::Device device : {torch::Device(torch::kCPU), torch::Device(torch::kCUDA, 0)}) {
    RunContext ctx = make_context(fs::join(dir, device.is_cuda() ? "gpu" : "cpu"), device);
    IsacExperiment exp(cfg, points, ctx);
    exp.train_general();
    exp.train_eves();
    exp.train_arns();
    std::vector<torch::Tensor> w;
    for (const auto& p : exp.model()->parameters()) w.push_back(p.detach().cpu());
    for (const auto& p : exp.arn_whitebox()->parameters()) w.push_back(p.detach().cpu());
    weights.push_back(w);
    rows.push_back(exp.evaluate_security());
  }
  expect_all_close(weights[0], weights[1], 1e-3, 1e-4);
  ASSERT_EQ(rows[0].size(), rows[1].size());
  for (size_t i = 0; i < rows[0].size(); ++i) {
    EXPECT_NEAR(rows[0][i].mse_sen, rows[1][i].mse_sen, 1e-3 * rows[0][i].mse_sen + 1e-7) << i;
    EXPECT_NEAR(rows[0][i].mse_com, rows[1][i].mse_com, 1e-3 * rows[0][i].mse_com + 1e-7) << i;
    EXPECT_NEAR(rows[0][i].pc_eve, rows[1][i].pc_eve, 0.02) << i;
  }
}

TEST(GpuTraining, CudaGraphStepsEqualEagerSteps) {
  // Every stage (general, Eve, ARN) trained with train.cuda_graph on and off from the same
  // seeds: 3 eager warm-up steps, then the captured step replayed; same weights and metrics.
  SEMSEC_SKIP_WITHOUT_CUDA();
  const testing::TempDir tmp("gpugraph");
  const std::string dir = tmp.path(), data = fs::join(dir, "data");
  data::write_synthetic_dataset(data, 512, 128, 3, false);
  std::vector<std::vector<torch::Tensor>> weights;
  std::vector<std::vector<SummaryRow>> rows;
  for (const bool graph : {false, true}) {
    const config::Config cfg = config::Config::load(
        isac_schema(), "",
        {"data.root=" + data, "train.steps=9", "train.batch_size=64", "eve.steps=6", "security.steps=6",
         "security.enabled=true", "eval.batch_size=64", "eval.test_snr_db=[10]", "train.checkpoint_every=100",
         std::string("train.cuda_graph=") + (graph ? "true" : "false")});
    RunContext ctx = make_context(fs::join(dir, graph ? "graph" : "eager"), torch::Device(torch::kCUDA, 0));
    IsacExperiment exp(cfg, {{1, 15.0, 1e-3, -10.0}, {2, 5.0, 2e-3, -5.0}}, ctx);
    exp.train_general();
    exp.train_eves();
    exp.train_arns();
    std::vector<torch::Tensor> w;
    for (const auto& p : exp.model()->parameters()) w.push_back(p.detach().cpu());
    for (const auto& p : exp.eve_whitebox()->parameters()) w.push_back(p.detach().cpu());
    for (const auto& p : exp.arn_whitebox()->parameters()) w.push_back(p.detach().cpu());
    weights.push_back(w);
    rows.push_back(exp.evaluate_security());
  }
  expect_all_close(weights[0], weights[1], 1e-5, 1e-6);
  ASSERT_EQ(rows[0].size(), rows[1].size());
  for (size_t i = 0; i < rows[0].size(); ++i) {
    EXPECT_NEAR(rows[0][i].mse_com, rows[1][i].mse_com, 1e-5 * rows[0][i].mse_com + 1e-8) << i;
  }
}

TEST(GpuTraining, Tf32TrainingStaysCloseToFloat32) {
  // train.tf32 (issue 4: TF32 where accuracy allows): the run sets cuBLAS's TF32 switch as asked,
  // and the general system trained 300 steps with float32 and with TF32 GEMMs from the same seeds
  // ends with test metrics close to each other; the values are printed for docs/benchmarks.md.
  // Measured on an H200: mse_com within 1 %, mse_sen (about 2e-4 rad^2 this early) within 13 %,
  // hence 10 % and 30 %.
  SEMSEC_SKIP_WITHOUT_CUDA();
  const testing::TempDir tmp("gputf32");
  const std::string dir = tmp.path(), data = fs::join(dir, "data");
  data::write_synthetic_dataset(data, 2048, 256, 3, false);
  std::vector<std::vector<SummaryRow>> rows;
  for (const bool tf32 : {false, true}) {
    const config::Config cfg =
        config::Config::load(isac_schema(), "",
                             {"data.root=" + data, "train.steps=300", "train.batch_size=64", "eval.batch_size=256",
                              "eval.test_snr_db=[10,20]", "train.checkpoint_every=1000",
                              std::string("train.tf32=") + (tf32 ? "true" : "false")});
    RunContext ctx = make_context(fs::join(dir, tf32 ? "tf32" : "fp32"), torch::Device(torch::kCUDA, 0));
    IsacExperiment exp(cfg, {{1, 15.0, 1e-3, -10.0}, {2, 5.0, 1e-3, -10.0}}, ctx);
    EXPECT_EQ(at::globalContext().allowTF32CuBLAS(), tf32);
    exp.train_general();
    rows.push_back(exp.evaluate_general());
  }
  at::globalContext().setAllowTF32CuBLAS(false);
  ASSERT_EQ(rows[0].size(), rows[1].size());
  for (size_t i = 0; i < rows[0].size(); ++i) {
    std::printf("tf32 row %zu: mse_sen %.6g / %.6g, mse_com %.6g / %.6g (float32 / TF32)\n", i, rows[0][i].mse_sen,
                rows[1][i].mse_sen, rows[0][i].mse_com, rows[1][i].mse_com);
    EXPECT_NEAR(rows[1][i].mse_sen, rows[0][i].mse_sen, 0.3 * rows[0][i].mse_sen) << i;
    EXPECT_NEAR(rows[1][i].mse_com, rows[0][i].mse_com, 0.1 * rows[0][i].mse_com) << i;
  }
}

}  // namespace
}  // namespace semsec::trainers
