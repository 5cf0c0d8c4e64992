// Tabular model estimates and policy iteration of the CLSSR allocator.
#include "trainers/clssr/rl.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"

namespace semsec::trainers::rl {

TabularModel::TabularModel(MdpSizes sizes, double default_reward) : sizes_(sizes), default_reward_(default_reward) {
  if (sizes.num_classes < 1 || sizes.num_channel_states < 1 || sizes.num_actions < 1) {
    fail("MDP sizes must be >= 1, got {} classes, {} channel states, {} actions", sizes.num_classes,
         sizes.num_channel_states, sizes.num_actions);
  }
  const int64_t sa = sizes.num_states() * sizes.num_actions;
  reward_sum_.assign(static_cast<size_t>(sa), 0.0);
  visits_.assign(static_cast<size_t>(sa), 0);
  class_counts_.assign(static_cast<size_t>(sizes.num_classes * sizes.num_classes), 0);
  channel_counts_.assign(static_cast<size_t>(sizes.num_channel_states), 0);
}

void TabularModel::add_reward(int64_t s, int64_t a, double r) {
  if (s < 0 || s >= sizes_.num_states() || a < 0 || a >= sizes_.num_actions || !std::isfinite(r))
    fail("TabularModel::add_reward: bad (s, a, r) = ({}, {}, {})", s, a, r);
  const auto i = static_cast<size_t>(s * sizes_.num_actions + a);
  reward_sum_[i] += r;
  visits_[i] += 1;
}

void TabularModel::add_class_transition(int64_t c, int64_t c_next) {
  if (c < 0 || c >= sizes_.num_classes || c_next < 0 || c_next >= sizes_.num_classes)
    fail("TabularModel::add_class_transition: bad classes ({}, {})", c, c_next);
  class_counts_[static_cast<size_t>(c * sizes_.num_classes + c_next)] += 1;
}

void TabularModel::add_channel_state(int64_t h) {
  if (h < 0 || h >= sizes_.num_channel_states) fail("TabularModel::add_channel_state: bad state {}", h);
  channel_counts_[static_cast<size_t>(h)] += 1;
}

int64_t TabularModel::visits(int64_t s, int64_t a) const {
  return visits_[static_cast<size_t>(s * sizes_.num_actions + a)];
}

int64_t TabularModel::visited_pairs() const {
  return std::count_if(visits_.begin(), visits_.end(), [](int64_t v) { return v > 0; });
}

double TabularModel::mean_reward(int64_t s, int64_t a) const {
  const auto i = static_cast<size_t>(s * sizes_.num_actions + a);
  return visits_[i] > 0 ? reward_sum_[i] / static_cast<double>(visits_[i]) : default_reward_;
}

std::vector<double> TabularModel::class_transitions() const {
  const int64_t c = sizes_.num_classes;
  std::vector<double> p(static_cast<size_t>(c * c));
  for (int64_t i = 0; i < c; ++i) {
    int64_t total = 0;
    for (int64_t j = 0; j < c; ++j) total += class_counts_[static_cast<size_t>(i * c + j)];
    for (int64_t j = 0; j < c; ++j) {
      p[static_cast<size_t>(i * c + j)] =
          total > 0 ? static_cast<double>(class_counts_[static_cast<size_t>(i * c + j)]) / static_cast<double>(total)
                    : 1.0 / static_cast<double>(c);
    }
  }
  return p;
}

std::vector<double> TabularModel::channel_distribution() const {
  int64_t total = 0;
  for (int64_t n : channel_counts_) total += n;
  std::vector<double> p(channel_counts_.size());
  for (size_t h = 0; h < p.size(); ++h) {
    p[h] = total > 0 ? static_cast<double>(channel_counts_[h]) / static_cast<double>(total)
                     : 1.0 / static_cast<double>(p.size());
  }
  return p;
}

std::vector<double> solve_dense(std::vector<double> a, std::vector<double> b) {
  const auto n = static_cast<int64_t>(b.size());
  if (static_cast<int64_t>(a.size()) != n * n) fail("solve_dense: matrix of {} entries for {} unknowns", a.size(), n);
  auto at = [&](int64_t i, int64_t j) -> double& { return a[static_cast<size_t>(i * n + j)]; };
  for (int64_t k = 0; k < n; ++k) {
    int64_t pivot = k;
    for (int64_t i = k + 1; i < n; ++i) {
      if (std::abs(at(i, k)) > std::abs(at(pivot, k))) pivot = i;
    }
    if (!(std::abs(at(pivot, k)) > 1e-300)) fail("solve_dense: singular matrix (column {})", k);
    if (pivot != k) {
      for (int64_t j = 0; j < n; ++j) std::swap(at(k, j), at(pivot, j));
      std::swap(b[static_cast<size_t>(k)], b[static_cast<size_t>(pivot)]);
    }
    for (int64_t i = k + 1; i < n; ++i) {
      const double f = at(i, k) / at(k, k);
      if (f == 0.0) continue;
      for (int64_t j = k; j < n; ++j) at(i, j) -= f * at(k, j);
      b[static_cast<size_t>(i)] -= f * b[static_cast<size_t>(k)];
    }
  }
  std::vector<double> x(static_cast<size_t>(n));
  for (int64_t i = n - 1; i >= 0; --i) {
    double acc = b[static_cast<size_t>(i)];
    for (int64_t j = i + 1; j < n; ++j) acc -= at(i, j) * x[static_cast<size_t>(j)];
    x[static_cast<size_t>(i)] = acc / at(i, i);
  }
  return x;
}

namespace {

void check_policy(const TabularModel& model, double gamma, const std::vector<int64_t>& policy) {
  if (!(gamma >= 0.0 && gamma < 1.0)) fail("policy iteration: gamma must be in [0, 1), got {}", gamma);
  const MdpSizes& z = model.sizes();
  if (static_cast<int64_t>(policy.size()) != z.num_states())
    fail("policy iteration: policy has {} entries for {} states", policy.size(), z.num_states());
  for (int64_t a : policy) {
    if (a < 0 || a >= z.num_actions) fail("policy iteration: action {} outside [0, {})", a, z.num_actions);
  }
}

// (P^S W)(c): the expected value of the next state, which does not depend on the action.
std::vector<double> continuation(const TabularModel& model, double gamma, const std::vector<int64_t>& policy) {
  const MdpSizes& z = model.sizes();
  const int64_t nc = z.num_classes, nh = z.num_channel_states;
  const std::vector<double> ps = model.class_transitions();
  const std::vector<double> ph = model.channel_distribution();
  std::vector<double> rbar(static_cast<size_t>(nc), 0.0);
  for (int64_t c = 0; c < nc; ++c) {
    for (int64_t h = 0; h < nh; ++h) {
      const int64_t s = c * nh + h;
      rbar[static_cast<size_t>(c)] += ph[static_cast<size_t>(h)] * model.mean_reward(s, policy[static_cast<size_t>(s)]);
    }
  }
  std::vector<double> a(static_cast<size_t>(nc * nc));
  for (int64_t i = 0; i < nc; ++i) {
    for (int64_t j = 0; j < nc; ++j) {
      a[static_cast<size_t>(i * nc + j)] = (i == j ? 1.0 : 0.0) - gamma * ps[static_cast<size_t>(i * nc + j)];
    }
  }
  const std::vector<double> w = solve_dense(std::move(a), rbar);
  std::vector<double> next(static_cast<size_t>(nc), 0.0);
  for (int64_t i = 0; i < nc; ++i) {
    for (int64_t j = 0; j < nc; ++j)
      next[static_cast<size_t>(i)] += ps[static_cast<size_t>(i * nc + j)] * w[static_cast<size_t>(j)];
  }
  return next;
}

}  // namespace

std::vector<double> evaluate_policy(const TabularModel& model, double gamma, const std::vector<int64_t>& policy) {
  check_policy(model, gamma, policy);
  const MdpSizes& z = model.sizes();
  const std::vector<double> next = continuation(model, gamma, policy);
  std::vector<double> v(static_cast<size_t>(z.num_states()));
  for (int64_t s = 0; s < z.num_states(); ++s) {
    const int64_t c = s / z.num_channel_states;
    v[static_cast<size_t>(s)] =
        model.mean_reward(s, policy[static_cast<size_t>(s)]) + gamma * next[static_cast<size_t>(c)];
  }
  return v;
}

PolicyIterationResult policy_iteration(const TabularModel& model, double gamma, std::vector<int64_t> initial,
                                       int max_iterations) {
  check_policy(model, gamma, initial);
  const MdpSizes& z = model.sizes();
  PolicyIterationResult out;
  out.policy = std::move(initial);
  for (int it = 0; it < max_iterations; ++it) {
    const std::vector<double> next = continuation(model, gamma, out.policy);
    int changed = 0;
    for (int64_t s = 0; s < z.num_states(); ++s) {
      const int64_t c = s / z.num_channel_states;
      int64_t& cur = out.policy[static_cast<size_t>(s)];
      // q(s, a) = r(s, a) + gamma next(c); the continuation is common to every action, but it is
      // kept in the comparison so the code reads as eq. 11 and 13.
      double best_q = model.mean_reward(s, cur) + gamma * next[static_cast<size_t>(c)];
      int64_t best_a = cur;
      for (int64_t a = 0; a < z.num_actions; ++a) {
        const double q = model.mean_reward(s, a) + gamma * next[static_cast<size_t>(c)];
        if (q > best_q + 1e-12 * std::max(1.0, std::abs(best_q))) {
          best_q = q;
          best_a = a;
        }
      }
      if (best_a != cur) {
        cur = best_a;
        ++changed;
      }
    }
    if (it == 0) out.changed_first = changed;
    out.iterations = it + 1;
    if (changed == 0) break;
  }
  out.value = evaluate_policy(model, gamma, out.policy);
  return out;
}

}  // namespace semsec::trainers::rl
