# scripts/: the Python tools' own tests (standard library only), run with the build's venv.
add_test(NAME script_mnist5k COMMAND ${SEMSEC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/scripts/test_mnist5k.py)
set_tests_properties(script_mnist5k PROPERTIES TIMEOUT 300)
# scripts/plot.py needs matplotlib: the venv's python, which the set-up installs.
add_test(NAME script_plot COMMAND ${SEMSEC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/scripts/test_plot.py)
set_tests_properties(script_plot PROPERTIES TIMEOUT 300)
# scripts/plot_clssr.py (matplotlib) and scripts/merge_csv.py on made-up CLSSR files.
add_test(NAME script_plot_clssr COMMAND ${SEMSEC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/scripts/test_plot_clssr.py)
set_tests_properties(script_plot_clssr PROPERTIES TIMEOUT 300)
# Multi-process sweeps: torchrun (the venv's, next to its python), srun's environment and the sbatch scripts.
get_filename_component(_semsec_venv_bin "${SEMSEC_PYTHON}" DIRECTORY)
add_test(NAME script_distributed_sweeps COMMAND ${SEMSEC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/scripts/test_distributed_sweeps.py
         $<TARGET_FILE:semsec> ${_semsec_venv_bin}/torchrun)
set_tests_properties(script_distributed_sweeps PROPERTIES TIMEOUT 900 ENVIRONMENT "SEMSEC_DEVICE=cpu")
# python/semsec: the nn.Modules of `semsec export --layout torch` against semsec's outputs, read_sweep.
add_test(NAME script_python_package COMMAND ${SEMSEC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/scripts/test_python_package.py
         $<TARGET_FILE:semsec>)
set_tests_properties(script_python_package PROPERTIES TIMEOUT 600
                     ENVIRONMENT "PYTHONPATH=${CMAKE_SOURCE_DIR}/python;SEMSEC_DEVICE=cpu")
# TensorBoard: event files read back with the tensorboard package (resume, one run per grid point).
add_test(NAME script_tensorboard_runs COMMAND ${SEMSEC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/scripts/test_tensorboard_runs.py
         $<TARGET_FILE:semsec>)
set_tests_properties(script_tensorboard_runs PROPERTIES TIMEOUT 600 ENVIRONMENT "SEMSEC_DEVICE=cpu")
# scripts/mutate.py --check: every mutant of scripts/mutants.txt still applies to the tree (the mutation
# check itself runs by hand, docs/testing.md).
add_test(NAME script_mutants COMMAND ${SEMSEC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/scripts/test_mutate.py ${CMAKE_BINARY_DIR})
set_tests_properties(script_mutants PROPERTIES TIMEOUT 120)
# scripts/check_sizes.py: no source file over 500 lines, no function over 80 lines outside the schemas.
add_test(NAME script_sizes COMMAND ${SEMSEC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/scripts/test_check_sizes.py)
set_tests_properties(script_sizes PROPERTIES TIMEOUT 120)
# scripts/plot_adaptive_eve.py (matplotlib) on made-up threat-model files.
add_test(NAME script_plot_adaptive_eve COMMAND ${SEMSEC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/scripts/test_plot_adaptive_eve.py)
set_tests_properties(script_plot_adaptive_eve PROPERTIES TIMEOUT 300)
# torch.ops.semsec (kernels/torch_library.cpp) from Python: equality with the plain-PyTorch channel and
# the C++ reference on the same counters, gradcheck in double, link-level ops, CPU == CUDA (skips
# without a GPU), the example training loop of docs/interop.md.
add_test(NAME script_torch_ops COMMAND ${SEMSEC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/scripts/test_torch_ops.py)
set_tests_properties(script_torch_ops PROPERTIES TIMEOUT 600
                     ENVIRONMENT "PYTHONPATH=${CMAKE_SOURCE_DIR}/python;SEMSEC_TORCH_OPS=$<TARGET_FILE:semsec_torch_ops>")
# scripts/build_times.py: the clean-build summary of docs/benchmarks.md on made-up ninja logs.
add_test(NAME script_build_times COMMAND ${SEMSEC_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/scripts/test_build_times.py)
set_tests_properties(script_build_times PROPERTIES TIMEOUT 120)
