#!/usr/bin/env bash
# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer: builds semsec and
# its tests with SEMSEC_SANITIZE=address,undefined (CPU only, in build-asan/) and runs ctest with
# every report fatal. Suppressions, each with its reason, are in scripts/sanitize/. Usage:
#   bash scripts/sanitize.sh [ctest arguments, e.g. -R Config]
# docs/reliability.md gives the duration and the last result.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${SEMSEC_ASAN_BUILD_DIR:-build-asan}"
VENV="${SEMSEC_VENV:-$HOME/.cache/semsec/venv}"
[ -x "$VENV/bin/python" ] || bash scripts/setup.sh
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSEMSEC_PYTHON="$VENV/bin/python" \
    -DSEMSEC_SANITIZE=address,undefined -DSEMSEC_CUDA=OFF
fi
cmake --build "$BUILD_DIR"
SUPP="$PWD/scripts/sanitize"
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=0"
export LSAN_OPTIONS="suppressions=$SUPP/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$SUPP/ubsan.supp"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "${SEMSEC_JOBS:-$(nproc)}" "$@"
