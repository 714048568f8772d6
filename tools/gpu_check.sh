#!/usr/bin/env bash
# One-shot check of crisp's CUDA backend on a real GPU, sized for a lent device's 15 minutes
# (docs/cuda.md, "On a lent GPU"). Two steps:
#
#   bash tools/gpu_check.sh --prepare    here, without a GPU: copies the header-only build
#                                        dependencies (Catch2, nlohmann-json, CLI11, stb) and Google
#                                        Benchmark into .gpu-deps/ (git-ignored), which the device
#                                        machine lacks and cannot download
#   bash tools/gpu_check.sh              on the device (its tool: carry [".gpu-deps"]): configure
#                                        and build with CUDA in Release, ctest -L cuda, compute-
#                                        sanitizer memcheck + racecheck, the one-step CPU-vs-GPU
#                                        check of every model, bench_conv_cuda against cuDNN and
#                                        SemanticDeblurNet beside the device's PyTorch
#
# Everything lands in $OUT (the device tool's folder; ./gpu-check-out elsewhere): gpu_check.log
# (all output), summary.txt (the key lines, also printed last), bench_conv_cuda.csv and the
# sanitizer reports. Each stage has its own time limit so that the whole run ends inside
# ~8 minutes; a failing stage is recorded and the next one still runs. Exit status: 0 when every
# stage passed, 1 otherwise.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
deps="$root/.gpu-deps"

if [[ "${1:-}" == "--prepare" ]]; then
  rm -rf "$deps" && mkdir -p "$deps"
  files=(/usr/include/catch2 /usr/lib/cmake/Catch2 /usr/include/nlohmann /usr/share/cmake/nlohmann_json
         /usr/include/CLI /usr/share/cmake/CLI11 /usr/include/stb /usr/include/benchmark
         /usr/lib/x86_64-linux-gnu/cmake/benchmark /usr/lib/x86_64-linux-gnu/libbenchmark.so
         /usr/lib/x86_64-linux-gnu/libbenchmark.so.1debian /usr/lib/x86_64-linux-gnu/libbenchmark.so.1.7.1
         /usr/lib/x86_64-linux-gnu/libbenchmark_main.a)
  for f in "${files[@]}"; do
    [[ -e "$f" ]] || { echo "gpu_check --prepare: $f is missing (run bash tools/test.sh once to install it)" >&2; exit 1; }
    cp -a --parents "$f" "$deps/" 2>/dev/null  # (cp may complain about the parents' attributes)
  done
  for f in "${files[@]}"; do
    [[ -e "$deps$f" ]] || { echo "gpu_check --prepare: could not copy $f" >&2; exit 1; }
  done
  grep -qx '/.gpu-deps/' .git/info/exclude 2>/dev/null || echo '/.gpu-deps/' >> .git/info/exclude
  echo "gpu_check --prepare: $(du -sh "$deps" | cut -f1) in .gpu-deps/; on the device run: bash tools/gpu_check.sh (carry .gpu-deps)"
  exit 0
fi

out="${OUT:-$root/gpu-check-out}"
mkdir -p "$out"
log="$out/gpu_check.log"
summary="$out/summary.txt"
: > "$log"; : > "$summary"
status=0
note() { echo "$*" | tee -a "$summary"; }
# stage NAME SECONDS CMD...: runs CMD with a time limit, output into the log, one PASS/FAIL line.
stage() {
  local name="$1" limit="$2"; shift 2
  local t0=$SECONDS
  echo "==> $name" | tee -a "$log"
  if timeout "$limit" "$@" >>"$log" 2>&1; then
    note "PASS $name ($((SECONDS - t0)) s)"
  else
    note "FAIL $name (exit $?, $((SECONDS - t0)) s; see gpu_check.log)"
    status=1
  fi
}

note "crisp gpu_check $(git rev-parse --short HEAD 2>/dev/null || echo '?') on $(date -u +%Y-%m-%dT%H:%MZ)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | sed 's/^/gpu: /' | tee -a "$summary"
nvcc --version | tail -1 | sed 's/^/nvcc: /' | tee -a "$summary"
python3 -c 'import torch; print("torch:", torch.__version__, "cuDNN", torch.backends.cudnn.version())' 2>&1 | tee -a "$summary"

# cuDNN ships inside PyTorch's wheels there (nvidia-cudnn-cu13), not in the CUDA toolkit.
cudnn_root="$(python3 -c 'import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))' 2>/dev/null || true)"
cudnn_lib="$(ls "$cudnn_root"/lib/libcudnn.so* 2>/dev/null | head -1)"
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DCRISP_WITH_CUDA=ON -DCRISP_BUILD_TESTS=ON -DCRISP_BUILD_EXAMPLES=ON
            -DCRISP_BUILD_BENCHMARKS=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DCRISP_NATIVE_ARCH=OFF
            "-DCMAKE_PREFIX_PATH=$deps/usr" "-DStb_INCLUDE_DIR=$deps/usr/include/stb")
[[ -n "$cudnn_lib" ]] && cmake_args+=("-DCRISP_CUDNN_INCLUDE_DIR=$cudnn_root/include" "-DCRISP_CUDNN_LIBRARY=$cudnn_lib")
export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu:${cudnn_root:+$cudnn_root/lib:}${LD_LIBRARY_PATH:-}"
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)

stage "configure (CUDA, Release)" 90 cmake -S . -B build-gpu "${gen[@]}" "${cmake_args[@]}"
cuda_tests=$(cd tests/backend/cuda && ls test_*.cpp | sed 's/\.cpp$//; s/^/backend_cuda_/')
stage "build (16 jobs)" 300 cmake --build build-gpu --parallel 16 --target crisp_cuda $cuda_tests bench_conv_cuda \
  bench_semantic_cuda deblur train_semantic_deblur
stage "ctest -L cuda" 120 ctest --test-dir build-gpu -L cuda --output-on-failure
for t in $cuda_tests; do
  [[ "$t" == backend_cuda_test_models_cuda ]] && continue  # the whole-model step is checked un-instrumented
  stage "memcheck $t" 90 compute-sanitizer --tool memcheck --error-exitcode 1 "build-gpu/tests/$t"
done
stage "racecheck conv + reductions" 120 compute-sanitizer --tool racecheck --error-exitcode 1 \
  build-gpu/tests/backend_cuda_test_conv_cuda
# ../shared does not travel to the device: a few synthetic 160x160 "faces" stand in for the data.
python3 -c 'import numpy as np, PIL.Image as I, sys, os
os.makedirs(sys.argv[1], exist_ok=True)
for i in range(8): I.fromarray(np.random.RandomState(i).randint(0, 255, (160, 160, 3), np.uint8)).save(f"{sys.argv[1]}/{i}.png")' \
  /tmp/crisp-gpu-faces >>"$log" 2>&1
stage "train_semantic_deblur --device cuda (3 steps)" 60 build-gpu/examples/train_semantic_deblur --device cuda \
  --no-semantics --iters 3 --batch-size 2 --crop 64 --size 96 --out /tmp/crisp-gpu-run --data /tmp/crisp-gpu-faces
stage "bench_conv_cuda vs cuDNN" 150 build-gpu/benchmarks/bench_conv_cuda --benchmark_min_time=0.05 \
  --benchmark_format=csv --benchmark_out="$out/bench_conv_cuda.csv" --benchmark_out_format=csv
for m in fp32 tf32 bf16; do
  stage "SemanticDeblurNet crisp $m" 60 bash -c "build-gpu/benchmarks/bench_semantic_cuda 20 $m native | tee -a '$summary'"
  stage "SemanticDeblurNet torch $m" 60 bash -c "python3 tools/gpu/torch_semantic.py 20 $m | tee -a '$summary'"
done

echo
echo "---- summary ($summary) ----"
cat "$summary"
exit $status
