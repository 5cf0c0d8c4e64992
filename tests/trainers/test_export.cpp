// `semsec export`: the ARN pair written as safetensors + torch state dict, rebuilt in plain
// PyTorch from the file alone (same delta as the C++ model), and corrupt files rejected.
#include <gtest/gtest.h>

#include <fstream>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/rundir.h"
#include "core/safetensors.h"
#include "models/security.h"
#include "tests/test_util.h"
#include "trainers/engine/stage.h"
#include "trainers/ss_isac/export.h"
#include "trainers/ss_isac/schema.h"

namespace semsec::trainers {
namespace {

class ExportTest : public testing::TempDirTest {
 protected:
  ExportTest() : TempDirTest("export") {}
  void SetUp() override {
    TempDirTest::SetUp();
    const config::Config cfg = config::Config::load(isac_schema(), "", {"security.enabled=true", "security.psr_db=-7"});
    write_file_atomic(fs::join(dir_, "config.yaml"), cfg.to_yaml());
    torch::manual_seed(1);
    arn_ = models::PairedArn(std::vector<uint64_t>{3}, models::ArnSizes{});
    torch::NoGradGuard no_grad;
    for (auto& p : arn_->parameters()) p.copy_(torch::randn_like(p) * 0.3);
    TensorMap m;
    for (const auto& item : arn_->named_parameters()) m["param." + item.key()] = item.value();
    m["stage.step"] = int_tensor(10);
    m["stage.total_steps"] = int_tensor(10);
    save_tensors(stage_checkpoint_path(dir_, "arn_whitebox"), m);
  }

  models::PairedArn arn_{nullptr};
};

TEST_F(ExportTest, PythonRebuildsTheEncryptionArnFromTheFileAndGetsTheSameDelta) {
  const ExportResult r = export_run(dir_, fs::join(dir_, "export/arn"), false);
  EXPECT_EQ(r.num_tensors, 18);
  const SafetensorsFile f = read_safetensors(r.safetensors_path);
  EXPECT_EQ(f.metadata.at("psr_db"), "-7");
  EXPECT_EQ(f.metadata.at("latent_dim"), "23");
  EXPECT_EQ(f.metadata.at("semsec_version"), SEMSEC_VERSION);
  EXPECT_NE(f.metadata.at("naming").find("weight [G,in,out]"), std::string::npos);
  const torch::Tensor z = torch::randn({1, 7, 23});
  torch::Tensor delta;
  {
    torch::NoGradGuard no_grad;
    delta = arn_->delta(z);
  }
  ASSERT_GT(delta.abs().max().item<float>(), 0.01f);
  const std::string io = fs::join(dir_, "io.safetensors");
  write_safetensors(io, {{"z", z[0]}, {"delta", delta[0]}}, {});
  // The script exits 77 (testing::kPythonSkip) when torch or safetensors is missing.
  const testing::CommandOutput py =
      testing::run_python_script(SEMSEC_PYTHON_EXE, dir_, R"PY(
import sys
try:
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file
except ImportError as e:
    print("missing package:", e); sys.exit(77)
weights_path, sd_path, io_path = sys.argv[1:4]
w = load_file(weights_path)
with safe_open(weights_path, "pt") as f:
    meta = f.metadata()
assert meta["format"] == "semsec-weights-1", meta
sizes = [int(s) for s in meta["arn.enc"].strip("[]").split(",")]
layers = []
for i in range(len(sizes) - 1):
    lin = torch.nn.Linear(sizes[i], sizes[i + 1])
    with torch.no_grad():
        lin.weight.copy_(w[f"arn.enc.fc{i}.weight"][0].T)
        lin.bias.copy_(w[f"arn.enc.fc{i}.bias"][0, 0])
    layers.append(lin)
    if i + 2 < len(sizes):
        layers.append(torch.nn.ReLU())
enc = torch.nn.Sequential(*layers)
io = load_file(io_path)
with torch.no_grad():
    d = enc(io["z"])
err = (d - io["delta"]).abs().max().item()
sd = torch.load(sd_path)
assert sorted(sd) == sorted(w), (sorted(sd), sorted(w))
assert all(torch.equal(sd[k], w[k]) for k in w)
print("MAXERR", err)
)PY",
                                 fmt::format("'{}' '{}' '{}'", r.safetensors_path, r.state_dict_path, io));
  if (py.status == testing::kPythonSkip) SEMSEC_SKIP_OR_FAIL_IN_CI(py.out);
  ASSERT_EQ(py.status, 0) << py.out;
  const auto pos = py.out.find("MAXERR ");
  ASSERT_NE(pos, std::string::npos) << py.out;
  EXPECT_LT(std::stod(py.out.substr(pos + 7)), 1e-5) << py.out;
}

TEST_F(ExportTest, RejectsIncompleteStagesAndCorruptWeightFiles) {
  // A stage that stopped midway is not exported.
  TensorMap m = load_tensors(stage_checkpoint_path(dir_, "arn_whitebox"));
  m["stage.step"] = int_tensor(4);
  save_tensors(stage_checkpoint_path(dir_, "arn_whitebox"), m);
  testing::expect_error([&] { export_run(dir_, fs::join(dir_, "x"), false); },
                        {stage_checkpoint_path(dir_, "arn_whitebox"), "stage 'arn_whitebox' stopped at step 4 of 10"});
  EXPECT_FALSE(fs::exists(fs::join(dir_, "x.safetensors")));
  m["stage.step"] = int_tensor(10);
  save_tensors(stage_checkpoint_path(dir_, "arn_whitebox"), m);
  const ExportResult r = export_run(dir_, fs::join(dir_, "y"), false);
  // Truncated weights file.
  std::string bytes = read_file(r.safetensors_path);
  std::ofstream(r.safetensors_path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size() - 100));
  testing::expect_error([&] { read_safetensors(r.safetensors_path); },
                        {r.safetensors_path, "invalid safetensors file"});
  // --all needs the base system's checkpoint.
  testing::expect_error([&] { export_run(dir_, fs::join(dir_, "z"), true); },
                        {stage_checkpoint_path(dir_, "general") + " is missing", "stage 'general'"});
}

}  // namespace
}  // namespace semsec::trainers
