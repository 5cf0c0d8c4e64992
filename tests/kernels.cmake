# kernels/: Philox; the ISAC link against closed forms, finite differences and an ATen reference;
# the fused output layer + loss; the link level (BER against closed forms, the geometric link);
# and CPU == CUDA for each (gpu_*, skip without a GPU).
semsec_test(test_philox SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/test_philox.cpp LIBS semsec_kernels)
semsec_test(test_isac_link SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/test_isac_link.cpp
            ${CMAKE_CURRENT_LIST_DIR}/kernels/test_isac_link_reference.cpp LIBS semsec_kernels)
semsec_test(gpu_isac_link SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/gpu_isac_link.cpp LIBS semsec_kernels)
semsec_test(test_loss SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/test_loss.cpp LIBS semsec_kernels)
semsec_test(test_link_level SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/test_link_level.cpp
            ${CMAKE_CURRENT_LIST_DIR}/kernels/test_geometric_link.cpp LIBS semsec_kernels)
semsec_test(gpu_link_level SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels/gpu_link_level.cpp LIBS semsec_kernels)
