// `semsec export`: trained weights of a run as safetensors (with __metadata__ describing the
// architecture and training) and as a state dict that Python's torch.load reads.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/safetensors.h"
#include "trainers/ss_isac/experiment.h"

namespace semsec::trainers {

// Tensor naming scheme, also written into __metadata__["naming"]:
//   <module>.<network>.fc<i>.weight  [G, in, out]   (y = x @ weight[g] + bias[g])
//   <module>.<network>.fc<i>.bias    [G, 1, out]
// modules: arn (enc, dec_bs, dec_ue), base (se, jsce, jscd_bs, sd_bs, jscd_ue, sd_ue), eve (net).
extern const char* const kNamingScheme;

struct ExportResult {
  std::string safetensors_path, state_dict_path;
  int64_t num_tensors = 0;
};

// `semsec export`: reads RUN_DIR's checkpoints (white-box ARN pair; with include_all also the base
// system and Eve's classifier) and writes <out_base>.safetensors and <out_base>.pt.
ExportResult export_run(const std::string& run_dir, const std::string& out_base, bool include_all);

// `semsec export --layout torch`: the same networks in PyTorch's layout, one file pair per grid point
// (all points, or only `point` when it is >= 0): <out_base>.{safetensors,pt} for a run of one point
// or a chosen point, <out_base>_p<g>.{...} for each point otherwise. Names follow nn.Sequential of
// nn.Linear and activation modules (<module>.<network>.<index>.weight [out, in], .bias [out]; the
// Linear layers at indices 0, 2, 4, ...), as python/semsec builds them. Beside each pair,
// <...>.check.safetensors holds inputs and semsec's outputs of every exported network for that
// point (the ARN's encryption with the run's power constraint included), for tests of other
// implementations. Returns one result per point.
std::vector<ExportResult> export_run_torch(const std::string& run_dir, const std::string& out_base, bool include_all,
                                           int64_t point);

// The last stage of a run: the same files from the trained modules in memory.
ExportResult export_experiment(IsacExperiment& exp, const std::string& out_base, bool include_all);

// Per-point values of the exported grid columns as points.csv writes them: column -> one text per
// grid point.
using PointColumns = std::map<std::string, std::vector<std::string>>;

// A sweep ensemble's points.csv, by column name: sweeps of earlier versions wrote fewer columns
// (no loss weights), so the required ones must be there and the optional ones are copied where
// present. semsec::Error naming the file for a missing required column or a malformed line.
PointColumns points_csv_columns(const std::string& path);

// The metadata written for a run: architecture sizes, tau/PSR, train SNR, seed, the loss weights
// (gamma_sen, gamma_com, lambda_pow, lambda_sen, lambda_com, lambda_pri), version, naming; for a
// sweep ensemble (points.csv present) seed, train_snr_db, psr_db, tau and the loss weights are
// comma lists indexed like the leading grid dimension (the weights stay single values for
// ensembles of earlier versions, whose points.csv lacks them), and grid_points says how many.
std::map<std::string, std::string> export_metadata(const std::string& run_dir);

}  // namespace semsec::trainers
