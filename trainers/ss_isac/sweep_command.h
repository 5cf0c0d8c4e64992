// `semsec sweep` from its parsed command line: a new sweep, --resume, --merge, --shard, or a rank of
// a multi-process job (torchrun, srun); which directory it uses, what it refuses, and how it runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace semsec::trainers {

struct SweepCommand {
  std::string config_file;         // CONFIG (a new sweep)
  std::vector<std::string> args;   // overrides and axes as given
  std::string out;                 // --out
  std::string resume_dir;          // --resume DIR
  std::string merge_dir;           // --merge DIR
  std::string shard;               // --shard I/N
  torch::Device device = torch::kCPU;
  int64_t store_timeout_s = 300;   // --store-timeout
  std::string usage;               // for the message of a missing CONFIG
};

// Runs the command; semsec::Error on every bad combination, naming the option.
void run_sweep_command(const SweepCommand& command);

}  // namespace semsec::trainers
