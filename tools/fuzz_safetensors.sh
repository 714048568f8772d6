#!/usr/bin/env bash
# Builds the libFuzzer harness tests/fuzz/fuzz_safetensors.cpp with clang++ (ASan + UBSan) in a
# separate build directory and fuzzes crisp::io::parse_safetensors for a given time, starting
# from a copy of the seed corpus (the committed corpus is never modified).
#
# Usage: tools/fuzz_safetensors.sh [seconds=180] [build-dir=build-fuzz] [extra libFuzzer flags...]
# Crash reproducers land in <build-dir>/fuzz-artifacts/; replay one with
#   <build-dir>/tests/fuzz/fuzz_safetensors <file>
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secs=${1:-180}
build=${2:-$root/build-fuzz}
shift $(( $# > 2 ? 2 : $# ))
cxx=$(command -v clang++-14 || command -v clang++ || true)
[[ -n "$cxx" ]] || { echo "fuzz_safetensors.sh: clang++ not found" >&2; exit 1; }

cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCRISP_BUILD_EXAMPLES=OFF -DCRISP_WITH_CUDA=OFF >/dev/null
cmake --build "$build" --target fuzz_safetensors -j"$(nproc)"

corpus=$(mktemp -d "${TMPDIR:-/tmp}/crisp_fuzz_corpus.XXXXXX")
trap 'rm -rf "$corpus"' EXIT
cp "$root"/tests/fuzz/corpus/safetensors/* "$corpus"/
mkdir -p "$build/fuzz-artifacts"
"$build/tests/fuzz/fuzz_safetensors" "$corpus" \
  -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -dict="$root/tests/fuzz/safetensors.dict" -artifact_prefix="$build/fuzz-artifacts/" "$@"
