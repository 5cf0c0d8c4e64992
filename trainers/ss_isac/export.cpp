// `semsec export`.
#include "trainers/ss_isac/export.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>

#include "core/checkpoint.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/fs.h"
#include "core/rundir.h"
#include "models/security.h"
#include "trainers/engine/stage.h"
#include "trainers/ss_isac/experiment.h"
#include "trainers/ss_isac/schema.h"

namespace semsec::trainers {

const char* const kNamingScheme =
    "<module>.<network>.fc<i>.{weight,bias}; weight [G,in,out], bias [G,1,out], y = x @ weight[g] + bias[g]; "
    "ReLU between layers; arn: delta = enc(z), z' = z + delta, z_hat = y - dec_bs(y) / y - dec_ue(y); "
    "y interleaves (re, im) per symbol";

namespace {

// What describes the architecture and the run, apart from the per-point values.
std::map<std::string, std::string> run_metadata(const config::Config& cfg) {
  const int64_t latent = cfg.get_int("model.latent_dim");
  const models::ArnSizes arn = arn_sizes(cfg);
  auto list = [](const std::vector<int64_t>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{}", i ? "," : "", v[i]);
    return s + "]";
  };
  return {
      {"format", "semsec-weights-1"},
      {"semsec_version", SEMSEC_VERSION},
      {"naming", kNamingScheme},
      {"latent_dim", std::to_string(latent)},
      {"arn.enc", list({latent, arn.enc_h1, arn.enc_h2, latent})},
      {"arn.dec_bs", list({2 * latent, arn.dec_bs_h1, arn.dec_bs_h2, 2 * latent})},
      {"arn.dec_ue", list({2 * latent, arn.dec_ue_h1, arn.dec_ue_h2, 2 * latent})},
      {"base.bs_hidden", std::to_string(cfg.get_int("model.bs_hidden"))},
      {"base.ue_hidden", std::to_string(cfg.get_int("model.ue_hidden"))},
      {"base.feature_dim", std::to_string(cfg.get_int("model.feature_dim"))},
      {"eve.hidden", list(cfg.get_int_list("eve.hidden"))},
      {"config_yaml", cfg.to_yaml()},
  };
}

// The exported columns of a grid's points.
PointColumns grid_columns(const Grid& grid) {
  PointColumns columns;
  for (const GridAxis& a : kGridAxes) {
    if (a.export_column == ExportColumn::kNone) continue;
    for (const GridPoint& p : grid.points()) columns[a.column].push_back(axis_text(a, p));
  }
  return columns;
}

// Each column as a comma list indexed like the leading grid dimension, tau from psr_db
// (psr_to_tau, eq. 26), and how many points there are.
void add_point_metadata(std::map<std::string, std::string>& meta, const PointColumns& columns, int64_t latent) {
  size_t n = 0;
  for (const auto& [name, values] : columns) {
    std::string joined;
    for (size_t i = 0; i < values.size(); ++i) {
      joined += i ? "," : "";
      joined += values[i];
    }
    meta[name] = joined;
    n = values.size();
  }
  std::string taus;
  const auto it = columns.find("psr_db");
  const std::vector<std::string> psr = it == columns.end() ? std::vector<std::string>{} : it->second;
  for (size_t i = 0; i < psr.size(); ++i) {
    const double psr_db = std::strtod(psr[i].c_str(), nullptr);
    taus += i ? "," : "";
    taus += fmt::format("{}", psr_to_tau(psr_db, latent));
  }
  meta["tau"] = taus;
  meta["grid_points"] = std::to_string(n);
}

}  // namespace

PointColumns points_csv_columns(const std::string& points) {
  std::istringstream in(read_file(points));
  auto fields = [](const std::string& line) {
    std::vector<std::string> f;
    std::istringstream ls(line);
    for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
    return f;
  };
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = fields(line);
  // Each copied column once, as (name, index).
  std::vector<std::pair<std::string, size_t>> copied;
  size_t c_psr = 0;
  for (const GridAxis& a : kGridAxes) {
    if (a.export_column == ExportColumn::kNone) continue;
    const auto it = std::find(header.begin(), header.end(), a.column);
    if (it != header.end()) {
      copied.emplace_back(a.column, static_cast<size_t>(it - header.begin()));
      if (std::string(a.column) == "psr_db") c_psr = copied.back().second;
    } else if (a.export_column == ExportColumn::kRequired) {
      fail("semsec export: {}: no column '{}' in the header '{}'", points, a.column, line);
    }
  }
  PointColumns columns;
  while (std::getline(in, line)) {
    const std::vector<std::string> f = fields(line);
    if (f.size() != header.size()) fail("semsec export: {}: malformed line '{}'", points, line);
    for (const auto& [name, c] : copied) columns[name].push_back(f[c]);
    const std::string& psr = f[c_psr];
    char* end = nullptr;
    std::strtod(psr.c_str(), &end);
    if (psr.empty() || *end != '\0')
      fail("semsec export: {}: psr_db '{}' is not a number (line '{}')", points, psr, line);
  }
  return columns;
}

namespace {

ExportResult write_export(const NamedTensorList& tensors, const std::map<std::string, std::string>& meta,
                          const std::string& out_base) {
  ExportResult r;
  r.safetensors_path = out_base + ".safetensors";
  r.state_dict_path = out_base + ".pt";
  r.num_tensors = static_cast<int64_t>(tensors.size());
  write_safetensors(r.safetensors_path, tensors, meta);
  write_torch_state_dict(r.state_dict_path, tensors);
  return r;
}

}  // namespace

std::map<std::string, std::string> export_metadata(const std::string& run_dir) {
  const config::Config cfg = config::Config::load(isac_schema(), fs::join(run_dir, "config.yaml"), {});
  const int64_t latent = cfg.get_int("model.latent_dim");
  std::map<std::string, std::string> meta = run_metadata(cfg);
  add_point_metadata(meta, grid_columns(Grid(cfg, {point_from_config(cfg)})), latent);
  // A sweep ensemble: per-point values (index g of the leading grid dimension) as comma lists.
  const std::string points = fs::join(run_dir, "points.csv");
  if (fs::exists(points)) add_point_metadata(meta, points_csv_columns(points), latent);
  return meta;
}

ExportResult export_run(const std::string& run_dir, const std::string& out_base, bool include_all) {
  if (!fs::is_directory(run_dir)) fail("semsec export: {}: no such run directory", run_dir);
  NamedTensorList tensors;
  auto take = [&](const std::string& stage, const std::string& module, bool required) {
    const std::string path = stage_checkpoint_path(run_dir, stage);
    if (!fs::exists(path)) {
      if (required) fail("semsec export: {} is missing (did the run train stage '{}' to the end?)", path, stage);
      return;
    }
    const TensorMap m = load_tensors(path);
    const int64_t step = get_int(m, "stage.step", path), total = get_int(m, "stage.total_steps", path);
    if (step != total)
      fail("semsec export: {}: stage '{}' stopped at step {} of {}; resume the run first", path, stage, step, total);
    for (const auto& [name, t] : m) {
      if (name.rfind("param.", 0) == 0) tensors.emplace_back(module + "." + name.substr(6), t);
    }
  };
  take("arn_whitebox", "arn", true);
  if (include_all) {
    take("general", "base", true);
    take("eve_whitebox", "eve", true);
  }
  return write_export(tensors, export_metadata(run_dir), out_base);
}

ExportResult export_experiment(IsacExperiment& exp, const std::string& out_base, bool include_all) {
  NamedTensorList tensors;
  auto take = [&](torch::nn::Module& m, const std::string& module) {
    // By name, as a stage's checkpoint holds them (export_run writes the same files).
    std::map<std::string, torch::Tensor> by_name;
    for (const auto& item : m.named_parameters()) by_name[item.key()] = item.value().detach();
    for (const auto& [name, t] : by_name) tensors.emplace_back(module + "." + name, t);
  };
  take(*exp.arn_whitebox(), "arn");
  if (include_all) {
    take(*exp.model(), "base");
    take(*exp.eve_whitebox(), "eve");
  }
  const config::Config& cfg = exp.config();
  std::map<std::string, std::string> meta = run_metadata(cfg);
  add_point_metadata(meta, grid_columns(exp.grid()), cfg.get_int("model.latent_dim"));
  return write_export(tensors, meta, out_base);
}

}  // namespace semsec::trainers
