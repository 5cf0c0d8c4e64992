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
  const IsacSettings s = isac_settings(cfg);
  const int64_t latent = s.model.latent_dim;
  const models::ArnSizes arn = arn_sizes(s);
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
      {"base.bs_hidden", std::to_string(s.model.bs_hidden)},
      {"base.ue_hidden", std::to_string(s.model.ue_hidden)},
      {"base.feature_dim", std::to_string(s.model.feature_dim)},
      {"eve.hidden", list(s.eve.hidden)},
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
  const int64_t latent = isac_settings(cfg).model.latent_dim;
  std::map<std::string, std::string> meta = run_metadata(cfg);
  add_point_metadata(meta, grid_columns(Grid(cfg, {point_from_config(cfg)})), latent);
  // A sweep ensemble: per-point values (index g of the leading grid dimension) as comma lists.
  const std::string points = fs::join(run_dir, "points.csv");
  if (fs::exists(points)) add_point_metadata(meta, points_csv_columns(points), latent);
  return meta;
}

namespace {

// The grid-layout tensors of RUN_DIR's finished stages: the white-box ARN pair, and with
// include_all the base system and Eve's classifier.
NamedTensorList run_tensors(const std::string& run_dir, bool include_all) {
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
  return tensors;
}

// The activation after the last layer of each network (ReLU always sits between layers).
const char* out_activation(const std::string& module_net) {
  if (module_net == "base.se" || module_net == "base.jscd_bs" || module_net == "base.jscd_ue") return "relu";
  if (module_net == "base.sd_ue") return "sigmoid";
  return "none";
}

// The value of point g in a comma list of export_metadata.
std::string nth_item(const std::string& list, size_t g) {
  std::istringstream in(list);
  std::string item;
  for (size_t i = 0; std::getline(in, item, ','); ++i) {
    if (i == g) return item;
  }
  return list;  // a single value shared by every point
}

// Copies grid-layout tensors into a module's parameters by name (after stripping `prefix`).
void load_into(torch::nn::Module& m, const NamedTensorList& tensors, const std::string& prefix) {
  torch::NoGradGuard no_grad;
  auto params = m.named_parameters();
  int64_t loaded = 0;
  for (const auto& [name, t] : tensors) {
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string key = name.substr(prefix.size());
    if (!params.contains(key)) fail("semsec export: internal: no parameter '{}' for '{}'", key, name);
    params[key].copy_(t);
    ++loaded;
  }
  if (loaded != static_cast<int64_t>(params.size())) {
    fail("semsec export: internal: {} of {} parameters under '{}'", loaded, params.size(), prefix);
  }
}

}  // namespace

ExportResult export_run(const std::string& run_dir, const std::string& out_base, bool include_all) {
  const NamedTensorList tensors = run_tensors(run_dir, include_all);  // checks the directory first
  return write_export(tensors, export_metadata(run_dir), out_base);
}

namespace {

// Fixed inputs and semsec's outputs of every exported network at every point ([G, 4, ...]), from
// semsec's own modules loaded with the exported weights.
NamedTensorList check_vectors(const NamedTensorList& grid, const IsacSettings& s,
                              const std::map<std::string, std::string>& meta, bool include_all, int64_t num_points) {
  torch::NoGradGuard no_grad;
  const int64_t latent = s.model.latent_dim;
  const std::vector<uint64_t> seeds(static_cast<size_t>(num_points), 0);
  models::PairedArn arn(seeds, arn_sizes(s));
  load_into(*arn, grid, "arn.");
  Encryption encryption;
  encryption.projection = s.security.projection;
  encryption.equal_power = s.security.equal_power;
  std::vector<float> psr;
  for (int64_t g = 0; g < num_points; ++g) {
    const double psr_db = std::strtod(nth_item(meta.at("psr_db"), static_cast<size_t>(g)).c_str(), nullptr);
    psr.push_back(static_cast<float>(std::pow(10.0, psr_db / 10)));
  }
  auto gen = at::detail::createCPUGenerator(20261205);
  const int64_t b = 4;
  const torch::Tensor z = models::normalize_power(torch::randn({1, b, latent}, gen)).expand({num_points, b, latent});
  const torch::Tensor y = torch::randn({1, b, 2 * latent}, gen).expand({num_points, b, 2 * latent});
  NamedTensorList check{{"arn.z", z},
                        {"arn.delta", arn->delta(z)},
                        {"arn.encrypt", encrypt(arn, z, torch::tensor(psr), encryption)},
                        {"arn.y", y},
                        {"arn.decrypt_bs", arn->decrypt_bs(y)},
                        {"arn.decrypt_ue", arn->decrypt_ue(y)}};
  if (!include_all) return check;
  int64_t input_dim = 0;
  for (const auto& [name, t] : grid) {
    if (name == "base.se.fc0.weight") input_dim = t.size(1);
  }
  models::GsIsac base(seeds, gs_isac_sizes(s, input_dim));
  load_into(*base, grid, "base.");
  models::EveClassifier eve(seeds, 2 * latent, s.eve.hidden, s.eve.num_classes, models::kInitEveWhitebox);
  load_into(*eve, grid, "eve.");
  const torch::Tensor x = torch::rand({1, b, input_dim}, gen).expand({num_points, b, input_dim});
  check.insert(check.end(), {{"base.x", x},
                             {"base.transmit", base->transmit(x)},
                             {"base.y", y},
                             {"base.receive_bs", base->receive_bs(y)},
                             {"base.receive_ue", base->receive_ue(y)},
                             {"eve.y", y},
                             {"eve.logits", eve->forward(y)}});
  return check;
}

// Point g's weights as nn.Sequential / nn.Linear name them:
// <module>.<network>.fc<i>.{weight [in, out], bias [1, out]} -> <module>.<network>.<2 i>.{weight [out, in], bias
// [out]}.
NamedTensorList torch_layout(const NamedTensorList& grid, int64_t g) {
  NamedTensorList tensors;
  for (const auto& [name, t] : grid) {
    const size_t fc = name.rfind(".fc");
    const size_t dot = name.rfind('.');
    const int64_t layer = std::stoll(name.substr(fc + 3, dot - fc - 3));
    const std::string torch_name = fmt::format("{}.{}{}", name.substr(0, fc), 2 * layer, name.substr(dot));
    const torch::Tensor p = t[g];
    tensors.emplace_back(torch_name, name.ends_with(".weight") ? p.t().contiguous() : p.reshape({-1}).contiguous());
  }
  return tensors;
}

// Point g's metadata: the layout, the activations, the run's configuration and its own values.
std::map<std::string, std::string> torch_layout_metadata(const NamedTensorList& grid,
                                                         const std::map<std::string, std::string>& meta,
                                                         const IsacSettings& s, int64_t g) {
  std::map<std::string, std::string> m{
      {"format", "semsec-weights-torch-1"},
      {"semsec_version", SEMSEC_VERSION},
      {"naming",
       "<module>.<network>.<index>.{weight [out,in], bias [out]}: nn.Sequential of nn.Linear with nn.ReLU between "
       "(Linear layers at 0, 2, 4, ...) and the network's output activation last (see 'activations')"},
      {"point", std::to_string(g)},
      {"config_yaml", meta.at("config_yaml")},
      {"power_constraint", s.security.power_constraint},
      {"equal_power", s.security.equal_power ? "true" : "false"}};
  std::string acts;
  for (const auto& [name, t] : grid) {
    const std::string net = name.substr(0, name.rfind(".fc"));
    if (name.ends_with(".fc0.weight"))
      acts += fmt::format("{}{}={}", acts.empty() ? "" : ",", net, out_activation(net));
  }
  m["activations"] = acts;
  for (const char* k : {"seed", "train_snr_db", "psr_db", "tau", "gamma_sen", "gamma_com", "lambda_pow", "lambda_sen",
                        "lambda_com", "lambda_pri"}) {
    if (meta.contains(k)) m[k] = nth_item(meta.at(k), static_cast<size_t>(g));
  }
  return m;
}

}  // namespace

std::vector<ExportResult> export_run_torch(const std::string& run_dir, const std::string& out_base, bool include_all,
                                           int64_t point) {
  const NamedTensorList grid = run_tensors(run_dir, include_all);
  const std::map<std::string, std::string> meta = export_metadata(run_dir);
  const int64_t num_points = grid.front().second.size(0);
  if (point >= num_points) {
    fail("semsec export --point {}: {} has {} grid point(s) (0-{})", point, run_dir, num_points, num_points - 1);
  }
  const IsacSettings s = isac_settings(config::Config::load(isac_schema(), fs::join(run_dir, "config.yaml"), {}));
  const NamedTensorList check = check_vectors(grid, s, meta, include_all, num_points);
  std::vector<ExportResult> results;
  for (int64_t g = std::max<int64_t>(point, 0); g < (point >= 0 ? point + 1 : num_points); ++g) {
    const std::map<std::string, std::string> m = torch_layout_metadata(grid, meta, s, g);
    const std::string base = point >= 0 || num_points == 1 ? out_base : fmt::format("{}_p{}", out_base, g);
    results.push_back(write_export(torch_layout(grid, g), m, base));
    NamedTensorList point_check;
    for (const auto& [name, t] : check) point_check.emplace_back(name, t[g].contiguous());
    write_safetensors(base + ".check.safetensors", point_check,
                      {{"point", std::to_string(g)}, {"psr_db", m.at("psr_db")}});
  }
  return results;
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
  std::map<std::string, std::string> meta = run_metadata(exp.config());
  add_point_metadata(meta, grid_columns(exp.grid()), exp.settings().model.latent_dim);
  return write_export(tensors, meta, out_base);
}

}  // namespace semsec::trainers
