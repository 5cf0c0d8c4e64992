// The grid: which configuration keys may differ between the points of one grid-batched
// ensemble, and the points themselves. One table (kGridAxes) says, for each such key, its
// points.csv column, whether summary.csv carries it, whether export's metadata copies it, and how
// a point reads, prints and evaluates it. Sweeps, points.csv, the stages' [G] tensors and export
// all ask it; nothing else lists grid keys.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <torch/torch.h>

#include "core/config.h"

namespace semsec::trainers {

// What may differ between the points of one grid-batched ensemble.
struct GridPoint {
  uint64_t seed = 0;
  double train_snr_db = 15.0;
  double lr = 1e-4;
  double psr_db = -10.0;  // perturbation-to-signal ratio of the ARNs (security stages)
  // Loss weights of this point (eq. 9, eq. 25); unset: the run's train.gamma_* / security.lambda_*.
  std::optional<double> gamma_sen{}, gamma_com{}, lambda_pow{}, lambda_sen{}, lambda_com{}, lambda_pri{};
};

// How export's metadata treats an axis's points.csv column.
enum class ExportColumn { kNone, kRequired, kOptional };

// One grid key. Exactly one of seed / field / weight says where a point keeps it.
struct GridAxis {
  const char* key;     // configuration key
  const char* column;  // points.csv column, and the metadata key of export
  bool in_summary;     // summary.csv has a column of its own for it
  ExportColumn export_column;
  bool seed = false;                                   // GridPoint::seed (an integer key)
  double GridPoint::*field = nullptr;                  // a value every point has
  std::optional<double> GridPoint::*weight = nullptr;  // a loss weight: unset means the config's
};

// Every grid key, in points.csv's column order.
extern const std::array<GridAxis, 10> kGridAxes;

// A point's value of `axis` from a resolved configuration.
void read_axis(const GridAxis& axis, GridPoint& p, const config::Config& cfg);
// As points.csv writes it.
std::string axis_text(const GridAxis& axis, const GridPoint& p);
// The point's value, or the configuration's where the point has none.
double axis_value(const GridAxis& axis, const GridPoint& p, const config::Config& cfg);

// The axis of `key`, or null when the key is not grid-batchable.
const GridAxis* grid_axis(std::string_view key);

// The grid keys as a comma-separated list, for help texts.
std::string grid_keys_text();

// The grid point that a single `semsec train` run describes.
GridPoint point_from_config(const config::Config& cfg);

// tau of eq. 26, the per-symbol power limit of the perturbation: PSR * E||z||^2 / L_z with
// E||z||^2 = 1 and PSR = 10^(psr_db / 10).
double psr_to_tau(double psr_db, int64_t latent_dim);

// The points of one ensemble over the configuration they share.
class Grid {
 public:
  Grid(const config::Config& cfg, std::vector<GridPoint> points);

  int64_t size() const { return static_cast<int64_t>(points_.size()); }
  const std::vector<GridPoint>& points() const { return points_; }
  const GridPoint& point(int64_t g) const { return points_.at(static_cast<size_t>(g)); }
  const std::vector<uint64_t>& seeds() const { return seeds_; }

  // Each point's value of a grid key (the configuration's where a point has none).
  std::vector<double> values(std::string_view key) const;
  // The same as a [G] float32 tensor on `device`.
  torch::Tensor tensor(std::string_view key, torch::Device device) const;

  // points.csv: a header of "point" and every axis's column, one line per point.
  std::string points_csv() const;
  // Point g's value of every axis, by its points.csv column (its TensorBoard HParams).
  std::vector<std::pair<std::string, double>> columns(int64_t g) const;

 private:
  const GridAxis& axis(std::string_view key) const;
  const config::Config* cfg_;
  std::vector<GridPoint> points_;
  std::vector<uint64_t> seeds_;
};

}  // namespace semsec::trainers
