#!/usr/bin/env bash
# One call on a GPU machine (the device tool): build semsec there, run the GPU == CPU tests,
# the GPU benchmarks and a GPU training run; results land in $OUT (or ./gpu-out).
# Needs: nvcc, CMake, ninja, a python3 with torch 2.11.0, and Debian .debs of the build
# dependencies in .debs/ (fetched on a networked machine with `apt-get download`).
# Everything printed also lands in $OUT/run.log as it happens, so a run stopped at the device
# tool's time limit still returns what it measured. Each stage has its own time limit.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu-out}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/run.log") 2>&1
PREFIX=/tmp/semsec-prefix
mkdir -p "$PREFIX"
for f in .debs/*.deb; do dpkg -x "$f" "$PREFIX"; done
export CMAKE_PREFIX_PATH="$PREFIX/usr"
export LD_LIBRARY_PATH="$PREFIX/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
export CPATH="$PREFIX/usr/include:${CPATH:-}"
DATA="$PREFIX/usr/share/datasets/fashion-mnist"
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
} 2>&1
BUILD=/tmp/semsec-build
t0=$(date +%s)
cmake -S . -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEMSEC_PYTHON="$(command -v python3)" \
  -DSEMSEC_CUDA=ON -DGTEST_ROOT="$PREFIX/usr" > "$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
targets="semsec $(grep -o 'add_executable(gpu_[a-z_]*' -r tests/*.cmake 2>/dev/null | sed 's/.*(//' | tr '\n' ' ')"
for t in $(sed -n 's/^semsec_test(\(gpu_[a-z_0-9]*\).*/\1/p' tests/*.cmake); do targets="$targets $t"; done
# GPU tests that live in a CPU suite (names containing Gpu) run too.
targets="$targets test_safetensors test_cli semsec_torch_ops"
echo "building: $targets"
ninja -C $BUILD -j 16 $targets >> "$OUT/build.log" 2>&1 || { tail -60 "$OUT/build.log"; exit 1; }
echo "build took $(( $(date +%s) - t0 )) s"
for t in $BUILD/tests/gpu_*; do
  [ -x "$t" ] || continue
  echo "== $t"; timeout 180 "$t" 2>&1 | tee -a "$OUT/gpu_tests.log" | grep -E "^\[  (FAILED|PASSED|SKIPPED) |^\[==|Failure|error|metric|tf32|TF32" | tail -25
done
for t in test_safetensors test_cli; do
  echo "== $t (GPU tests only)"
  timeout 180 $BUILD/tests/$t --gtest_filter='*Gpu*' 2>&1 | tee -a "$OUT/gpu_tests.log" | grep -E "^\[  (FAILED|PASSED|SKIPPED) |Failure" | tail -5
done
# torch.ops.semsec from Python: CPU == CUDA for both links (and every other case of the test), then
# the op against the channel in PyTorch ops on the GPU.
export SEMSEC_TORCH_OPS=$BUILD/kernels/libsemsec_torch_ops.so
echo "== test_torch_ops.py"
PYTHONPATH=python timeout 300 python3 tests/scripts/test_torch_ops.py 2>&1 | tee -a "$OUT/gpu_tests.log" | grep -E "CpuEqualsCuda|^Ran|^OK|FAIL|Error" | tail -8
PYTHONPATH=python timeout 120 python3 scripts/bench_torch_ops.py --device cuda --out "$OUT/bench_torch_ops_cuda.csv" 2>&1 | tail -8
# CLSSR Fig. 2 on the GPU (codec training, link-level Monte Carlo, policy iteration), off unless asked.
if [ "${SEMSEC_GPU_CLSSR:-0}" = 1 ]; then
  t1=$(date +%s)
  timeout ${SEMSEC_CLSSR_TIMEOUT:-300} $BUILD/cli/semsec clssr experiments/clssr_fig2.yaml data.root="$DATA" \
    --python none --device cuda --out /tmp/semsec-clssr 2>&1 | grep -v "it/s ETA" | tail -12
  echo "clssr fig2 took $(( $(date +%s) - t1 )) s"
  cp /tmp/semsec-clssr/summary.csv "$OUT/clssr_fig2_summary.csv" 2>/dev/null
fi
# The SS-ISAC figures (Fig. 3 and Fig. 4, 3 seeds) as one grid-batched ensemble of 12 points.
if [ "${SEMSEC_GPU_SWEEP:-1}" = 1 ]; then
  t1=$(date +%s)
  timeout ${SEMSEC_SWEEP_TIMEOUT:-300} $BUILD/cli/semsec sweep experiments/ss_isac.yaml security.psr_db=-20,-15,-10,-5 seed=0,1,2 \
    data.root="$DATA" train.cuda_graph=${SEMSEC_CUDA_GRAPH:-true} ${SEMSEC_SWEEP_ARGS:-} --device cuda \
    --out /tmp/semsec-sweep 2>&1 | grep -v "it/s ETA" | tail -30
  echo "sweep (train.cuda_graph=${SEMSEC_CUDA_GRAPH:-true}) took $(( $(date +%s) - t1 )) s"
  cp /tmp/semsec-sweep/summary.csv "$OUT/sweep_summary.csv" 2>/dev/null
  python3 scripts/plot.py /tmp/semsec-sweep --out "$OUT" 2>&1 | tail -3
fi
[ "${SEMSEC_GPU_BENCH:-1}" = 1 ] && timeout ${SEMSEC_BENCH_TIMEOUT:-240} $BUILD/cli/semsec bench --device cuda \
  --out "$OUT" --python "$(command -v python3)" ${SEMSEC_BENCH_ARGS:-} 2>&1 | grep -v "it/s ETA" | tail -60
echo "gpu_check done"
