#!/usr/bin/env bash
# THE main command: installs what the examples need (Debian/Ubuntu, apt-get), builds them in
# Release in build/ and runs the demo program. Arguments are passed on to the demo program.
# The demo trains on the photographs that Debian's python3-skimage ships (installed here if
# missing; nothing is downloaded from anywhere else) and writes build/demo_out/.
#
#   bash tools/demo.sh                  train ~3 minutes on 2 cores, print PSNR/SSIM, write the picture
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
if [[ ! -f build/CMakeCache.txt ]]; then cmake_args+=(-DCRISP_BUILD_TESTS=OFF); fi
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
exec "$root/build/examples/$demo" "${args[@]}"
