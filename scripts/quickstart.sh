#!/usr/bin/env bash
# README command 1: set up, build, and train + evaluate the general semantic ISAC system on
# the embedded Fashion-MNIST data (CPU). Extra arguments go to `semsec train`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh semsec  # the executable and what it needs; the test suites build in command 2
exec "${SEMSEC_BUILD_DIR:-build}/cli/semsec" train experiments/gs_isac.yaml "$@"
