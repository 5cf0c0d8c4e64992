// `semsec bench`: side-by-side timings of the training steps, grids against sequential runs,
// the fused channel kernel against ATen, the plain-PyTorch baseline and the FLOP floor.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

namespace semsec::bench {

struct BenchOptions {
  torch::Device device = torch::kCPU;
  bool quick = false;
  std::string out_dir;     // bench.csv goes here
  std::string python;      // interpreter for bench/baseline.py ("" = skip the baseline)
  std::string source_dir;  // where bench/baseline.py lives
  // Which groups to run: channel, loss, steps, grids, floor (empty = all). grids needs the single
  // step time and runs the semsec single step itself when steps is not selected.
  std::vector<std::string> only;
  // Grid sizes of the grids group (empty = 1, 4, 16, 64; with quick on a CPU 1, 4).
  std::vector<int64_t> grids;
};

int run_bench(const BenchOptions& options);

}  // namespace semsec::bench
