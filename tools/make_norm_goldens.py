#!/usr/bin/python3
"""PyTorch reference values for crisp's batch_norm and instance_norm.

Run with Debian's python3-torch (the pyenv `python3` has no torch):

    /usr/bin/python3 tools/make_norm_goldens.py

Writes tests/data/golden/norm.safetensors. For every case NAME it stores, in float32:
  NAME.cfg   [training (or use_input_stats), momentum, eps, affine, has running stats]
  NAME.x     the input; NAME.w, NAME.b (affine cases); NAME.rm, NAME.rv (running stats before)
  NAME.out   the output; NAME.r a random cotangent; NAME.gx / .gw / .gb = d(sum(out * r))/d(...)
  NAME.rm1, NAME.rv1  running stats after the step (training cases with running stats)
  NAME.x2, NAME.rm2, NAME.rv2  a second step's input and the running stats after it
tests/ops/test_normalization.cpp replays every case with crisp and compares.
"""
import os

import torch
import torch.nn.functional as Fn

from golden_io import write_safetensors

torch.manual_seed(0)
F = torch.float32

# name: (op, shape, training / use_input_stats, momentum, eps, affine, running, input scale, input offset)
CASES = {
    "bn_train_affine": ("bn", (4, 3, 5, 7), True, 0.1, 1e-5, True, True, 1.0, 0.0),
    "bn_train_plain": ("bn", (2, 5, 3, 3), True, 0.3, 1e-5, False, True, 1.0, 0.0),
    "bn_train_no_running": ("bn", (3, 4, 6, 5), True, 0.1, 1e-5, True, False, 1.0, 0.0),
    "bn_train_2d": ("bn", (8, 6), True, 0.1, 1e-5, True, True, 1.0, 0.0),
    "bn_train_3d": ("bn", (4, 3, 10), True, 0.1, 1e-5, True, True, 1.0, 0.0),
    "bn_train_5d": ("bn", (2, 3, 2, 3, 4), True, 0.1, 1e-5, True, True, 1.0, 0.0),
    "bn_train_c1": ("bn", (5, 1, 4, 3), True, 0.1, 1e-5, True, True, 1.0, 0.0),
    "bn_train_n1": ("bn", (1, 4, 3, 5), True, 0.1, 1e-5, True, True, 1.0, 0.0),
    "bn_train_odd_eps": ("bn", (3, 2, 7, 9), True, 0.5, 1e-3, True, True, 1.0, 0.0),
    "bn_train_offset": ("bn", (4, 3, 6, 6), True, 0.1, 1e-5, True, True, 3.0, 5.0),
    "bn_train_1x1": ("bn", (6, 4, 1, 1), True, 0.1, 1e-5, True, True, 1.0, 0.0),
    "bn_eval_affine": ("bn", (4, 3, 5, 7), False, 0.1, 1e-5, True, True, 1.0, 0.0),
    "bn_eval_plain_2d": ("bn", (6, 5), False, 0.1, 1e-5, False, True, 1.0, 0.0),
    "bn_eval_c1": ("bn", (2, 1, 9, 7), False, 0.1, 1e-5, True, True, 1.0, 0.0),
    "bn_eval_n1": ("bn", (1, 3, 1, 1), False, 0.1, 1e-5, True, True, 1.0, 0.0),
    "in_affine": ("in", (2, 3, 5, 7), True, 0.1, 1e-5, True, False, 1.0, 0.0),
    "in_plain": ("in", (3, 2, 4, 6), True, 0.1, 1e-5, False, False, 1.0, 0.0),
    "in_n1": ("in", (1, 4, 5, 5), True, 0.1, 1e-5, True, False, 1.0, 0.0),
    "in_c1_odd": ("in", (2, 1, 7, 9), True, 0.1, 1e-5, True, False, 1.0, 0.0),
    "in_1d": ("in", (2, 3, 11), True, 0.1, 1e-5, True, False, 1.0, 0.0),
    "in_offset": ("in", (2, 3, 6, 6), True, 0.1, 1e-3, False, False, 3.0, -4.0),
    "in_running": ("in", (2, 3, 4, 5), True, 0.2, 1e-5, True, True, 1.0, 0.0),
    "in_running_plain_n1": ("in", (1, 2, 3, 7), True, 0.1, 1e-5, False, True, 1.0, 0.0),
    "in_eval_running": ("in", (2, 3, 4, 5), False, 0.1, 1e-5, True, True, 1.0, 0.0),
}


def call(op, x, rm, rv, w, b, train, momentum, eps):
    if op == "bn":
        return Fn.batch_norm(x, rm, rv, w, b, train, momentum, eps)
    return Fn.instance_norm(x, rm, rv, w, b, train, momentum, eps)


def main():
    out = {}
    for name, (op, shape, train, momentum, eps, affine, running, scale, offset) in CASES.items():
        c = shape[1]
        x = torch.randn(*shape, dtype=F) * scale + offset
        w = (torch.rand(c, dtype=F) + 0.5) if affine else None
        b = torch.randn(c, dtype=F) if affine else None
        rm = torch.randn(c, dtype=F) * 0.5 if running else None
        rv = (torch.rand(c, dtype=F) + 0.5) if running else None
        out[f"{name}.cfg"] = torch.tensor([float(train), momentum, eps, float(affine), float(running)], dtype=F)
        out[f"{name}.x"] = x
        if affine:
            out[f"{name}.w"], out[f"{name}.b"] = w.clone(), b.clone()
        if running:
            out[f"{name}.rm"], out[f"{name}.rv"] = rm.clone(), rv.clone()
        xg = x.clone().requires_grad_()
        wg = w.clone().requires_grad_() if affine else None
        bg = b.clone().requires_grad_() if affine else None
        y = call(op, xg, rm, rv, wg, bg, train, momentum, eps)
        r = torch.randn(y.shape, dtype=F)
        y.backward(r)
        out[f"{name}.out"], out[f"{name}.r"], out[f"{name}.gx"] = y.detach(), r, xg.grad
        if affine:
            out[f"{name}.gw"], out[f"{name}.gb"] = wg.grad, bg.grad
        if running and train:  # rm / rv were updated in place by the step
            out[f"{name}.rm1"], out[f"{name}.rv1"] = rm.clone(), rv.clone()
            x2 = torch.randn(*shape, dtype=F) * scale + offset
            with torch.no_grad():
                call(op, x2, rm, rv, w, b, train, momentum, eps)
            out[f"{name}.x2"], out[f"{name}.rm2"], out[f"{name}.rv2"] = x2, rm.clone(), rv.clone()
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "golden", "norm.safetensors")
    write_safetensors(path, {k: v.to(F) for k, v in out.items()},
                      {"generator": "tools/make_norm_goldens.py", "torch": torch.__version__})
    print(f"wrote {len(CASES)} cases, {len(out)} tensors, {os.path.getsize(path)} bytes to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
