#!/usr/bin/env bash
# Regenerates tests/data/golden/models_face_api.safetensors: face-api.js's own outputs (face
# recognition descriptors, tiny face detector heads and detections) on synthetic images and on
# four real faces of ../shared/data/faces (only the outputs are committed, never the images).
# Needs node (20) + npm and g++ with libstb-dev; CI needs none of this (the golden is committed).
#   1. the weights: tools/fetch_face_api.sh, unless third_party/face-api/model exists;
#   2. node packages in a scratch folder outside the repo (default /tmp/crisp-face-api-node);
#   3. tools/face_api_dump_images.cpp decodes the faces with crisp's reader (so both sides see the
#      same pixels), then tools/face_api_reference.js runs the package.
# Usage: tools/face_api_goldens.sh [node-dir=/tmp/crisp-face-api-node]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
node_dir=${1:-/tmp/crisp-face-api-node}
faces_dir=$root/../shared/data/faces
faces=(28083.jpg 28090.jpg 28093.jpg 28123.jpg)
out=$root/tests/data/golden/models_face_api.safetensors

[[ -f "$root/third_party/face-api/model/face_recognition_model-weights_manifest.json" ]] || bash "$root/tools/fetch_face_api.sh"
if [[ ! -d "$node_dir/node_modules/@vladmandic/face-api" ]]; then
  mkdir -p "$node_dir"
  (cd "$node_dir" && [[ -f package.json ]] || npm init -y >/dev/null)
  (cd "$node_dir" && npm install --no-audit --no-fund @vladmandic/face-api@1.7.15 @tensorflow/tfjs@4.22.0 \
     @tensorflow/tfjs-backend-wasm@4.22.0)
fi
scratch=$(mktemp -d "${TMPDIR:-/tmp}/crisp_face_api_goldens.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
faces_st=-
if [[ -d "$faces_dir" ]]; then
  g++ -std=c++20 -O2 -fopenmp -I"$root/include" -I/usr/include/stb "$root/tools/face_api_dump_images.cpp" -o "$scratch/dump"
  "$scratch/dump" "$scratch/faces.safetensors" "${faces[@]/#/$faces_dir/}"
  faces_st=$scratch/faces.safetensors
else
  echo "face_api_goldens.sh: $faces_dir absent: synthetic inputs only" >&2
fi
NODE_PATH=$node_dir/node_modules node "$root/tools/face_api_reference.js" "$root/third_party/face-api/model" \
  "$faces_st" "$out"
ls -l "$out"
