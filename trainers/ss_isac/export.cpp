// `semsec export`.
#include "trainers/export.h"

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
#include "trainers/gs_isac_trainer.h"
#include "trainers/isac_schema.h"
#include "trainers/stage.h"

namespace semsec::trainers {

const char* const kNamingScheme =
    "<module>.<network>.fc<i>.{weight,bias}; weight [G,in,out], bias [G,1,out], y = x @ weight[g] + bias[g]; "
    "ReLU between layers; arn: delta = enc(z), z' = z + delta, z_hat = y - dec_bs(y) / y - dec_ue(y); "
    "y interleaves (re, im) per symbol";

std::map<std::string, std::string> export_metadata(const std::string& run_dir) {
  const config::Config cfg = config::Config::load(isac_schema(), fs::join(run_dir, "config.yaml"), {});
  const int64_t latent = cfg.get_int("model.latent_dim");
  const models::ArnSizes arn;  // the trainer builds the pairs with these sizes
  const double psr_db = cfg.get_float("security.psr_db");
  auto list = [](const std::vector<int64_t>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{}", i ? "," : "", v[i]);
    return s + "]";
  };
  std::map<std::string, std::string> meta{
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
      {"psr_db", fmt::format("{}", psr_db)},
      {"tau", fmt::format("{}", std::pow(10.0, psr_db / 10.0) / static_cast<double>(latent))},
      {"train_snr_db", fmt::format("{}", cfg.get_float("train.snr_db"))},
      {"seed", std::to_string(cfg.get_int("seed"))},
      {"config_yaml", cfg.to_yaml()},
      {"grid_points", "1"},
  };
  for (const LossWeightKey& w : kLossWeightKeys) meta[w.column] = fmt::format("{}", cfg.get_float(w.key));
  // A sweep ensemble: per-point values (index g of the leading grid dimension) as comma lists.
  const std::string points = fs::join(run_dir, "points.csv");
  if (fs::exists(points)) {
    std::istringstream in(read_file(points));
    auto fields = [](const std::string& line) {
      std::vector<std::string> f;
      std::istringstream ls(line);
      for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
      return f;
    };
    std::string line;
    std::getline(in, line);
    // Columns by name: sweeps of earlier versions wrote fewer of them (no loss weights).
    const std::vector<std::string> header = fields(line);
    // Each copied column once, as (name, index): seed, train SNR and PSR are required, the loss
    // weights copied where present.
    std::vector<std::pair<std::string, size_t>> copied;
    auto add_column = [&](const std::string& name, bool required) {
      const auto it = std::find(header.begin(), header.end(), name);
      if (it != header.end()) {
        copied.emplace_back(name, static_cast<size_t>(it - header.begin()));
      } else if (required) {
        fail("semsec export: {}: no column '{}' in the header '{}'", points, name, line);
      }
    };
    for (const char* name : {"seed", "train_snr_db", "psr_db"}) add_column(name, true);
    for (const LossWeightKey& w : kLossWeightKeys) add_column(w.column, false);
    const size_t c_psr = copied[2].second;
    std::map<std::string, std::string> lists;
    std::string taus;
    int64_t n = 0;
    while (std::getline(in, line)) {
      const std::vector<std::string> f = fields(line);
      if (f.size() != header.size()) fail("semsec export: {}: malformed line '{}'", points, line);
      const std::string sep = n ? "," : "";
      for (const auto& [name, c] : copied) lists[name] += sep + f[c];
      const std::string& psr = f[c_psr];
      char* end = nullptr;
      const double psr_db = std::strtod(psr.c_str(), &end);
      if (psr.empty() || *end != '\0') fail("semsec export: {}: psr_db '{}' is not a number (line '{}')", points, psr, line);
      taus += sep + fmt::format("{}", std::pow(10.0, psr_db / 10.0) / static_cast<double>(latent));
      ++n;
    }
    meta["grid_points"] = std::to_string(n);
    for (const auto& [name, list] : lists) meta[name] = list;
    meta["tau"] = taus;
  }
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
    if (step != total) fail("semsec export: {}: stage '{}' stopped at step {} of {}; resume the run first", path, stage, step, total);
    for (const auto& [name, t] : m) {
      if (name.rfind("param.", 0) == 0) tensors.emplace_back(module + "." + name.substr(6), t);
    }
  };
  take("arn_whitebox", "arn", true);
  if (include_all) {
    take("general", "base", true);
    take("eve_whitebox", "eve", true);
  }
  ExportResult r;
  r.safetensors_path = out_base + ".safetensors";
  r.state_dict_path = out_base + ".pt";
  r.num_tensors = static_cast<int64_t>(tensors.size());
  write_safetensors(r.safetensors_path, tensors, export_metadata(run_dir));
  write_torch_state_dict(r.state_dict_path, tensors);
  return r;
}

}  // namespace semsec::trainers
