// Reference outputs of face-api.js (@vladmandic/face-api@1.7.15, tfjs 4.22 CPU backend) for
// crisp's imported face networks: runs the face recognition net and the tiny face detector on
// synthetic images (an integer formula, rebuilt by the test) and on real faces (their pixels as
// crisp decodes them, from tools/face_api_dump_images), and writes a small safetensors golden.
// Run it through tools/face_api_goldens.sh, which sets up node_modules and the inputs.
//
// Usage: node face_api_reference.js MODEL_DIR FACES.safetensors|- OUT.safetensors
// (needs @vladmandic/face-api@1.7.15, @tensorflow/tfjs@4.22.0, @tensorflow/tfjs-backend-wasm@4.22.0
// on NODE_PATH; the package's ESM bundle fails under node, so its node-wasm CommonJS build is used)
'use strict';
const fs = require('fs');
const path = require('path');
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');

const tf = faceapi.tf;

function readSafetensors(file) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const data = buf.subarray(8 + n);
  const out = { tensors: {}, metadata: header.__metadata__ || {} };
  for (const [k, v] of Object.entries(header)) {
    if (k === '__metadata__') continue;
    if (v.dtype !== 'F32') throw new Error(`${file}: ${k} is ${v.dtype}, expected F32`);
    const [b, e] = v.data_offsets;
    const bytes = data.subarray(b, e);
    const arr = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    out.tensors[k] = { shape: v.shape, data: arr };
  }
  return out;
}

function writeSafetensors(file, tensors, metadata) {
  const names = Object.keys(tensors).sort();
  const header = { __metadata__: metadata };
  let offset = 0;
  for (const k of names) {
    const t = tensors[k];
    const bytes = t.data.length * 4;
    header[k] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let h = JSON.stringify(header);
  while ((8 + Buffer.byteLength(h)) % 8 !== 0) h += ' ';
  const hb = Buffer.from(h, 'utf8');
  const out = Buffer.alloc(8 + hb.length + offset);
  out.writeBigUInt64LE(BigInt(hb.length), 0);
  hb.copy(out, 8);
  let pos = 8 + hb.length;
  for (const k of names) {
    const d = tensors[k].data;
    Buffer.from(d.buffer, d.byteOffset, d.length * 4).copy(out, pos);
    pos += d.length * 4;
  }
  fs.writeFileSync(file, out);
}

// The synthetic image of tests/models/test_face_api.cpp: [3, H, W] integer values 0..255.
function synthetic(h, w, seed) {
  const d = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const smooth = (x * (3 + c) + y * (5 - c) + seed * 17) % 256;
        const blob = ((x - (w >> 1)) * (x - (w >> 1)) + (y - (h >> 1)) * (y - (h >> 1))) % 97;
        d[(c * h + y) * w + x] = (smooth + 2 * blob + c * 31) % 256;
      }
  return { shape: [3, h, w], data: d };
}

// [3, H, W] planar -> tf [H, W, 3] float32 (face-api.js's image tensor layout).
function toHwc(img) {
  const [c, h, w] = img.shape;
  const d = new Float32Array(h * w * c);
  for (let k = 0; k < c; k++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) d[(y * w + x) * c + k] = img.data[(k * h + y) * w + x];
  return tf.tensor3d(d, [h, w, c], 'float32');
}

// Rows [first, H) of [3, H, W].
function dropRows(img, first) {
  const [c, h, w] = img.shape;
  const rows = h - first;
  const d = new Float32Array(c * rows * w);
  for (let k = 0; k < c; k++) d.set(img.data.subarray((k * h + first) * w, (k + 1) * h * w), k * rows * w);
  return { shape: [c, rows, w], data: d };
}

async function loadNet(net, modelDir, name) {
  const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, `${name}-weights_manifest.json`), 'utf8'));
  if (manifest.length !== 1) throw new Error(`${name}: expected one weight group`);
  const shards = manifest[0].paths.map((p) => fs.readFileSync(path.join(modelDir, p)));
  const all = Buffer.concat(shards);
  const weightMap = tf.io.decodeWeights(all.buffer.slice(all.byteOffset, all.byteOffset + all.length), manifest[0].weights);
  await net.loadFromWeightMap(weightMap);
}

async function main() {
  const [modelDir, facesFile, outFile] = process.argv.slice(2);
  if (!outFile) throw new Error('usage: node face_api_reference.js MODEL_DIR FACES.safetensors|- OUT.safetensors');
  await tf.setBackend('cpu');
  await tf.ready();
  const rec = new faceapi.FaceRecognitionNet();
  await loadNet(rec, modelDir, 'face_recognition_model');
  const det = new faceapi.TinyFaceDetector();
  await loadNet(det, modelDir, 'tiny_face_detector_model');

  const inputs = [];  // { key, img (planar 0..255), detectSizes }
  inputs.push({ key: 'synthetic_97x131', img: synthetic(97, 131, 1), detectSizes: [128] });
  inputs.push({ key: 'synthetic_150x150', img: synthetic(150, 150, 2), detectSizes: [160] });
  const meta = {
    generator: 'tools/face_api_reference.js (tools/face_api_goldens.sh)',
    package: '@vladmandic/face-api@1.7.15',
    tfjs: `@tensorflow/tfjs@${tf.version.tfjs} backend ${tf.getBackend()}`,
    node: process.version,
    synthetic: 'synthetic_HxW = tests/models/test_face_api.cpp synthetic_image(H, W, seed 1 | 2)',
  };
  if (facesFile !== '-') {
    const faces = readSafetensors(facesFile);
    const n = Object.keys(faces.tensors).length;
    for (let i = 0; i < n; i++) {
      const img = faces.tensors[`image.${i}`];
      const name = faces.metadata[`name.${i}`];
      const key = `face_${name.replace(/\.[^.]*$/, '')}`;
      meta[`${key}.source`] = `shared/data/faces/${name}, decoded by crisp::data::load_image`;
      inputs.push({ key, img, detectSizes: [416, 224] });
      if (i === 0) {  // a non-square crop: the detector's padding correction on a real face
        inputs.push({ key: `${key}_rows160`, img: dropRows(img, 160), detectSizes: [416, 224] });
        meta[`${key}_rows160.source`] = `rows 160.. of ${key}`;
      }
    }
  }

  const out = {};
  for (const { key, img, detectSizes } of inputs) {
    const t = toHwc(img);
    // Checksum of the input pixels: the test recomputes it to prove it ran on the same pixels.
    let sum = 0;
    for (let k = 0; k < img.data.length; k++) sum += img.data[k] * ((k % 7) + 1);
    out[`${key}.input_checksum`] = { shape: [1], data: new Float32Array([sum]) };
    out[`${key}.input_shape`] = { shape: [3], data: new Float32Array(img.shape) };
    const desc = await rec.computeFaceDescriptor(t);
    out[`${key}.descriptor`] = { shape: [128], data: Float32Array.from(desc) };
    for (const size of detectSizes) {
      const netInput = await faceapi.toNetInput(t);
      const head = det.forwardInput(netInput, size);  // [1, C, C, 25] NHWC
      const [, ch, cw, cc] = head.shape;
      const hd = head.dataSync();
      const nchw = new Float32Array(hd.length);
      for (let y = 0; y < ch; y++)
        for (let x = 0; x < cw; x++)
          for (let k = 0; k < cc; k++) nchw[(k * ch + y) * cw + x] = hd[(y * cw + x) * cc + k];
      head.dispose();
      out[`${key}.tiny${size}.head`] = { shape: [1, cc, ch, cw], data: nchw };
      const dets = await det.locateFaces(t, new faceapi.TinyFaceDetectorOptions({ inputSize: size, scoreThreshold: 0.5 }));
      // rows: score, x, y, width, height (pixels), rel x, rel y, rel width, rel height
      const rows = new Float32Array(Math.max(dets.length, 0) * 9);
      dets.forEach((d, r) => {
        const b = d.box;
        const rb = d.relativeBox;
        rows.set([d.score, b.x, b.y, b.width, b.height, rb.x, rb.y, rb.width, rb.height], r * 9);
      });
      out[`${key}.tiny${size}.detections`] = { shape: [dets.length, 9], data: rows };
      console.log(`${key} tiny${size}: ${dets.length} detection(s)${dets.length ? `, best score ${dets[0].score.toFixed(4)}` : ''}`);
    }
    t.dispose();
    console.log(`${key}: descriptor[0..3] ${Array.from(desc.slice(0, 3)).map((v) => v.toFixed(5)).join(' ')}`);
  }
  writeSafetensors(outFile, out, meta);
  console.log(`wrote ${outFile}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
