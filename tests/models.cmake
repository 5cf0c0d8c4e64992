# models/: the CLSSR semantic codec (bits <-> indices, quantiser, grid == alone, pretraining and
# semantic noise).
semsec_test(test_semantic_codec SOURCES ${CMAKE_CURRENT_LIST_DIR}/models/test_semantic_codec.cpp LIBS semsec_clssr)
# models::IsacChannel (the ISAC link with its keys and counter) against kernels::isac_link.
semsec_test(test_isac_channel SOURCES ${CMAKE_CURRENT_LIST_DIR}/models/test_isac_channel.cpp LIBS semsec_models)
