// The run directory's metrics.csv and TensorBoard writer.
#include "trainers/engine/run_context.h"

#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "core/fs.h"
#include "core/rundir.h"

namespace semsec::trainers {

MetricsLog::MetricsLog(std::string path) : path_(std::move(path)) {}

void MetricsLog::load_existing() {
  std::ifstream in(path_);
  if (!in) return;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    Row r;
    std::string step, point, value;
    if (!std::getline(ss, r.stage, ',') || !std::getline(ss, step, ',') || !std::getline(ss, point, ',') ||
        !std::getline(ss, r.term, ',') || !std::getline(ss, value)) {
      fail("{}: malformed line '{}'", path_, line);
    }
    r.step = std::stoll(step);
    r.point = std::stoll(point);
    r.value = std::stod(value);
    rows_.push_back(r);
  }
}

void MetricsLog::truncate(const std::string& stage, int64_t step) {
  std::erase_if(rows_, [&](const Row& r) { return r.stage == stage && r.step > step; });
}

void MetricsLog::add(const std::string& stage, int64_t step, int64_t point, const std::string& term, double value) {
  rows_.push_back(Row{stage, step, point, term, value});
}

void MetricsLog::save() const {
  std::string out = "stage,step,point,term,value\n";
  for (const auto& r : rows_) out += fmt::format("{},{},{},{},{}\n", r.stage, r.step, r.point, r.term, r.value);
  write_file_atomic(path_, out);
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
