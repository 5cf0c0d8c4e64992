// One SS-ISAC run, start to end: every stage the configuration enables (general system; with
// security.enabled Eve's classifiers, the ARN pairs and the adaptive Eve), the evaluation over the
// test SNRs, the export of the trained weights from memory, and summary.csv. `semsec train` runs
// it for one grid point, `semsec sweep` for each ensemble.
#pragma once

#include <vector>

#include "core/config.h"
#include "trainers/engine/run_context.h"
#include "trainers/ss_isac/experiment.h"

namespace semsec::trainers {

// `semsec train`: one grid point, the configuration's.
void run_train(const config::Config& cfg, RunContext& ctx);

// Trains every enabled stage (each resumes from its checkpoint or is skipped when complete).
void train_stages(IsacExperiment& exp);
// Evaluates what was trained: unplug / decrypt_only / plugged against every Eve, or the general
// system alone.
std::vector<SummaryRow> evaluate(IsacExperiment& exp);
// All of the above, the export (output.export) and summary.csv; returns the summary's rows.
std::vector<SummaryRow> run_experiment(IsacExperiment& exp, RunContext& ctx);

// Writes RUN_DIR/summary.csv (atomically), the evaluation scalars to TensorBoard, and a line per
// test SNR of point 0 to the log.
void write_summary(const std::vector<SummaryRow>& rows, int64_t num_points, RunContext& ctx);
// TensorBoard's HParams of every point of `grid`: its grid values and ctx.tb_hparams, and as its
// metrics the summary's values, one scalar per row and metric at step 0 under
// final/VARIANT/EVE/METRIC/SNRdB (final/clean/clean/pc_eve for Eve's ceiling); a diverged point
// ends its session with STATUS_FAILURE and no metrics.
void write_hparams(const std::vector<SummaryRow>& rows, const Grid& grid, RunContext& ctx);

// The threat model's files (threat.enabled), written before summary.csv: adaptive_eve.csv (P_c of
// every threat Eve) and defences.csv (each defence's utility and realised PSR).
std::string adaptive_eve_header();
std::string defences_header();

}  // namespace semsec::trainers
