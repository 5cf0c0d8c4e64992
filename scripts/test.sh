#!/usr/bin/env bash
# README command 2: set up, build, and run the whole test suite (CPU; GPU tests skip
# without a device).
# A test whose prerequisite is missing (the Fashion-MNIST package, the venv's Python or one of its
# modules) skips, unless the environment variable CI is set (to anything but "", "0" or "false"), as
# CI systems do (GitHub Actions, GitLab CI, ...: CI=true): then it fails, so that a CI run never
# passes by skipping (tests/test_util_core.h, SEMSEC_SKIP_OR_FAIL_IN_CI). `CI=1 bash scripts/test.sh`
# gives CI's behaviour locally; .ci/run sets CI=true. Only GPU tests skip under CI (no device).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir "${SEMSEC_BUILD_DIR:-build}" --output-on-failure -j "${SEMSEC_JOBS:-$(nproc)}" "$@"
