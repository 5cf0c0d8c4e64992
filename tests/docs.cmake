# docs/: every result table of docs/experiments/*.md recomputed from its raw file under docs/results/
# (scripts/doc_tables.py --check), and a test that the check catches a changed number.
add_test(NAME doc_tables COMMAND ${SEMSEC_PYTHON} ${PROJECT_SOURCE_DIR}/scripts/doc_tables.py --check)
add_test(NAME doc_tables_catches_mismatches COMMAND ${SEMSEC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/docs/test_doc_tables.py)
set_tests_properties(doc_tables doc_tables_catches_mismatches PROPERTIES TIMEOUT 120)
