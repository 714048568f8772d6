#!/usr/bin/python3
"""PyTorch reference outputs and gradients for crisp's core ops.

Run with Debian's python3-torch (the pyenv `python3` has no torch):

    /usr/bin/python3 tools/make_op_goldens.py

Writes tests/data/golden/ops.safetensors. For every case NAME it stores the inputs
NAME.in0, NAME.in1, ..., the output NAME.out, a random cotangent NAME.r of the output's
shape, and NAME.grad0, ... = d(sum(out * r))/d(in_i) as PyTorch computes them, all in
float32. tests/ops/test_torch_golden.cpp recomputes each case with crisp and compares.
The file is written by hand in the safetensors layout (torch 1.13 has no safetensors module).
"""
import os

import torch

from golden_io import write_safetensors

torch.manual_seed(0)
F = torch.float32


def randn(*s):
    return torch.randn(*s, dtype=F)


def pos(*s):  # strictly positive inputs for log / sqrt / pow / div
    return torch.rand(*s, dtype=F) * 1.5 + 0.25


def away(*s):  # |x| >= 0.1, away from the kinks of abs / relu / clamp
    x = torch.rand(*s, dtype=F) * 0.9 + 0.1
    return torch.where(torch.rand(*s) < 0.5, -x, x)


CASES = {
    # arithmetic, broadcasting
    "add_broadcast": ([randn(2, 3, 4), randn(3, 1)], lambda a, b: a + b),
    "sub_broadcast": ([randn(2, 3, 4), randn(4)], lambda a, b: a - b),
    "mul_broadcast": ([randn(3, 1, 5), randn(4, 1)], lambda a, b: a * b),
    "div": ([randn(2, 3), pos(2, 3)], lambda a, b: a / b),
    "div_broadcast": ([randn(2, 3, 4), pos(3, 1)], lambda a, b: a / b),
    "scalar_ops": ([randn(3, 4)], lambda a: -a * 2.5 + 1.0 - a / 4.0 + 3.0 / (a * a + 1.0)),
    "maximum_minimum": ([randn(3, 4), randn(4)], lambda a, b: torch.maximum(a, b) + 2 * torch.minimum(a, b)),
    # unary math
    "exp": ([randn(3, 5)], torch.exp),
    "log": ([pos(3, 5)], torch.log),
    "sqrt": ([pos(3, 5)], torch.sqrt),
    "abs": ([away(3, 5)], torch.abs),
    "pow_scalar": ([randn(3, 5)], lambda a: torch.pow(a, 3.0)),
    "pow_negative": ([pos(3, 5)], lambda a: torch.pow(a, -1.5)),
    "pow_tensor": ([pos(3, 5), randn(5)], torch.pow),
    "clamp": ([away(4, 5) * 2], lambda a: torch.clamp(a, -0.55, 0.65)),
    "clamp_min": ([away(4, 5) * 2], lambda a: torch.clamp(a, min=-0.55)),
    # activations
    "relu": ([away(2, 3, 4)], torch.relu),
    "leaky_relu": ([away(2, 3, 4)], lambda a: torch.nn.functional.leaky_relu(a, 0.2)),
    "sigmoid": ([randn(2, 3, 4) * 3], torch.sigmoid),
    "tanh": ([randn(2, 3, 4) * 2], torch.tanh),
    "softmax_dim1": ([randn(2, 5, 3) * 2], lambda a: torch.softmax(a, 1)),
    "softmax_dim0": ([randn(4, 3)], lambda a: torch.softmax(a, 0)),
    "log_softmax_last": ([randn(2, 3, 6) * 3], lambda a: torch.log_softmax(a, -1)),
    "log_softmax_channels": ([randn(2, 11, 4, 4)], lambda a: torch.log_softmax(a, 1)),
    # reductions
    "sum_all": ([randn(3, 4, 5)], lambda a: a.sum()),
    "sum_dims_keepdim": ([randn(3, 4, 5)], lambda a: a.sum(dim=(0, 2), keepdim=True)),
    "sum_last": ([randn(3, 4, 5)], lambda a: a.sum(dim=-1)),
    "mean_all": ([randn(3, 4, 5)], lambda a: a.mean()),
    "mean_dim": ([randn(3, 4, 5)], lambda a: a.mean(dim=1)),
    "max_dim": ([randn(3, 4, 5)], lambda a: a.max(dim=1).values),
    "min_dim_keepdim": ([randn(3, 4, 5)], lambda a: a.min(dim=0, keepdim=True).values),
    "max_all": ([randn(4, 6)], lambda a: a.max()),
    "min_all": ([randn(4, 6)], lambda a: a.min()),
    "argmax_dim": ([randn(4, 6)], lambda a: a.argmax(dim=1).to(F)),
    "argmax_all": ([randn(4, 6)], lambda a: a.argmax().to(F)),
    "argmin_dim": ([randn(4, 6)], lambda a: a.argmin(dim=0).to(F)),
    # views and copies
    "permute": ([randn(2, 3, 4)], lambda a: a.permute(2, 0, 1)),
    "transpose_reshape": ([randn(2, 3, 4)], lambda a: a.transpose(0, 2).reshape(4, 6)),
    "view": ([randn(2, 3, 4)], lambda a: a.view(6, -1)),
    "slice_step": ([randn(3, 7)], lambda a: a[:, 1:6:2]),
    "narrow": ([randn(4, 5)], lambda a: a.narrow(0, 1, 2)),
    "select": ([randn(4, 5)], lambda a: a.select(1, -2)),
    "expand": ([randn(3, 1)], lambda a: a.expand(2, 3, 5)),
    "flatten": ([randn(2, 3, 4, 5)], lambda a: a.flatten(1, 2)),
    "unsqueeze_squeeze": ([randn(3, 4)], lambda a: a.unsqueeze(1).unsqueeze(-1).squeeze(1)),
    "cat": ([randn(2, 3), randn(2, 1), randn(2, 2)], lambda a, b, c: torch.cat([a, b, c], 1)),
    "stack": ([randn(2, 3), randn(2, 3)], lambda a, b: torch.stack([a, b], 1)),
    "split": ([randn(2, 7)], lambda a: torch.split(a, [3, 4], 1)[1] * 2),
    "chunk": ([randn(6, 2)], lambda a: torch.chunk(a, 3, 0)[2] - torch.chunk(a, 3, 0)[0]),
    # matmul
    "matmul_2d": ([randn(5, 7), randn(7, 3)], torch.matmul),
    "matmul_batched_broadcast": ([randn(2, 1, 3, 4), randn(3, 4, 5)], torch.matmul),
    "matmul_vec_mat": ([randn(4), randn(3, 4, 2)], torch.matmul),
    "matmul_mat_vec": ([randn(3, 4), randn(4)], torch.matmul),
    "matmul_vec_vec": ([randn(6), randn(6)], torch.matmul),
    "matmul_transposed": ([randn(4, 3), randn(5, 4)], lambda a, b: a.t() @ b.t()),
    "matmul_large": ([randn(33, 70), randn(70, 41)], torch.matmul),
    # a small network
    "mlp": ([randn(8, 5), randn(5, 16), randn(16), randn(16, 3)],
            lambda x, w1, b1, w2: torch.log_softmax(torch.tanh(x @ w1 + b1) @ w2, 1)),
}


def main():
    out = {}
    for name, (inputs, fn) in CASES.items():
        xs = [x.clone().requires_grad_() for x in inputs]
        y = fn(*xs)
        for i, x in enumerate(inputs):
            out[f"{name}.in{i}"] = x
        out[f"{name}.out"] = y.detach()
        if y.requires_grad:
            r = torch.randn(y.shape, dtype=F)
            y.backward(r)
            out[f"{name}.r"] = r
            for i, x in enumerate(xs):
                g = x.grad if x.grad is not None else torch.zeros_like(x)
                out[f"{name}.grad{i}"] = g
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "golden", "ops.safetensors")
    write_safetensors(path, {k: v.to(F) for k, v in out.items()},
                      {"generator": "tools/make_op_goldens.py", "torch": torch.__version__})
    print(f"wrote {len(CASES)} cases, {len(out)} tensors to {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
