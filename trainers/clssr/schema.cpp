// The configuration keys of `semsec clssr` and their defaults.
#include "trainers/clssr/experiment.h"

#include "trainers/clssr/metrics.h"
#include "trainers/clssr/tasks.h"
#include "trainers/link/link_command.h"

namespace semsec::trainers {

config::Schema clssr_schema() {
  config::Schema s;
  s.add_string("experiment.name", "clssr", {}, "name of the experiment (run directory runs/<name>/<time>)")
      .add_int("seed", 0, 0, 4294967295LL, "seed of every draw (codec init, data order, tasks, channels, exploration)")
      .add_string("data.root", "", {}, "directory with the MNIST-format IDX files (empty: the embedded Fashion-MNIST)")
      .add_int("data.train_limit", 0, 0, config::kIntMax, "use the first N training images (0 = all)")
      .add_int("data.test_limit", 0, 0, config::kIntMax, "use the first N test images as task images (0 = all)")
      .add_int("codec.num_symbols", 16, 1, 4096, "semantic symbols n per image")
      .add_int("codec.symbol_dim", 4, 1, 1024, "dimension of one semantic symbol / codeword")
      .add_int("codec.hidden", 256, 1, 65536, "hidden width of the encoder and decoders")
      .add_int("codec.b_min", 2, 1, 12, "fewest index bits b per symbol (b_min of eq. 9c)")
      .add_int("codec.b_max", 6, 1, 12, "most index bits b per symbol (b_max of eq. 9c); one codec per b")
      .add_int("codec.batch_size", 128, 1, 1 << 20, "codec training batch")
      .add_int("codec.pretrain_epochs", 6, 0, 100000, "epochs of codec pretraining (encoder, codebooks, decoder)")
      .add_float("codec.lr", 2e-3, 0.0, 10.0, "codec pretraining learning rate (Adam)")
      .add_float("codec.commitment", 0.25, 0.0, 100.0, "VQ commitment weight")
      .add_int("codec.noise_epochs", 5, 0, 100000, "epochs of semantic-noise training (Delta z and the aware decoder)")
      .add_float("codec.noise_lr", 1e-2, 0.0, 10.0, "learning rate of the semantic noise Delta z")
      .add_float("codec.aware_lr", 1e-3, 0.0, 10.0, "learning rate of the noise-aware user decoder")
      .add_string("codec.noise", "constant", {"constant", "input"},
                  "semantic noise Delta z: constant (one learnable shift per b) or input (that shift plus a small "
                  "network of the image's codeword, trained under the same constraint 9d)")
      .add_int("codec.noise_hidden", 64, 1, 65536, "hidden width of the input-dependent noise network (codec.noise=input)")
      .add_float("codec.noise_init_std", 0.5, 0.0, 100.0, "std of the initial semantic noise Delta z")
      .add_float("codec.eve_margin", 0.12, 0.0, 1.0, "per-image MSE Eve's reconstruction is pushed above (hinge)")
      .add_float("codec.eve_weight", 4.0, 0.0, 1e6, "weight of Eve's hinge in the semantic-noise loss")
      .add_float("codec.noise_commitment", 1.0, 0.0, 1e6,
                 "weight keeping encode(x) + Delta z near its codeword (stops Delta z from leaving the codebook)")
      .add_string("codec.init_from", "", {}, "codec.ckpt of an earlier clssr run to reuse instead of training")
      .add_int("task.images", 1, 1, 4096,
               "images K per task (one class); the task's distortion is their mean MSE (1: per-image tasks, the "
               "reading of Remark 1)")
      .add_float("task.distortion_max", 1.0, 1e-12, 1e12, "d_max of eq. 4 (per-image MSE of images in [0, 1] is <= 1)")
      .add_float("task.epsilon", semsec::clssr::kEpsilonReconstructionMse, 1e-12, 1.0,
                 "task threshold epsilon of Definition 1 on G = MSE / d_max (Remark 1: 0.01 for MSE)")
      .add_float("task.deadline_s", semsec::clssr::kDefaultDeadlineS, 0.0, 1e6,
                 "timeliness deadline of eq. 14: n b / delivery rate <= deadline")
      .add_float("source.stay_prob", 0.5, 0.0, 1.0, "P^S: probability that the next task has the same class")
      .extend(link_geometry_schema(clssr::default_clssr_link()))
      .add_string_list("clssr.methods", {"cl_ss", "pl_ss", "ao", "ao_stat"}, {"cl_ss", "pl_ss", "ao", "ao_stat"},
                       "cl_ss (RL, semantic noise), pl_ss (RL, physical-layer security only), ao (alternating "
                       "optimisation with semantic noise and exact CSI of every Eve: the oracle, an upper bound), "
                       "ao_stat (the same AO with only the Eves' mean beam gains)")
      .add_string("clssr.omega", "monotone", {"monotone", "literal"},
                  "reading of eq. 7 for the CLSSR, the reward and timeliness: monotone (the rate Remark 2 lets the "
                  "transmitter use: R_u when the semantics defeat Eve, else R^S) or literal (R^S when R^S > 0, "
                  "else R_u, as printed)")
      .add_string_list("clssr.antennas", {"mimo", "miso"}, {"mimo", "miso"},
                       "mimo = 2 receive antennas, miso = 1 (channel.num_rx is set from this)")
      .add_string_list("clssr.ao_antennas", {"mimo"}, {"mimo", "miso"}, 
                       "antenna sets the ao and ao_stat baselines run with")
      .add_float_list("clssr.tau", {1, 2, 3, 4, 5}, 1e-6, 1e6, "noise factors tau (P = tau P0)")
      .add_float_list("clssr.path_loss_exponents", {}, 0.0, 10.0,
                      "regime map: path-loss exponents to run every setting at (empty: channel.path_loss_exponent)")
      .add_float_list("clssr.eve1_xy", {}, -1e6, 1e6,
                      "regime map: positions [x0, y0, x1, y1, ...] of Eve 1 to run every setting at (empty: the first "
                      "Eve of channel.eves_xy)")
      .add_int("rl.episodes", 30, 1, 1000000, "training episodes per (method, antennas, tau)")
      .add_int("rl.steps_per_episode", 64, 1, 1 << 24, "tasks (time stamps) per episode")
      .add_string("rl.experience", "epsilon_greedy", {"epsilon_greedy", "all_actions"},
                  "epsilon_greedy: the agent learns only from the actions it takes (on-policy interaction); "
                  "all_actions: every task of an episode is simulated under every action (full-information "
                  "Monte-Carlo estimates of r(s, a) on common random numbers, an ablation)")
      .add_float("rl.explore", 0.1, 0.0, 1.0, "epsilon-greedy exploration probability (rl.experience=epsilon_greedy)")
      .add_float("rl.gamma", 0.9, 0.0, 0.999999, "reward discount factor gamma of eq. 10")
      .add_float("rl.gain_weight", 1.0, 0.0, 1e6, "weight of the channel term of the reward")
      .add_float_list("rl.snr_levels_db", {15.0}, -100.0, 200.0, "user SNR thresholds (dB) of the channel state")
      .add_float("rl.converge_tol", 0.02, 0.0, 1.0, "convergence: the CLSSR within this fraction, the reliability within 100 x this percentage points, of "
                 "their final values")
      .add_int("eval.tasks", 500, 1, 1 << 24, "evaluation tasks (the same ones after every episode)");
  s.add_check(check_clssr_config);
  return s;
}

}  // namespace semsec::trainers
