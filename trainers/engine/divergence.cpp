// Divergence of grid points: detection on the device, freezing through GridAdam's mask.
#include "trainers/engine/divergence.h"

#include <cmath>

#include "core/errors.h"
#include "core/progress.h"

namespace semsec::trainers {

DivergenceGuard::DivergenceGuard(GridAdam& opt, std::string stage, const std::vector<bool>& frozen)
    : opt_(opt), stage_(std::move(stage)) {
  const int64_t g = opt.num_points();
  const auto device = opt.params().front().device();
  frozen_ = frozen;
  frozen_.resize(static_cast<size_t>(g), false);
  std::vector<uint8_t> active(static_cast<size_t>(g));
  for (int64_t i = 0; i < g; ++i) active[static_cast<size_t>(i)] = frozen_[static_cast<size_t>(i)] ? 0 : 1;
  active_ =
      torch::tensor(std::vector<int64_t>(active.begin(), active.end()), torch::kInt64).to(torch::kUInt8).to(device);
  diverged_at_ = torch::zeros({g}, torch::TensorOptions().dtype(torch::kInt64).device(device));
  diverged_at_host_.assign(static_cast<size_t>(g), 0);
  why_.assign(static_cast<size_t>(g), "");
  opt_.set_active(active_);
}

void DivergenceGuard::observe(const NamedTensors& terms) {
  torch::NoGradGuard no_grad;
  const int64_t g = opt_.num_points();
  std::vector<torch::Tensor> values;
  torch::Tensor ok;
  for (const auto& [name, t] : terms) {
    const torch::Tensor v = t.detach().reshape({g});
    const torch::Tensor f = torch::isfinite(v);
    ok = ok.defined() ? ok.logical_and(f) : f;
    values.push_back(v.to(torch::kFloat64));
  }
  for (const torch::Tensor& p : opt_.params()) {
    if (!p.grad().defined()) continue;
    const torch::Tensor f = torch::isfinite(p.grad().reshape({g, -1}).sum(1));
    ok = ok.defined() ? ok.logical_and(f) : f;
  }
  if (!ok.defined()) return;
  if (!terms_at_.defined()) {
    for (const auto& [name, t] : terms) term_names_.push_back(name);
    terms_at_ = torch::full({static_cast<int64_t>(values.size()), g}, std::nan(""),
                            torch::TensorOptions().dtype(torch::kFloat64).device(active_.device()));
  }
  const torch::Tensor newly = active_.to(torch::kBool).logical_and(ok.logical_not());
  const torch::Tensor step = (opt_.step_count() + 1).to(torch::kInt64);  // the step being taken
  diverged_at_.copy_(torch::where(newly, step, diverged_at_));
  if (values.size() == static_cast<size_t>(terms_at_.size(0))) {
    terms_at_.copy_(torch::where(newly.unsqueeze(0), torch::stack(values), terms_at_));
  }
  active_.mul_(ok.to(torch::kUInt8));
}

void DivergenceGuard::freeze(int64_t point, int64_t step, const std::string& why) {
  const auto p = static_cast<size_t>(point);
  frozen_[p] = true;
  diverged_at_host_[p] = step;
  why_[p] = why;
  log::info("stage {}: grid point {} {}; it is frozen at its last finite state{}", stage_, point, why,
            frozen_.size() > 1 ? " and the other points go on" : "");
}

void DivergenceGuard::review(int64_t step, const std::vector<double>& loss, const std::vector<double>& best) {
  const torch::Tensor active = active_.cpu();
  const torch::Tensor at = diverged_at_.cpu();
  const torch::Tensor terms = terms_at_.defined() ? terms_at_.cpu() : torch::Tensor();
  for (int64_t g = 0; g < active.numel(); ++g) {
    const auto p = static_cast<size_t>(g);
    if (frozen_[p]) continue;
    if (active[g].item<uint8_t>() == 0) {
      std::string shown;
      for (size_t t = 0; t < term_names_.size(); ++t) {
        shown +=
            fmt::format("{}{}={}", t ? ", " : "", term_names_[t], terms[static_cast<int64_t>(t)][g].item<double>());
      }
      freeze(
          g, at[g].item<int64_t>(),
          fmt::format("diverged at step {}: a loss term or gradient is not finite ({})", at[g].item<int64_t>(), shown));
      continue;
    }
    const double l = loss.at(p), ref = best.at(p);
    if (std::isfinite(l) && std::isfinite(ref) && std::abs(l) > kBlowupFactor * std::max(ref, 1.0)) {
      active_[g].fill_(0);
      diverged_at_[g].fill_(step);
      freeze(g, step,
             fmt::format("blew up at step {}: loss {:.6g} is more than {:g} x max(1, {:.6g}), its smallest |loss| "
                         "logged before",
                         step, l, kBlowupFactor, ref));
    }
  }
}

bool DivergenceGuard::all_frozen() const {
  for (bool f : frozen_) {
    if (!f) return false;
  }
  return true;
}

std::string DivergenceGuard::describe(int64_t point) const {
  const auto p = static_cast<size_t>(point);
  if (!why_[p].empty()) return fmt::format("point {} {}", point, why_[p]);
  if (frozen_[p]) return fmt::format("point {} diverged in an earlier stage", point);
  return fmt::format("point {} is fine", point);
}

void DivergenceGuard::save(TensorMap& m) const {
  bool any = false;
  for (int64_t s : diverged_at_host_) any |= s > 0;
  if (!any) return;
  m["guard.active"] = active_;
  m["guard.diverged_at"] = diverged_at_;
}

void DivergenceGuard::load(const TensorMap& m, const std::string& path) {
  if (m.count("guard.active") == 0) return;
  restore_tensor(m, "guard.active", active_, path);
  restore_tensor(m, "guard.diverged_at", diverged_at_, path);
  const torch::Tensor active = active_.cpu(), at = diverged_at_.cpu();
  for (int64_t g = 0; g < active.numel(); ++g) {
    const auto p = static_cast<size_t>(g);
    if (active[g].item<uint8_t>() == 0) frozen_[p] = true;
    diverged_at_host_[p] = at[g].item<int64_t>();
    if (diverged_at_host_[p] > 0)
      why_[p] = fmt::format("diverged at step {} (before the resume)", diverged_at_host_[p]);
  }
}

}  // namespace semsec::trainers
