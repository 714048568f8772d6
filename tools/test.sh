#!/usr/bin/env bash
# THE test command: installs missing build dependencies (Debian/Ubuntu, apt-get), configures and
# builds crisp with its tests, examples and benchmarks, and runs the whole CTest suite.
#
#   bash tools/test.sh              Release build in build/ (benchmarks compiled, not run)
#   bash tools/test.sh --sanitize   AddressSanitizer + UBSan build in build-asan/ of the library
#                                   layers' tests (no package, model, example or CUDA builds)
#   bash tools/test.sh --tsan       ThreadSanitizer build in build-tsan/ of the emulated CUDA
#                                   convolution test alone (kernels run as threads on the CPU)
#
# Exits non-zero on the first failure.
set -euo pipefail

sanitize=0
tsan=0
for arg in "$@"; do
  case "$arg" in
    --sanitize) sanitize=1 ;;
    --tsan) tsan=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "tools/test.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
jobs="$(nproc 2>/dev/null || echo 2)"

# ---- dependencies --------------------------------------------------------------------------
packages=(g++ cmake make catch2 nlohmann-json3-dev libstb-dev libcli11-dev libbenchmark-dev libopenblas-dev
          libopenmpi-dev openmpi-bin)  # MPI: crisp::distributed and its tests (label distributed)
# evaluate --detect's face detectors (examples/evaluation.cmake): OpenCV's cascades and dlib's HOG.
# Optional to build crisp (the tests print a SKIP line without them); the library layers' sanitizer
# pass builds no examples and skips them.
if ((!sanitize && !tsan)); then packages+=(libopencv-dev opencv-data libdlib-dev); fi
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

# ---- configure, build, test ----------------------------------------------------------------
if ((tsan)); then
  # One test program: the implicit-GEMM kernels emulated with one std::thread per CUDA thread, so
  # a missing __syncthreads is a data race that TSan reports (and halts on).
  build_dir=build-tsan
  target=backend_cuda_emulated_test_conv_emulated
  echo "==> configuring $build_dir/"
  cmake -S . -B "$build_dir" -DCRISP_BUILD_TESTS=ON -DCRISP_BUILD_EXAMPLES=OFF -DCRISP_BUILD_BENCHMARKS=OFF \
    -DCRISP_WITH_CUDA=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" \
    -DCRISP_SANITIZE=thread
  echo "==> building $target with $jobs jobs"
  cmake --build "$build_dir" --target "$target" --parallel "$jobs"
  echo "==> running $target under ThreadSanitizer"
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
  # [tsan]: the cases that take every barrier and warp collective (see the test file).
  "$build_dir/tests/backend/cuda_emulated/$target" "[tsan]"
  echo "==> ThreadSanitizer found no race ($build_dir/)"
  exit 0
fi
if ((sanitize)); then
  build_dir=build-asan
  # -O0 -g1 (line tables only): on 2 cores the sanitized build takes ~7 minutes instead of 16 at
  # -O1 -g (UBSan's checks and full debug info over heavy templates are most of the cost); reports
  # still name file:line, and the suite runs in ~80 s instead of ~20.
  cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O0 -g1"
              -DCRISP_SANITIZE=address,undefined -DCRISP_BUILD_BENCHMARKS=OFF
              "-DCRISP_TEST_SKIP_DIRS=models;distributed" -DCRISP_EMULATED_MODEL_TESTS=OFF -DCRISP_BUILD_EXAMPLES=OFF -DCRISP_WITH_CUDA=OFF)
  ctest_args=(-E '^package_')   # the consumer builds prove packaging, not memory safety; slow here
  export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
else
  build_dir=build
  # CRISP_WITH_CUDA=AUTO: a build/ first configured by tools/demo.sh has it OFF.
  cmake_args=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" -DCRISP_BUILD_BENCHMARKS=ON
              -DCRISP_WITH_CUDA=AUTO)
  ctest_args=()
fi

echo "==> configuring $build_dir/"
cmake -S . -B "$build_dir" -DCRISP_BUILD_TESTS=ON -DCRISP_BUILD_EXAMPLES=ON "${cmake_args[@]}"
echo "==> building with $jobs jobs"
cmake --build "$build_dir" --parallel "$jobs"
echo "==> running tests"
ctest --test-dir "$build_dir" --output-on-failure --parallel "$jobs" "${ctest_args[@]}"
echo "==> all tests passed ($build_dir/)"
