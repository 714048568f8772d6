#!/usr/bin/env bash
# The programs under mpirun -np 2 (label distributed): demo and train_semantic_deblur run to the
# end; rank 0 alone prints and writes (one "weights" line, one log); a 2-rank checkpoint resumes
# with 1 rank (the documented re-shard) and with 2; an error on one rank ends the job at once.
#   distributed_programs_test.sh MPIEXEC BIN_DIR WORK_DIR
set -uo pipefail
MPI="$1"; BIN="$2"; DIR="$3"
rm -rf "$DIR"; mkdir -p "$DIR"
fail() { echo "distributed_programs_test: FAIL: $*" >&2; exit 1; }
run() { echo "+ $*"; "$@" > "$DIR/out.txt" 2>&1 || { cat "$DIR/out.txt"; fail "exit code $? from: $*"; }; cat "$DIR/out.txt"; }
MPIRUN=("$MPI" -np 2 --oversubscribe)

run "$BIN/train_parsing" --make-demo-data "$DIR/data"

# demo: 6 steps on 2 ranks
run "${MPIRUN[@]}" "$BIN/demo" --data "$DIR/data/images" --out "$DIR/demo" --iters 6 --batch-size 4 --crop 16 \
    --eval-crop 16 --eval-crops 4 --channels 4 --blocks 1 --checkpoint-every 3 --sample-every 3 --log-every 1
[ "$(grep -c "wrote .*demo_net.safetensors" "$DIR/out.txt")" -eq 1 ] || fail "demo: expected rank 0 alone to report its weights"
[ "$(grep -c "6 steps done" "$DIR/out.txt")" -eq 1 ] || fail "demo: expected one '6 steps done'"
for f in demo_net.safetensors side_by_side.png samples/step_0000006.png checkpoints/step_0000006/net.safetensors; do
  [ -f "$DIR/demo/$f" ] || fail "demo: $f missing"
done
[ "$(wc -l < "$DIR/demo/log.csv")" -eq 7 ] || fail "demo: log.csv should have 6 rows: $(cat "$DIR/demo/log.csv")"

# train_semantic_deblur (G + D): 4 steps on 2 ranks, then resumed to 6 with 1 rank and to 8 with 2
D0=(--data "$DIR/data/images" --no-semantics --holdout 2 --out "$DIR/deblur" --size 40 --crop 32
   --channels 4 --resblocks 1 --ndf 4 --kernel-min 5 --kernel-max 9 --stage-iters 1 --kernels-per-size 2
   --log-every 1 --eval-every 2 --checkpoint-every 2)
D=("${D0[@]}" --batch-size 4)
run "${MPIRUN[@]}" "$BIN/train_semantic_deblur" "${D[@]}" --iters 4
[ "$(grep -c "^weights: " "$DIR/out.txt")" -eq 1 ] || fail "train_semantic_deblur: expected one 'weights:' line (rank 0)"
for f in deblur.safetensors holdout.md eval.csv checkpoints/step_0000004/discriminator.safetensors; do
  [ -f "$DIR/deblur/$f" ] || fail "train_semantic_deblur: $f missing"
done
grep -q "world_size" "$DIR/deblur/checkpoints/step_0000004/deblur.safetensors" || fail "checkpoint lacks world_size"
run "$BIN/train_semantic_deblur" "${D[@]}" --iters 6 --resume
grep -q "written by a job of 2 rank(s), this one has 1" "$DIR/out.txt" || fail "no re-shard note on resume with 1 rank"
run "${MPIRUN[@]}" "$BIN/train_semantic_deblur" "${D[@]}" --iters 8 --resume
grep -q "resumed from .*step_0000006 at step 6" "$DIR/out.txt" || fail "2 ranks did not resume at step 6"
[ "$(cut -d, -f1 "$DIR/deblur/log.csv" | tail -n +2 | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 " ] ||
  fail "expected log rows 1..8: $(cat "$DIR/deblur/log.csv")"

# an error on every rank (a global batch that 2 ranks cannot share) ends the job with a message
if "${MPIRUN[@]}" "$BIN/train_semantic_deblur" "${D0[@]}" --batch-size 3 --iters 1 > "$DIR/err.txt" 2>&1; then
  fail "an odd --batch-size on 2 ranks should fail"
fi
grep -q "multiple of the 2 ranks" "$DIR/err.txt" || fail "unexpected error: $(cat "$DIR/err.txt")"
echo "distributed_programs_test: all passed"
