// `semsec clssr`: the cross-layer semantic security experiment of the CLSSR paper end to end.
// A semantic codec (one per index width b, trained as one grid) is pretrained on the IDX images and
// given learnable semantic noise; then, for every method (cl_ss, pl_ss, ao), antenna set (mimo,
// miso) and noise factor tau, a policy-iteration agent (trainers/clssr/rl.h) learns the beam and b
// of each task from Monte-Carlo link simulations (kernels/link_level/link_level_op.h) whose decided bits are
// decoded by the user and by every Eve. Writes codec.csv, episodes.csv (Fig. 2) and summary.csv
// (Fig. 3) into the run directory, and draws fig2.png / fig3.png when a python with matplotlib
// is at hand. The parts: trainers/clssr/schema.cpp (the keys), codec.h (the codec), tasks.h (task
// model, simulation and the AO baseline), agent.h (agent training) and experiment.cpp (the run).
//
// The task model (our concrete reading of Sec. II-V; docs/experiments/clssr.md):
//   - a task is K = task.images images of one class from the test split; the class follows a
//     stationary Markov chain P^S (stay with probability source.stay_prob, otherwise move to one
//     of the other classes uniformly); the images are drawn uniformly within the class;
//   - each image is encoded into n semantic symbols, quantised with the b-bit codebook (b chosen by
//     the action), and the task's K n b index bits cross the geometric link with the chosen beam
//     (one channel realisation per task, block fading); the user
//     decodes with the noise-aware decoder (cl_ss, ao) or the plain decoder (pl_ss), every Eve
//     with the plain pretrained decoder (g_e^D = g_u^D*, the worst case of Sec. IV-A);
//   - G = the task's mean per-image MSE / task.distortion_max, clamped to [0, 1]; Definition 1 with
//     task.epsilon; pl_ss counts security only through R^S > 0 (no application-layer branch);
//   - reward r = Omega (ksut/s) + rl.gain_weight * sum_e (|h_u f|^2 - |h_e f|^2) / mean |h_u f|^2,
//     the paper's redesigned reward with the channel term in units of the user's mean SNR;
//   - state = (class, best user beam, best beam of the strongest Eve, user SNR level); action =
//     beam x b; by default the agent learns from the actions it takes, epsilon-greedy (rl.experience);
//   - the settings of one (method, antennas, map point) that differ only in tau share their tasks,
//     channels and noise draws and run as one batch (train_agents, run_tasks_at), with the results
//     each would give alone.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/config.h"
#include "kernels/link_level/link_level_op.h"

namespace semsec::trainers {

namespace clssr {

// One (map point, method, antennas, tau) setting of the run: one summary.csv row. A map point is a
// path-loss exponent and a position of Eve 1 (clssr.path_loss_exponents, clssr.eve1_xy; without
// them the single point of channel.path_loss_exponent and channel.eves_xy).
struct Setting {
  std::string method;  // a clssr.methods entry
  std::string antennas;
  double tau;
  double path_loss_exponent;
  double eve1_x, eve1_y;
};

// The settings run_clssr runs, in order: for each map point (exponents outer, Eve 1 positions
// inner), for each clssr.methods entry, its antenna sets (clssr.ao_antennas for ao and ao_stat,
// clssr.antennas otherwise), each with every clssr.tau.
std::vector<Setting> clssr_settings(const config::Config& cfg);

// Whether two settings differ in tau only (they then run as one batch).
bool same_but_tau(const Setting& a, const Setting& b);

// base_link with the setting's path-loss exponent and Eve 1 position.
link::LinkConfig setting_link(const link::LinkConfig& base_link, const Setting& setting);

}  // namespace clssr

config::Schema clssr_schema();

struct ClssrOptions {
  std::string python;      // python with matplotlib for the figures ("" = none)
  std::string source_dir;  // repository root (scripts/plot_clssr.py)
  // Continue an interrupted run: the codec stages resume from RUN_DIR/checkpoints (or are skipped
  // when complete); the agents, which keep no checkpoint, train again from the start.
  bool resume = false;
  std::string resume_command;  // shown when a signal stops the run ("semsec clssr --resume DIR")
};

// The rules of a clssr configuration that involve several keys (antennas vs channel.num_rx, a
// scheme with beams, non-empty lists, codec.b_max >= codec.b_min, the geometry and the map's
// Eve 1 positions, the data files);
// clssr_schema() runs it as a check whenever a configuration is loaded.
void check_clssr_config(const config::Config& cfg);

// Runs (or resumes) the experiment; run_dir exists and holds config.yaml. Returns 0.
int run_clssr(const config::Config& cfg, const std::string& run_dir, torch::Device device, const ClssrOptions& options);

}  // namespace semsec::trainers
