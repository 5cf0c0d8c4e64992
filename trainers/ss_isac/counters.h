// The counter ranges of the SS-ISAC stages: the channel and data counters of each stage live in
// their own range of kStride steps, so no stage reuses the noise, batches or keys of another. The
// general system uses [0, kStride). Never renumber: results depend on them.
#pragma once

#include <cstdint>

namespace semsec::trainers::counters {

inline constexpr int64_t kStride = int64_t{1} << 24;
inline constexpr int64_t kEveWhitebox = 1 * kStride, kEveSubstitute = 2 * kStride, kArnWhitebox = 3 * kStride,
                         kArnBlackbox = 4 * kStride, kEveAdaptive = 5 * kStride, kEveClean = 6 * kStride,
                         kArnMinmax = 7 * kStride, kArnKeyed = 8 * kStride,
                         kThreat = 9 * kStride,  // one range per defence of the threat model: 9 to 13
    kArnConfusion = 14 * kStride;

}  // namespace semsec::trainers::counters
