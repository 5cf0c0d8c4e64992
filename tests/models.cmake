# models/: the CLSSR semantic codec (bits <-> indices, quantiser, grid == alone, pretraining and
# semantic noise) and models::IsacChannel (the ISAC link with its keys and counter) against
# kernels::isac_link, in one executable (each test executable links LibTorch: one link, not two).
semsec_test(test_models SOURCES ${CMAKE_CURRENT_LIST_DIR}/models/test_semantic_codec.cpp
            ${CMAKE_CURRENT_LIST_DIR}/models/test_isac_channel.cpp LIBS semsec_clssr semsec_models)
