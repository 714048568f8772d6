#!/usr/bin/env bash
# Ctrl-C and --resume of train_semantic_deblur (CTest example_semantic_resume), with the parser
# and the discriminator tracked:  bash semantic_resume_test.sh BIN_DIR SCRATCH_DIR SHARED_DATA
# SIGINT after the first checkpoint -> exit 130 with a complete checkpoint; the same command plus
# --resume finishes the run, and log.csv then holds each step exactly once.
# The data are the test's own cartoon faces (the shared data would only make it slower).
set -euo pipefail
bin="$1" dir="$2"
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "semantic_resume_test: FAILED: $*" >&2; exit 1; }
"$bin/train_parsing" --make-demo-data "$dir/data" > /dev/null
"$bin/train_parsing" --data "$dir/data" --format helen --size 64 --crop 64 --val 0 --batch-size 2 --base-channels 4 \
  --iters 1 --out "$dir/parse" > "$dir/parse.txt" 2>&1 || { cat "$dir/parse.txt"; fail "train_parsing"; }
echo "semantic_resume_test: using cartoon faces made by the test in $dir/data"

iters=40
args=(--data "$dir/data/images" --parsing "$dir/parse/parsing.safetensors" --out "$dir/run" --iters $iters
      --size 40 --crop 32 --batch-size 1 --channels 4 --resblocks 0 --ndf 4 --kernel-min 3 --kernel-max 5
      --kernels-per-size 2 --stage-iters 50 --checkpoint-every 2 --log-every 1 --sample-every 0)
"$bin/train_semantic_deblur" "${args[@]}" > "$dir/stop.txt" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [[ -f "$dir/run/checkpoints/latest" ]] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
[[ -f "$dir/run/checkpoints/latest" ]] || { kill $pid 2>/dev/null || true; cat "$dir/stop.txt"; fail "no first checkpoint"; }
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
if [[ $rc -eq 0 ]]; then
  echo "semantic_resume_test: note: the run finished before SIGINT arrived; resume is still checked"
else
  [[ $rc -eq 130 ]] || { cat "$dir/stop.txt"; fail "expected exit 130 after SIGINT, got $rc"; }
  grep -q "stopped at step" "$dir/stop.txt" || { cat "$dir/stop.txt"; fail "no 'stopped at step' message"; }
fi
stopped=$(sed 's/step_0*//' "$dir/run/checkpoints/latest")
ck="$dir/run/checkpoints/step_$(printf %07d "$stopped")"
[[ -f "$ck/deblur.safetensors" && -f "$ck/discriminator.safetensors" ]] || fail "checkpoint $ck lacks a model"
"$bin/train_semantic_deblur" "${args[@]}" --resume > "$dir/resume.txt" 2>&1 || { cat "$dir/resume.txt"; fail "--resume"; }
grep -q "resumed from .* at step $stopped" "$dir/resume.txt" || { cat "$dir/resume.txt"; fail "did not resume at step $stopped"; }
grep -q "$iters steps done" "$dir/resume.txt" || { cat "$dir/resume.txt"; fail "the resumed run did not finish"; }
[[ "$(tail -n +2 "$dir/run/log.csv" | cut -d, -f1 | tr '\n' ' ')" == "$(seq -s ' ' 1 $iters) " ]] ||
  fail "log.csv of the resumed run does not have exactly the steps 1..$iters"
echo "semantic_resume_test: OK (stopped at step $stopped, resumed to $iters)"
