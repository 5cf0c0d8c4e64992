// A module's parameters as a stage names them (StageSpec::params, ::extra, ::more_params).
#pragma once

#include <string>

#include <torch/torch.h>

#include "trainers/engine/run_context.h"

namespace semsec::trainers {

// Appends every parameter of `m` to `out` under `prefix` + its module path (e.g. "encoder.fc0.weight").
inline void add_parameters(NamedTensors& out, const torch::nn::Module& m, const std::string& prefix = "") {
  for (const auto& item : m.named_parameters()) out.emplace_back(prefix + item.key(), item.value());
}

}  // namespace semsec::trainers
