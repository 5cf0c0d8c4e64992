// The run directory's metrics.csv and TensorBoard writer.
#include "trainers/engine/run_context.h"

#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/errors.h"
#include "core/fs.h"
#include "core/rundir.h"

namespace semsec::trainers {

MetricsLog::MetricsLog(std::string path) : path_(std::move(path)) {}

void MetricsLog::load_existing() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!text.empty() && text.back() != '\n') {
    // A failed or cut-off append: the last line is incomplete. Drop it; the rows are logged again
    // from the checkpoint on.
    text.erase(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
    rewrite_ = true;
  }
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    std::istringstream ss(line);
    Row r;
    std::string step, point, value;
    if (!std::getline(ss, r.stage, ',') || !std::getline(ss, step, ',') || !std::getline(ss, point, ',') ||
        !std::getline(ss, r.term, ',') || !std::getline(ss, value)) {
      fail("{}: malformed line '{}'", path_, line);
    }
    try {
      r.step = std::stoll(step);
      r.point = std::stoll(point);
      r.value = std::stod(value);
    } catch (const std::exception&) {
      fail("{}: malformed line '{}'", path_, line);
    }
    rows_.push_back(r);
  }
  written_ = rows_.size();
  if (text.empty()) rewrite_ = true;
}

void MetricsLog::truncate(const std::string& stage, int64_t step) {
  const size_t before = rows_.size();
  std::erase_if(rows_, [&](const Row& r) { return r.stage == stage && r.step > step; });
  if (rows_.size() != before) {
    rewrite_ = true;
    written_ = std::min(written_, rows_.size());
  }
}

void MetricsLog::add(const std::string& stage, int64_t step, int64_t point, const std::string& term, double value) {
  rows_.push_back(Row{stage, step, point, term, value});
}

double MetricsLog::min_abs(const std::string& stage, int64_t point, const std::string& term) const {
  double best = std::nan("");
  for (const Row& r : rows_) {
    if (r.point == point && r.stage == stage && r.term == term && !(std::abs(r.value) >= best))
      best = std::abs(r.value);
  }
  return best;
}

namespace {

std::string metric_lines(const auto& begin, const auto& end) {
  std::string out;
  for (auto it = begin; it != end; ++it)
    out += fmt::format("{},{},{},{},{}\n", it->stage, it->step, it->point, it->term, it->value);
  return out;
}

}  // namespace

void MetricsLog::save() {
  if (rewrite_ || !fs::exists(path_)) {
    write_file_atomic(path_, "stage,step,point,term,value\n" + metric_lines(rows_.begin(), rows_.end()));
    rewrite_ = false;
  } else if (written_ < rows_.size()) {
    append_file_durable(path_, metric_lines(rows_.begin() + static_cast<std::ptrdiff_t>(written_), rows_.end()));
  }
  written_ = rows_.size();
}

tb::EventWriter* tb_point(RunContext& ctx, int64_t g, int64_t num_points) {
  if (!ctx.tb) return nullptr;
  if (num_points <= 1) return ctx.tb.get();
  if (ctx.tb_points.size() < static_cast<size_t>(num_points)) ctx.tb_points.resize(static_cast<size_t>(num_points));
  auto& w = ctx.tb_points[static_cast<size_t>(g)];
  if (!w) w = std::make_unique<tb::EventWriter>(fs::join(fs::join(ctx.run_dir, "tb"), fmt::format("p{}", g)));
  return w.get();
}

void tb_flush(RunContext& ctx) {
  if (ctx.tb) ctx.tb->flush();
  for (auto& w : ctx.tb_points) {
    if (w) w->flush();
  }
}

RunContext open_run(const std::string& run_dir, torch::Device device, bool resume, bool tensorboard) {
  const std::string err = fs::create_directories(run_dir);
  if (!err.empty()) fail("{}: cannot create the run directory: {}", run_dir, err);
  RunContext ctx;
  ctx.run_dir = run_dir;
  ctx.device = device;
  ctx.metrics = std::make_unique<MetricsLog>(fs::join(run_dir, "metrics.csv"));
  if (resume) ctx.metrics->load_existing();
  if (tensorboard) ctx.tb = std::make_unique<tb::EventWriter>(run_dir);
  return ctx;
}

}  // namespace semsec::trainers
