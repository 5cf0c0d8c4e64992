# The CLSSR allocator: policy iteration against brute force, and the `semsec clssr` experiment.
semsec_test(test_clssr_rl SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_clssr_rl.cpp LIBS semsec_trainers)
