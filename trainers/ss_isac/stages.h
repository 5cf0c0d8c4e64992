// The SS-ISAC experiment's stages, one row each: the name (its checkpoint, its metrics.csv rows and
// its TensorBoard tags), the configuration section that sets its steps (or epochs) and learning
// rate, and the first counter of its range (counters.h: the batches, channel draws and keys of
// its step s use counter + s, so no stage reuses another's). The parameters and the losses are
// code: the IsacExperiment method named in `trained_by` builds them and runs the stage. The threat
// model's Eves (threat.cpp) train outside the stage runner, from counters::kThreat.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "trainers/ss_isac/counters.h"

namespace semsec::trainers {

struct IsacStage {
  std::string_view name;
  std::string_view section;  // train (the general system), eve or security
  int64_t counter;
  std::string_view trained_by;
};

inline constexpr std::array<IsacStage, 10> kIsacStages{{
    // name             section     counter                      trained by
    {"general", "train", 0, "train_general (general.cpp)"},
    {"eve_whitebox", "eve", counters::kEveWhitebox, "train_eve (security.cpp)"},
    {"eve_substitute", "eve", counters::kEveSubstitute, "train_eve (security.cpp)"},
    {"eve_clean", "eve", counters::kEveClean, "train_eve (security.cpp)"},
    {"arn_whitebox", "security", counters::kArnWhitebox, "train_arn (security.cpp)"},
    {"arn_blackbox", "security", counters::kArnBlackbox, "train_arn (security.cpp)"},
    {"eve_adaptive", "eve", counters::kEveAdaptive, "train_eve (security.cpp)"},
    {"arn_minmax", "security", counters::kArnMinmax, "train_minmax (adversary.cpp)"},
    {"arn_keyed", "security", counters::kArnKeyed, "train_minmax (adversary.cpp)"},
    {"arn_confusion", "security", counters::kArnConfusion, "train_minmax (adversary.cpp)"},
}};

// The row of stage `name`; fails naming it when there is none.
const IsacStage& isac_stage(std::string_view name);

}  // namespace semsec::trainers
