#include "core/memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace semsec {

void keep_freed_memory() {
#if defined(__GLIBC__)
  // Serve blocks up to 32 MiB (glibc's largest threshold) from the heap, not one mmap per
  // tensor; never give the heap top back; grow it in 64 MiB steps.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, -1);  // passed as size_t: the largest value, trimming off
  mallopt(M_TOP_PAD, 64 << 20);
#endif
}

}  // namespace semsec
