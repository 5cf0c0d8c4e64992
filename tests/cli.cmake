# cli/: the semsec executable end to end, its errors, and the bit-exact resume after a kill.
semsec_test(test_cli SOURCES ${CMAKE_CURRENT_LIST_DIR}/cli/test_cli.cpp ${CMAKE_CURRENT_LIST_DIR}/cli/test_cli_sweep.cpp
            ${CMAKE_CURRENT_LIST_DIR}/cli/test_cli_adaptive.cpp
            LIBS semsec_trainers)
add_dependencies(test_cli semsec)
