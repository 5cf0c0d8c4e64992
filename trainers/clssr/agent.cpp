// Training of the CLSSR policy-iteration agent: Monte-Carlo experience from simulated tasks, the
// tabular model of trainers/clssr/rl.h, and the greedy policy's score after every episode.
#include "trainers/clssr/agent.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

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

// The untrained agent: a uniformly random action in every state.
std::vector<int64_t> random_policy(const rng::Key& key, const rl::MdpSizes& sizes) {
  std::vector<int64_t> policy(static_cast<size_t>(sizes.num_states()));
  for (int64_t st = 0; st < sizes.num_states(); ++st) {
    const rng::Philox4 w = rng::draw(key, rng::kStreamPolicy, 0xFFFFFFFFu, static_cast<uint32_t>(st), 0);
    policy[static_cast<size_t>(st)] = uniform_index(rng::to_unit(w.v[0]), sizes.num_actions);
  }
  return policy;
}

// One episode's rewards into the model: its tasks simulated under every action (rl.experience =
// all_actions) or under the current policy with epsilon-greedy exploration.
void add_rewards(const Codec& codec, const Env& env, const Rules& rules, Method method, const AgentSettings& agent,
                 const Tasks& tasks, const std::vector<int64_t>& states, const std::vector<int64_t>& policy,
                 const rng::Key& key, uint32_t step, rl::TabularModel& model) {
  const int64_t gsize = codec.grid(), steps = agent.steps;
  const rl::MdpSizes& sizes = model.sizes();
  auto record = [&](const std::vector<int64_t>& beams, const std::vector<int64_t>& gsel) {
    const Outcome out =
        run_tasks(codec, env, rules, method, tasks, beams, gsel, agent.gain_weight, rng::kStreamLink, step);
    for (size_t u = 0; u < static_cast<size_t>(steps); ++u) {
      model.add_reward(tasks.cls[u] * sizes.num_channel_states + states[u], beams[u] * gsize + gsel[u], out.reward[u]);
    }
  };
  if (agent.all_actions) {
    // Monte-Carlo estimate of every action's reward on the same tasks, channels and noise.
    for (int64_t a = 0; a < sizes.num_actions; ++a) {
      record(std::vector<int64_t>(static_cast<size_t>(steps), a / gsize),
             std::vector<int64_t>(static_cast<size_t>(steps), a % gsize));
    }
  } else {
    std::vector<int64_t> beams, gsel;
    act(sizes, gsize, tasks.cls, states, policy, beams, gsel);
    for (int64_t i = 0; i < steps; ++i) {  // epsilon-greedy exploration
      const rng::Philox4 w = rng::draw(key, rng::kStreamPolicy, step, static_cast<uint32_t>(i), 0);
      if (rng::to_unit(w.v[0]) < agent.explore) {
        const int64_t a = uniform_index(rng::to_unit(w.v[1]), sizes.num_actions);
        beams[static_cast<size_t>(i)] = a / gsize;
        gsel[static_cast<size_t>(i)] = a % gsize;
      }
    }
    record(beams, gsel);
  }
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

AgentResult train_agent(const Codec& codec, const Env& env, const Rules& rules, Method method,
                        const std::string& method_name, const AgentSettings& agent, const Tasks& eval,
                        CsvWriter& episodes_csv, torch::Device device) {
  const int64_t gsize = codec.grid(), steps = agent.steps;
  const rl::MdpSizes sizes{static_cast<int64_t>(codec.by_class.size()), env.num_channel_states(),
                           env.num_beams * gsize};
  const std::vector<int64_t> eval_states = channel_states(env, eval);
  rl::TabularModel model(sizes);
  const rng::Key key = rng::make_key(env.seed);
  std::vector<int64_t> policy = random_policy(key, sizes);
  AgentResult result;
  std::vector<double> reliability, clssr;
  // The greedy policy's score on the evaluation tasks: one episodes.csv row.
  auto score = [&](int64_t episode, int64_t changed) {
    std::vector<int64_t> eb, eg;
    act(sizes, gsize, eval.cls, eval_states, policy, eb, eg);
    const Summary s = summarise(run_tasks(codec, env, rules, method, eval, eb, eg, agent.gain_weight,
                                          rng::kStreamLink + rng::kStreamEvalOffset, 0));
    episodes_csv.row(fmt::format("{},{},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{:.6g},{},{}",
                                 setting_columns(agent.seed, method_name, env), episode, s.reliability, s.secure,
                                 s.timely, s.clssr_ksut, s.clssr_literal_ksut, s.clssr_monotone_ksut, s.reward,
                                 s.mean_b, changed, model.visited_pairs()));
    reliability.push_back(s.reliability);
    clssr.push_back(s.clssr_ksut);
    result.final_summary = s;
  };
  score(0, 0);
  for (int64_t ep = 0; ep < agent.episodes; ++ep) {
    interrupt::test_hooks_at_step("agent_" + method_name, ep);
    interrupt::stop_if_pending(fmt::format("before episode {} of {} of {}", ep, agent.episodes, method_name),
                               "the CLSSR command keeps no checkpoint of its agents: run it again (codec.init_from=RUN_DIR/codec.ckpt "
                               "reuses the codec this run trained)");
    const auto step = static_cast<uint32_t>(ep);
    const Tasks tasks =
        draw_tasks(codec, env, steps, agent.stay_prob, rng::kStreamSource, rng::kStreamLink, step, device);
    const std::vector<int64_t> states = channel_states(env, tasks);
    add_rewards(codec, env, rules, method, agent, tasks, states, policy, key, step, model);
    for (size_t u = 0; u < static_cast<size_t>(steps); ++u) {
      model.add_channel_state(states[u]);
      if (u + 1 < static_cast<size_t>(steps)) model.add_class_transition(tasks.cls[u], tasks.cls[u + 1]);
    }
    const rl::PolicyIterationResult pi = rl::policy_iteration(model, agent.gamma, policy);
    policy = pi.policy;
    score(ep + 1, pi.changed_first);
  }
  result.converged_reliability = settled_episode(reliability, 100.0 * agent.converge_tol);
  result.converged_clssr = settled_episode(clssr, agent.converge_tol * std::abs(clssr.back()));
  result.converged_episode = std::max(result.converged_reliability, result.converged_clssr);
  return result;
}

}  // namespace semsec::trainers::clssr
