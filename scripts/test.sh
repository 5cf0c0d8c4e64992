#!/usr/bin/env bash
# README command 2: set up, build, and run the whole test suite (CPU; GPU tests skip
# without a device).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir "${SEMSEC_BUILD_DIR:-build}" --output-on-failure -j "${SEMSEC_JOBS:-$(nproc)}" "$@"
