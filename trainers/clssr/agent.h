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

// The rl.* settings (and source.stay_prob) of one agent; converge_tol_pct in percentage points.
struct AgentSettings {
  int64_t episodes = 1, steps = 1;
  double stay_prob = 0.5, explore = 0.1, gamma = 0.9, gain_weight = 1.0, converge_tol_pct = 2.0;
  bool all_actions = true;
};

// The rl.* settings (and source.stay_prob) every agent is trained with, read from the config.
AgentSettings agent_settings(const config::Config& cfg);

// Episodes after which the task reliability stays within `tol` of its final value (1-based; 0 for
// no episode). Moved out of agent.cpp for the tests.
int64_t converged_episode(const std::vector<double>& reliability, double tol);

// What train_agent reports: the greedy policy's evaluation after the last episode, and the episodes
// after which its task reliability stays within rl.converge_tol of its final value.
struct AgentResult {
  Summary final_summary;
  int64_t converged_episode = 0;
};

// Trains one policy-iteration agent (cl_ss or pl_ss) for `env`, scoring the greedy policy on the
// evaluation tasks after every episode (one episodes.csv row each).
AgentResult train_agent(const Codec& codec, const Env& env, const Rules& rules, Method method,
                        const std::string& method_name, const AgentSettings& agent, const Tasks& eval,
                        CsvWriter& episodes_csv, torch::Device device);

}  // namespace semsec::trainers::clssr
