# Grid-batched models, GridAdam, checkpoints; the SS-ISAC stages in process.
semsec_test(test_training SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_training.cpp LIBS semsec_trainers)
semsec_test(test_ss_isac SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_ss_isac.cpp LIBS semsec_trainers)
# End-to-end: the semsec executable, its errors, and the bit-exact resume after a kill.
semsec_test(test_cli SOURCES ${CMAKE_CURRENT_LIST_DIR}/cli/test_cli.cpp LIBS semsec_trainers)
add_dependencies(test_cli semsec)
# Weight export: safetensors + torch state dict, rebuilt in plain PyTorch.
semsec_test(test_export SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_export.cpp LIBS semsec_trainers)
# GPU == CPU for whole training runs (skips without a GPU).
semsec_test(gpu_training SOURCES ${CMAKE_CURRENT_LIST_DIR}/gpu_training.cpp LIBS semsec_trainers)
semsec_test(gpu_grid_adam SOURCES ${CMAKE_CURRENT_LIST_DIR}/gpu_grid_adam.cpp LIBS semsec_trainers)
