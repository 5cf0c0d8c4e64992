# TensorBoard event files, CRC32C, and console progress output (core/).
semsec_test(test_tensorboard SOURCES ${PROJECT_SOURCE_DIR}/tests/core/test_tensorboard.cpp LIBS semsec_core)
semsec_test(test_progress SOURCES ${PROJECT_SOURCE_DIR}/tests/core/test_progress.cpp LIBS semsec_core)
