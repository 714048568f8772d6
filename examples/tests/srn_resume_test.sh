#!/usr/bin/env bash
# Resume after Ctrl-C, for the CycleGAN -> SRN programs (they share TrainLoop): train_srn is sent
# SIGINT after its first checkpoint, must exit with 130 leaving a complete checkpoint, and a run
# with --resume continues from it to the end.
# usage: srn_resume_test.sh TRAIN_SRN SYNTH_BLUR SCRATCH_DIR SHARED_DATA_DIR
# Data: blurred/sharp pairs made by synth_blur from 8 of SHARED_DATA_DIR/faces when present (real
# faces, crisp::data motion-blur kernels), otherwise from synth_blur's synthetic demo images.
set -euo pipefail
SRN=$1 SYNTH=$2 DIR=$3 DATA=$4

fail() { echo "FAIL: $*" >&2; [ -f "$DIR/run.txt" ] && cat "$DIR/run.txt" >&2; exit 1; }
run() { echo "+ $*"; "$@" || fail "exit code $? from: $*"; }

rm -rf "$DIR"
mkdir -p "$DIR"
if compgen -G "$DATA/faces/*.jpg" > /dev/null; then
  echo "data: real faces of $DATA/faces (blurred with synth_blur's motion-blur kernels)"
  mkdir -p "$DIR/faces"  # 8 of them, linked (never copied): decoding 1024 px JPEGs dominates otherwise
  faces=("$DATA"/faces/*.jpg)
  for f in "${faces[@]:0:8}"; do ln -s "$f" "$DIR/faces/"; done
  run "$SYNTH" --input "$DIR/faces" --output "$DIR/pairs" --kernels 2 --sizes 9,11 --crop 128 --per-image 1 --seed 2
else
  echo "data: $DATA/faces is absent - using synth_blur's synthetic demo images"
  run "$SYNTH" --make-demo-input "$DIR/in"
  run "$SYNTH" --input "$DIR/in" --output "$DIR/pairs" --kernels 2 --sizes 9,11 --crop 128 --per-image 1 --seed 2
fi

ARGS=(--data "$DIR/pairs" --out "$DIR/srn" --batch-size 1 --crop 128 --base-channels 4 --resblocks 1
      --checkpoint-every 2 --sample-every 0 --log-every 1 --workers 1 --seed 5)
# A long run, interrupted as soon as its first checkpoint exists.
"$SRN" "${ARGS[@]}" --iters 100000 > "$DIR/run.txt" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  [ -f "$DIR/srn/checkpoints/latest" ] && break
  kill -0 "$pid" 2> /dev/null || break
  sleep 0.1
done
[ -f "$DIR/srn/checkpoints/latest" ] || { kill -KILL "$pid" 2> /dev/null || true; fail "no checkpoint after 60 s"; }
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 130 ] || fail "expected exit code 130 after SIGINT, got $rc"
grep -q "stopped at step" "$DIR/run.txt" || fail "no 'stopped at step' message"
latest=$(cat "$DIR/srn/checkpoints/latest")
step=$((10#${latest#step_}))
[ "$step" -ge 2 ] || fail "expected a checkpoint at step >= 2, latest is '$latest'"
[ -f "$DIR/srn/checkpoints/$latest/srn.safetensors" ] || fail "checkpoint folder $latest is incomplete"
echo "interrupted at step $step (exit code 130, checkpoint $latest)"

# Resume and finish two more steps.
end=$((step + 2))
"$SRN" "${ARGS[@]}" --iters "$end" --resume > "$DIR/resume.txt" 2>&1 || fail "resume failed: $(cat "$DIR/resume.txt")"
grep -q "resumed from .*$latest at step $step" "$DIR/resume.txt" || fail "did not resume: $(cat "$DIR/resume.txt")"
grep -q "$end steps done" "$DIR/resume.txt" || fail "did not finish: $(cat "$DIR/resume.txt")"
[ "$(tail -1 "$DIR/srn/log.csv" | cut -d, -f1)" = "$end" ] || fail "log does not end at step $end"
[ "$(cut -d, -f1 "$DIR/srn/log.csv" | tail -n +2 | sort -n | uniq -d)" = "" ] || fail "log has duplicate steps"
[ -s "$DIR/srn/srn.safetensors" ] || fail "no srn.safetensors after the resumed run"
echo "OK: train_srn stopped by SIGINT and resumed to step $end"
