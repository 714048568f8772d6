#!/usr/bin/env bash
# Smoke test of the semantic face deblurring programs (CTest example_semantic_pipeline):
#   bash semantic_pipeline_test.sh BIN_DIR SCRATCH_DIR SHARED_DATA [FACE_API_DIR]
#  1. cartoon faces with Helen labels the test makes itself (train_parsing --make-demo-data);
#  2. train_parsing (plain and --finetune-blurred --init), train_semantic_deblur (full recipe and
#     an ablation without parser, with --residual), deblur (one image and a folder), evaluate - a few
#     steps each at tiny widths, checking every output file;
#  3. clear errors: missing / empty data folder, missing --parsing, bad --model;
#  4. the same programs on ../shared/data (parsing/ and faces/) when present, else a SKIP line;
#     there, evaluate --detect haar,hog (+ --identity with FACE_API_DIR's weights) and the Haar rate on
#     sharp 128x128 faces >= 0.8 (a SKIP line when the build has no OpenCV / dlib).
set -euo pipefail
bin="$1" dir="$2" shared="$3" face_api="${4:-}"
unset CRISP_FACE_API_DIR  # the programs' fallback for --face-api: the error checks below need it unset
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "semantic_pipeline_test: FAILED: $*" >&2; exit 1; }
run() {  # run NAME PROGRAM ARGS...: runs bin/PROGRAM, output in dir/NAME.txt, fails loudly
  local name="$1" prog="$2"; shift 2
  "$bin/$prog" "$@" > "$dir/$name.txt" 2>&1 || { cat "$dir/$name.txt"; fail "$prog $*"; }
}
need() { for f in "$@"; do [[ -f "$f" ]] || fail "missing output $f"; done; }

for p in train_parsing train_semantic_deblur deblur evaluate; do
  "$bin/$p" --help > "$dir/help_$p.txt" || fail "$p --help"
done
grep -q -- "--resume" "$dir/help_train_semantic_deblur.txt" || fail "--help lacks the shared options"
grep -q -- "--no-structural" "$dir/help_train_semantic_deblur.txt" || fail "--help lacks the ablation flags"

# 1. own data
run make train_parsing --make-demo-data "$dir/data"
need "$dir/data/images/face_000.png" "$dir/data/labels/face_007.png"
echo "semantic_pipeline_test: using cartoon faces made by the test in $dir/data"

# 2. the programs
P=(--format helen --size 40 --crop 32 --val 2 --batch-size 2 --base-channels 4 --log-every 1)
run parse train_parsing --data "$dir/data" --out "$dir/parse" --iters 3 --sample-every 3 --eval-every 2 "${P[@]}"
need "$dir/parse/parsing.safetensors" "$dir/parse/fscores.md" "$dir/parse/fscores.csv" "$dir/parse/eval.csv" \
     "$dir/parse/validation.png" "$dir/parse/samples/step_0000003.png" "$dir/parse/checkpoints/latest"
grep -q "eyes (4+5)" "$dir/parse/fscores.md" || fail "fscores.md lacks the eyes row"
grep -q "| mean over [0-9]* classes |" "$dir/parse/fscores.md" || fail "fscores.md lacks the mean over classes"
run parse_eval train_parsing --data "$dir/data" --out "$dir/parse_eval" --evaluate-only "$dir/parse/parsing.safetensors" "${P[@]}"
grep -q "no training" "$dir/parse_eval.txt" || fail "--evaluate-only should say it does not train"
[[ ! -d "$dir/parse_eval/checkpoints" ]] || fail "--evaluate-only trained"
cmp -s <(tail -n +2 "$dir/parse/fscores.csv") <(tail -n +2 "$dir/parse_eval/fscores.csv") ||
  fail "--evaluate-only scores differ from the training run's final table"
[[ "$(wc -l < "$dir/parse/log.csv")" -eq 4 ]] || fail "parse log.csv should have 3 rows"
run finetune train_parsing --data "$dir/data" --out "$dir/finetune" --iters 2 --finetune-blurred \
    --init "$dir/parse/parsing.safetensors" "${P[@]}"
grep -q "initialised from" "$dir/finetune.txt" || fail "--init not reported"
need "$dir/finetune/parsing.safetensors"

D=(--size 40 --crop 32 --batch-size 2 --channels 8 --resblocks 1 --ndf 8 --kernel-min 5 --kernel-max 9 --stage-iters 1
   --kernels-per-size 2 --log-every 1)
run deblur_train train_semantic_deblur --data "$dir/data/images" --parsing "$dir/parse/parsing.safetensors" \
    --holdout 2 --out "$dir/deblur" --iters 3 --eval-every 2 --sample-every 3 --disc-activation relu "${D[@]}"
need "$dir/deblur/deblur.safetensors" "$dir/deblur/holdout.md" "$dir/deblur/holdout.png" "$dir/deblur/eval.csv" \
     "$dir/deblur/samples/step_0000003.png" "$dir/deblur/checkpoints/latest"
grep -q "training without the perceptual loss (Lp off)" "$dir/deblur_train.txt" || fail "no perceptual-loss note"
head -c 4096 "$dir/deblur/deblur.safetensors" | grep -aq '"perceptual":"off (no --vgg' ||
  fail "the weights' metadata should record that Lp was off"
head -c 4096 "$dir/deblur/deblur.safetensors" | grep -aq '"discriminator_activation":"relu"' ||
  fail "the weights' metadata should record --disc-activation relu"
[[ "$(head -1 "$dir/deblur/log.csv")" == \
   "step,time_s,content1,content2,structural1,structural2,perceptual,adv_g,adv_d,total,kernel_max,lr" ]] ||
  fail "deblur log.csv header: $(head -1 "$dir/deblur/log.csv")"
[[ "$(wc -l < "$dir/deblur/eval.csv")" -eq 3 ]] || fail "eval.csv should have rows for steps 0 and 2"
grep -q "restored" "$dir/deblur/holdout.md" || fail "holdout.md lacks the restored row"
run ablation train_semantic_deblur --data "$dir/data/images" --no-semantics --no-adversarial --direct --residual \
    --out "$dir/ablation" --iters 2 "${D[@]}"
grep -q "without the structural loss" "$dir/ablation.txt" || fail "the ablation should say it has no structural loss"
need "$dir/ablation/deblur.safetensors"
grep -q "resblocks 1, residual)" "$dir/ablation.txt" || fail "--residual not reported"
head -c 4096 "$dir/ablation/deblur.safetensors" | grep -aq '"residual":"true"' ||
  fail "the weights' metadata should record residual (deblur / evaluate rebuild the net from it)"

run deblur_one deblur --model semantic --weights "$dir/deblur/deblur.safetensors" "$dir/data/images/face_000.png" "$dir/out1"
need "$dir/out1/face_000.png" "$dir/out1/face_000_parsing.png"
run deblur_dir deblur --weights "$dir/ablation/deblur.safetensors" --size 48 "$dir/data/images" "$dir/out2"
need "$dir/out2/face_007.png"
[[ ! -f "$dir/out2/face_000_parsing.png" ]] || fail "a model without semantics wrote a parsing map"

run eval evaluate --weights "$dir/deblur/deblur.safetensors" --data "$dir/data/images" --size 64 \
    --kernel-sizes 5,9 --out "$dir/eval" --name "tiny net"
need "$dir/eval/results.md" "$dir/eval/results.csv" "$dir/eval/per_image.csv" "$dir/eval/examples.png"
grep -q "| blurred input |" "$dir/eval/results.md" || fail "results.md lacks the blurred-input row"
grep -q "| tiny net |" "$dir/eval/results.md" || fail "results.md lacks the model row"
grep -q "| method | 5x5 | 9x9 | all |" "$dir/eval/results.md" || fail "results.md lacks the per-kernel-size columns"
[[ "$(grep -c '^quality,' "$dir/eval/results.csv")" -eq 12 ]] ||
  fail "results.csv should have 2 methods x (2 sizes + all) x (psnr, ssim) quality rows"
grep -q '^time,"tiny net",cpu,seconds_per_image,' "$dir/eval/results.csv" || fail "results.csv lacks the time per image"
grep -q "## Execution time" "$dir/eval/results.md" || fail "results.md lacks the execution-time table"

# 3. clear errors
expect_error() {  # expect_error PATTERN PROGRAM ARGS...: exit code 1 and PATTERN in the output
  local pattern="$1" prog="$2"; shift 2
  set +e; "$bin/$prog" "$@" > "$dir/err.txt" 2>&1; local rc=$?; set -e
  [[ $rc -eq 1 ]] && grep -q -- "$pattern" "$dir/err.txt" ||
    fail "expected exit 1 and '$pattern' for $prog $*, got $rc: $(cat "$dir/err.txt")"
}
mkdir -p "$dir/empty"
expect_error "does not exist" train_semantic_deblur --data "$dir/missing" --no-semantics --out "$dir/e1"
expect_error "holds no images" train_semantic_deblur --data "$dir/empty" --no-semantics --out "$dir/e2"
expect_error "expected --parsing" train_semantic_deblur --data "$dir/data/images" --out "$dir/e3"
expect_error "does not exist" train_parsing --data "$dir/missing" --out "$dir/e4"
expect_error "expected --model auto, semantic, srn, cyclegan or demo" deblur --model nope --weights "$dir/deblur/deblur.safetensors" \
    "$dir/data/images" "$dir/e5"
expect_error "holds SemanticDeblurNet weights (--model semantic)" deblur --model srn \
    --weights "$dir/deblur/deblur.safetensors" "$dir/data/images" "$dir/e5"
expect_error "holds a FaceParsingNet, not a restoring model" evaluate --weights "$dir/parse/parsing.safetensors" \
    --data "$dir/data/images"
expect_error "needs face-api.js's" evaluate --data "$dir/data/images" --identity
expect_error "needs face-api.js's" train_semantic_deblur --data "$dir/data/images" --no-semantics \
    --perceptual faceid --out "$dir/e7"
expect_error "expected --detect" evaluate --data "$dir/data/images" --detect ,
expect_error "expected haar, lbp, hog or tiny, got 'nope'" evaluate --data "$dir/data/images" --detect nope
expect_error "expected --disc-activation leaky" train_semantic_deblur --data "$dir/data/images" --no-semantics \
    --disc-activation tanh --out "$dir/e8"
expect_error "holds no images" evaluate --weights "$dir/deblur/deblur.safetensors" --data "$dir/empty"
expect_error "no checkpoint to continue from" train_parsing --data "$dir/data" --format helen --out "$dir/e6" --resume
# a bad command line: exit code 2 and CLI11's message (deblur and evaluate name their missing
# required options first, the trainers the unknown one)
for prog in train_parsing train_semantic_deblur deblur evaluate; do
  set +e; "$bin/$prog" --no-such-option > "$dir/err.txt" 2>&1; rc=$?; set -e
  [[ $rc -eq 2 ]] && grep -Eq -- "--no-such-option|is required" "$dir/err.txt" ||
    fail "expected exit 2 and CLI11's message for $prog --no-such-option, got $rc: $(cat "$dir/err.txt")"
done

# 4. the shared data
if [[ -d "$shared/parsing/images" ]]; then
  run shared_parse train_parsing --data "$shared/parsing" --out "$dir/shared_parse" --iters 1 --size 40 --crop 32 \
      --val 2 --batch-size 2 --base-channels 4
  need "$dir/shared_parse/fscores.md"
  echo "semantic_pipeline_test: ran train_parsing on $shared/parsing"
else
  echo "semantic_pipeline_test: SKIP the real-data parsing run: $shared/parsing does not exist"
fi
if [[ -d "$shared/faces" ]]; then
  run shared_deblur train_semantic_deblur --data "$shared/faces" --parsing "$dir/parse/parsing.safetensors" --holdout 1 \
      --out "$dir/shared_deblur" --iters 1 --eval-kernels 1 "${D[@]}"
  need "$dir/shared_deblur/holdout.md"
  first=$(ls "$shared/faces" | head -1)
  run shared_infer deblur --weights "$dir/shared_deblur/deblur.safetensors" --size 64 "$shared/faces/$first" "$dir/out3"
  echo "semantic_pipeline_test: ran train_semantic_deblur and deblur on $shared/faces"
  # The papers' evaluations on real faces: detection (Haar, HOG), identity, time per image. Sharp
  # aligned faces at 128x128 must be found by the Haar cascade at a rate >= 0.8.
  E=(--weights "$dir/shared_deblur/deblur.safetensors" --data "$shared/faces" --size 128 --kernel-sizes 19
     --detect haar,hog --out "$dir/shared_eval")
  if [[ -n "$face_api" && -f "$face_api/face_recognition_model-weights_manifest.json" ]]; then
    E+=(--identity --face-api "$face_api")
  else
    echo "semantic_pipeline_test: SKIP evaluate --identity on real faces: no face-api.js weights in '$face_api'" \
         "(tools/fetch_face_api.sh)"
  fi
  set +e; "$bin/evaluate" "${E[@]}" > "$dir/shared_eval.txt" 2>&1; rc=$?; set -e
  if [[ $rc -ne 0 ]] && grep -q "this build of the examples has no" "$dir/shared_eval.txt"; then
    echo "semantic_pipeline_test: SKIP evaluate --detect on real faces: $(grep -o 'this build of the examples has no[^(]*' "$dir/shared_eval.txt" | head -1)"
  else
    [[ $rc -eq 0 ]] || { cat "$dir/shared_eval.txt"; fail "evaluate ${E[*]}"; }
    cat "$dir/shared_eval/results.md"
    grep -q "## Face detection success rate" "$dir/shared_eval/results.md" || fail "results.md lacks the detection table"
    grep -q "| images | haar | hog |" "$dir/shared_eval/results.md" || fail "the detection table lacks a detector column"
    grep -q "## Execution time" "$dir/shared_eval/results.md" || fail "results.md lacks the time per image"
    [[ " ${E[*]} " != *" --identity "* ]] || grep -q "## Identity" "$dir/shared_eval/results.md" || fail "no identity table"
    rate=$(awk -F, '$1 == "detection" && $2 == "\"sharp\"" && $3 == "haar" { print $5 }' "$dir/shared_eval/results.csv")
    [[ -n "$rate" ]] || fail "results.csv lacks the Haar rate on sharp faces"
    awk -v r="$rate" 'BEGIN { exit !(r >= 0.8) }' || fail "Haar found sharp aligned 128x128 faces at a rate of $rate < 0.8"
    echo "semantic_pipeline_test: Haar cascade on sharp aligned faces at 128x128: success rate $rate (>= 0.8)"
  fi
  # Top-k recognition and the tiny detector: 4 identities, each folder a probe and a gallery image
  # (the same photograph, so the sharp probe's nearest gallery face is its own: top-1 = 1).
  if [[ " ${E[*]} " == *" --identity "* ]]; then
    for f in $(ls "$shared/faces" | head -4); do
      mkdir -p "$dir/ids/${f%.*}" && ln -sf "$shared/faces/$f" "$dir/ids/${f%.*}/a_probe.jpg" &&
        ln -sf "$shared/faces/$f" "$dir/ids/${f%.*}/b_gallery.jpg"
    done
    run ids_eval evaluate --data "$dir/ids" --size 128 --kernel-sizes 13 --identity --face-api "$face_api" \
        --detect haar,tiny --out "$dir/ids_eval"
    grep -q "| images | identity distance to sharp | top-1 | top-3 | top-5 |" "$dir/ids_eval/results.md" ||
      fail "no top-k table for one folder per identity: $(cat "$dir/ids_eval/results.md")"
    grep -q '^identity,"sharp",recognition,top1,1,' "$dir/ids_eval/results.csv" ||
      fail "the sharp probes should find their own gallery image first: $(grep recognition "$dir/ids_eval/results.csv")"
    grep -q '^detection,"sharp",tiny,success_rate,' "$dir/ids_eval/results.csv" || fail "no tiny-detector rate"
    echo "semantic_pipeline_test: top-k recognition and the tiny detector on 4 identities"
    # the perceptual loss on the recognition net's features: two steps, recorded in the metadata
    run faceid_train train_semantic_deblur --data "$dir/ids/$(ls "$dir/ids" | head -1)" --no-semantics \
        --perceptual faceid --face-api "$face_api" --size 128 --crop 128 --iters 2 --channels 4 --resblocks 1 --ndf 4 \
        --batch-size 1 --kernel-min 5 --kernel-max 9 --out "$dir/faceid_train"
    head -c 4096 "$dir/faceid_train/deblur.safetensors" | grep -aq '"perceptual":"faceid' ||
      fail "the weights' metadata should record the faceid perceptual loss"
    awk -F, 'NR > 1 && $7 <= 0 { bad = 1 } END { exit bad }' "$dir/faceid_train/log.csv" ||
      fail "--perceptual faceid logged no perceptual loss: $(cat "$dir/faceid_train/log.csv")"
  fi
else
  echo "semantic_pipeline_test: SKIP the real-data deblurring run: $shared/faces does not exist"
fi
echo "semantic_pipeline_test: OK"
