// Process-wide allocator settings for training loops.
#pragma once

namespace semsec {

// A training step frees and re-allocates the same large activation buffers (megabytes at
// G = 16) every step. With glibc's defaults those come from fresh mmap()s and trimmed heap tops,
// so each step pays page faults and the kernel's zeroing of every page (a quarter of a CPU step
// at G = 16). This keeps freed memory in the process for reuse instead. Call once at start-up;
// it changes no numerics.
void keep_freed_memory();

}  // namespace semsec
