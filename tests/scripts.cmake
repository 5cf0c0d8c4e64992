# scripts/: the Python tools' own tests (standard library only), run with the build's venv.
add_test(NAME script_mnist5k COMMAND ${SEMSEC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/scripts/test_mnist5k.py)
set_tests_properties(script_mnist5k PROPERTIES TIMEOUT 300)
