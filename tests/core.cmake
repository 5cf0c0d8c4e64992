# core/: the configuration system (schema, YAML, overrides, messages); safetensors and
# torch.load-compatible weight files with Python interoperability; TensorBoard event files,
# CRC32C and console progress.
semsec_test(test_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/core/test_config.cpp
            ${CMAKE_CURRENT_LIST_DIR}/core/test_config_validation.cpp LIBS semsec_core)
semsec_test(test_safetensors SOURCES ${CMAKE_CURRENT_LIST_DIR}/core/test_safetensors.cpp
            ${CMAKE_CURRENT_LIST_DIR}/core/test_safetensors_corrupt.cpp LIBS semsec_core)
semsec_test(test_tensorboard SOURCES ${CMAKE_CURRENT_LIST_DIR}/core/test_tensorboard.cpp LIBS semsec_core)
semsec_test(test_rundir SOURCES ${CMAKE_CURRENT_LIST_DIR}/core/test_rundir.cpp LIBS semsec_core)
semsec_test(test_progress SOURCES ${CMAKE_CURRENT_LIST_DIR}/core/test_progress.cpp LIBS semsec_core)
# Inputs found by fuzzing (tests/fuzz/), fed to their readers again.
semsec_test(test_fuzz_regressions SOURCES ${CMAKE_CURRENT_LIST_DIR}/core/test_fuzz_regressions.cpp LIBS semsec_core)
# The configuration and progress suites use no LibTorch (see core/CMakeLists.txt).
set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/core/test_config.cpp
                            ${CMAKE_CURRENT_LIST_DIR}/core/test_config_validation.cpp
                            ${CMAKE_CURRENT_LIST_DIR}/core/test_progress.cpp
                            ${CMAKE_CURRENT_LIST_DIR}/core/test_rundir.cpp PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
# The job environment (torchrun, Slurm) and the c10d store of multi-process sweeps.
semsec_test(test_distributed SOURCES ${CMAKE_CURRENT_LIST_DIR}/core/test_distributed.cpp LIBS semsec_core)
