# SEMSEC_FUZZ=ON (scripts/fuzz.sh): every semsec target gets libFuzzer's coverage instrumentation
# (-fsanitize=fuzzer-no-link) with AddressSanitizer and UndefinedBehaviorSanitizer; the harness
# executables of tests/fuzz/ add -fsanitize=fuzzer (libFuzzer's main). Any UB report aborts, so
# libFuzzer records it as a crash. LibTorch, yaml-cpp and zlib stay uninstrumented system builds:
# their bugs show only as crashes, ours also as sanitizer reports. Included by the top CMakeLists.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "SEMSEC_FUZZ=ON needs clang (libFuzzer): configure with CC=clang CXX=clang++ "
                      "(scripts/fuzz.sh does); the compiler is ${CMAKE_CXX_COMPILER_ID}")
endif()
if(SEMSEC_SANITIZE)
  message(FATAL_ERROR "SEMSEC_FUZZ=ON sets its own sanitizers: leave SEMSEC_SANITIZE empty")
endif()
set(SEMSEC_FUZZ_SANITIZERS address,undefined)
target_compile_options(semsec_options INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=fuzzer-no-link,${SEMSEC_FUZZ_SANITIZERS} -fno-sanitize-recover=all
  -fno-omit-frame-pointer -g>)
target_link_options(semsec_options INTERFACE -fsanitize=${SEMSEC_FUZZ_SANITIZERS})
target_compile_definitions(semsec_options INTERFACE SEMSEC_SANITIZED=1)
message(STATUS "semsec: libFuzzer harnesses with ${SEMSEC_FUZZ_SANITIZERS}")
