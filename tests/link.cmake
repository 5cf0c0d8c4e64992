# Link-level kernels and CLSSR metrics: BER vs closed forms and the geometric link on the CPU,
# metric and `semsec link` tests, and CPU == CUDA decisions (skips without a GPU).
semsec_test(test_link_level SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/test_link_level.cpp LIBS semsec_kernels)
semsec_test(test_clssr_metrics SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_clssr_metrics.cpp LIBS semsec_trainers)
semsec_test(gpu_link_level SOURCES ${CMAKE_CURRENT_LIST_DIR}/gpu_link_level.cpp LIBS semsec_kernels)
