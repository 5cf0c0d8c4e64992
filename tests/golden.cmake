# Golden outputs of short runs of every result-writing command (tests/golden/<case>/), byte for
# byte: the guard of every refactor. SEMSEC_GOLDEN_RECORD=1 re-records them.
semsec_test(test_golden SOURCES ${CMAKE_CURRENT_LIST_DIR}/golden/test_golden.cpp LIBS semsec_datasets semsec_core)
add_dependencies(test_golden semsec)
