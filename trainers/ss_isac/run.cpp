// One SS-ISAC run: stages, evaluation, export, summary.csv.
#include "trainers/ss_isac/run.h"

#include <cmath>

#include <fmt/ranges.h>

#include "core/progress.h"
#include "core/rundir.h"
#include "trainers/ss_isac/export.h"

namespace semsec::trainers {
namespace {

std::string fmt_or_empty(double v) { return std::isnan(v) ? std::string() : fmt::format("{}", v); }

}  // namespace

std::string summary_header() {
  return "point,variant,eve,train_snr_db,test_snr_db,psr_db,seed,mse_sen,mse_com,pc_eve,psr_real_db,psr_p99_db,status";
}

std::string summary_line(const SummaryRow& r) {
  const bool ok = r.status == "ok";  // a diverged point's metrics are not results
  const auto metric = [ok](double v) { return ok ? fmt_or_empty(v) : std::string(); };
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{}", r.point, r.variant, r.eve, r.train_snr_db,
                     fmt_or_empty(r.test_snr_db), fmt_or_empty(r.psr_db), r.seed, metric(r.mse_sen), metric(r.mse_com),
                     metric(r.pc_eve), metric(r.psr_real_db), metric(r.psr_p99_db), r.status);
}

void run_train(const config::Config& cfg, RunContext& ctx) {
  IsacExperiment exp(cfg, {point_from_config(cfg)}, ctx);
  run_experiment(exp, ctx);
}

void train_stages(IsacExperiment& exp) {
  exp.train_general();
  if (!exp.settings().security.enabled) return;
  exp.train_eves();
  exp.train_arns();
  exp.train_adaptive_eve();
  exp.train_defences();
}

std::string adaptive_eve_header() { return "point,seed,defence,arch,start,samples,steps,test_snr_db,psr_db,pc_eve"; }

std::string defences_header() {
  return "point,seed,defence,test_snr_db,psr_db,psr_real_db,psr_p99_db,mse_sen,mse_com,mse_sen_wrong_key,"
         "mse_com_wrong_key,pc_whitebox";
}

std::vector<SummaryRow> evaluate(IsacExperiment& exp) {
  const IsacSettings& s = exp.settings();
  if (s.security.enabled) {
    log::info("evaluating unplug / decrypt_only / plugged on {} test SNRs", s.eval.test_snr_db.size());
    return exp.evaluate_security();
  }
  log::info("evaluating on {} test SNRs", s.eval.test_snr_db.size());
  return exp.evaluate_general();
}

std::vector<SummaryRow> run_experiment(IsacExperiment& exp, RunContext& ctx) {
  train_stages(exp);
  std::vector<SummaryRow> rows = evaluate(exp);
  for (SummaryRow& r : rows) {
    if (static_cast<size_t>(r.point) < ctx.point_status.size())
      r.status = ctx.point_status[static_cast<size_t>(r.point)];
  }
  // The design's last stage: the trained weights, exported before summary.csv marks the run
  // finished, so a run killed in between exports again when resumed.
  const std::string& what = exp.settings().export_what;
  if (exp.settings().security.enabled && what != "none") {
    const ExportResult e = export_experiment(exp, ctx.run_dir + "/export/arn", what == "all");
    log::info("exported {} tensors to {} and {}", e.num_tensors, e.safetensors_path, e.state_dict_path);
  }
  if (exp.settings().threat.enabled) {
    log::info("threat model: Eves with {} labelled encrypted samples", fmt::join(exp.settings().threat.samples, ", "));
    const IsacExperiment::ThreatRows threat = exp.evaluate_threats();
    CsvWriter adaptive(ctx.run_dir + "/adaptive_eve.csv", adaptive_eve_header());
    for (const auto& line : threat.adaptive) adaptive.row(line);
    CsvWriter defences(ctx.run_dir + "/defences.csv", defences_header());
    for (const auto& line : threat.defences) defences.row(line);
    adaptive.close();
    defences.close();
  }
  write_hparams(rows, exp.grid(), ctx);
  write_summary(rows, exp.num_points(), ctx);
  return rows;
}

void write_summary(const std::vector<SummaryRow>& rows, int64_t num_points, RunContext& ctx) {
  CsvWriter csv(ctx.run_dir + "/summary.csv", summary_header());
  for (const auto& r : rows) {
    csv.row(summary_line(r));
    if (r.variant == "clean") {  // eve.clean_ceiling: no test SNR
      if (r.point == 0 && r.status == "ok")
        log::info("Eve's ceiling (clean codewords, no channel): P_c {:.3f}", r.pc_eve);
      continue;
    }
    tb::EventWriter* w = r.status == "ok" ? tb_point(ctx, r.point, num_points) : nullptr;
    if (w != nullptr) {
      // Evaluation metrics in TensorBoard, with the test SNR (dB) as the step axis.
      const std::string tag = fmt::format("eval/{}/{}", r.variant, r.eve);
      const auto snr = static_cast<int64_t>(std::lround(r.test_snr_db));
      w->add_scalar(tag + "/mse_sen", r.mse_sen, snr);
      w->add_scalar(tag + "/mse_com", r.mse_com, snr);
      if (!std::isnan(r.pc_eve)) w->add_scalar(tag + "/pc_eve", r.pc_eve, snr);
    }
    if (r.point == 0 && r.status == "ok" && (r.eve == "none" || r.eve == "whitebox")) {
      log::info("{:<12} test SNR {:>5.1f} dB: mse_sen {:.5f} rad^2, mse_com {:.5f}{}", r.variant, r.test_snr_db,
                r.mse_sen, r.mse_com,
                std::isnan(r.pc_eve) ? std::string() : fmt::format(", P_c(Eve) {:.3f}", r.pc_eve));
    }
  }
  csv.close();
  tb_flush(ctx);
}

void write_hparams(const std::vector<SummaryRow>& rows, const Grid& grid, RunContext& ctx) {
  for (int64_t g = 0; g < grid.size(); ++g) {
    tb::EventWriter* w = tb_point(ctx, g, grid.size());
    if (w == nullptr) return;
    std::vector<tb::HParam> hparams;
    for (const auto& [name, value] : grid.columns(g)) hparams.push_back({name, value});
    hparams.insert(hparams.end(), ctx.tb_hparams.begin(), ctx.tb_hparams.end());
    const bool ok = static_cast<size_t>(g) >= ctx.point_status.size() || ctx.point_status[g] == "ok";
    std::vector<std::string> tags;
    for (const SummaryRow& r : rows) {
      if (r.point != g || !ok) continue;
      const std::string base =
          r.variant == "clean" ? "final/clean/clean/" : fmt::format("final/{}/{}/", r.variant, r.eve);
      const std::string snr = r.variant == "clean" ? "" : fmt::format("/{}dB", r.test_snr_db);
      for (const auto& [metric, value] :
           {std::pair{"mse_sen", r.mse_sen}, {"mse_com", r.mse_com}, {"pc_eve", r.pc_eve}}) {
        if (std::isnan(value) || (r.variant == "clean" && std::string(metric) != "pc_eve")) continue;
        tags.push_back(base + metric + snr);
        w->add_scalar(tags.back(), value, 0);
      }
    }
    w->add_hparams(hparams, tags, ok);
  }
}

}  // namespace semsec::trainers
