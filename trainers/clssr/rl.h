// Tabular model-based reinforcement learning of the CLSSR allocator (Sec. IV of the CLSSR paper):
// the MDP model is estimated from Monte-Carlo experience and solved by policy iteration (eq. 10-13).
//
// State s = (c, h): c the class of the current source codeword, h the quantised channel state;
// s = c * num_channel_states + h. Action a (the caller's encoding of beam x b).
// Transitions factorise as the paper states (P^T ~ P^S): p(s' | s, a) = P^S(c' | c) p(h'), the
// class follows the stationary source chain and the channel state is redrawn at every time stamp
// (block fading), independently of the action. Hence with W(c) = sum_h p(h) v(c, h):
//   policy evaluation (eq. 10):   W = (I - gamma P^S)^-1 rbar_pi,  rbar_pi(c) = sum_h p(h) r(c, h, pi(c, h)),
//                                 v(c, h) = r(c, h, pi(c, h)) + gamma (P^S W)(c)
//   action values (eq. 11):       q(s, a) = r(s, a) + gamma (P^S W)(c)
//   improvement (eq. 13):         pi'(s) = argmax_a q(s, a), ties keep the current action, so the
//                                 iteration stops (Lemma 1 / Theorem 1).
#pragma once

#include <cstdint>
#include <vector>

namespace semsec::trainers::rl {

struct MdpSizes {
  int64_t num_classes = 1;
  int64_t num_channel_states = 1;
  int64_t num_actions = 1;
  int64_t num_states() const { return num_classes * num_channel_states; }
};

// Running Monte-Carlo estimates of the model. Unvisited (s, a) pairs have mean reward
// `default_reward`; a class never left has a uniform transition row, an empty channel histogram a
// uniform distribution (the least committal estimates).
class TabularModel {
 public:
  explicit TabularModel(MdpSizes sizes, double default_reward = 0.0);

  const MdpSizes& sizes() const { return sizes_; }
  void add_reward(int64_t s, int64_t a, double r);
  void add_class_transition(int64_t c, int64_t c_next);
  void add_channel_state(int64_t h);

  int64_t visits(int64_t s, int64_t a) const;
  int64_t visited_pairs() const;  // (s, a) pairs seen at least once
  double mean_reward(int64_t s, int64_t a) const;
  std::vector<double> class_transitions() const;     // row-major [C, C], rows sum to 1
  std::vector<double> channel_distribution() const;  // [H], sums to 1

 private:
  MdpSizes sizes_;
  double default_reward_;
  std::vector<double> reward_sum_;
  std::vector<int64_t> visits_;
  std::vector<int64_t> class_counts_;
  std::vector<int64_t> channel_counts_;
};

struct PolicyIterationResult {
  std::vector<int64_t> policy;  // [S] action per state
  std::vector<double> value;    // [S] v_pi of the returned policy
  int iterations = 0;           // improvement rounds until the policy was stable
  int changed_first = 0;        // states whose action the first improvement changed
};

// Policy iteration from `initial` ([S], values in [0, num_actions)); gamma in [0, 1).
// Throws semsec::Error for a bad gamma or policy.
PolicyIterationResult policy_iteration(const TabularModel& model, double gamma, std::vector<int64_t> initial,
                                       int max_iterations = 100);

// Exact v_pi by the factorised solve above ([S]); exposed for tests and diagnostics.
std::vector<double> evaluate_policy(const TabularModel& model, double gamma, const std::vector<int64_t>& policy);

// Solves A x = b for a dense n x n row-major A (partial pivoting); throws semsec::Error when A is
// singular to working precision.
std::vector<double> solve_dense(std::vector<double> a, std::vector<double> b);

}  // namespace semsec::trainers::rl
