#!/usr/bin/env bash
# Builds one of crisp's libFuzzer harnesses (tests/fuzz/fuzz_<parser>.cpp) with clang++ (ASan +
# UBSan) in a separate build directory and fuzzes it for a given time, starting from its seed
# corpus (tests/fuzz/corpus/<corpus>/) and dictionary. Parsers: safetensors
# (crisp::io::parse_safetensors) and tfjs (the TensorFlow.js manifest + shard decoder).
#
# Usage: tools/fuzz.sh safetensors|tfjs [seconds=180] [build-dir=build-fuzz] [extra libFuzzer flags...]
# Crash reproducers land in <build-dir>/fuzz-artifacts-<parser>/; replay one with
#   <build-dir>/tests/fuzz/<harness> <file>
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case "${1:-}" in
  safetensors) harness=fuzz_safetensors corpus_dir=safetensors dict=safetensors.dict ;;
  tfjs) harness=fuzz_tfjs_weights corpus_dir=tfjs dict=tfjs.dict ;;
  *) echo "usage: tools/fuzz.sh safetensors|tfjs [seconds] [build-dir] [libFuzzer flags...]" >&2; exit 2 ;;
esac
parser=$1
shift
secs=${1:-180}
build=${2:-$root/build-fuzz}
shift $(( $# > 2 ? 2 : $# ))
cxx=$(command -v clang++-14 || command -v clang++ || true)
[[ -n "$cxx" ]] || { echo "fuzz.sh: clang++ not found" >&2; exit 1; }

cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCRISP_BUILD_EXAMPLES=OFF -DCRISP_WITH_CUDA=OFF >/dev/null
cmake --build "$build" --target "$harness" -j"$(nproc)"

corpus=$(mktemp -d "${TMPDIR:-/tmp}/crisp_fuzz_${parser}_corpus.XXXXXX")
trap 'rm -rf "$corpus"' EXIT
cp "$root/tests/fuzz/corpus/$corpus_dir"/* "$corpus"/
mkdir -p "$build/fuzz-artifacts-$parser"
"$build/tests/fuzz/$harness" "$corpus" \
  -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -dict="$root/tests/fuzz/$dict" -artifact_prefix="$build/fuzz-artifacts-$parser/" "$@"
