#!/usr/bin/env bash
# Smoke test of the demo (CTest example_demo): bash demo_test.sh DEMO SYNTH_BLUR SCRATCH_DIR SHARED_DATA [DEBLUR]
#  1. a few steps on images the test makes itself (synth_blur --make-demo-input), checking every output;
#  2. the same on ../shared/data/faces when that folder exists (skipped with a message otherwise);
#  3. clear errors for a missing folder, an empty folder and --device cuda on a CPU-only build;
#  4. Ctrl-C: SIGINT after the first checkpoint -> checkpoint written, exit 130, then --resume
#     finishes the run with one uninterrupted log.
set -euo pipefail
demo="$1" synth="$2" dir="$3" shared="$4" deblur="${5:-}"
rm -rf "$dir"
mkdir -p "$dir"

fail() { echo "demo_test: FAILED: $*" >&2; exit 1; }
# Small, fast settings: 32 px crops, 2 held-out crops, batch 2.
tiny=(--crop 32 --eval-crop 32 --eval-crops 2 --batch-size 2 --channels 8 --blocks 1 --kernels 4 --max-seconds 0)

"$demo" --help > "$dir/help.txt" || fail "--help"
grep -q -- "--resume" "$dir/help.txt" || fail "--help does not list the shared options"

# 1. own images
"$synth" --make-demo-input "$dir/in" > /dev/null
"$demo" --data "$dir/in" --out "$dir/run" --iters 4 --checkpoint-every 2 --sample-every 2 --log-every 1 "${tiny[@]}" \
  > "$dir/run.txt" 2>&1 || { cat "$dir/run.txt"; fail "demo on made-up images"; }
for f in side_by_side.png log.csv demo_net.safetensors checkpoints/latest checkpoints/step_0000004/net.safetensors \
         samples/step_0000002.png samples/step_0000004.png; do
  [[ -f "$dir/run/$f" ]] || fail "the demo did not write $f"
done
[[ "$(head -1 "$dir/run/log.csv")" == "step,time_s,l1,psnr_gain_db,lr" ]] || fail "log.csv header: $(head -1 "$dir/run/log.csv")"
[[ "$(wc -l < "$dir/run/log.csv")" -eq 5 ]] || fail "log.csv should have 4 rows: $(cat "$dir/run/log.csv")"
grep -q "PSNR" "$dir/run.txt" || fail "no PSNR line in the output"
head -c 4096 "$dir/run/demo_net.safetensors" | grep -aq '"model":"DemoNet"' ||
  fail "demo_net.safetensors lacks the metadata deblur / evaluate rebuild the net from"
if [[ -n "$deblur" ]]; then  # deblur recognises the demo's net from that metadata
  "$deblur" --weights "$dir/run/demo_net.safetensors" "$dir/in" "$dir/restored" > "$dir/deblur.txt" 2>&1 ||
    { cat "$dir/deblur.txt"; fail "deblur with the demo's weights"; }
  grep -q "DemoNet (8 channels, 1 blocks)" "$dir/deblur.txt" || fail "deblur did not rebuild the DemoNet: $(cat "$dir/deblur.txt")"
  [[ "$(ls "$dir/restored" | wc -l)" -eq "$(ls "$dir/in" | wc -l)" ]] || fail "deblur: not one output per input"
fi

# 2. the shared faces, when present
if [[ -d "$shared/faces" ]]; then
  "$demo" --data "$shared/faces" --out "$dir/faces" --iters 2 "${tiny[@]}" > "$dir/faces.txt" 2>&1 ||
    { cat "$dir/faces.txt"; fail "demo on $shared/faces"; }
  [[ -f "$dir/faces/side_by_side.png" ]] || fail "no side_by_side.png for the faces"
else
  echo "demo_test: SKIP the real-data run: $shared/faces does not exist"
fi

# 3. clear errors
expect_error() {  # expect_error PATTERN ARGS...: exit code 1 and PATTERN on stderr
  local pattern="$1"; shift
  set +e; "$demo" "$@" > "$dir/err.txt" 2>&1; local rc=$?; set -e
  [[ $rc -eq 1 ]] && grep -q -- "$pattern" "$dir/err.txt" || fail "expected exit 1 and '$pattern' for $*, got $rc: $(cat "$dir/err.txt")"
}
expect_error "does not exist" --data "$dir/missing" --out "$dir/e1"
mkdir -p "$dir/empty"
expect_error "holds no images" --data "$dir/empty" --out "$dir/e2"
expect_error "CUDA" --data "$dir/in" --out "$dir/e3" --device cuda  # built without it, or the CPU-only demo
expect_error "no checkpoint to continue from" --data "$dir/in" --out "$dir/e4" --resume

# 4. Ctrl-C after the first checkpoint, then --resume
iters=30
"$demo" --data "$dir/in" --out "$dir/stop" --iters $iters --checkpoint-every 2 --log-every 1 --sample-every 0 "${tiny[@]}" \
  > "$dir/stop.txt" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [[ -f "$dir/stop/checkpoints/latest" ]] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
[[ -f "$dir/stop/checkpoints/latest" ]] || { kill $pid 2>/dev/null || true; cat "$dir/stop.txt"; fail "no first checkpoint"; }
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
if [[ $rc -eq 0 ]]; then
  echo "demo_test: note: the run finished before SIGINT arrived; resume is still checked"
else
  [[ $rc -eq 130 ]] || { cat "$dir/stop.txt"; fail "expected exit 130 after SIGINT, got $rc"; }
  grep -q "stopped at step" "$dir/stop.txt" || { cat "$dir/stop.txt"; fail "no 'stopped at step' message"; }
fi
stopped=$(sed 's/step_0*//' "$dir/stop/checkpoints/latest")
[[ -f "$dir/stop/checkpoints/step_$(printf %07d "$stopped")/net.safetensors" ]] || fail "latest names a missing checkpoint"
"$demo" --data "$dir/in" --out "$dir/stop" --iters $iters --checkpoint-every 2 --log-every 1 --sample-every 0 "${tiny[@]}" \
  --resume > "$dir/resume.txt" 2>&1 || { cat "$dir/resume.txt"; fail "--resume"; }
grep -q "resumed from .* at step $stopped" "$dir/resume.txt" || { cat "$dir/resume.txt"; fail "did not resume at step $stopped"; }
grep -q "$iters steps done" "$dir/resume.txt" || { cat "$dir/resume.txt"; fail "the resumed run did not finish"; }
# One row per step, no duplicates from the interrupted part.
[[ "$(tail -n +2 "$dir/stop/log.csv" | cut -d, -f1 | tr '\n' ' ')" == "$(seq -s ' ' 1 $iters) " ]] ||
  fail "log.csv of the resumed run does not have exactly the steps 1..$iters"
echo "demo_test: all passed (interrupted at step $stopped of $iters, resumed)"
