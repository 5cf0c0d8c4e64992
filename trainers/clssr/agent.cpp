// Training of the CLSSR policy-iteration agent: Monte-Carlo experience from simulated tasks, the
// tabular model of trainers/clssr/rl.h, and the greedy policy's score after every episode.
#include "trainers/clssr/agent.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/interrupt.h"
#include "kernels/philox.h"
#include "trainers/clssr/rl.h"

namespace semsec::trainers::clssr {

namespace {

// The policy's (beam, codec point) for each task.
void act(const rl::MdpSizes& sizes, int64_t gsize, const std::vector<int64_t>& cls, const std::vector<int64_t>& states,
         const std::vector<int64_t>& policy, std::vector<int64_t>& beams, std::vector<int64_t>& gsel) {
  beams.resize(cls.size());
  gsel.resize(cls.size());
  for (size_t i = 0; i < cls.size(); ++i) {
    const int64_t a = policy[static_cast<size_t>(cls[i] * sizes.num_channel_states + states[i])];
    beams[i] = a / gsize;
    gsel[i] = a % gsize;
  }
}

// Every agent's policy on the same tasks, one block of rows per agent (run_tasks_at's layout).
void act_all(const rl::MdpSizes& sizes, int64_t gsize, const std::vector<int64_t>& cls,
             const std::vector<std::vector<int64_t>>& states, const std::vector<std::vector<int64_t>>& policies,
             std::vector<int64_t>& beams, std::vector<int64_t>& gsel) {
  beams.clear();
  gsel.clear();
  for (size_t s = 0; s < policies.size(); ++s) {
    std::vector<int64_t> b, g;
    act(sizes, gsize, cls, states[s], policies[s], b, g);
    beams.insert(beams.end(), b.begin(), b.end());
    gsel.insert(gsel.end(), g.begin(), g.end());
  }
}

// The evaluation outcomes of every agent (outcomes[s], one entry per evaluation task) under the
// actions it took last (actions[s][i] = beam * grid + codec point; -1 before the first).
struct EvalCache {
  std::vector<Outcome> outcomes;
  std::vector<std::vector<int64_t>> actions;
};

// Every agent's outcomes on the evaluation tasks under the actions beams / gsel (run_tasks_at's
// layout). A task's outcome depends only on its task, tau and action (fixed tasks, channels and
// noise counters), so only the tasks whose action changed since the last call are simulated again,
// all agents' in one batch.
const std::vector<Outcome>& evaluate_actions(const Codec& codec, const Env& env, const std::vector<double>& taus,
                                             const Rules& rules, Method method, double gain_weight, const Tasks& eval,
                                             const std::vector<int64_t>& beams, const std::vector<int64_t>& gsel,
                                             EvalCache& cache) {
  const size_t n_tasks = eval.cls.size();
  TaskRows changed;  // the (task, agent) pairs whose action differs from the cached one
  for (size_t j = 0; j < beams.size(); ++j) {
    const size_t s = j / n_tasks, i = j % n_tasks;
    if (cache.actions[s][i] == beams[j] * codec.grid() + gsel[j]) continue;
    cache.actions[s][i] = beams[j] * codec.grid() + gsel[j];
    changed.add(static_cast<int64_t>(i), static_cast<int64_t>(s), beams[j], gsel[j]);
  }
  const Outcome fresh = run_rows(codec, env, taus, rules, method, eval, changed, gain_weight,
                                 rng::kStreamLink + rng::kStreamEvalOffset, 0);
  for (size_t k = 0; k < static_cast<size_t>(changed.size()); ++k) {
    copy_task(fresh, k, cache.outcomes[static_cast<size_t>(changed.setting[k])], static_cast<size_t>(changed.task[k]));
  }
  return cache.outcomes;
}

// The model's channel-state counts and class transitions from one episode's tasks.
void learn(rl::TabularModel& model, const std::vector<int64_t>& cls, const std::vector<int64_t>& states) {
  for (size_t u = 0; u < cls.size(); ++u) {
    model.add_channel_state(states[u]);
    if (u + 1 < cls.size()) model.add_class_transition(cls[u], cls[u + 1]);
  }
}

// The untrained agent: a uniformly random action in every state.
std::vector<int64_t> random_policy(const rng::Key& key, const rl::MdpSizes& sizes) {
  std::vector<int64_t> policy(static_cast<size_t>(sizes.num_states()));
  for (int64_t st = 0; st < sizes.num_states(); ++st) {
    const rng::Philox4 w = rng::draw(key, rng::kStreamPolicy, 0xFFFFFFFFu, static_cast<uint32_t>(st), 0);
    policy[static_cast<size_t>(st)] = uniform_index(rng::to_unit(w.v[0]), sizes.num_actions);
  }
  return policy;
}

// The actions the agents of a tau group take on one episode's tasks, block s (rows s T .. s T + T - 1)
// for agent s: under every action in turn (rl.experience = all_actions, one call per action) or
// under each agent's policy with epsilon-greedy exploration; `record` gets each call's rows.
template <typename Record>
void experience(const rl::MdpSizes& sizes, int64_t gsize, const AgentSettings& agent, const Tasks& tasks,
                const std::vector<std::vector<int64_t>>& states, const std::vector<std::vector<int64_t>>& policies,
                const rng::Key& key, uint32_t step, const Record& record) {
  const auto steps = static_cast<size_t>(agent.steps), n_set = policies.size();
  if (agent.all_actions) {
    // Monte-Carlo estimate of every action's reward on the same tasks, channels and noise.
    for (int64_t a = 0; a < sizes.num_actions; ++a) {
      record(std::vector<int64_t>(n_set * steps, a / gsize), std::vector<int64_t>(n_set * steps, a % gsize));
    }
    return;
  }
  std::vector<int64_t> beams, gsel;
  act_all(sizes, gsize, tasks.cls, states, policies, beams, gsel);
  for (size_t i = 0; i < steps; ++i) {  // epsilon-greedy exploration, the same draws for every agent
    const rng::Philox4 w = rng::draw(key, rng::kStreamPolicy, step, static_cast<uint32_t>(i), 0);
    if (rng::to_unit(w.v[0]) < agent.explore) {
      const int64_t a = uniform_index(rng::to_unit(w.v[1]), sizes.num_actions);
      for (size_t s = 0; s < n_set; ++s) {
        beams[s * steps + i] = a / gsize;
        gsel[s * steps + i] = a % gsize;
      }
    }
  }
  record(beams, gsel);
}

}  // namespace

AgentSettings agent_settings(const config::Config& cfg) {
  AgentSettings agent;
  agent.episodes = cfg.get_int("rl.episodes");
  agent.steps = cfg.get_int("rl.steps_per_episode");
  agent.stay_prob = cfg.get_float("source.stay_prob");
  agent.explore = cfg.get_float("rl.explore");
  agent.gamma = cfg.get_float("rl.gamma");
  agent.gain_weight = cfg.get_float("rl.gain_weight");
  agent.all_actions = cfg.get_string("rl.experience") == "all_actions";
  agent.converge_tol = cfg.get_float("rl.converge_tol");
  agent.seed = static_cast<uint64_t>(cfg.get_int("seed"));
  return agent;
}

int64_t settled_episode(const std::vector<double>& series, double tol) {
  if (series.empty()) return 0;
  const double last = series.back();
  auto e = static_cast<int64_t>(series.size()) - 1;
  while (e > 0 && std::abs(series[static_cast<size_t>(e - 1)] - last) <= tol) --e;
  return e;
}

std::vector<AgentResult> train_agents(const Codec& codec, const std::vector<Env>& envs, const Rules& rules,
                                      Method method, const std::string& method_name, const AgentSettings& agent,
                                      const Tasks& eval, CsvWriter& episodes_csv, torch::Device device) {
  if (envs.empty()) fail("clssr: train_agents needs at least one setting");
  const Env& env0 = envs.front();
  const int64_t gsize = codec.grid(), steps = agent.steps;
  const size_t n_set = envs.size();
  const rl::MdpSizes sizes{static_cast<int64_t>(codec.by_class.size()), env0.num_channel_states(),
                           env0.num_beams * gsize};
  std::vector<double> taus;
  std::vector<std::vector<int64_t>> eval_states;
  for (const Env& env : envs) {
    taus.push_back(env.tau);
    eval_states.push_back(channel_states(env, eval));
  }
  std::vector<rl::TabularModel> models(n_set, rl::TabularModel(sizes));
  const rng::Key key = rng::make_key(env0.seed);
  std::vector<std::vector<int64_t>> policies(n_set, random_policy(key, sizes));
  std::vector<AgentResult> results(n_set);
  std::vector<std::vector<double>> reliability(n_set), clssr(n_set);
  std::vector<std::string> rows(n_set);  // episodes.csv, written setting by setting at the end
  // Every greedy policy's score on the evaluation tasks: one episodes.csv row each.
  EvalCache cache{std::vector<Outcome>(n_set),
                  std::vector<std::vector<int64_t>>(n_set, std::vector<int64_t>(eval.cls.size(), -1))};
  auto score = [&](int64_t episode, const std::vector<int64_t>& changed) {
    std::vector<int64_t> eb, eg;
    act_all(sizes, gsize, eval.cls, eval_states, policies, eb, eg);
    const std::vector<Outcome>& eval_outcomes =
        evaluate_actions(codec, env0, taus, rules, method, agent.gain_weight, eval, eb, eg, cache);
    for (size_t s = 0; s < n_set; ++s) {
      const Summary sm = summarise(eval_outcomes[s]);
      rows[s] += fmt::format("{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{},{}\n",
                             setting_columns(agent.seed, method_name, envs[s]), episode, sm.reliability, sm.secure,
                             sm.timely, sm.clssr_ksut, sm.clssr_literal_ksut, sm.clssr_monotone_ksut, sm.reward,
                             sm.mean_b, changed[s], models[s].visited_pairs());
      reliability[s].push_back(sm.reliability);
      clssr[s].push_back(sm.clssr_ksut);
      results[s].final_summary = sm;
    }
  };
  score(0, std::vector<int64_t>(n_set, 0));
  for (int64_t ep = 0; ep < agent.episodes; ++ep) {
    interrupt::test_hooks_at_step("agent_" + method_name, ep);
    interrupt::stop_if_pending(fmt::format("before episode {} of {} of {}", ep, agent.episodes, method_name),
                               agent.resume_command.empty()
                                   ? std::string("the agents keep no checkpoint: run the command again")
                                   : fmt::format("the agents keep no checkpoint; {} restores the trained codec and "
                                                 "trains them again from the start",
                                                 agent.resume_command));
    const auto step = static_cast<uint32_t>(ep);
    // The tasks and their channels do not depend on tau: one draw serves every agent.
    const Tasks tasks =
        draw_tasks(codec, env0, steps, agent.stay_prob, rng::kStreamSource, rng::kStreamLink, step, device);
    std::vector<std::vector<int64_t>> states;
    for (const Env& env : envs) states.push_back(channel_states(env, tasks));
    experience(sizes, gsize, agent, tasks, states, policies, key, step,
               [&](const std::vector<int64_t>& beams, const std::vector<int64_t>& gsel) {
                 const std::vector<Outcome> outs = run_tasks_at(codec, env0, taus, rules, method, tasks, beams, gsel,
                                                                agent.gain_weight, rng::kStreamLink, step);
                 for (size_t j = 0; j < beams.size(); ++j) {
                   const size_t s = j / static_cast<size_t>(steps), u = j % static_cast<size_t>(steps);
                   models[s].add_reward(tasks.cls[u] * sizes.num_channel_states + states[s][u],
                                        beams[j] * gsize + gsel[j], outs[s].reward[u]);
                 }
               });
    std::vector<int64_t> changed(n_set);
    for (size_t s = 0; s < n_set; ++s) {
      learn(models[s], tasks.cls, states[s]);
      const rl::PolicyIterationResult pi = rl::policy_iteration(models[s], agent.gamma, policies[s]);
      policies[s] = pi.policy;
      changed[s] = pi.changed_first;
    }
    score(ep + 1, changed);
  }
  for (size_t s = 0; s < n_set; ++s) {
    episodes_csv.row(rows[s].substr(0, rows[s].size() - 1));
    AgentResult& r = results[s];
    r.policy = policies[s];
    r.converged_reliability = settled_episode(reliability[s], 100.0 * agent.converge_tol);
    r.converged_clssr = settled_episode(clssr[s], agent.converge_tol * std::abs(clssr[s].back()));
    r.converged_episode = std::max(r.converged_reliability, r.converged_clssr);
  }
  return results;
}

AgentResult train_agent(const Codec& codec, const Env& env, const Rules& rules, Method method,
                        const std::string& method_name, const AgentSettings& agent, const Tasks& eval,
                        CsvWriter& episodes_csv, torch::Device device) {
  return train_agents(codec, {env}, rules, method, method_name, agent, eval, episodes_csv, device).front();
}

}  // namespace semsec::trainers::clssr
