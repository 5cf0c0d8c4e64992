// The SS-ISAC equations against values computed by hand in the test: the general system's loss
// (eq. 9, 27, 28) and the ARN pair's composite loss (eq. 25-29) on a test-defined channel, tau of
// eq. 26, the evaluation's unplug / decrypt_only / plugged semantics, and the exported metadata.
// The loops below recompute each equation in double from the modules' outputs, so a dropped
// square, a lost relu, a swapped weight or a swapped variant fails here.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <numbers>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/fs.h"
#include "core/rundir.h"
#include "datasets/loader.h"
#include "datasets/synthetic.h"
#include "tests/test_util.h"
#include "trainers/ss_isac/experiment.h"
#include "trainers/ss_isac/export.h"
#include "trainers/ss_isac/losses.h"
#include "trainers/ss_isac/schema.h"

namespace semsec::trainers {
namespace {

constexpr double kDeg = std::numbers::pi / 180.0;

// A test-defined channel: the same interleaved (z, z / 2) at every receiver, so each loss term
// follows from the modules' outputs alone. Records the symbols it was given.
struct RecordingChannel {
  torch::Tensor sent;
  kernels::IsacLinkOut operator()(const torch::Tensor& z) {
    sent = z.detach().clone();
    const torch::Tensor y = torch::stack({z, 0.5 * z}, -1).flatten(-2);
    return kernels::IsacLinkOut{y, y, y, torch::Tensor()};
  }
};

double at(const torch::Tensor& t, std::vector<int64_t> idx) {
  torch::Tensor v = t.detach().to(torch::kFloat64);
  for (int64_t i : idx) v = v[i];
  return v.item<double>();
}

void randomize(torch::nn::Module& m, double scale) {
  torch::NoGradGuard no_grad;
  for (auto& p : m.parameters()) p.copy_(torch::randn_like(p) * scale);
}

// Relative closeness for float32 sums of a few hundred terms.
void expect_close(double got, double want, const std::string& what) {
  EXPECT_NEAR(got, want, 1e-5 * std::max(1.0, std::abs(want))) << what;
}

class SsIsacLosses : public ::testing::Test {
 protected:
  static constexpr int64_t G = 2, B = 5, Lx = 6, Lz = 3, K = 4;
  void SetUp() override {
    torch::manual_seed(3);
    const models::GsIsacSizes sizes{Lx, Lz, 5, 7, 4};
    model_ = models::GsIsac(std::vector<uint64_t>{1, 2}, sizes);
    x_ = torch::rand({G, B, Lx});
    phi_ = (torch::rand({G, B}) - 0.5) * 0.6;
    labels_ = torch::randint(K, {G, B}, torch::kInt64);
  }
  models::GsIsac model_{nullptr};
  torch::Tensor x_, phi_, labels_;
};

TEST_F(SsIsacLosses, GeneralLossIsEq9OfThePerSampleMses) {
  RecordingChannel ch;
  const torch::Tensor gamma_sen = torch::tensor({0.5f, 2.0f}), gamma_com = torch::tensor({0.1f, 3.0f});
  const NamedTensors out = general_losses(model_, x_, phi_, std::ref(ch), gamma_sen, gamma_com);
  std::map<std::string, torch::Tensor> t(out.begin(), out.end());

  torch::NoGradGuard no_grad;
  const torch::Tensor z = model_->transmit(x_);
  EXPECT_TRUE(torch::equal(ch.sent, z));
  const torch::Tensor y = torch::stack({z, 0.5 * z}, -1).flatten(-2);
  const torch::Tensor phi_hat = model_->receive_bs(y), x_hat = model_->receive_ue(y);
  for (int64_t g = 0; g < G; ++g) {
    double sen = 0, com = 0;
    for (int64_t b = 0; b < B; ++b) {
      sen += std::pow(at(phi_hat, {g, b}) - at(phi_, {g, b}), 2);
      for (int64_t i = 0; i < Lx; ++i) com += std::pow(at(x_hat, {g, b, i}) - at(x_, {g, b, i}), 2);
    }
    sen /= B;       // eq. 27: mean over the batch of the squared azimuth error
    com /= B * Lx;  // eq. 28 as a per-pixel mean
    expect_close(at(t["l_sen"], {g}), sen, "l_sen");
    expect_close(at(t["l_com"], {g}), com, "l_com");
    expect_close(at(t["loss"], {g}), at(gamma_sen, {g}) * sen + at(gamma_com, {g}) * com, "loss");
  }
}

TEST_F(SsIsacLosses, ArnLossIsEq25To29WithTheHingeAgainstTau) {
  models::PairedArn arn(std::vector<uint64_t>{1, 2}, models::ArnSizes{Lz, 4, 5, 4, 5, 4, 3});
  models::EveClassifier eve(std::vector<uint64_t>{1, 2}, 2 * Lz, std::vector<int64_t>{6}, K, models::kInitEveWhitebox);
  randomize(*arn, 0.4);
  randomize(*eve, 1.0);
  torch::Tensor z, delta;
  {
    torch::NoGradGuard no_grad;
    z = model_->transmit(x_);
    delta = arn->delta(z);
  }
  // Point 0's tau sits between its samples' perturbation powers, so the hinge is active for some
  // samples only; point 1's tau is 0, so it is active for all.
  const torch::Tensor power = delta.square().sum(-1) / Lz;  // [G, B]
  const double tau0 = power[0].median().item<double>();
  ASSERT_GT(power[0].max().item<double>(), tau0);
  ASSERT_LT(power[0].min().item<double>(), tau0);
  const torch::Tensor tau = torch::tensor({static_cast<float>(tau0), 0.0f});
  const ArnWeights w{torch::tensor({2.0f, 0.5f}), torch::tensor({3.0f, 0.25f}), torch::tensor({5.0f, 0.125f}),
                     torch::tensor({7.0f, 9.0f})};
  RecordingChannel ch;
  const NamedTensors out =
      arn_losses(model_, arn, eve, x_, phi_, labels_, tau, std::ref(ch), w, Encryption{.projection = false});
  std::map<std::string, torch::Tensor> t(out.begin(), out.end());

  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(ch.sent, z + delta));  // the encrypted symbols are sent
  const torch::Tensor y = torch::stack({ch.sent, 0.5 * ch.sent}, -1).flatten(-2);
  const torch::Tensor phi_hat = model_->receive_bs(arn->decrypt_bs(y));
  const torch::Tensor x_hat = model_->receive_ue(arn->decrypt_ue(y));
  const torch::Tensor logits = eve->forward(y);
  for (int64_t g = 0; g < G; ++g) {
    double pow = 0, sen = 0, com = 0, pri = 0, p_delta = 0, p_z = 0;
    for (int64_t b = 0; b < B; ++b) {
      double d2 = 0, z2 = 0;
      for (int64_t l = 0; l < Lz; ++l) {
        d2 += std::pow(at(delta, {g, b, l}), 2);
        z2 += std::pow(at(z, {g, b, l}), 2);
      }
      pow += std::max(0.0, d2 / Lz - at(tau, {g}));  // eq. 26
      p_delta += d2;
      p_z += z2;
      sen += std::pow(at(phi_hat, {g, b}) - at(phi_, {g, b}), 2);
      for (int64_t i = 0; i < Lx; ++i) com += std::pow(at(x_hat, {g, b, i}) - at(x_, {g, b, i}), 2);
      double denom = 0;
      for (int64_t k = 0; k < K; ++k) denom += std::exp(at(logits, {g, b, k}));
      const auto label = static_cast<int64_t>(at(labels_, {g, b}));
      const double conf = std::exp(at(logits, {g, b, label})) / denom;
      pri += conf * conf;  // eq. 29: Eve's squared confidence in the true label
    }
    pow /= B, sen /= B, com /= B * Lx, pri /= B;
    expect_close(at(t["l_pow"], {g}), pow, "l_pow");
    expect_close(at(t["l_sen"], {g}), sen, "l_sen");
    expect_close(at(t["l_com"], {g}), com, "l_com");
    expect_close(at(t["l_pri"], {g}), pri, "l_pri");
    expect_close(at(t["psr"], {g}), p_delta / p_z, "psr");
    const double loss = at(w.pow, {g}) * pow + at(w.sen, {g}) * sen + at(w.com, {g}) * com + at(w.pri, {g}) * pri;
    expect_close(at(t["loss"], {g}), loss, "loss (eq. 25)");
  }
}

// security.power_constraint=projection: each codeword's delta is scaled onto ||delta||^2 = PSR ||z||^2
// where it exceeds it and left alone where it does not; the hinge term is then zero and the
// realised PSR of every codeword at most the nominal one. equal_power then rescales z + delta to
// the power of z.
TEST_F(SsIsacLosses, ProjectionScalesEachCodewordOntoThePsrLimit) {
  models::PairedArn arn(std::vector<uint64_t>{1, 2}, models::ArnSizes{Lz, 4, 5, 4, 5, 4, 3});
  randomize(*arn, 0.4);
  torch::NoGradGuard no_grad;
  const torch::Tensor z = model_->transmit(x_);
  const torch::Tensor delta = arn->delta(z);
  const torch::Tensor ratio = delta.square().sum(-1) / z.square().sum(-1);  // [G, B]
  // Point 0's limit sits among its codewords' ratios (some projected, some not); point 1's far above.
  const double psr0 = ratio[0].median().item<double>();
  const torch::Tensor psr = torch::tensor({static_cast<float>(psr0), 1e6f});
  for (const bool equal_power : {false, true}) {
    SCOPED_TRACE(equal_power ? "equal power" : "plain");
    torch::Tensor applied;
    const torch::Tensor sent =
        encrypt(arn, z, psr, Encryption{.projection = true, .equal_power = equal_power}, &applied);
    int projected = 0, kept = 0;
    for (int64_t g = 0; g < G; ++g) {
      for (int64_t b = 0; b < B; ++b) {
        double d2 = 0, z2 = 0, s2 = 0;
        for (int64_t l = 0; l < Lz; ++l) {
          d2 += std::pow(at(delta, {g, b, l}), 2);
          z2 += std::pow(at(z, {g, b, l}), 2);
        }
        const double limit = at(psr, {g}) * z2;
        const double scale = d2 > limit ? std::sqrt(limit / d2) : 1.0;  // by hand
        (scale < 1.0 ? projected : kept) += 1;
        for (int64_t l = 0; l < Lz; ++l) {
          const double want_delta = scale * at(delta, {g, b, l});
          expect_close(at(applied, {g, b, l}), want_delta, "projected delta");
          s2 += std::pow(at(z, {g, b, l}) + want_delta, 2);
        }
        for (int64_t l = 0; l < Lz; ++l) {
          const double plain = at(z, {g, b, l}) + scale * at(delta, {g, b, l});
          expect_close(at(sent, {g, b, l}), equal_power ? plain * std::sqrt(z2 / s2) : plain, "sent symbol");
        }
      }
    }
    EXPECT_GT(projected, 0);
    EXPECT_GT(kept, 0);
    if (!equal_power) {
      EXPECT_LE(realised_psr(z, sent)[0].max().item<double>(), psr0 * (1 + 1e-5));
    } else {
      EXPECT_TRUE(torch::allclose(sent.square().sum(-1), z.square().sum(-1), 1e-5, 1e-6)) << "unplugged power";
    }
  }
  // Under the projection the hinge of eq. 26 never fires.
  models::EveClassifier eve(std::vector<uint64_t>{1, 2}, 2 * Lz, std::vector<int64_t>{6}, K, models::kInitEveWhitebox);
  RecordingChannel ch;
  const ArnWeights w{torch::ones({G}), torch::ones({G}), torch::ones({G}), torch::ones({G})};
  const NamedTensors out = arn_losses(model_, arn, eve, x_, phi_, labels_, psr / Lz, std::ref(ch), w);
  std::map<std::string, torch::Tensor> t(out.begin(), out.end());
  EXPECT_LE(at(t["l_pow"], {0}), 1e-7);
  EXPECT_TRUE(torch::allclose(ch.sent, encrypt(arn, z, psr, Encryption{})));
}

TEST(SsIsacTau, PsrToTauIsEq26) {
  // -10 dB is a power ratio of 0.1, spread over 23 real symbols of unit total power.
  EXPECT_DOUBLE_EQ(psr_to_tau(-10.0, 23), 0.1 / 23);
  EXPECT_DOUBLE_EQ(psr_to_tau(0.0, 4), 0.25);
  EXPECT_NEAR(psr_to_tau(-3.0, 1), 0.50118723362727224, 1e-15);
  EXPECT_NEAR(psr_to_tau(20.0, 10), 10.0, 1e-12);
}

// A small experiment on synthetic data: config overrides and a run context in a temporary directory.
class SsIsacEval : public testing::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    data::write_synthetic_dataset(path("data"), 256, 48, 5, false);
  }
  config::Config make_config(std::vector<std::string> extra) {
    std::vector<std::string> o{"data.root=" + path("data"), "eval.batch_size=48", "eval.test_snr_db=[0,12]",
                               "security.enabled=true",     "eve.hidden=[16]",    "eve.substitute_hidden=[8]",
                               "train.batch_size=32"};
    o.insert(o.end(), extra.begin(), extra.end());
    return config::Config::load(isac_schema(), "", o);
  }
  RunContext context(const std::string& name) {
    return open_run(path(name), torch::kCPU, /*resume=*/false, /*tensorboard=*/false);
  }
  using Rows = std::vector<SummaryRow>;
  static const SummaryRow& find(const Rows& rows, int64_t point, const std::string& variant, const std::string& eve,
                                double snr) {
    for (const SummaryRow& r : rows)
      if (r.point == point && r.variant == variant && r.eve == eve && r.test_snr_db == snr) return r;
    throw std::runtime_error("no row " + variant + "/" + eve);
  }
};

TEST_F(SsIsacEval, TauPerPointFollowsEachPointsPsr) {
  const config::Config cfg = make_config({"model.latent_dim=8"});
  RunContext ctx = context("run");
  IsacExperiment exp(cfg, {{1, 15.0, 1e-3, -10.0}, {2, 15.0, 1e-3, 0.0}}, ctx);
  ASSERT_EQ(exp.tau().numel(), 2);
  EXPECT_FLOAT_EQ(exp.tau()[0].item<float>(), static_cast<float>(0.1 / 8));
  EXPECT_FLOAT_EQ(exp.tau()[1].item<float>(), static_cast<float>(1.0 / 8));
}

TEST_F(SsIsacEval, IdentityArnPairMakesTheThreeVariantsEqual) {
  const config::Config cfg = make_config({});
  RunContext ctx = context("run");
  IsacExperiment exp(cfg, {{1, 15.0, 1e-3, -10.0}, {2, 5.0, 1e-3, -5.0}}, ctx);
  const Rows rows = exp.evaluate_security();
  ASSERT_EQ(rows.size(), 2u * 2u * 9u);  // snrs x points x (3 variants x 3 Eves)
  for (const SummaryRow& r : rows) {
    const SummaryRow& u = find(rows, r.point, "unplug", r.eve, r.test_snr_db);
    EXPECT_EQ(r.mse_sen, u.mse_sen) << r.variant << " " << r.eve;
    EXPECT_EQ(r.mse_com, u.mse_com) << r.variant << " " << r.eve;
    // The adaptive Eve faces only the plugged signal; the unencrypted rows are scored by P_Eve.
    if (!(r.eve == "adaptive" && r.variant == "plugged")) {
      EXPECT_EQ(r.pc_eve, u.pc_eve) << r.variant << " " << r.eve;
    }
    EXPECT_EQ(r.psr_db, r.point == 0 ? -10.0 : -5.0);
  }
}

TEST_F(SsIsacEval, PluggedSendsZPlusDeltaAndDecryptOnlyDecryptsTheUnencryptedSignal) {
  const config::Config cfg = make_config({"security.blackbox=false", "channel.eve_snr_offset_db=-3"});
  RunContext ctx = context("run");
  const std::vector<GridPoint> points{{7, 15.0, 1e-3, -10.0}};
  IsacExperiment exp(cfg, points, ctx);
  torch::manual_seed(5);
  randomize(*exp.arn_whitebox(), 0.3);
  const Rows rows = exp.evaluate_security();

  // The evaluation recomputed: one batch of all 48 test images at evaluation counter 0.
  torch::NoGradGuard no_grad;
  const data::Split test = data::load_split(path("data"), "test");
  const std::vector<uint64_t> seeds{7};
  const data::Batch b = data::eval_batch(test, 0, 48, seeds, -20 * kDeg, 20 * kDeg, torch::kCPU);
  kernels::IsacLinkParams p = isac_link_params(isac_settings(cfg));
  p.eval = true;
  const torch::Tensor seeds_t = torch::tensor({int64_t{7}}), counter = torch::zeros({1}, torch::kInt64);
  auto& m = exp.model();
  auto& arn = exp.arn_whitebox();
  auto& eve = exp.eve_whitebox();
  const torch::Tensor z = m->transmit(b.x);
  for (const double snr_db : {0.0, 12.0}) {
    const torch::Tensor snr = torch::tensor({static_cast<float>(snr_db)});
    const kernels::IsacLinkOut y0 = kernels::isac_link(z, b.phi, snr, seeds_t, counter, p);
    // The plugged codeword under the default projection onto PSR -10 dB (encrypt, tested above),
    // with the limit as the experiment forms it (tau L_z), and its realised PSR in the summary.
    const torch::Tensor sent = encrypt(arn, z, exp.tau() * 23.0, Encryption{});
    const kernels::IsacLinkOut y1 = kernels::isac_link(sent, b.phi, snr, seeds_t, counter, p);
    const torch::Tensor ratio = realised_psr(z, sent).to(torch::kFloat64).flatten();
    const SummaryRow& plugged = find(rows, 0, "plugged", "whitebox", snr_db);
    expect_close(plugged.psr_real_db, 10 * std::log10(ratio.mean().item<double>()), "psr_real_db");
    expect_close(plugged.psr_p99_db, 10 * std::log10(torch::quantile(ratio, 0.99).item<double>()), "psr_p99_db");
    EXPECT_LE(plugged.psr_p99_db, -10.0 + 1e-4);
    EXPECT_TRUE(std::isnan(find(rows, 0, "unplug", "whitebox", snr_db).psr_real_db));
    EXPECT_TRUE(std::isnan(find(rows, 0, "decrypt_only", "whitebox", snr_db).psr_real_db));
    auto check = [&](const std::string& variant, const torch::Tensor& phi_hat, const torch::Tensor& x_hat,
                     const torch::Tensor& y_eve) {
      // The adaptive Eve scores only the plugged signal; the unencrypted rows keep P_Eve's score.
      const double pc_adaptive =
          (exp.eve_adaptive()->forward(y_eve).argmax(-1) == b.labels).to(torch::kFloat64).mean().item<double>();
      const SummaryRow& a = find(rows, 0, variant, "adaptive", snr_db);
      EXPECT_DOUBLE_EQ(a.pc_eve,
                       variant == "plugged" ? pc_adaptive : find(rows, 0, variant, "whitebox", snr_db).pc_eve);
      const SummaryRow& r = find(rows, 0, variant, "whitebox", snr_db);
      expect_close(r.mse_sen, (phi_hat - b.phi).square().mean().item<double>(), variant + " mse_sen");
      expect_close(r.mse_com, (x_hat - b.x).square().mean().item<double>(), variant + " mse_com");
      const double pc = (eve->forward(y_eve).argmax(-1) == b.labels).to(torch::kFloat64).mean().item<double>();
      EXPECT_DOUBLE_EQ(r.pc_eve, pc) << variant;
      EXPECT_EQ(r.train_snr_db, 15.0);
      EXPECT_EQ(r.seed, 7u);
    };
    check("unplug", m->receive_bs(y0.y_bs), m->receive_ue(y0.y_ue), y0.y_eve);
    check("decrypt_only", m->receive_bs(arn->decrypt_bs(y0.y_bs)), m->receive_ue(arn->decrypt_ue(y0.y_ue)), y0.y_eve);
    check("plugged", m->receive_bs(arn->decrypt_bs(y1.y_bs)), m->receive_ue(arn->decrypt_ue(y1.y_ue)), y1.y_eve);
  }
  // The random pair changes what each legitimate receiver sees, so the three variants differ.
  const SummaryRow &u = find(rows, 0, "unplug", "whitebox", 12.0), &d = find(rows, 0, "decrypt_only", "whitebox", 12.0),
                   &pl = find(rows, 0, "plugged", "whitebox", 12.0);
  EXPECT_NE(u.mse_com, d.mse_com);
  EXPECT_NE(d.mse_com, pl.mse_com);
}

TEST_F(SsIsacEval, ExportedMetadataIsWhatTheConfigImplies) {
  const config::Config cfg = make_config(
      {"security.psr_db=-7", "train.snr_db=12.5", "seed=41", "model.latent_dim=10", "security.lambda_pri=0.03"});
  write_file_atomic(path("config.yaml"), cfg.to_yaml());
  const std::map<std::string, std::string> meta = export_metadata(dir_);
  EXPECT_EQ(meta.at("psr_db"), "-7");
  EXPECT_EQ(std::stod(meta.at("tau")), std::pow(10.0, -0.7) / 10);
  EXPECT_EQ(meta.at("train_snr_db"), "12.5");
  EXPECT_EQ(meta.at("seed"), "41");
  EXPECT_EQ(meta.at("latent_dim"), "10");
  EXPECT_EQ(meta.at("lambda_pri"), "0.03");
}

// Each stage beats its trivial baseline within a few hundred steps: the general system beats the
// mean training image and the mean azimuth, Eve beats chance, and the ARN pair lowers Eve's accuracy.
TEST_F(SsIsacEval, EveryStageBeatsItsTrivialBaseline) {
  data::write_synthetic_dataset(path("big"), 1024, 200, 9, false);
  const config::Config cfg =
      make_config({"data.root=" + path("big"), "eval.batch_size=200", "eval.test_snr_db=[20]", "train.snr_db=20",
                   "train.steps=1500", "train.gamma_com=1", "train.batch_size=64", "train.lr=0.003", "eve.steps=1500",
                   "eve.lr=0.003", "eve.hidden=[64]", "security.steps=300", "security.lr=0.003", "security.psr_db=0",
                   "security.lambda_pri=1", "security.blackbox=false", "security.adaptive_eve=false"});
  RunContext ctx = context("run");
  IsacExperiment exp(cfg, {point_from_config(cfg)}, ctx);
  exp.train_general();
  const SummaryRow general = exp.evaluate_general().at(0);

  const data::Split train = data::load_split(path("big"), "train"), test = data::load_split(path("big"), "test");
  const torch::Tensor& x = test.images;
  const torch::Tensor mean_image = train.images.mean(0);
  const double mse_mean_image = (x - mean_image).square().mean().item<double>();
  const data::Batch b = data::eval_batch(test, 0, 200, {0}, -20 * kDeg, 20 * kDeg, torch::kCPU);
  const double mse_mean_angle = b.phi.square().mean().item<double>();  // the range's mean is 0
  EXPECT_LT(general.mse_com, 0.7 * mse_mean_image) << "mean image " << mse_mean_image;
  EXPECT_LT(general.mse_sen, 0.1 * mse_mean_angle) << "mean angle " << mse_mean_angle;

  exp.train_eves();
  const SummaryRow before = find(exp.evaluate_security(), 0, "unplug", "whitebox", 20.0);
  EXPECT_GT(before.pc_eve, 0.6) << "chance is 1/10";
  exp.train_arns();
  const SummaryRow after = find(exp.evaluate_security(), 0, "plugged", "whitebox", 20.0);
  EXPECT_LT(after.pc_eve, 0.5 * before.pc_eve);
  std::printf("general mse_com %.4f (mean image %.4f) mse_sen %.5f (mean angle %.5f); Eve %.3f -> %.3f\n",
              general.mse_com, mse_mean_image, general.mse_sen, mse_mean_angle, before.pc_eve, after.pc_eve);
}

}  // namespace
}  // namespace semsec::trainers
