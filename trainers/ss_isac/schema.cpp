// The configuration schema of SS-ISAC experiments.
#include "trainers/ss_isac/schema.h"

#include <algorithm>

#include <fmt/ranges.h>

#include "core/errors.h"
#include "datasets/loader.h"

namespace semsec::trainers {

config::Schema isac_schema() {
  using config::kInf;
  using config::kIntMax;
  config::Schema s;
  s.add_string("experiment.name", "gs_isac", {}, "name of the experiment (run directory runs/<name>/<time>)")
      .add_int("seed", 0, 0, 4294967295LL, "seed of weights, data order, angles and channel draws")
      .add_string("data.root", "/usr/share/datasets/fashion-mnist", {},
                  "directory with train-/t10k- images and labels in MNIST IDX format (.gz or raw)")
      .add_int("data.train_limit", 0, 0, kIntMax, "use only the first N training samples (0 = all)")
      .add_int("data.test_limit", 0, 0, kIntMax, "use only the first N test samples (0 = all)")
      .add_float("data.phi_min_deg", -20.0, -90.0, 90.0, "target azimuth phi ~ U[phi_min, phi_max] (degrees)")
      .add_float("data.phi_max_deg", 20.0, -90.0, 90.0, "upper end of the azimuth range (degrees)")
      .add_int("model.num_antennas", 16, 1, 64, "M, transmit antennas at the BS")
      .add_int("model.latent_dim", 23, 1, 4096, "L_z, real symbols per image")
      .add_int("model.feature_dim", 64, 1, 4096, "size of the semantic feature x' and the JSCD outputs")
      .add_int("model.bs_hidden", 64, 1, 4096, "hidden neurons of SE, JSCE, JSCD_BS, SD_BS")
      .add_int("model.ue_hidden", 16, 1, 4096, "hidden neurons of JSCD_UE, SD_UE")
      .add_string("channel.beamformer", "wide2", {"wide2", "uniform", "steer", "sector"},
                  "transmit beamformer w: wide2 (two in-phase elements: a wide beam whose phase is monotone in "
                  "phi), uniform (ones/sqrt(M)), steer (a(steer_deg)/sqrt(M)), sector (all M elements, least "
                  "squares over [phi_min, phi_max]: magnitude and phase both monotone in phi)")
      .add_float("channel.steer_deg", 0.0, -90.0, 90.0, "steering angle of the 'steer' beamformer (degrees)")
      .add_float("channel.alpha_re", 1.0, -1e6, 1e6, "real part of the reflection coefficient alpha")
      .add_float("channel.alpha_im", 0.0, -1e6, 1e6, "imaginary part of alpha")
      .add_string("channel.alpha_phase", "fixed", {"fixed", "random"},
                  "fixed: alpha as given, known to the receivers' training; random: alpha e^{j theta} with theta "
                  "~ U[0, 2 pi) per sample, so only |alpha a^H(phi) w| carries phi")
      .add_float("channel.si_residual_power", 0.0, 0.0, 1e6,
                 "power of the residual self-interference after compensation")
      .add_float("channel.eve_snr_offset_db", 0.0, -100.0, 100.0, "Eve's SNR minus the legitimate receivers' SNR (dB)")
      .add_float("train.snr_db", 15.0, -50.0, 100.0, "receiver SNR during training (dB)")
      .add_int("train.epochs", 20, 0, kIntMax, "epochs of the general system (ignored when train.steps > 0)")
      .add_int("train.steps", 0, 0, kIntMax, "optimizer steps of the general system (0 = use train.epochs)")
      .add_int("train.batch_size", 256, 1, kIntMax, "samples per batch")
      .add_float("train.lr", 1e-4, 0.0, 10.0, "Adam learning rate")
      .add_float("train.adam_beta1", 0.9, 0.0, 0.999999, "Adam beta1")
      .add_float("train.adam_beta2", 0.999, 0.0, 0.999999999, "Adam beta2")
      .add_float("train.adam_eps", 1e-8, 0.0, 1.0, "Adam epsilon")
      .add_bool("train.cuda_graph", true,
                "on a CUDA device, capture each stage's step (forward, backward, Adam) as a CUDA graph and replay "
                "it (the SS-ISAC sweep gives the same bits as eager steps, 3.6x faster on an H100); no effect on a CPU")
      .add_bool("train.tf32", false,
                "on a CUDA device, let cuBLAS run the float32 GEMMs on TF32 tensor cores (inputs rounded to a "
                "10-bit mantissa, float32 accumulation; 1.1x faster with graphs on an H100 but sensing MSE moved "
                "by up to 13 %, so off by default); no effect on a CPU")
      .add_float("train.gamma_sen", 0.5, 0.0, kInf, "gamma_sen, weight of the sensing loss (eq. 9)")
      .add_float("train.gamma_com", 0.1, 0.0, kInf, "gamma_com, weight of the communication loss (eq. 9)")
      .add_string("train.com_loss", "mean", {"mean", "sum"},
                  "reduction of the communication loss over an image's pixels in eq. 9 and 28: mean (per-pixel MSE, "
                  "so the paper's weights balance it against the sensing loss) or sum (E||x - x_hat||^2 as the "
                  "equations write it: gamma_com and lambda_com act on a loss 784 times larger)")
      .add_int("train.log_every", 50, 1, kIntMax, "log loss terms every N steps")
      .add_int("train.checkpoint_every", 500, 1, kIntMax, "write a resumable checkpoint every N steps")
      .add_bool("security.enabled", false,
                "after the general system, train Eve's classifiers and the paired ARNs and evaluate unplug / "
                "decrypt_only / plugged (Sec. III)")
      .add_float("security.psr_db", -10.0, -60.0, 20.0,
                 "perturbation-to-signal ratio E||delta||^2 / E||z||^2 (dB); tau = PSR * E||z||^2 / L_z (eq. 26)")
      .add_float("security.lambda_pow", 0.1, 0.0, kInf, "lambda_pow (eq. 25)")
      .add_float("security.lambda_sen", 0.5, 0.0, kInf, "lambda_sen (eq. 25)")
      .add_float("security.lambda_com", 0.1, 0.0, kInf, "lambda_com (eq. 25)")
      .add_float("security.lambda_pri", 0.01, 0.0, kInf, "lambda_pri (eq. 25)")
      .add_int("security.epochs", 10, 0, kIntMax, "epochs of ARN training (ignored when security.steps > 0)")
      .add_int("security.steps", 0, 0, kIntMax, "optimizer steps of ARN training (0 = use security.epochs)")
      .add_float("security.lr", 1e-4, 0.0, 10.0, "Adam learning rate of the ARNs")
      .add_string("security.arn_init", "", {},
                  "start both ARN pairs from an exported weights file (semsec export ... .safetensors) to "
                  "fine-tune or re-evaluate them; empty = fresh identity-initialised pairs")
      .add_string(
          "security.power_constraint", "projection", {"projection", "hinge"},
          "how the PSR limit of eq. 26 (||delta||^2 <= PSR ||z||^2) holds: projection scales delta per codeword "
          "onto the limit where it exceeds it (exact: the realised PSR never exceeds the nominal one, so a "
          "PSR sweep sweeps the PSR); hinge applies eq. 26 literally as the penalty lambda_pow * max(0, "
          "||delta||^2 / L - tau), which the realised PSR may exceed")
      .add_bool("security.equal_power", false,
                "renormalise the plugged codeword z + delta to the unplugged power ||z||^2 = 1, so that plugged and "
                "unplugged transmit the same power")
      .add_bool("security.blackbox", true, "also train ARNs against the black-box substitute of Eve")
      .add_bool("security.adaptive_eve", true,
                "also retrain Eve's classifier on the encrypted signals once the ARNs are fixed (beyond the paper)")
      .add_bool("minmax.enabled", false,
                "also train an ARN pair (stage arn_minmax) in a min-max game against a population of Eves that is "
                "retrained on the encrypted signals during the ARN training (docs/experiments/adaptive-eve.md)")
      .add_int("minmax.eve_steps", 1, 1, 1000, "k: Eve updates per ARN update in min-max training")
      .add_int("minmax.population", 1, 1, 64,
               "Eves trained together against each min-max pair: the first starts from P_Eve, the others from "
               "fresh initialisations; the privacy loss is taken over them (minmax.aggregate)")
      .add_string("minmax.aggregate", "max", {"max", "softmax", "mean"},
                  "how the privacy term of eq. 29 is taken over the population: the largest, a soft maximum "
                  "log(mean(exp(t l))) / t with t = minmax.temperature, or the mean")
      .add_float("minmax.temperature", 10.0, 1e-6, 1e6, "t of the soft maximum (minmax.aggregate=softmax)")
      .add_float("minmax.eve_lr", 1e-4, 0.0, 10.0, "Adam learning rate of the Eves in min-max training")
      .add_bool("keyed.enabled", false,
                "also train a keyed ARN pair (stage arn_keyed, min-max as set by minmax.*): every block reads a "
                "secret frame key of keyed.bits bits that the BS and the UE share and Eve does not have")
      .add_int("keyed.bits", 32, 1, 4096,
               "bits of the secret key per frame (one codeword), at least model.latent_dim: all of them are inputs "
               "of every block of the keyed pair, and the first L_z sign the perturbation and the receivers' "
               "corrections")
      .add_int("keyed.secret", 1, 0, 4294967295LL,
               "seed of the key stream shared by the BS and the UE (Philox stream 11, with the point's seed); Eve "
               "does not know it")
      .add_bool("confusion.enabled", false,
                "also train an ARN pair (stage arn_confusion) in the min-max game of minmax.* with the confusion "
                "loss (the cross-entropy of the Eves' posteriors against the uniform distribution) as its privacy "
                "term instead of eq. 29")
      .add_bool("threat.enabled", false,
                "after the evaluation, train eavesdroppers on each defence's encrypted signals with a budget of "
                "labelled samples and steps, and write adaptive_eve.csv and defences.csv")
      .add_int_list("threat.samples", {100, 1000, 10000, 0}, 0, kIntMax,
                    "labelled encrypted training samples Eve gets (0: the whole training set)")
      .add_string_list("threat.starts", {"scratch", "finetune"}, {"scratch", "finetune"},
                       "how the Eves of the paper's architecture start: fresh weights, or P_Eve's (trained on the "
                       "unprotected system)")
      .add_int_list("threat.large_hidden", {256, 256, 128}, 0, 4096,
                    "hidden layers of the larger Eve (trained from scratch); [0] leaves it out")
      .add_int("threat.steps", 0, 0, kIntMax,
               "training budget of every threat Eve in optimizer steps (0: eve.epochs passes over the training set)")
      .add_float_list("threat.test_snr_db", {20}, -50.0, 100.0, "test SNRs of the threat evaluation (dB)")
      .add_int_list("eve.hidden", {64, 32, 32}, 1, 4096, "hidden layers of Eve's classifier P_Eve")
      .add_int_list("eve.substitute_hidden", {16, 16}, 1, 4096, "hidden layers of the black-box substitute")
      .add_int("eve.epochs", 10, 0, kIntMax, "epochs of each Eve classifier (ignored when eve.steps > 0)")
      .add_int("eve.steps", 0, 0, kIntMax, "optimizer steps of each Eve classifier (0 = use eve.epochs)")
      .add_float("eve.lr", 1e-4, 0.0, 10.0, "Adam learning rate of Eve's classifiers")
      .add_bool("eve.clean_ceiling", false,
                "also train P_Eve's architecture on the clean codewords z (no channel, stage eve_clean) and report "
                "its test accuracy as summary.csv's 'clean' row: what any Eve of this architecture could read")
      .add_int("eve.num_classes", 10, 2, 256, "number of image classes (labels must be below it)")
      .add_float_list("eval.test_snr_db", {0, 5, 10, 15, 20}, -50.0, 100.0, "test SNRs (dB)")
      .add_int("eval.batch_size", 1000, 1, kIntMax, "samples per evaluation batch")
      .add_bool("output.tensorboard", true, "write TensorBoard event files")
      .add_string("output.export", "arn", {"arn", "all", "none"},
                  "weights a security run writes to RUN_DIR/export/ when it ends (before summary.csv): the white-box "
                  "ARN pair (arn), also the base system and Eve's classifier (all), or none; `semsec export` writes "
                  "them from the checkpoints at any time")
      .add_int("sweep.max_grid", 0, 0, 65536,
               "most grid points trained together as one ensemble by `semsec sweep` (larger groups are split); 0: "
               "chosen from the free memory of the device and an estimate of a point's footprint (at most 16 on a "
               "CPU)");
  // Rules across keys, checked when a configuration is loaded, before a run creates anything.
  s.add_check([](const config::Config& c) {
     const double lo = c.get_float("data.phi_min_deg"), hi = c.get_float("data.phi_max_deg");
     if (lo >= hi) {
       fail("data.phi_min_deg ({}) must be below data.phi_max_deg ({}) ({}; {})", lo, hi, c.origin("data.phi_min_deg"),
            c.origin("data.phi_max_deg"));
     }
   })
      .add_check([](const config::Config& c) {
        const int64_t limit = c.get_int("data.train_limit"), batch = c.get_int("train.batch_size");
        if (limit > 0 && batch > limit) {
          fail("train.batch_size ({}) is larger than the training set ({} samples, data.train_limit) ({})", batch,
               limit, c.origin("train.batch_size"));
        }
      })
      .add_check([](const config::Config& c) {
        const bool any = c.get_bool("minmax.enabled") || c.get_bool("keyed.enabled") ||
                         c.get_bool("confusion.enabled") || c.get_bool("threat.enabled");
        if (any && !c.get_bool("security.enabled")) {
          fail("minmax.enabled, keyed.enabled, confusion.enabled and threat.enabled need security.enabled=true ({})",
               c.origin("security.enabled"));
        }
        if (c.get_bool("keyed.enabled") && c.get_int("keyed.bits") < c.get_int("model.latent_dim")) {
          fail(
              "keyed.bits ({}) must be at least model.latent_dim ({}): the first L_z key bits sign the perturbation "
              "({})",
              c.get_int("keyed.bits"), c.get_int("model.latent_dim"), c.origin("keyed.bits"));
        }
        if (c.get_int_list("threat.samples").empty() || c.get_string_list("threat.starts").empty()) {
          fail("threat.samples and threat.starts need at least one entry each ({}; {})", c.origin("threat.samples"),
               c.origin("threat.starts"));
        }
        const auto& large = c.get_int_list("threat.large_hidden");
        if (std::find(large.begin(), large.end(), 0) != large.end() && large != std::vector<int64_t>{0}) {
          fail(
              "threat.large_hidden is [{}]; expected hidden layer sizes above 0, or [0] to leave the larger Eve out "
              "({})",
              fmt::join(large, ", "), c.origin("threat.large_hidden"));
        }
      })
      .add_check([](const config::Config& c) { data::check_data_root(c.get_string("data.root")); });
  return s;
}

}  // namespace semsec::trainers
