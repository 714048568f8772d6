#!/usr/bin/env bash
# Fetches the pretrained face networks of face-api.js (npm package @vladmandic/face-api@1.7.15,
# MIT licence) with `npm pack` and unpacks its model/ folder (TensorFlow.js weight manifests +
# .bin shards) and LICENSE into third_party/face-api/ (git-ignored: the weights are never
# committed). crisp::models::FaceRecognitionNet and TinyFaceDetector load them from there:
#   third_party/face-api/model/face_recognition_model-weights_manifest.json (+ .bin, 6.4 MB)
#   third_party/face-api/model/tiny_face_detector_model-weights_manifest.json (+ .bin, 190 kB)
# The tarball's SHA-1 is checked against the one the npm registry published for 1.7.15.
#
# Usage: tools/fetch_face_api.sh [dest=third_party/face-api]   (needs npm and the npm registry)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-$root/third_party/face-api}
pkg=@vladmandic/face-api@1.7.15
sha1=10cddf5c405f6f52f37605c9ee28c91ac6a23ead  # `npm view $pkg dist.shasum`

command -v npm >/dev/null || { echo "fetch_face_api.sh: npm not found (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/crisp_face_api.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
tarball=$(ls "$tmp"/*.tgz)
got=$(sha1sum "$tarball" | cut -d' ' -f1)
[[ "$got" == "$sha1" ]] || { echo "fetch_face_api.sh: $tarball has SHA-1 $got, expected $sha1" >&2; exit 1; }
tar -xzf "$tarball" -C "$tmp" package/model package/LICENSE package/package.json
rm -rf "$dest.partial"
mkdir -p "$dest.partial"
mv "$tmp/package/model" "$tmp/package/LICENSE" "$tmp/package/package.json" "$dest.partial/"
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "fetch_face_api.sh: $pkg model files in $dest/model:"
ls -l "$dest/model" | sed 1d
