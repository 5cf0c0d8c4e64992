# datasets/: IDX files, synthetic data, splits, batch sampling and azimuth draws; CPU == CUDA
# batches (skips without a GPU).
semsec_test(test_idx SOURCES ${CMAKE_CURRENT_LIST_DIR}/datasets/test_idx.cpp LIBS semsec_datasets)
semsec_test(test_loader SOURCES ${CMAKE_CURRENT_LIST_DIR}/datasets/test_loader.cpp LIBS semsec_datasets)
semsec_test(gpu_datasets SOURCES ${CMAKE_CURRENT_LIST_DIR}/datasets/gpu_datasets.cpp LIBS semsec_datasets)
