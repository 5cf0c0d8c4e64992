# Channel kernel suites: the ISAC link on the CPU (always) and CPU == CUDA (skips without a GPU).
semsec_test(test_isac_link SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/test_isac_link.cpp LIBS semsec_kernels)
semsec_test(gpu_isac_link SOURCES ${CMAKE_CURRENT_LIST_DIR}/gpu_isac_link.cpp LIBS semsec_kernels)
semsec_test(test_philox SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/test_philox.cpp LIBS semsec_kernels)
semsec_test(test_loss SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/test_loss.cpp LIBS semsec_kernels)
