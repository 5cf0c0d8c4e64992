// Function multiversioning for the CPU loops of the kernels (isac_link_cpu.cpp, loss_cpu.cpp,
// adam_cpu.cpp): SEMSEC_CPU_CLONES compiles a function for AVX-512, AVX2 and baseline x86-64 and
// picks one at load time, so the loops vectorise for the machine they run on. The files that use
// it are compiled with -ffp-contract=off, -fno-math-errno and -fno-trapping-math (kernels/
// CMakeLists.txt): every clone then rounds exactly like the scalar code and the CUDA kernels.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SEMSEC_X86_GNU 1
#define SEMSEC_CPU_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SEMSEC_X86_GNU 0
#define SEMSEC_CPU_CLONES
#endif

#if defined(__GNUC__)
#define SEMSEC_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define SEMSEC_ALWAYS_INLINE inline
#endif
