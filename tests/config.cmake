# Configuration system: schema, YAML loading, overrides, validation messages.
semsec_test(test_config SOURCES ${PROJECT_SOURCE_DIR}/tests/core/test_config.cpp LIBS semsec_core)
