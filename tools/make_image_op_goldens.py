#!/usr/bin/python3
"""PyTorch reference outputs and gradients for crisp's image ops: pad, max_pool2d,
avg_pool2d, adaptive_avg_pool2d and interpolate.

Run with Debian's python3-torch (the pyenv `python3` has no torch):

    /usr/bin/python3 tools/make_image_op_goldens.py

Writes tests/data/golden/image_ops.safetensors. For every case NAME it stores the input
NAME.in0, the output NAME.out, a random cotangent NAME.r, NAME.grad0 = d(sum(out * r))/d(in0)
and, for max pooling, the argmax indices NAME.idx (as float; exact for these sizes), all float32.
The op and its arguments are in the file's metadata under "case.NAME" as space-separated
key=value pairs, which tests/ops/test_image_ops_golden.cpp parses and replays with crisp, so
every case in the file is run and none can be silently skipped.
"""
import os

import torch
import torch.nn.functional as Fn

from golden_io import write_safetensors

torch.manual_seed(0)
F = torch.float32
CASES = {}  # name -> (input, spec dict)


def randn(*s):
    return torch.randn(*s, dtype=F)


def pair(v):
    return f"{v[0]},{v[1]}" if isinstance(v, (tuple, list)) else f"{v},{v}"


def pad(name, x, pads, value=0.0):
    mode = name.split("_")[1].replace("const", "constant")  # pad_<mode>_...
    CASES[name] = (x, dict(op="pad", pads=",".join(map(str, pads)), mode=mode, value=repr(float(value))))


def max_pool(name, x, k, s=None, p=0, d=1, ceil=False):
    CASES[name] = (x, dict(op="max_pool2d", k=pair(k), s="none" if s is None else pair(s), p=pair(p), d=pair(d),
                           ceil=int(ceil)))


def avg_pool(name, x, k, s=None, p=0, ceil=False, cip=True, div=None):
    CASES[name] = (x, dict(op="avg_pool2d", k=pair(k), s="none" if s is None else pair(s), p=pair(p), ceil=int(ceil),
                           cip=int(cip), div="none" if div is None else str(div)))


def adaptive(name, x, out):
    CASES[name] = (x, dict(op="adaptive_avg_pool2d", out=pair(out)))


def interp(name, x, size=None, scale=None, mode="nearest", ac=None):
    CASES[name] = (x, dict(op="interpolate", size="none" if size is None else pair(size),
                           scale="none" if scale is None else f"{repr(float(scale[0]))},{repr(float(scale[1]))}",
                           mode=mode, ac=int(bool(ac))))


def run(x, spec):
    op = spec["op"]
    ints = lambda k: tuple(int(v) for v in spec[k].split(","))  # noqa: E731
    if op == "pad":
        if spec["mode"] == "circular" and x.dim() == len(ints("pads")) // 2 + 1:
            # torch 1.13 wants a batch dim here; later versions take unbatched input too
            return Fn.pad(x.unsqueeze(0), ints("pads"), mode="circular").squeeze(0), None
        return Fn.pad(x, ints("pads"), mode=spec["mode"], value=float(spec["value"])), None
    if op == "max_pool2d":
        s = None if spec["s"] == "none" else ints("s")
        return Fn.max_pool2d(x, ints("k"), s, ints("p"), ints("d"), ceil_mode=bool(spec["ceil"]), return_indices=True)
    if op == "avg_pool2d":
        s = None if spec["s"] == "none" else ints("s")
        div = None if spec["div"] == "none" else int(spec["div"])
        return Fn.avg_pool2d(x, ints("k"), s, ints("p"), bool(spec["ceil"]), bool(spec["cip"]), div), None
    if op == "adaptive_avg_pool2d":
        return Fn.adaptive_avg_pool2d(x, ints("out")), None
    if op == "interpolate":
        size = None if spec["size"] == "none" else ints("size")
        scale = None if spec["scale"] == "none" else tuple(float(v) for v in spec["scale"].split(","))
        ac = bool(spec["ac"]) if spec["mode"] == "bilinear" else None
        return Fn.interpolate(x, size=size, scale_factor=scale, mode=spec["mode"], align_corners=ac), None
    raise ValueError(op)


# ---- pad: every mode, pads as large as allowed, crops, 1x1 images, CHW / 2-d inputs ----
pad("pad_const", randn(1, 2, 5, 7), (1, 2, 3, 0))
pad("pad_const_value", randn(2, 1, 3, 4), (2, 1, 1, 2), value=1.5)
pad("pad_const_crop", randn(1, 2, 5, 7), (-1, 2, -2, 1))
pad("pad_const_crop_to_one", randn(1, 1, 3, 4), (-2, -1, 1, -3))
pad("pad_const_w_only_chw", randn(2, 5, 6), (2, 3))
pad("pad_const_1x1", randn(1, 1, 1, 1), (2, 3, 1, 4))
pad("pad_const_2d", randn(4, 5), (1, 0, 2, 1))
pad("pad_reflect_max", randn(2, 3, 5, 7), (6, 6, 4, 4))
pad("pad_reflect_asym", randn(1, 1, 4, 4), (3, 0, 0, 3))
pad("pad_reflect_chw", randn(3, 5, 6), (1, 2, 3, 4))
pad("pad_reflect_w_only", randn(2, 3, 6), (5, 5))
pad("pad_reflect_w_only_2d", randn(3, 6), (2, 4))
pad("pad_reflect_crop", randn(1, 2, 5, 6), (-2, 3, 1, -1))
pad("pad_reflect_crop_far", randn(1, 1, 3, 4), (-5, 3, 0, 0))
pad("pad_reflect_1x1_zero", randn(1, 1, 1, 1), (0, 0, 0, 0))
pad("pad_reflect_cyclegan", randn(1, 3, 9, 9), (3, 3, 3, 3))
pad("pad_replicate_big", randn(1, 2, 4, 5), (7, 3, 6, 2))
pad("pad_replicate_1x1", randn(2, 1, 1, 1), (3, 2, 2, 3))
pad("pad_replicate_crop", randn(1, 2, 4, 5), (-1, 2, 0, -2))
pad("pad_replicate_w_only_2d", randn(3, 5), (2, 4))
pad("pad_replicate_chw", randn(2, 3, 4), (1, 1, 2, 0))
pad("pad_circular_max", randn(2, 2, 4, 5), (5, 5, 4, 4))
pad("pad_circular_asym", randn(1, 1, 3, 3), (1, 2, 0, 3))
pad("pad_circular_crop", randn(1, 2, 4, 5), (-1, 2, 1, -1))
pad("pad_circular_crop_wrap", randn(1, 1, 1, 4), (3, -1, 0, 0))
pad("pad_circular_1x1", randn(1, 1, 1, 1), (1, 1, 1, 1))
pad("pad_circular_chw", randn(2, 3, 4), (2, 1, 3, 2))

# ---- max_pool2d: strides 1-3, padding up to k/2, dilation, ceil_mode, ties, NaN ----
max_pool("mp_k2", randn(2, 3, 7, 9), 2)
max_pool("mp_k3_s2_p1", randn(2, 2, 7, 9), 3, 2, 1)
max_pool("mp_k3_s1_p1", randn(1, 2, 6, 5), 3, 1, 1)
max_pool("mp_rect", randn(1, 2, 7, 9), (3, 2), (2, 3), (1, 1))
max_pool("mp_k4_p2", randn(1, 2, 7, 6), 4, 3, 2)
max_pool("mp_dil2", randn(1, 2, 8, 9), 3, 1, 1, 2)
max_pool("mp_dil_rect", randn(1, 2, 8, 9), (2, 3), (1, 2), 0, (2, 3))
max_pool("mp_dil_pad_s3", randn(1, 2, 9, 10), 3, 3, 1, 2)
max_pool("mp_ceil_k3_s2", randn(1, 2, 8, 8), 3, 2, ceil=True)
max_pool("mp_ceil_k2_odd", randn(1, 2, 7, 9), 2, 2, ceil=True)
max_pool("mp_ceil_pad", randn(1, 2, 6, 6), 3, 2, 1, ceil=True)
max_pool("mp_ceil_drop_last", randn(1, 2, 5, 5), 2, 3, 1, ceil=True)
max_pool("mp_ceil_s3", randn(1, 2, 8, 7), 2, 3, ceil=True)
max_pool("mp_ceil_dil", randn(1, 2, 9, 8), 2, 2, 1, 2, ceil=True)
max_pool("mp_1x1_k1", randn(1, 3, 1, 1), 1)
max_pool("mp_1x1_k3_p1", randn(2, 2, 1, 1), 3, 1, 1)
max_pool("mp_chw", randn(3, 5, 6), 2, 1)
max_pool("mp_ties", torch.randint(0, 3, (1, 2, 6, 7)).to(F), 3, 1, 1)
max_pool("mp_ties_overlap", torch.randint(0, 2, (1, 1, 5, 5)).to(F), 2, 1)
_nan = randn(1, 1, 4, 6)
_nan[0, 0, 0, 1] = float("nan")
_nan[0, 0, 1, 0] = float("nan")
_nan[0, 0, 3, 5] = float("nan")
max_pool("mp_nan", _nan, 2, 2)

# ---- avg_pool2d: count_include_pad, ceil_mode edge windows, divisor_override ----
avg_pool("ap_k2", randn(2, 3, 6, 7), 2)
avg_pool("ap_k3_s2_p1", randn(1, 2, 7, 9), 3, 2, 1)
avg_pool("ap_k3_s2_p1_nopad", randn(1, 2, 7, 9), 3, 2, 1, cip=False)
avg_pool("ap_ceil", randn(1, 2, 7, 8), 3, 2, 1, ceil=True)
avg_pool("ap_ceil_nopad", randn(1, 2, 7, 8), 3, 2, 1, ceil=True, cip=False)
avg_pool("ap_ceil_nopadding", randn(1, 2, 5, 7), 2, 2, ceil=True)
avg_pool("ap_ceil_drop_last", randn(1, 2, 5, 6), 2, 3, 1, ceil=True, cip=False)
avg_pool("ap_ceil_s3", randn(1, 2, 8, 7), 3, 3, 1, ceil=True)
avg_pool("ap_divisor", randn(1, 2, 6, 6), 3, 2, 1, div=5)
avg_pool("ap_divisor_neg_ceil", randn(1, 1, 5, 5), 2, 2, 1, ceil=True, div=-3)
avg_pool("ap_rect", randn(1, 2, 7, 9), (3, 2), (1, 3), (1, 1))
avg_pool("ap_1x1_k3_p1", randn(1, 2, 1, 1), 3, 1, 1)
avg_pool("ap_1x1_k3_p1_nopad", randn(1, 2, 1, 1), 3, 1, 1, cip=False)
avg_pool("ap_chw", randn(3, 5, 6), 2, 1)

# ---- adaptive_avg_pool2d ----
adaptive("aap_3x4", randn(2, 3, 7, 9), (3, 4))
adaptive("aap_1x1", randn(2, 3, 5, 6), 1)
adaptive("aap_identity", randn(1, 2, 7, 9), (7, 9))
adaptive("aap_upsample", randn(1, 2, 4, 5), (7, 9))
adaptive("aap_4x1", randn(1, 2, 9, 5), (4, 1))
adaptive("aap_from_1x1", randn(1, 2, 1, 1), (3, 2))
adaptive("aap_chw", randn(3, 5, 5), (2, 3))

# ---- interpolate: nearest, bilinear with align_corners false / true, sizes and scales ----
interp("near_x2_size", randn(2, 2, 5, 7), size=(10, 14))
interp("near_x2_scale", randn(1, 2, 5, 7), scale=(2, 2))
interp("near_down_size", randn(1, 2, 7, 9), size=(3, 4))
interp("near_mixed_size", randn(1, 2, 7, 5), size=(4, 11))
interp("near_half_scale", randn(1, 2, 7, 9), scale=(0.5, 0.5))
interp("near_nonsquare_scale", randn(1, 2, 6, 7), scale=(1.5, 0.7))
interp("near_scale_3_13", randn(1, 1, 4, 5), scale=(3, 1.3))
interp("near_scale_vs_size", randn(1, 1, 3, 7), scale=(1.7, 0.45))
interp("near_1x1", randn(1, 2, 1, 1), size=(3, 2))
interp("near_scale_identity", randn(1, 1, 5, 5), scale=(1.1, 1.1))
interp("bil_x2_scale", randn(1, 2, 5, 7), scale=(2, 2), mode="bilinear", ac=False)
interp("bil_half_scale", randn(1, 2, 8, 10), scale=(0.5, 0.5), mode="bilinear", ac=False)
interp("bil_half_scale_odd", randn(1, 2, 5, 7), scale=(0.5, 0.5), mode="bilinear", ac=False)
interp("bil_size_mixed", randn(2, 1, 5, 7), size=(9, 4), mode="bilinear", ac=False)
interp("bil_nonsquare_scale", randn(1, 2, 6, 7), scale=(1.7, 0.6), mode="bilinear", ac=False)
interp("bil_scale_13", randn(1, 1, 4, 5), scale=(1.3, 2.5), mode="bilinear", ac=False)
interp("bil_1x1", randn(1, 2, 1, 1), size=(3, 4), mode="bilinear", ac=False)
interp("bil_to_1x1", randn(1, 2, 4, 5), size=(1, 1), mode="bilinear", ac=False)
interp("bil_scale_identity", randn(1, 1, 5, 5), scale=(1.1, 1.1), mode="bilinear", ac=False)
interp("bil_ac_size_up", randn(1, 2, 5, 7), size=(9, 13), mode="bilinear", ac=True)
interp("bil_ac_size_down", randn(1, 2, 5, 7), size=(3, 2), mode="bilinear", ac=True)
interp("bil_ac_x2_scale", randn(1, 2, 4, 5), scale=(2, 2), mode="bilinear", ac=True)
interp("bil_ac_half_scale", randn(1, 2, 8, 9), scale=(0.5, 0.5), mode="bilinear", ac=True)
interp("bil_ac_to_1x1", randn(1, 2, 4, 5), size=(1, 1), mode="bilinear", ac=True)
interp("bil_ac_from_1x1", randn(1, 2, 1, 1), size=(3, 3), mode="bilinear", ac=True)
interp("srn_half", randn(1, 3, 16, 16), scale=(0.5, 0.5), mode="bilinear", ac=False)
interp("srn_double", randn(1, 3, 8, 8), scale=(2, 2), mode="bilinear", ac=False)


def main():
    out = {}
    meta = {"generator": "tools/make_image_op_goldens.py", "torch": torch.__version__}
    for name, (x, spec) in CASES.items():
        xg = x.clone().requires_grad_()
        try:
            y, idx = run(xg, spec)
        except Exception:
            print("case", name, spec)
            raise
        r = torch.randn(y.shape, dtype=F)
        y.backward(r)
        out[f"{name}.in0"] = x
        out[f"{name}.out"] = y.detach()
        out[f"{name}.r"] = r
        out[f"{name}.grad0"] = xg.grad
        if idx is not None:
            out[f"{name}.idx"] = idx.to(F)
        meta[f"case.{name}"] = " ".join(f"{k}={v}" for k, v in spec.items())
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "golden", "image_ops.safetensors")
    write_safetensors(path, {k: v.to(F) for k, v in out.items()}, meta)
    size = os.path.getsize(path)
    print(f"wrote {len(CASES)} cases, {len(out)} tensors, {size} bytes to {os.path.normpath(path)}")
    assert size < 300_000, "keep the golden file under 300 KB"


if __name__ == "__main__":
    main()
