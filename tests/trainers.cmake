# trainers/: the engine (grid-batched models, GridAdam, checkpoints, graphed steps); the SS-ISAC
# stages in process; weight export rebuilt in plain PyTorch; the CLSSR metrics and allocator
# (policy iteration against brute force); GPU == CPU for whole runs and Adam (skip without a GPU).
semsec_test(test_training SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_training.cpp LIBS semsec_trainers)
semsec_test(test_ss_isac SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_ss_isac.cpp LIBS semsec_trainers)
semsec_test(test_divergence SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_divergence.cpp LIBS semsec_trainers)
semsec_test(test_export SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_export.cpp LIBS semsec_trainers)
semsec_test(test_clssr_metrics SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_clssr_metrics.cpp LIBS semsec_trainers)
semsec_test(test_clssr_rl SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_clssr_rl.cpp LIBS semsec_trainers)
semsec_test(gpu_training SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/gpu_training.cpp LIBS semsec_trainers)
semsec_test(gpu_grid_adam SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/gpu_grid_adam.cpp LIBS semsec_trainers)
semsec_test(test_ss_isac_equations SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_ss_isac_equations.cpp LIBS semsec_trainers)
semsec_test(test_adaptive_eve SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_adaptive_eve.cpp LIBS semsec_trainers)
semsec_test(test_ss_isac_keys SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_ss_isac_keys.cpp LIBS semsec_trainers)
semsec_test(test_clssr_units SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_clssr_units.cpp
            ${CMAKE_CURRENT_LIST_DIR}/trainers/test_clssr_batch.cpp LIBS semsec_trainers)
semsec_test(test_clssr_ao SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_clssr_ao.cpp LIBS semsec_trainers)
semsec_test(test_clssr_experiment SOURCES ${CMAKE_CURRENT_LIST_DIR}/trainers/test_clssr_experiment.cpp LIBS semsec_trainers)
