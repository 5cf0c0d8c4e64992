// The CLSSR task model (experiment.h describes it): the environment of one (antennas, tau)
// setting, the draw of tasks and their channels, their simulation and scoring over the geometric
// link, and the alternating-optimisation (AO) baseline.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/link_level/link_level_op.h"
#include "trainers/clssr/codec.h"

namespace semsec::trainers::clssr {

// The allocators compared: RL with semantic noise, RL with physical-layer security only, AO with
// exact CSI of every Eve (the oracle, an upper bound), and AO with the user's exact CSI but only
// the Eves' statistical CSI (their mean beam gain, what a transmitter can know of passive Eves).
enum class Method { kClSs, kPlSs, kAo, kAoStat };

// The Method of a clssr.methods entry.
Method parse_method(const std::string& m);

// The experiment's defaults for the geometric link: the paper's Sec. V positions and powers, the
// beamformed Alamouti scheme on 2 x 2 transmit antennas, 4 DFT beams per sub-array, and a path-loss
// exponent of 4 so that the user's mean SNR (20 dB at tau = 1) leaves bit errors that tau controls.
link::LinkConfig default_clssr_link();

// One (antennas, tau) setting: the link, its receivers and the channel-state quantisation.
struct Env {
  link::LinkConfig link;
  std::string antennas;
  double tau = 1.0;
  int64_t num_beams = 1;
  int64_t num_receivers = 1;
  double user_mean_gain = 1.0;
  std::vector<double> mean_gains;  // [R] E|h_r f|^2 of every receiver (user first), any beam
  std::vector<double> snr_levels_db;
  uint64_t seed = 0;
  int64_t images_per_task = 1;  // K
  // (user's best beam, best beam of the strongest Eve, user SNR level).
  int64_t num_channel_states() const {
    return num_beams * num_beams * (static_cast<int64_t>(snr_levels_db.size()) + 1);
  }
};

// The columns that name a setting in episodes.csv and summary.csv:
// "seed,method,antennas,tau,path_loss_exponent,eve1_x,eve1_y".
inline constexpr const char* kSettingColumns = "seed,method,antennas,tau,path_loss_exponent,eve1_x,eve1_y";
std::string setting_columns(uint64_t seed, const std::string& method, const Env& env);

// The task rules from task.epsilon, task.distortion_max and task.deadline_s.
Rules rules_from_config(const config::Config& cfg);

// The link of one (antennas, tau) setting and the quantisation of its channel states: `base_link`
// with num_rx 2 (mimo) or 1 (miso), rl.snr_levels_db and task.images.
Env make_env(const config::Config& cfg, const link::LinkConfig& base_link, const std::string& antennas, double tau,
             uint64_t seed);

// A batch of tasks: classes, images and the channel of every receiver.
struct Tasks {
  std::vector<int64_t> cls;
  torch::Tensor image;  // [T, K] int64 (test indices of the task's K images), on the device
  torch::Tensor h;      // [R, T, num_rx, num_tx, 2]
  torch::Tensor gains;  // [R, T, K] float64 on the CPU (every beam)
  int64_t size() const { return static_cast<int64_t>(cls.size()); }
};

// Per-task results of run_tasks.
struct Outcome {
  std::vector<double> reward, omega, g_user, b;
  std::vector<double> omega_literal, omega_monotone;  // eq. 8 under each reading of eq. 7
  std::vector<double> g_eve_min, r_u;
  std::vector<uint8_t> secure, timely;
  std::vector<uint8_t> eve_image_leak;  // some Eve reconstructs some image of the task with G < eps
};

// Means over the tasks of an Outcome (reliability in percent, clssr_ksut in ksut/s).
struct Summary {
  double clssr_ksut = 0, clssr_literal_ksut = 0, clssr_monotone_ksut = 0, eve_image_leak = 0, reliability = 0,
         secure = 0, timely = 0, mean_b = 0, g_user = 0, g_eve = 0, r_u_mbps = 0, reward = 0;
};

// The Summary of an Outcome.
Summary summarise(const Outcome& o);

// floor(u n) for u in (0, 1) from rng::to_unit, kept inside [0, n).
int64_t uniform_index(double u, int64_t n);

// Tasks t = 0 .. T-1 of (stream, step): the class chain P^S and the images, then the channels.
Tasks draw_tasks(const Codec& codec, const Env& env, int64_t count, double stay_prob, uint32_t source_stream,
                 uint32_t link_stream, uint32_t step, torch::Device device);

// Quantised channel state of each task (h_u and h_e of the MDP): the user's best beam, the best
// beam of the strongest Eve (the one with the largest best-beam gain) and the user's SNR level at
// its best beam against rl.snr_levels_db.
std::vector<int64_t> channel_states(const Env& env, const Tasks& t);

// Sends every task with its beam and b (an index into the codec's grid of b), decodes at the user
// and the Eves, and scores it at env.tau.
Outcome run_tasks(const Codec& codec, const Env& env, const Rules& rules, Method method, const Tasks& t,
                  const std::vector<int64_t>& beams, const std::vector<int64_t>& gsel, double gain_weight,
                  uint32_t link_stream, uint32_t step);

// The rows of a batch: row j sends task task[j] of a Tasks at the noise factor taus[setting[j]]
// with beam[j] and codec point gsel[j].
struct TaskRows {
  std::vector<int64_t> task, setting, beam, gsel;
  void add(int64_t task_index, int64_t setting_index, int64_t beam_index, int64_t g);
  int64_t size() const { return static_cast<int64_t>(task.size()); }
};

// run_tasks' general form: one Outcome entry per row of `rows`. A row's outcome is a function of
// its task, tau and action alone (its noise is drawn from its task's counters; the decoders' float
// rounding aside, see run_tasks_at), so rows may be grouped into batches in any way. env.tau is
// not read.
Outcome run_rows(const Codec& codec, const Env& env, const std::vector<double>& taus, const Rules& rules,
                 Method method, const Tasks& t, const TaskRows& rows, double gain_weight, uint32_t link_stream,
                 uint32_t step);

// Entry i of every per-task vector of `from` into entry j of `to` (grown as needed).
void copy_task(const Outcome& from, size_t i, Outcome& to, size_t j);

// run_tasks for settings that differ only in tau, in one batch: beams and gsel hold S = taus.size()
// blocks of T = t.size() rows (row s T + i is task i at taus[s]); returns one Outcome per tau, each
// what run_tasks gives at that tau: the same channels, noise (drawn from the task's own counters)
// and decided bits; the decoders' outputs agree to float rounding, as MKL's sgemm rounds a row by
// the size of its batch. env.tau is not read.
std::vector<Outcome> run_tasks_at(const Codec& codec, const Env& env, const std::vector<double>& taus,
                                  const Rules& rules, Method method, const Tasks& t, const std::vector<int64_t>& beams,
                                  const std::vector<int64_t>& gsel, double gain_weight, uint32_t link_stream,
                                  uint32_t step);

// Alternating optimisation of (beam, b) per task on the predicted CLSSR: the user's exact CSI, the
// Eves' exact CSI (Method::kAo, the oracle) or their mean beam gains Env::mean_gains
// (Method::kAoStat), the codec's mean distortions per b; beam given b, then b given beam, until
// neither changes.
void ao_actions(const Codec& codec, const Env& env, const Rules& rules, const Tasks& t, std::vector<int64_t>& beams,
                std::vector<int64_t>& gsel, Method method = Method::kAo);

}  // namespace semsec::trainers::clssr
