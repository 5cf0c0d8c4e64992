// fuzz_csv: the text files a run or sweep directory holds: points.csv (semsec export), sweep.txt
// (semsec sweep --resume) and metrics.csv (--resume).
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/fs.h"
#include "tests/fuzz/harness.h"
#include "trainers/engine/run_context.h"
#include "trainers/ss_isac/export.h"
#include "trainers/ss_isac/sweep.h"

namespace semsec::fuzz {

int fuzz_csv_one(const uint8_t* data, size_t size) {
  g_last_accepted = false;
  if (size == 0) return 0;
  static const std::string run_dir = [] {
    const std::string dir = scratch_path("run");
    fs::create_directories(dir);
    // Every key at its default but data.root.
    const std::string config = "data:\n  root: " + yaml_quoted(fake_data_root()) + "\n";
    write_bytes(fs::join(dir, "config.yaml"), config.data(), config.size());
    return dir;
  }();
  const uint8_t which = data[0] % 3;
  const uint8_t* rest = data + 1;
  const size_t n = size - 1;
  try {
    if (which == 0) {
      const std::string points = fs::join(run_dir, "points.csv");
      write_bytes(points, rest, n);
      (void)trainers::points_csv_columns(points);
      (void)trainers::export_metadata(run_dir);
    } else if (which == 1) {
      write_bytes(fs::join(run_dir, "sweep.txt"), rest, n);
      trainers::SweepOptions o;
      o.sweep_dir = run_dir;
      trainers::load_sweep_record(o);
      std::vector<trainers::SweepAxis> axes;
      std::vector<std::string> plain;
      trainers::split_sweep_args(o.args, axes, plain);
    } else {
      const std::string metrics = fs::join(run_dir, "metrics.csv");
      write_bytes(metrics, rest, n);
      trainers::MetricsLog log(metrics);
      log.load_existing();
      (void)log.min_abs("general", 0, "loss");
    }
    g_last_accepted = true;
  } catch (const semsec::Error& e) {
    rejected(e);
  }
  return 0;
}

}  // namespace semsec::fuzz
