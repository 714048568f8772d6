#!/usr/bin/env bash
# Builds the libFuzzer harness tests/fuzz/fuzz_tfjs_weights.cpp with clang++ (ASan + UBSan) in a
# separate build directory and fuzzes crisp::io::parse_tfjs_manifest + decode_tfjs_weights for a given time, starting
# from a copy of the seed corpus (the committed corpus is never modified).
#
# Usage: tools/fuzz_tfjs_weights.sh [seconds=180] [build-dir=build-fuzz] [extra libFuzzer flags...]
# Crash reproducers land in <build-dir>/fuzz-artifacts-tfjs/; replay one with
#   <build-dir>/tests/fuzz/fuzz_tfjs_weights <file>
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
secs=${1:-180}
build=${2:-$root/build-fuzz}
shift $(( $# > 2 ? 2 : $# ))
cxx=$(command -v clang++-14 || command -v clang++ || true)
[[ -n "$cxx" ]] || { echo "fuzz_tfjs_weights.sh: clang++ not found" >&2; exit 1; }

cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCRISP_BUILD_EXAMPLES=OFF -DCRISP_WITH_CUDA=OFF >/dev/null
cmake --build "$build" --target fuzz_tfjs_weights -j"$(nproc)"

corpus=$(mktemp -d "${TMPDIR:-/tmp}/crisp_fuzz_tfjs_corpus.XXXXXX")
trap 'rm -rf "$corpus"' EXIT
cp "$root"/tests/fuzz/corpus/tfjs/* "$corpus"/
mkdir -p "$build/fuzz-artifacts-tfjs"
"$build/tests/fuzz/fuzz_tfjs_weights" "$corpus" \
  -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -dict="$root/tests/fuzz/tfjs.dict" -artifact_prefix="$build/fuzz-artifacts-tfjs/" "$@"
