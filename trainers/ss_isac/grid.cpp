// The grid's table of axes.
#include "trainers/ss_isac/grid.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"

namespace semsec::trainers {

const std::array<GridAxis, 10> kGridAxes{{
    // key                  column          in summary  export                   where a point keeps it
    {"seed", "seed", true, ExportColumn::kRequired, true},
    {"train.snr_db", "train_snr_db", true, ExportColumn::kRequired, false, &GridPoint::train_snr_db},
    {"train.lr", "lr", false, ExportColumn::kNone, false, &GridPoint::lr},
    {"security.psr_db", "psr_db", true, ExportColumn::kRequired, false, &GridPoint::psr_db},
    {"train.gamma_sen", "gamma_sen", false, ExportColumn::kOptional, false, nullptr, &GridPoint::gamma_sen},
    {"train.gamma_com", "gamma_com", false, ExportColumn::kOptional, false, nullptr, &GridPoint::gamma_com},
    {"security.lambda_pow", "lambda_pow", false, ExportColumn::kOptional, false, nullptr, &GridPoint::lambda_pow},
    {"security.lambda_sen", "lambda_sen", false, ExportColumn::kOptional, false, nullptr, &GridPoint::lambda_sen},
    {"security.lambda_com", "lambda_com", false, ExportColumn::kOptional, false, nullptr, &GridPoint::lambda_com},
    {"security.lambda_pri", "lambda_pri", false, ExportColumn::kOptional, false, nullptr, &GridPoint::lambda_pri},
}};

void read_axis(const GridAxis& axis, GridPoint& p, const config::Config& cfg) {
  if (axis.seed) {
    p.seed = static_cast<uint64_t>(cfg.get_int(axis.key));
  } else if (axis.field) {
    p.*axis.field = cfg.get_float(axis.key);
  } else {
    p.*axis.weight = cfg.get_float(axis.key);
  }
}

std::string axis_text(const GridAxis& axis, const GridPoint& p) {
  if (axis.seed) return fmt::format("{}", p.seed);
  return fmt::format("{}", axis.field ? p.*axis.field : (p.*axis.weight).value());
}

double axis_value(const GridAxis& axis, const GridPoint& p, const config::Config& cfg) {
  if (axis.seed) return static_cast<double>(p.seed);
  if (axis.field) return p.*axis.field;
  return (p.*axis.weight).value_or(cfg.get_float(axis.key));
}

const GridAxis* grid_axis(std::string_view key) {
  const auto it = std::find_if(kGridAxes.begin(), kGridAxes.end(), [&](const GridAxis& a) { return key == a.key; });
  return it == kGridAxes.end() ? nullptr : &*it;
}

std::string grid_keys_text() {
  std::string s;
  for (const GridAxis& a : kGridAxes) s += std::string(s.empty() ? "" : ", ") + a.key;
  return s;
}

GridPoint point_from_config(const config::Config& cfg) {
  GridPoint p;
  for (const GridAxis& a : kGridAxes) read_axis(a, p, cfg);
  return p;
}

Grid::Grid(const config::Config& cfg, std::vector<GridPoint> points) : cfg_(&cfg), points_(std::move(points)) {
  if (points_.empty()) fail("IsacExperiment: no grid points");
  for (const auto& p : points_) seeds_.push_back(p.seed);
}

const GridAxis& Grid::axis(std::string_view key) const {
  const GridAxis* a = grid_axis(key);
  if (a == nullptr) fail("Grid: '{}' is not a grid key", key);
  return *a;
}

std::vector<double> Grid::values(std::string_view key) const {
  const GridAxis& a = axis(key);
  std::vector<double> v;
  for (const auto& p : points_) v.push_back(axis_value(a, p, *cfg_));
  return v;
}

torch::Tensor Grid::tensor(std::string_view key, torch::Device device) const {
  std::vector<float> v;
  for (const double x : values(key)) v.push_back(static_cast<float>(x));
  return torch::tensor(v, torch::kFloat32).to(device);
}

std::string Grid::points_csv() const {
  std::string out = "point";
  for (const GridAxis& a : kGridAxes) out += fmt::format(",{}", a.column);
  out += "\n";
  for (size_t i = 0; i < points_.size(); ++i) {
    out += fmt::format("{}", i);
    for (const GridAxis& a : kGridAxes) {
      out += ',';
      out += axis_text(a, points_[i]);
    }
    out += "\n";
  }
  return out;
}

std::vector<std::pair<std::string, double>> Grid::columns(int64_t g) const {
  std::vector<std::pair<std::string, double>> out;
  for (const GridAxis& a : kGridAxes) out.emplace_back(a.column, axis_value(a, point(g), *cfg_));
  return out;
}

double psr_to_tau(double psr_db, int64_t latent_dim) {
  return std::pow(10.0, psr_db / 10.0) / static_cast<double>(latent_dim);
}

}  // namespace semsec::trainers
