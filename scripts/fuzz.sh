#!/usr/bin/env bash
# Fuzzes the readers of untrusted files (tests/fuzz/harness.h) with libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer: builds the harnesses with clang (SEMSEC_FUZZ=ON, CPU only, in
# build-fuzz/), runs each on a copy of its seed corpus (tests/fuzz/corpus/<name>/) and prints a
# table of executions, seconds, corpus size and crashes. Usage:
#   bash scripts/fuzz.sh [SECONDS]            each harness for SECONDS (default 60)
#   bash scripts/fuzz.sh --runs N [--max-time S]   each harness to N executions (at most S seconds)
#   ... [HARNESS...]                          only these (config idx safetensors checkpoint csv)
# A crash stops that harness; its input is saved as build-fuzz/fuzz-work/<name>/artifacts/crash-*
# (rerun it with build-fuzz/tests/fuzz/fuzz_<name> FILE). docs/results/fuzz.txt has the last run.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${SEMSEC_FUZZ_BUILD_DIR:-build-fuzz}"
VENV="${SEMSEC_VENV:-$HOME/.cache/semsec/venv}"
ALL=(config idx safetensors checkpoint csv)

seconds=60
runs=""
max_time=""
harnesses=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --max-time) max_time="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    [0-9]*) seconds="$1"; shift ;;
    *) harnesses+=("$1"); shift ;;
  esac
done
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${ALL[@]}")

# Longest input per harness: a few times the largest seed.
max_len() {
  case "$1" in
    config|csv) echo 4096 ;;
    safetensors) echo 8192 ;;
    *) echo 16384 ;;
  esac
}

[ -x "$VENV/bin/python" ] || bash scripts/setup.sh
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEMSEC_FUZZ=ON \
    -DSEMSEC_CUDA=OFF -DSEMSEC_BUILD_TESTS=OFF -DSEMSEC_PYTHON="$VENV/bin/python"
fi
build_start=$(date +%s)
nice cmake --build "$BUILD_DIR" --target $(printf 'fuzz_%s ' "${harnesses[@]}")
echo "build: $(( $(date +%s) - build_start )) s"

export OMP_NUM_THREADS=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

rows=()
failed=0
for h in "${harnesses[@]}"; do
  work="$BUILD_DIR/fuzz-work/$h"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp tests/fuzz/corpus/"$h"/* "$work/corpus/"
  args=(-rss_limit_mb=4096 -max_len="$(max_len "$h")" -timeout=30 -print_final_stats=1
        -artifact_prefix="$work/artifacts/")
  [ -f "tests/fuzz/$h.dict" ] && args+=(-dict="tests/fuzz/$h.dict")
  # LibTorch leaks its zip reader for most corrupt checkpoints (tests/fuzz/lsan.supp): with leak
  # detection on, each such input costs a scan of the whole heap, 80 instead of 4000 executions/s.
  # The seed corpus test (ctest -R fuzz_checkpoint) still checks for leaks.
  [ "$h" = checkpoint ] && args+=(-detect_leaks=0)
  if [ -n "$runs" ]; then
    args+=(-runs="$runs")
    [ -n "$max_time" ] && args+=(-max_total_time="$max_time")
  else
    args+=(-max_total_time="$seconds")
  fi
  echo "== fuzz_$h ${args[*]}"
  start=$(date +%s)
  set +e
  "$BUILD_DIR/tests/fuzz/fuzz_$h" "${args[@]}" "$work/corpus" > "$work/log.txt" 2>&1
  rc=$?
  set -e
  took=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/log.txt" | tail -1 | grep -o '[0-9]*$' || true)
  if [ -z "$execs" ]; then  # no final stats after a crash: the last status line
    execs=$(grep -oE '^#[0-9]+' "$work/log.txt" | tail -1 | tr -d '#' || true)
  fi
  crashes=$(find "$work/artifacts" -type f | wc -l)
  corpus=$(find "$work/corpus" -type f | wc -l)
  tail -n 3 "$work/log.txt"
  [ "$rc" -eq 0 ] || failed=1
  [ "$rc" -eq 0 ] || { echo "fuzz_$h exited with $rc; see $work/log.txt"; grep -m1 -A12 'ERROR\|==ERROR\|runtime error\|terminate called' "$work/log.txt" || true; }
  rows+=("$(printf '%-12s %12s %8s %8s %8s' "$h" "${execs:-?}" "$took" "$corpus" "$crashes")")
done

echo
printf '%-12s %12s %8s %8s %8s\n' harness executions seconds corpus crashes
printf '%s\n' "${rows[@]}"
exit "$failed"
