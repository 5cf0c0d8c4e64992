# IDX files, synthetic data, splits, batch sampling and azimuth draws (datasets/).
semsec_test(test_idx SOURCES ${PROJECT_SOURCE_DIR}/tests/datasets/test_idx.cpp LIBS semsec_datasets)
semsec_test(test_loader SOURCES ${PROJECT_SOURCE_DIR}/tests/datasets/test_loader.cpp LIBS semsec_datasets)
semsec_test(gpu_datasets SOURCES ${PROJECT_SOURCE_DIR}/tests/datasets/gpu_datasets.cpp LIBS semsec_datasets)
