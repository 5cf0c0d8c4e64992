// The CLSSR policy-iteration agent (trainers/clssr/rl.h) trained on simulated tasks
// (trainers/clssr/tasks.h), one per (method, antennas, tau); each episode adds a row to episodes.csv.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/rundir.h"
#include "trainers/clssr/codec.h"
#include "trainers/clssr/tasks.h"

namespace semsec::trainers::clssr {

// The rl.* settings (and source.stay_prob) of one agent; converge_tol is rl.converge_tol.
struct AgentSettings {
  int64_t episodes = 1, steps = 1;
  double stay_prob = 0.5, explore = 0.1, gamma = 0.9, gain_weight = 1.0, converge_tol = 0.02;
  bool all_actions = false;
  uint64_t seed = 0;  // written into episodes.csv
  // How to continue after a signal stops the agents ("semsec clssr --resume DIR"; empty: run the
  // command again).
  std::string resume_command;
};

// The rl.* settings (and source.stay_prob) every agent is trained with, read from the config.
AgentSettings agent_settings(const config::Config& cfg);

// The convergence rule. `series[e]` is a score after episode e (e = 0: the untrained policy);
// returns the first episode from which every later score stays within `tol` of the last one
// (0 when the series never left that band; 0 for an empty series).
int64_t settled_episode(const std::vector<double>& series, double tol);

// What train_agent reports: the greedy policy's evaluation after the last episode and when it
// converged: on the reward's CLSSR (within rl.converge_tol x its final value), on the task
// reliability (within 100 rl.converge_tol percentage points of its final value), and on both (the
// later of the two).
struct AgentResult {
  Summary final_summary;
  std::vector<int64_t> policy;  // the greedy policy after the last episode: an action per MDP state
  int64_t converged_clssr = 0, converged_reliability = 0, converged_episode = 0;
};

// Trains one policy-iteration agent (cl_ss or pl_ss) for `env`, scoring the untrained policy
// (episode 0) and the greedy policy after every episode on the evaluation tasks (one episodes.csv
// row each).
AgentResult train_agent(const Codec& codec, const Env& env, const Rules& rules, Method method,
                        const std::string& method_name, const AgentSettings& agent, const Tasks& eval,
                        CsvWriter& episodes_csv, torch::Device device);

// train_agent for settings that differ only in tau (same method, link and seed), in lockstep: each
// episode draws its tasks once, simulates every agent's actions in one batch (run_tasks_at) and
// scores every greedy policy in one batch (simulating again only the evaluation tasks whose action
// changed). Each agent's results and episodes.csv rows (written setting by setting once all are
// trained) are those of train_agent on its own setting, up to the decoders' float rounding (see
// run_tasks_at).
std::vector<AgentResult> train_agents(const Codec& codec, const std::vector<Env>& envs, const Rules& rules,
                                      Method method, const std::string& method_name, const AgentSettings& agent,
                                      const Tasks& eval, CsvWriter& episodes_csv, torch::Device device);

}  // namespace semsec::trainers::clssr
