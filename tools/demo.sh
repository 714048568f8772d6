#!/usr/bin/env bash
# THE main command: installs what the examples need (Debian/Ubuntu, apt-get), builds them in
# Release in build/ and runs the demo program. Arguments are passed on to the demo program.
# The demo trains on the photographs that Debian's python3-skimage ships (installed here if
# missing; nothing is downloaded from anywhere else) and writes build/demo_out/.
#
#   bash tools/demo.sh                  train ~4 minutes on 2 cores, print PSNR/SSIM, write the picture
#   bash tools/demo.sh --data DIR       the same on your own sharp images (--help for all options)
set -euo pipefail

demo=demo   # the example program this command runs

caller="$(pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs="$(nproc 2>/dev/null || echo 2)"

# ---- dependencies --------------------------------------------------------------------------
packages=(g++ cmake make nlohmann-json3-dev libstb-dev libcli11-dev python3-skimage)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "==> installing missing packages: ${missing[*]}"
  sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# ---- build and run -------------------------------------------------------------------------
# build/ is shared with tools/test.sh (same flags, so neither rebuilds the other's work). On a
# fresh build/ the tests are left off so that the demo does not need the test dependencies.
cmake_args=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" -DCRISP_BUILD_EXAMPLES=ON)
if [[ ! -f build/CMakeCache.txt ]]; then
  cmake_args+=(-DCRISP_BUILD_TESTS=OFF)
  # The CUDA backend (nvcc over every kernel, minutes on 2 cores) only when it can be used: a GPU
  # is visible or the arguments ask for one. tools/test.sh turns it back on (AUTO) for the tests.
  wants_gpu=0
  for a in "$@"; do [[ "$a" == cuda* || "$a" == --device=cuda* ]] && wants_gpu=1; done
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then wants_gpu=1; fi
  if ((!wants_gpu)); then cmake_args+=(-DCRISP_WITH_CUDA=OFF); fi
fi
echo "==> configuring build/"
cmake -S . -B build "${cmake_args[@]}"
echo "==> building $demo"
cmake --build build --parallel "$jobs" --target "$demo"
echo "==> running $demo"
# From the caller's folder, so that relative paths in the arguments (--data DIR) mean what they
# say; the outputs go to build/demo_out unless --out is given.
cd "$caller"
args=("$@")
has_out=0
for a in "${args[@]}"; do [[ "$a" == --out || "$a" == --out=* ]] && has_out=1; done
if ((!has_out)); then args+=(--out "$root/build/demo_out"); fi
# OpenMP waiting: idle threads spin briefly (GOMP_SPINCOUNT 100000, ~0.1 ms), then sleep. A
# demo step runs hundreds of short parallel regions; sleeping at once (passive) wakes a thread for
# each (quiet 2-core Xeon, 300 steps: 8.4 step/s passive, 10.9 active; 250-step pairs 7.5/8.1,
# 4.2/8.7), while unbounded spinning steals the cores of a busy machine (150 steps on a loaded box:
# 26 s passive, 104 s active). A value set by the caller wins.
if [[ -z "${OMP_WAIT_POLICY:-}" && -z "${GOMP_SPINCOUNT:-}" ]]; then export GOMP_SPINCOUNT=100000; fi
exec "$root/build/examples/$demo" "${args[@]}"
