// Shared by the link-level kernel tests (test_link_level.cpp, gpu_link_level.cpp): the name of a
// link shape in failure messages. Each file keeps its own list of shapes (they differ on purpose).
#pragma once

#include <string>

#include "kernels/link_level/link_level_op.h"

namespace semsec::link::link_level_test {

// "scheme MxN", e.g. "beam_alamouti 4x2".
inline std::string label(const LinkShape& s) {
  return scheme_name(s.scheme) + " " + std::to_string(s.num_tx) + "x" + std::to_string(s.num_rx);
}

}  // namespace semsec::link::link_level_test
