// The threat model of the adaptive eavesdropper (threat.enabled): for every defence, Eves that
// know the architecture and hold n labelled encrypted samples are trained with a budget of steps,
// every sample count, start and architecture together as one grid, and tested on the test set.
#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "core/errors.h"
#include "core/fs.h"
#include "core/interrupt.h"
#include "core/progress.h"
#include "core/rundir.h"
#include "kernels/philox.h"
#include "trainers/ss_isac/counters.h"
#include "trainers/ss_isac/experiment.h"
#include "trainers/ss_isac/losses.h"
#include "trainers/ss_isac/run.h"

namespace semsec::trainers {
namespace {

struct Defence {
  std::string name;
  models::PairedArn* arn = nullptr;  // null: unprotected
};

std::string num_or_empty(double v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string(); }

// Each point's order of the training set (Philox words of stream kStreamThreat, step 0): Eve's n
// samples are its first n, so a larger budget holds every sample of a smaller one. [G, N] int64.
torch::Tensor sample_orders(const std::vector<uint64_t>& seeds, int64_t n) {
  const auto g_count = static_cast<int64_t>(seeds.size());
  torch::Tensor words = torch::empty({g_count, n}, torch::kInt64);
  int64_t* w = words.data_ptr<int64_t>();
  for (int64_t g = 0; g < g_count; ++g) {
    const rng::Key key = rng::make_key(seeds[static_cast<size_t>(g)]);
    for (int64_t i = 0; i < n; ++i) {
      const rng::Philox4 r = rng::draw(key, rng::kStreamThreat, 0, static_cast<uint32_t>(i), 0);
      w[g * n + i] = static_cast<int64_t>((uint64_t{r.v[0]} << 31) ^ r.v[1]);  // ties are broken by index
    }
  }
  return std::get<1>(words.sort(/*stable=*/true, 1));
}

// The training samples of `step` for every point and sample count: uniform draws with replacement
// from each count's subset (counts of one point share the words, so they see common numbers).
// [G, C, B] int64 on the CPU.
torch::Tensor subset_batch(const std::vector<uint64_t>& seeds, const torch::Tensor& orders,
                           const std::vector<int64_t>& counts, int64_t step, int64_t batch) {
  const auto g_count = static_cast<int64_t>(seeds.size());
  const auto c_count = static_cast<int64_t>(counts.size());
  torch::Tensor idx = torch::empty({g_count, c_count, batch}, torch::kInt64);
  int64_t* out = idx.data_ptr<int64_t>();
  const int64_t* ord = orders.data_ptr<int64_t>();
  const int64_t n = orders.size(1);
  for (int64_t g = 0; g < g_count; ++g) {
    const rng::Key key = rng::make_key(seeds[static_cast<size_t>(g)]);
    for (int64_t b = 0; b < batch; ++b) {
      const double u = rng::to_unit(
          rng::draw(key, rng::kStreamThreat, static_cast<uint32_t>(1 + step), static_cast<uint32_t>(b), 0).v[0]);
      for (int64_t c = 0; c < c_count; ++c) {
        const auto pick = std::min(static_cast<int64_t>(u * static_cast<double>(counts[static_cast<size_t>(c)])),
                                   counts[static_cast<size_t>(c)] - 1);
        out[(g * c_count + c) * batch + b] = ord[g * n + pick];
      }
    }
  }
  return idx;
}

// Rows of the grid from the signal of each (point, count): [G, C, B, D] -> [G * S * C, B, D].
torch::Tensor to_rows(const torch::Tensor& t, int64_t starts) {
  const int64_t g = t.size(0), c = t.size(1);
  std::vector<int64_t> shape{g, starts};
  for (int64_t d = 1; d < t.dim(); ++d) shape.push_back(t.size(d));
  std::vector<int64_t> rows{g * starts * c};
  for (int64_t d = 2; d < t.dim(); ++d) rows.push_back(t.size(d));
  return t.unsqueeze(1).expand(shape).reshape(rows);
}

// A defence's file of RUN_DIR/threat/: adaptive_eve.csv's header and rows, then defences.csv's.
void read_threat_rows(const std::string& path, std::vector<std::string>& adaptive, std::vector<std::string>& rows) {
  std::istringstream in(read_file(path));
  std::string line;
  std::vector<std::string>* into = nullptr;
  while (std::getline(in, line)) {
    if (line == adaptive_eve_header()) {
      into = &adaptive;
    } else if (line == defences_header()) {
      into = &rows;
    } else if (into == nullptr) {
      fail("{}: expected the header '{}' first; the file was not written by this version, delete it to recompute", path,
           adaptive_eve_header());
    } else {
      into->push_back(line);
    }
  }
  if (adaptive.empty() || rows.empty()) fail("{}: rows are missing; delete the file to recompute", path);
}

}  // namespace

IsacExperiment::ThreatRows IsacExperiment::evaluate_threats() {
  ThreatRows out;
  std::vector<Defence> defences{{"unprotected", nullptr}, {"paired", &arn_wb_}};
  if (arn_mm_) defences.push_back({"minmax", &arn_mm_});
  if (arn_key_) defences.push_back({"keyed", &arn_key_});
  if (arn_conf_) defences.push_back({"confusion", &arn_conf_});
  const int64_t n_train = train_.images.size(0);
  std::vector<int64_t> counts;
  for (const int64_t n : settings_.threat.samples) counts.push_back(n == 0 ? n_train : n);
  const torch::Tensor orders = sample_orders(grid_.seeds(), n_train);
  const int64_t steps_cfg = settings_.threat.steps;
  const int64_t steps = steps_cfg > 0 ? steps_cfg : settings_.eve_stage.epochs * sampler_->steps_per_epoch();
  if (steps >= counters::kStride)
    fail("threat.steps: {} steps exceed the threat model's {} counters", steps, counters::kStride);
  fs::create_directories(fs::join(ctx_.run_dir, "threat"));
  for (size_t d = 0; d < defences.size(); ++d) {
    // A defence's rows are kept in RUN_DIR/threat/ once done, so a resumed run continues with the next.
    const std::string done = fs::join(ctx_.run_dir, "threat/" + defences[d].name + ".csv");
    std::vector<std::string> adaptive, rows;
    if (fs::is_file(done)) {
      log::info("threat model: '{}' done before ({}), read back", defences[d].name, done);
      read_threat_rows(done, adaptive, rows);
    } else {
      std::vector<ThreatEves> grids = make_threat_eves(static_cast<int64_t>(counts.size()));
      train_threat_eves(defences[d].arn, grids, counts, orders, steps,
                        counters::kThreat + static_cast<int64_t>(d) * counters::kStride, defences[d].name);
      adaptive = test_threat_eves(defences[d].arn, defences[d].name, grids, counts, steps);
      rows = defence_rows(defences[d].arn, defences[d].name);
      std::string text = adaptive_eve_header() + "\n";
      for (const auto& line : adaptive) text += line + "\n";
      text += defences_header() + "\n";
      for (const auto& line : rows) text += line + "\n";
      write_file_atomic(done, text);
    }
    out.adaptive.insert(out.adaptive.end(), adaptive.begin(), adaptive.end());
    out.defences.insert(out.defences.end(), rows.begin(), rows.end());
  }
  return out;
}

std::vector<IsacExperiment::ThreatEves> IsacExperiment::make_threat_eves(int64_t num_counts) {
  const int64_t g_count = grid_.size(), y_dim = 2 * model_->sizes().latent_dim;
  // The paper's architecture with every start; the larger one from scratch (P_Eve has no weights
  // of its shape to start from).
  std::vector<ThreatEves> grids;
  grids.push_back({"paper", settings_.threat.starts, nullptr, nullptr});
  if (settings_.threat.large_hidden != std::vector<int64_t>{0})
    grids.push_back({"large", {"scratch"}, nullptr, nullptr});
  for (ThreatEves& e : grids) {
    const auto s_count = static_cast<int64_t>(e.starts.size());
    std::vector<uint64_t> row_seeds;  // the rows of a point start from the same draw
    for (const uint64_t s : grid_.seeds())
      row_seeds.insert(row_seeds.end(), static_cast<size_t>(s_count * num_counts), s);
    const bool large = e.arch == "large";
    e.eves =
        models::EveClassifier(row_seeds, y_dim, (large ? settings_.threat.large_hidden : settings_.eve.hidden),
                              settings_.eve.num_classes, large ? models::kInitEveThreatLarge : models::kInitEveThreat);
    e.eves->to(ctx_.device);
    for (int64_t s = 0; s < s_count; ++s) {  // rows (g, s, c): a fine-tuned start's rows begin as P_Eve
      if (e.starts[static_cast<size_t>(s)] == "finetune")
        models::copy_into_rows(*eve_wb_, *e.eves, s_count * num_counts, s * num_counts, num_counts);
    }
    e.opt = std::make_shared<GridAdam>(
        e.eves->parameters(),
        std::vector<double>(static_cast<size_t>(g_count * s_count * num_counts), settings_.eve_stage.lr),
        stage_spec("eve_adaptive").adam);
  }
  return grids;
}

void IsacExperiment::train_threat_eves(models::PairedArn* arn, std::vector<ThreatEves>& grids,
                                       const std::vector<int64_t>& counts, const torch::Tensor& orders, int64_t steps,
                                       int64_t offset, const std::string& name) {
  const int64_t g_count = grid_.size(), c_count = static_cast<int64_t>(counts.size());
  const int64_t batch = settings_.train.batch_size, y_dim = 2 * model_->sizes().latent_dim;
  auto progress = log::Progress::for_stderr("threat_" + name, steps);
  for (int64_t step = 0; step < steps; ++step) {
    const torch::Tensor idx = subset_batch(grid_.seeds(), orders, counts, step, batch).to(ctx_.device).reshape(-1);
    const torch::Tensor x = train_.images.index_select(0, idx).view({g_count, c_count * batch, -1});
    const torch::Tensor labels = train_.labels.index_select(0, idx).view({g_count, c_count, batch});
    torch::Tensor y;
    {
      // Every count's Eves of both architectures see the same signals.
      torch::NoGradGuard no_grad;
      const int64_t s = offset + step;
      channel_.set_step(s);
      const torch::Tensor phi = data::sample_phi(grid_.seeds(), s, c_count * batch, phi_lo_, phi_hi_).to(ctx_.device);
      y = channel_(defend(arn, model_->transmit(x), s, false), phi, train_snr_t_, false)
              .y_eve.view({g_count, c_count, batch, y_dim});
    }
    std::string shown;
    for (ThreatEves& e : grids) {
      const auto s_count = static_cast<int64_t>(e.starts.size());
      const torch::Tensor yl = to_rows(y, s_count), ll = to_rows(labels, s_count);
      e.opt->zero_grad();
      const torch::Tensor logits = e.eves->forward(yl);
      const torch::Tensor ce = eve_cross_entropy(logits, ll);
      ce.sum().backward();
      e.opt->step();
      if ((step + 1) % settings_.train.log_every == 0)
        shown += fmt::format(" {}_ce={:.4g}", e.arch, ce.mean().item<double>());
    }
    if (!shown.empty() || step + 1 == steps) progress.update(step + 1, shown);
    interrupt::test_hooks_at_step("threat_" + name, step + 1);
    interrupt::stop_if_pending(fmt::format("in the threat evaluation of '{}' at step {}", name, step + 1),
                               "a resumed run trains this defence's Eves again (finished defences are kept in "
                               "RUN_DIR/threat/)");
  }
  progress.finish();
}

std::vector<std::string> IsacExperiment::test_threat_eves(models::PairedArn* arn, const std::string& name,
                                                          std::vector<ThreatEves>& grids,
                                                          const std::vector<int64_t>& counts, int64_t steps) {
  torch::NoGradGuard no_grad;
  const int64_t n = test_.images.size(0), g_count = grid_.size(), c_count = static_cast<int64_t>(counts.size());
  const int64_t batch = std::min<int64_t>(settings_.eval.batch_size, n);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(ctx_.device);
  std::vector<std::string> lines;
  for (const double snr_db : settings_.threat.test_snr_db) {
    const torch::Tensor snr = torch::full({g_count}, snr_db, torch::TensorOptions().device(ctx_.device));
    std::vector<torch::Tensor> hits;
    for (const ThreatEves& e : grids)
      hits.push_back(torch::zeros({g_count * static_cast<int64_t>(e.starts.size()) * c_count}, f64));
    for (int64_t start = 0; start < n; start += batch) {
      const int64_t bsz = std::min(batch, n - start), step = start / batch;
      const data::Batch b = data::eval_batch(test_, start, bsz, grid_.seeds(), phi_lo_, phi_hi_, ctx_.device);
      const torch::Tensor y = eval_channel(defend(arn, model_->transmit(b.x), step, true), b.phi, snr, step).y_eve;
      for (size_t i = 0; i < grids.size(); ++i) {
        const int64_t rows = static_cast<int64_t>(grids[i].starts.size()) * c_count;
        hits[i] +=
            (grids[i].eves->forward(to_rows(y.unsqueeze(1), rows)).argmax(-1) == to_rows(b.labels.unsqueeze(1), rows))
                .sum(1)
                .to(torch::kFloat64);
      }
    }
    for (size_t i = 0; i < grids.size(); ++i) {
      const torch::Tensor pc = (hits[i] / n).cpu();
      const auto s_count = static_cast<int64_t>(grids[i].starts.size());
      for (int64_t g = 0; g < g_count; ++g) {
        for (int64_t s = 0; s < s_count; ++s) {
          for (int64_t c = 0; c < c_count; ++c) {
            lines.push_back(fmt::format("{},{},{},{},{},{},{},{},{},{}", g, grid_.point(g).seed, name, grids[i].arch,
                                        grids[i].starts[static_cast<size_t>(s)], counts[static_cast<size_t>(c)], steps,
                                        snr_db, grid_.point(g).psr_db,
                                        pc[(g * s_count + s) * c_count + c].item<double>()));
          }
        }
      }
    }
  }
  return lines;
}

std::vector<std::string> IsacExperiment::defence_rows(models::PairedArn* arn, const std::string& name) {
  torch::NoGradGuard no_grad;
  const int64_t n = test_.images.size(0), g_count = grid_.size();
  const int64_t batch = std::min<int64_t>(settings_.eval.batch_size, n);
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(ctx_.device);
  const bool keyed = arn != nullptr && (*arn)->key_dim() > 0;  // a wrong key is scored too
  std::vector<std::string> lines;
  for (const double snr_db : settings_.threat.test_snr_db) {
    const torch::Tensor snr = torch::full({g_count}, snr_db, torch::TensorOptions().device(ctx_.device));
    // Sums over the test set, [G]: squared errors with the right key (0, 1) and a wrong one (2, 3),
    // P_Eve's hits; and every codeword's realised PSR.
    std::vector<torch::Tensor> sums(5);
    for (auto& t : sums) t = torch::zeros({g_count}, f64);
    std::vector<torch::Tensor> ratios;
    for (int64_t start = 0; start < n; start += batch) {
      const int64_t bsz = std::min(batch, n - start), step = start / batch;
      const data::Batch b = data::eval_batch(test_, start, bsz, grid_.seeds(), phi_lo_, phi_hi_, ctx_.device);
      const torch::Tensor z = model_->transmit(b.x);
      const torch::Tensor key = arn ? pair_keys(*arn, step, bsz, true) : torch::Tensor();
      const torch::Tensor sent = arn ? encrypt(*arn, z, psr_linear(), encryption_, nullptr, key) : z;
      if (arn) ratios.push_back(realised_psr(z, sent).to(torch::kFloat64));
      const kernels::IsacLinkOut y = eval_channel(sent, b.phi, snr, step);
      const auto score = [&](const torch::Tensor& k, size_t at) {
        const torch::Tensor bs = arn ? (*arn)->decrypt_bs(y.y_bs, k) : y.y_bs;
        const torch::Tensor ue = arn ? (*arn)->decrypt_ue(y.y_ue, k) : y.y_ue;
        sums[at] += (model_->receive_bs(bs) - b.phi).square().sum(1).to(torch::kFloat64);
        sums[at + 1] += (model_->receive_ue(ue) - b.x).square().mean(2).sum(1).to(torch::kFloat64);
      };
      score(key, 0);
      // A receiver with a wrong key: the key stream of another secret.
      if (keyed) score(frame_keys(step, bsz, true, secret_ + 1), 2);
      sums[4] += (eve_wb_->forward(y.y_eve).argmax(-1) == b.labels).sum(1).to(torch::kFloat64);
    }
    const double nan = std::numeric_limits<double>::quiet_NaN();
    torch::Tensor psr_mean = torch::full({g_count}, nan, f64), psr_p99 = psr_mean.clone();
    if (!ratios.empty()) {
      const torch::Tensor r = torch::cat(ratios, 1);
      psr_mean = 10.0 * torch::log10(r.mean(1));
      psr_p99 = 10.0 * torch::log10(torch::quantile(r, 0.99, 1));
    }
    for (auto& t : sums) t = (t / n).cpu();
    psr_mean = psr_mean.cpu();
    psr_p99 = psr_p99.cpu();
    for (int64_t g = 0; g < g_count; ++g) {
      const auto v = [&](size_t i) { return keyed || i < 2 || i == 4 ? sums[i][g].item<double>() : nan; };
      lines.push_back(fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}", g, grid_.point(g).seed, name, snr_db,
                                  grid_.point(g).psr_db, num_or_empty(psr_mean[g].item<double>()),
                                  num_or_empty(psr_p99[g].item<double>()), v(0), v(1), num_or_empty(v(2)),
                                  num_or_empty(v(3)), v(4)));
    }
  }
  return lines;
}

}  // namespace semsec::trainers
