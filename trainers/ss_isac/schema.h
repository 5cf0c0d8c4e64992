// The configuration schema of SS-ISAC experiments (`semsec train` / `semsec sweep`):
// every key typed, defaulted and range-checked.
#pragma once

#include "core/config.h"

namespace semsec::trainers {

config::Schema isac_schema();

}  // namespace semsec::trainers
