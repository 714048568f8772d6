#!/usr/bin/env bash
# THE main command: installs what the examples need (Debian/Ubuntu, apt-get), builds them in
# Release in build/ and runs the demo program. Arguments are passed on to the demo program.
#
#   bash tools/demo.sh
set -euo pipefail

demo=quickstart   # the example program this command runs

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs="$(nproc 2>/dev/null || echo 2)"

# ---- dependencies --------------------------------------------------------------------------
packages=(g++ cmake make nlohmann-json3-dev libstb-dev libcli11-dev)
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
cd build
exec "./examples/$demo" "$@"
