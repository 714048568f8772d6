#!/usr/bin/python3
"""PyTorch reference outputs and gradients for crisp's conv2d and conv_transpose2d.

Run with Debian's python3-torch (the pyenv `python3` has no torch):

    /usr/bin/python3 tools/make_conv_goldens.py

Writes tests/data/golden/conv.safetensors. For every case NAME it stores the inputs NAME.in0
(input), NAME.in1 (weight) and, when the case has a bias, NAME.in2; the output NAME.out; a random
cotangent NAME.r; and NAME.grad0, ... = d(sum(out * r))/d(in_i) as PyTorch computes them, all
float32. tests/ops/test_conv.cpp recomputes each case with crisp (its table holds the same
arguments) and compares. Written by hand in the safetensors layout (torch 1.13 has no module).
"""
import os

import torch
import torch.nn.functional as Fn

from golden_io import write_safetensors

torch.manual_seed(0)
F = torch.float32


def randn(*s):
    return torch.randn(*s, dtype=F)


def conv(x, w, b=None, **kw):
    return ([randn(*x), randn(*w)] + ([randn(b)] if b else []), lambda *a: Fn.conv2d(*a, **kw) if len(a) == 3
            else Fn.conv2d(a[0], a[1], None, **kw))


def convt(x, w, b=None, **kw):
    return ([randn(*x), randn(*w)] + ([randn(b)] if b else []), lambda *a: Fn.conv_transpose2d(*a, **kw)
            if len(a) == 3 else Fn.conv_transpose2d(a[0], a[1], None, **kw))


# Keep in step with the table in tests/ops/test_conv.cpp (the test checks both hold the same names).
CASES = {
    "conv_basic": conv((2, 3, 7, 6), (4, 3, 3, 3), 4, padding=1),
    "conv_stride2_odd": conv((1, 3, 9, 11), (5, 3, 3, 3), 5, stride=2, padding=1),
    "conv_stride3_pad2": conv((2, 2, 10, 8), (3, 2, 3, 3), 3, stride=3, padding=2),
    "conv_dilation2": conv((1, 3, 11, 9), (4, 3, 3, 3), 4, padding=2, dilation=2),
    "conv_groups2": conv((2, 4, 7, 7), (6, 2, 3, 3), 6, padding=1, groups=2),
    "conv_depthwise_s2": conv((1, 4, 8, 9), (4, 1, 3, 3), 4, stride=2, padding=1, groups=4),
    "conv_same_even_kernel": conv((1, 2, 6, 7), (3, 2, 4, 4), 3, padding="same"),
    "conv_same_dilated": conv((2, 2, 7, 5), (2, 2, 3, 2), 2, padding="same", dilation=(2, 3)),
    "conv_valid_nobias": conv((1, 3, 6, 6), (2, 3, 3, 3), None, padding="valid"),
    "conv_1x1_image": conv((2, 3, 1, 1), (4, 3, 3, 3), 4, padding=1),
    "conv_1x1_kernel": conv((2, 5, 4, 3), (6, 5, 1, 1), 6),
    "conv_pad_kernel_size": conv((1, 2, 4, 5), (3, 2, 3, 3), 3, padding=3),
    "conv_anisotropic": conv((1, 3, 9, 8), (4, 3, 3, 5), 4, stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
    "conv_4x4_s2_p1": conv((2, 3, 8, 8), (4, 3, 4, 4), 4, stride=2, padding=1),
    "conv_5x5": conv((1, 4, 9, 9), (3, 4, 5, 5), 3, padding=2),
    "conv_7x7_valid": conv((1, 3, 10, 10), (4, 3, 7, 7), 4),
    "conv_stride_gt_kernel": conv((1, 2, 9, 10), (3, 2, 2, 2), None, stride=3),
    "conv_unbatched": conv((3, 5, 5), (2, 3, 3, 3), 2, padding=1),
    "conv_batch1_channels20": conv((1, 20, 6, 5), (7, 20, 3, 3), 7, padding=1),
    "convT_basic": convt((2, 3, 5, 4), (3, 2, 3, 3), 2, padding=1),
    "convT_4x4_s2_p1": convt((1, 4, 4, 5), (4, 3, 4, 4), 3, stride=2, padding=1),
    "convT_s2_op1": convt((2, 4, 4, 4), (4, 2, 3, 3), 2, stride=2, padding=1, output_padding=1),
    "convT_s3_op2": convt((1, 2, 3, 4), (2, 3, 3, 3), 3, stride=3, padding=1, output_padding=2),
    "convT_groups2": convt((1, 4, 4, 4), (4, 3, 3, 3), 6, stride=2, padding=1, groups=2),
    "convT_dilation_op": convt((1, 2, 5, 5), (2, 3, 3, 3), 3, padding=2, output_padding=1, dilation=2),
    "convT_1x1_image": convt((2, 3, 1, 1), (3, 4, 3, 3), 4),
    "convT_anisotropic_nobias": convt((1, 3, 4, 5), (3, 2, 3, 2), None, stride=(2, 3), padding=(1, 0),
                                      output_padding=(1, 2)),
    "convT_unbatched": convt((3, 4, 4), (3, 2, 4, 4), 2, stride=2, padding=1),
    "convT_depthwise": convt((1, 3, 5, 5), (3, 1, 3, 3), 3, stride=2, padding=1, output_padding=1, groups=3),
    "convT_large_pad": convt((1, 2, 4, 4), (2, 2, 3, 3), 2, padding=2),
    "convT_stride_gt_kernel": convt((2, 2, 3, 3), (2, 3, 2, 2), 3, stride=3, output_padding=1),
}


def main():
    out = {}
    for name, (inputs, fn) in CASES.items():
        xs = [x.clone().requires_grad_() for x in inputs]
        y = fn(*xs)
        for i, x in enumerate(inputs):
            out[f"{name}.in{i}"] = x
        out[f"{name}.out"] = y.detach()
        r = torch.randn(y.shape, dtype=F)
        y.backward(r)
        out[f"{name}.r"] = r
        for i, x in enumerate(xs):
            out[f"{name}.grad{i}"] = x.grad
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "golden", "conv.safetensors")
    write_safetensors(path, {k: v.to(F) for k, v in out.items()},
                      {"generator": "tools/make_conv_goldens.py", "torch": torch.__version__})
    print(f"wrote {len(CASES)} cases, {len(out)} tensors to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
