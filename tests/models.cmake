# models/: the CLSSR semantic codec (bits <-> indices, quantiser, grid == alone, pretraining and
# semantic noise).
semsec_test(test_semantic_codec SOURCES ${CMAKE_CURRENT_LIST_DIR}/models/test_semantic_codec.cpp LIBS semsec_clssr)
