# Safetensors and torch.load-compatible weight files, layout checks, Python interoperability (core/).
semsec_test(test_safetensors SOURCES ${PROJECT_SOURCE_DIR}/tests/core/test_safetensors.cpp LIBS semsec_core)
