#!/usr/bin/env bash
# Smoke test of the CycleGAN -> SRN pipeline, end to end on tiny networks and crops:
#   train_cyclegan (2 steps, then --resume to 4) -> make_pairs -> train_srn (3 steps),
# plus the clear errors for a missing or empty data folder.
#   then make_pairs --test-fraction (the paper's 80/20 split), deblur and evaluate --pairs with the
#   SRN and with CycleGAN's blurred -> sharp generator (the paper's "Zhu et al." row), and
#   train_cyclegan --gan-loss log (the paper's eq. 1) recorded in the generators' metadata.
# usage: cyclegan_srn_chain_test.sh TRAIN_CYCLEGAN MAKE_PAIRS TRAIN_SRN SYNTH_BLUR SCRATCH_DIR SHARED_DATA_DIR
#                                   EVALUATE DEBLUR
# Data: with SHARED_DATA_DIR/faces (the project's real CelebA-HQ faces) the sharp domain is 8 of
# those faces at 128 px and the blurred domain is the same faces blurred by synth_blur with crisp::data
# motion-blur kernels; without it, synth_blur's synthetic demo images stand in for the faces.
set -euo pipefail
CYCLEGAN=$1 MAKE_PAIRS=$2 SRN=$3 SYNTH=$4 DIR=$5 DATA=$6 EVALUATE=$7 DEBLUR=$8

fail() { echo "FAIL: $*" >&2; exit 1; }
run() { echo "+ $*"; "$@" || fail "exit code $? from: $*"; }
# expect_error CODE PATTERN command...: the command must exit with CODE and print PATTERN on stderr.
expect_error() {
  local code=$1 pattern=$2; shift 2
  local rc=0
  "$@" > "$DIR/err.out" 2> "$DIR/err.txt" || rc=$?
  [ "$rc" -eq "$code" ] || fail "expected exit code $code from '$*', got $rc: $(cat "$DIR/err.txt")"
  grep -q -- "$pattern" "$DIR/err.txt" || fail "expected '$pattern' in the error of '$*', got: $(cat "$DIR/err.txt")"
}
png_names() { (cd "$1" && ls *.png | sort); }

rm -rf "$DIR"
mkdir -p "$DIR"

# ---- data: sharp images and their blurred versions (unpaired for CycleGAN: drawn independently)
if compgen -G "$DATA/faces/*.jpg" > /dev/null; then
  echo "data: real faces of $DATA/faces (blurred with synth_blur's motion-blur kernels)"
  mkdir -p "$DIR/faces"  # 8 of them, linked (never copied): decoding 1024 px JPEGs dominates otherwise
  faces=("$DATA"/faces/*.jpg)
  for f in "${faces[@]:0:8}"; do ln -s "$f" "$DIR/faces/"; done
  run "$SYNTH" --input "$DIR/faces" --output "$DIR/synth" --kernels 2 --sizes 9,11 --crop 128 --per-image 1 --seed 1
else
  echo "data: $DATA/faces is absent - using synth_blur's synthetic demo images"
  run "$SYNTH" --make-demo-input "$DIR/in"
  run "$SYNTH" --input "$DIR/in" --output "$DIR/synth" --kernels 2 --sizes 9,11 --crop 128 --per-image 1 --seed 1
fi

# ---- clear errors for missing / empty folders
mkdir -p "$DIR/empty"
expect_error 1 "missing' does not exist" "$CYCLEGAN" --sharp "$DIR/missing" --blurred "$DIR/synth/blurred" --out "$DIR/x"
expect_error 1 "holds no images" "$CYCLEGAN" --sharp "$DIR/synth/sharp" --blurred "$DIR/empty" --out "$DIR/x"
expect_error 1 "trainA' does not exist" "$CYCLEGAN" --data "$DIR/empty" --out "$DIR/x"
expect_error 1 "missing' does not exist" "$MAKE_PAIRS" --generator "$DIR/none.safetensors" --input "$DIR/missing"
expect_error 1 "holds no images" "$SRN" --data "$DIR/synth" --sharp "$DIR/empty" --blurred "$DIR/synth/blurred" --out "$DIR/x"
expect_error 1 "blurred' does not exist" "$SRN" --data "$DIR/empty" --out "$DIR/x"

# ---- train_cyclegan: 2 steps, then resumed to 4 (the official loss terms in the log)
CG=(--sharp "$DIR/synth/sharp" --blurred "$DIR/synth/blurred" --out "$DIR/cg" --ngf 4 --ndf 4 --n-blocks 1
    --load-size 72 --crop 64 --checkpoint-every 1 --sample-every 2 --log-every 1 --workers 1 --seed 3)
run "$CYCLEGAN" "${CG[@]}" --iters 2
[ -f "$DIR/cg/checkpoints/step_0000002/G.safetensors" ] || fail "no checkpoint of G at step 2"
run "$CYCLEGAN" "${CG[@]}" --iters 4 --resume > "$DIR/cg_resume.txt"
grep -q "resumed from .*step_0000002 at step 2" "$DIR/cg_resume.txt" || fail "train_cyclegan did not resume: $(cat "$DIR/cg_resume.txt")"
head -1 "$DIR/cg/log.csv" | grep -qx "step,time_s,G_A,G_B,cycle_A,cycle_B,idt_A,idt_B,D_A,D_B,lr" ||
  fail "unexpected log columns: $(head -1 "$DIR/cg/log.csv")"
[ "$(cut -d, -f1 "$DIR/cg/log.csv" | tail -n +2 | tr '\n' ' ')" = "1 2 3 4 " ] ||
  fail "expected log rows for steps 1 2 3 4, got: $(cat "$DIR/cg/log.csv")"
for f in G_A.safetensors G_B.safetensors samples/step_0000002.png samples/step_0000004.png config.ini; do
  [ -s "$DIR/cg/$f" ] || fail "train_cyclegan did not write $DIR/cg/$f"
done

# ---- make_pairs: the sharp -> blurred generator over the sharp images, PairedFolder layout
run "$MAKE_PAIRS" --generator "$DIR/cg/G_A.safetensors" --input "$DIR/synth/sharp" --out "$DIR/pairs" --size 128
[ "$(png_names "$DIR/pairs/blurred")" = "$(png_names "$DIR/pairs/sharp")" ] || fail "blurred and sharp names differ"
[ "$(png_names "$DIR/pairs/sharp" | wc -l)" -eq "$(ls "$DIR/synth/sharp" | wc -l)" ] || fail "not one pair per input"
expect_error 1 "already holds files" "$MAKE_PAIRS" --generator "$DIR/cg/G_A.safetensors" --input "$DIR/synth/sharp" --out "$DIR/pairs"
expect_error 1 "does not fit a ResnetGenerator" "$MAKE_PAIRS" --generator "$DIR/cg/checkpoints/step_0000004/D.safetensors" \
  --input "$DIR/synth/sharp" --out "$DIR/pairs2"

# ---- train_srn on the pairs
run "$SRN" --data "$DIR/pairs" --out "$DIR/srn" --iters 3 --batch-size 2 --crop 128 --base-channels 4 --resblocks 1 \
  --checkpoint-every 2 --sample-every 3 --log-every 1 --workers 1
head -1 "$DIR/srn/log.csv" | grep -qx "step,time_s,loss,mse_x0.25,mse_x0.5,mse_x1,psnr,lr" ||
  fail "unexpected log columns: $(head -1 "$DIR/srn/log.csv")"
for f in srn.safetensors samples/step_0000003.png checkpoints/latest; do
  [ -s "$DIR/srn/$f" ] || fail "train_srn did not write $DIR/srn/$f"
done

# ---- the paper's 80/20 split, and the trained SRN and G_B scored on its test pairs (Table 1)
run "$MAKE_PAIRS" --generator "$DIR/cg/G_A.safetensors" --input "$DIR/synth/sharp" --out "$DIR/split" --size 64 \
  --test-fraction 0.25 --seed 2
ntest=$(png_names "$DIR/split/test/sharp" | wc -l) ntrain=$(png_names "$DIR/split/train/sharp" | wc -l)
nall=$(ls "$DIR/synth/sharp" | wc -l)
[ "$ntest" -eq $(( (nall + 2) / 4 )) ] && [ $((ntest + ntrain)) -eq "$nall" ] ||
  fail "--test-fraction 0.25 of $nall images: expected $(( (nall + 2) / 4 )) test pairs and the rest training, got $ntest + $ntrain"
[ "$(png_names "$DIR/split/test/blurred")" = "$(png_names "$DIR/split/test/sharp")" ] || fail "test pair names differ"
[ "$(grep -c ',test$' "$DIR/split/split.csv")" -eq "$ntest" ] || fail "split.csv does not list the test images"
expect_error 1 "expected --test-fraction in \[0, 1)" "$MAKE_PAIRS" --generator "$DIR/cg/G_A.safetensors" \
  --input "$DIR/synth/sharp" --out "$DIR/split2" --test-fraction 1
run "$EVALUATE" --weights "$DIR/srn/srn.safetensors" --pairs "$DIR/split/test" --size 0 --out "$DIR/eval_srn" --warmup 1
grep -q "| srn (srn.safetensors) | " "$DIR/eval_srn/results.md" || fail "evaluate --pairs lacks the SRN row"
grep -q "| method | pairs | all |" "$DIR/eval_srn/results.md" || fail "evaluate --pairs lacks the paired column"
grep -q "^quality,\"blurred input\",pairs,psnr," "$DIR/eval_srn/results.csv" || fail "results.csv lacks the paired PSNR"
run "$EVALUATE" --weights "$DIR/cg/G_B.safetensors" --pairs "$DIR/split/test" --size 0 --out "$DIR/eval_cg" --name "Zhu et al."
grep -q "| Zhu et al. | " "$DIR/eval_cg/results.md" || fail "evaluate lacks CycleGAN's row"
grep -q "CycleGAN ResnetGenerator B->A" "$DIR/eval_cg/results.md" || fail "evaluate did not recognise G_B from its metadata"
run "$DEBLUR" --weights "$DIR/cg/G_B.safetensors" "$DIR/split/test/blurred" "$DIR/deblur_cg"
[ "$(png_names "$DIR/deblur_cg")" = "$(png_names "$DIR/split/test/blurred")" ] || fail "deblur with G_B: not one output per input"
expect_error 1 "deblurring needs the blurred -> sharp one" "$DEBLUR" --weights "$DIR/cg/G_A.safetensors" \
  "$DIR/split/test/blurred" "$DIR/deblur_x"
expect_error 1 'has no "model" metadata to tell what it is' "$EVALUATE" \
  --weights "$DIR/cg/checkpoints/step_0000004/D.safetensors" --pairs "$DIR/split/test"
expect_error 1 "does not fit the model its metadata describes" "$EVALUATE" --model cyclegan \
  --weights "$DIR/cg/checkpoints/step_0000004/D.safetensors" --pairs "$DIR/split/test"
mkdir -p "$DIR/badpairs/blurred" "$DIR/badpairs/sharp"
cp "$DIR/split/test/blurred/"*.png "$DIR/badpairs/blurred/"
cp "$(ls "$DIR/split/test/sharp/"*.png | head -1)" "$DIR/badpairs/sharp/"  # one partner of the two
expect_error 1 "has no sharp partner" "$EVALUATE" --pairs "$DIR/badpairs" --out "$DIR/x"

# ---- --gan-loss log (the paper's eq. 1), one step, recorded in the generators' metadata
run "$CYCLEGAN" --sharp "$DIR/synth/sharp" --blurred "$DIR/synth/blurred" --out "$DIR/cg_log" --ngf 4 --ndf 4 \
  --n-blocks 1 --load-size 72 --crop 64 --iters 1 --workers 1 --gan-loss log > "$DIR/cg_log.txt"
grep -q "GAN loss log (BCE" "$DIR/cg_log.txt" || fail "train_cyclegan --gan-loss log not reported"
head -c 4096 "$DIR/cg_log/G_B.safetensors" | grep -aq '"gan_loss":"log"' || fail "G_B's metadata lacks gan_loss log"
expect_error 1 "expected --gan-loss lsgan" "$CYCLEGAN" --sharp "$DIR/synth/sharp" --blurred "$DIR/synth/blurred" \
  --out "$DIR/x" --gan-loss hinge
echo "OK: train_cyclegan -> make_pairs -> train_srn -> evaluate / deblur"
