#!/usr/bin/python3
"""Reference numbers for crisp's data layer and metrics (Debian python3: torch, scipy, skimage).

    /usr/bin/python3 tools/make_data_goldens.py                # synthetic goldens
    /usr/bin/python3 tools/make_data_goldens.py --real BUILD   # goldens from ../shared/data

Synthetic (tests/data/golden/data_ops.safetensors; inputs are seeded random arrays, stored):
  resize.NAME.{in,out}       torch.nn.functional.interpolate (align_corners=False, no antialias;
                             "area" = adaptive average pooling), spec in metadata "resize.NAME"
  blur.NAME.{in,k,out}       scipy.ndimage.convolve per channel in float64 (modes nearest /
                             constant / mirror = crisp's Replicate / Zero / Reflect)
  metric.NAME.{a,b,ssim,psnr}  skimage structural_similarity(gaussian_weights=True, sigma=1.5,
                             use_sample_covariance=False, data_range=L, channel_axis=0 for 3-d)
                             and peak_signal_noise_ratio, on float64 copies of the float32 arrays
Read by tests/data/test_transforms.cpp, tests/data/test_degradation.cpp and
tests/metrics/test_psnr_ssim.cpp.

Real (tests/data/golden/data_real.safetensors): the licensed faces and kernels must not be
committed, and JPEG decoders differ (stb vs libjpeg differ by up to 3/255), so the inputs come from
crisp itself: the script runs the test program BUILD/tests/data_test_real_data_golden with the
hidden tag [.export] and CRISP_EXPORT_DIR set; it writes the stb-decoded, area-resized (128x128)
faces, their C++ degradations and the lai16 kernels to a temporary directory. The script then
stores only numbers: checksums of those inputs (so a change of decoder or resize is detected),
skimage PSNR / SSIM of each pair, and for the scipy blur of one face by each real kernel the
checksums plus three 3x8x8 crops.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import scipy
import scipy.ndimage as ndi
import skimage
import torch
import torch.nn.functional as F
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from golden_io import write_safetensors

GOLDEN = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "tests", "data", "golden"))
MODES = {"replicate": "nearest", "zero": "constant", "reflect": "mirror"}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        buf = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        dt = {"F32": "<f4", "F64": "<f8"}[e["dtype"]]
        b, en = e["data_offsets"]
        out[name] = np.frombuffer(buf[b:en], dtype=dt).reshape(e["shape"])
    return out


def smooth(rng, *shape):
    """Random images with image-like local structure, values in [0.05, 0.95]."""
    x = rng.rand(*shape)
    axes = tuple(range(len(shape) - 2, len(shape)))
    x = ndi.gaussian_filter(x, sigma=[0] * (len(shape) - 2) + [1.5, 1.5]) if len(shape) > 2 else ndi.gaussian_filter(x, 1.5)
    x = (x - x.min(axis=axes, keepdims=True)) / (np.ptp(x, axis=axes, keepdims=True) + 1e-12)
    return (0.05 + 0.9 * x).astype(np.float32)


def checksum(x):
    """[sum, sum of squares, sum of x_i cos(0.01 i)] over the row-major float64 values."""
    v = np.asarray(x, dtype=np.float64).ravel()
    w = np.cos(0.01 * np.arange(v.size, dtype=np.float64))
    return np.array([v.sum(), (v * v).sum(), (v * w).sum()], dtype=np.float64)


def ssim_ref(a, b, data_range=1.0):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    kw = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=data_range)
    if a.ndim == 3:
        kw["channel_axis"] = 0
    return structural_similarity(a64, b64, **kw), structural_similarity(a, b, **kw)


def synthetic():
    rng = np.random.RandomState(20240605)
    out, meta = {}, {"generator": "tools/make_data_goldens.py", "torch": torch.__version__,
                     "scipy": scipy.__version__, "skimage": skimage.__version__}

    def resize(name, x, h, w, mode):
        t = torch.from_numpy(x)[None]
        kw = {} if mode in ("nearest", "area") else {"align_corners": False}
        y = F.interpolate(t, size=(h, w), mode=mode, **kw)[0].numpy()
        out[f"resize.{name}.in"], out[f"resize.{name}.out"] = x, y.astype(np.float32)
        meta[f"resize.{name}"] = f"mode={mode} h={h} w={w}"

    resize("bilinear_down", smooth(rng, 3, 13, 17), 6, 8, "bilinear")
    resize("bilinear_up", smooth(rng, 2, 5, 7), 11, 16, "bilinear")
    resize("bilinear_same", smooth(rng, 1, 5, 6), 5, 6, "bilinear")
    resize("bicubic_down", smooth(rng, 3, 13, 17), 7, 9, "bicubic")
    resize("bicubic_up", rng.rand(1, 6, 5).astype(np.float32), 13, 12, "bicubic")
    resize("area_int", smooth(rng, 3, 16, 24), 4, 6, "area")
    resize("area_frac", smooth(rng, 2, 13, 17), 5, 7, "area")
    resize("area_up", rng.rand(1, 3, 4).astype(np.float32), 7, 9, "area")
    resize("nearest_down", rng.rand(3, 13, 17).astype(np.float32), 5, 6, "nearest")
    resize("nearest_up", rng.rand(1, 4, 5).astype(np.float32), 9, 11, "nearest")
    resize("nearest_x2", rng.rand(1, 4, 5).astype(np.float32), 8, 10, "nearest")

    def blur(name, x, k, border):
        k = (k / k.sum()).astype(np.float32)
        y = np.stack([ndi.convolve(c.astype(np.float64), k.astype(np.float64), mode=MODES[border], cval=0.0) for c in x])
        out[f"blur.{name}.in"], out[f"blur.{name}.k"], out[f"blur.{name}.out"] = x, k, y.astype(np.float32)
        meta[f"blur.{name}"] = f"border={border}"

    img = smooth(rng, 2, 11, 9)
    k5 = rng.rand(5, 5)
    for border in MODES:
        blur(f"odd5_{border}", img, k5, border)
    blur("row7_replicate", smooth(rng, 1, 8, 10), rng.rand(1, 7), "replicate")
    blur("col3x5_zero", smooth(rng, 1, 8, 10), rng.rand(3, 5), "zero")
    small = smooth(rng, 1, 9, 11)
    k15 = rng.rand(15, 15)
    for border in MODES:
        blur(f"big15_{border}", small, k15, border)
    delta = np.zeros((3, 3))
    delta[0, 0] = 1
    blur("delta_corner_zero", smooth(rng, 1, 6, 7), delta, "zero")
    blur("even4_replicate", smooth(rng, 1, 9, 8), rng.rand(4, 4), "replicate")
    blur("even2x4_zero", smooth(rng, 1, 9, 8), rng.rand(2, 4), "zero")

    worst32 = 0.0

    def metric(name, a, b, data_range=1.0):
        nonlocal worst32
        s64, s32 = ssim_ref(a, b, data_range)
        worst32 = max(worst32, abs(s64 - s32))
        out[f"metric.{name}.a"], out[f"metric.{name}.b"] = a, b
        out[f"metric.{name}.ssim"] = np.array([s64], dtype=np.float64)
        p = peak_signal_noise_ratio(a.astype(np.float64), b.astype(np.float64), data_range=data_range)
        out[f"metric.{name}.psnr"] = np.array([p], dtype=np.float64)
        meta[f"metric.{name}"] = f"data_range={data_range:g}"

    a = smooth(rng, 3, 32, 29)
    blurred = np.stack([ndi.gaussian_filter(c, 1.2) for c in a])
    metric("rgb_blur_noise", a, np.clip(blurred + 0.02 * rng.randn(*a.shape), 0, 1).astype(np.float32))
    metric("rgb_heavy_noise", a, np.clip(a + 0.1 * rng.randn(*a.shape), 0, 1).astype(np.float32))
    g = smooth(rng, 24, 26)
    metric("gray_2d", g, np.clip(g + 0.05 * rng.randn(*g.shape), 0, 1).astype(np.float32))
    t = smooth(rng, 3, 11, 11)
    metric("window_sized", t, np.clip(t + 0.05 * rng.randn(*t.shape), 0, 1).astype(np.float32))
    s = smooth(rng, 2, 20, 17)
    shifted = np.roll(s, 1, axis=2)
    metric("range_255", (255 * s).astype(np.float32), (255 * shifted).astype(np.float32), data_range=255.0)
    print(f"skimage float32-input SSIM differs from float64-input by at most {worst32:.2e}")
    write_safetensors(os.path.join(GOLDEN, "data_ops.safetensors"), out, meta)


def real(build):
    exe = os.path.join(build, "tests", "data_test_real_data_golden")
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, CRISP_EXPORT_DIR=tmp)
        subprocess.run([exe, "[.export]"], env=env, check=True)
        inp = read_safetensors(os.path.join(tmp, "real_inputs.safetensors"))
    out, meta = {}, {"generator": "tools/make_data_goldens.py --real", "scipy": scipy.__version__,
                     "skimage": skimage.__version__}
    stems = sorted({k.split(".")[1] for k in inp if k.startswith("face.")})
    for s in stems:
        sharp = inp[f"face.{s}.sharp"]
        out[f"face.{s}.sharp.checksum"] = checksum(sharp)
        for kind in ("blurred", "noisy"):
            d = inp[f"face.{s}.{kind}"]
            out[f"face.{s}.{kind}.checksum"] = checksum(d)
            out[f"face.{s}.{kind}.ssim"] = np.array([ssim_ref(sharp, d)[0]], dtype=np.float64)
            out[f"face.{s}.{kind}.psnr"] = np.array(
                [peak_signal_noise_ratio(sharp.astype(np.float64), d.astype(np.float64), data_range=1.0)], dtype=np.float64)
    x = inp["blur_input"].astype(np.float64)
    out["blur_input.checksum"] = checksum(inp["blur_input"])
    cases = [(k.split(".", 1)[1], "replicate") for k in sorted(inp) if k.startswith("kernel.")] + [("kernel_01", "zero")]
    for kname, border in cases:
        k = inp[f"kernel.{kname}"].astype(np.float64)
        out[f"kernel.{kname}.checksum"] = checksum(inp[f"kernel.{kname}"])
        y = np.stack([ndi.convolve(c, k, mode=MODES[border], cval=0.0) for c in x])
        key = f"blur.{kname}.{border}"
        out[f"{key}.checksum"] = checksum(y)
        out[f"{key}.top_left"] = y[:, :8, :8].astype(np.float32)
        out[f"{key}.centre"] = y[:, 60:68, 60:68].astype(np.float32)
        out[f"{key}.bottom_right"] = y[:, -8:, -8:].astype(np.float32)
        meta[key] = f"kernel={kname} border={border}"
    write_safetensors(os.path.join(GOLDEN, "data_real.safetensors"), out, meta)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real", metavar="BUILD_DIR", help="make the real-data goldens with this build's test program")
    args = ap.parse_args()
    if args.real:
        real(args.real)
    else:
        synthetic()


if __name__ == "__main__":
    sys.exit(main())
