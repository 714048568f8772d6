#!/usr/bin/python3
"""PyTorch reference values for crisp's nn modules and regression losses.

Run with Debian's python3-torch (the pyenv `python3` has no torch):

    /usr/bin/python3 tools/make_nn_goldens.py

Writes tests/data/golden/nn.safetensors, read by tests/nn/test_torch_modules.cpp and
tests/loss/test_regression.cpp:
  - metadata "keys.<case>": the state_dict of a PyTorch module as "name:shape;..." in
    PyTorch's order, so the crisp module's names and shapes are checked against it;
  - "<case>.sd.<key>": state dicts exported from PyTorch modules (num_batches_tracked as I64,
    as PyTorch stores it) that crisp loads, with inputs "<case>.x*" and outputs "<case>.y*"
    (and for some cases a cotangent "<case>.r" with gradients "<case>.grad_*" of sum(y * r));
  - loss cases "loss.<name>.*".
The file is written by hand in the safetensors layout (torch 1.13 has no safetensors module).
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from golden_io import write_safetensors

torch.manual_seed(0)
out = {}
meta = {"generator": "tools/make_nn_goldens.py", "torch": torch.__version__}


def keys(case, module):
    meta[f"keys.{case}"] = ";".join(f"{k}:{list(v.shape)}" for k, v in module.state_dict().items())


def put_sd(case, module):
    for k, v in module.state_dict().items():
        out[f"{case}.sd.{k}"] = v.detach().clone()


def randomize(module):  # non-trivial affine parameters and running statistics
    with torch.no_grad():
        for n, t in list(module.named_parameters()) + list(module.named_buffers()):
            if t.dtype == torch.float32:
                t.copy_(torch.rand_like(t) + 0.5 if "var" in n or n.endswith("weight") else torch.randn_like(t))


# ---- parameter / buffer names and shapes --------------------------------------------------
keys("conv2d", nn.Conv2d(3, 8, 5, padding=2))
keys("conv2d_nobias_groups", nn.Conv2d(4, 6, (3, 2), groups=2, bias=False))
keys("conv_transpose2d", nn.ConvTranspose2d(8, 3, 4, stride=2, padding=1))
keys("conv_transpose2d_groups", nn.ConvTranspose2d(4, 6, 3, groups=2, bias=False))
keys("batch_norm2d", nn.BatchNorm2d(5))
keys("batch_norm2d_noaffine", nn.BatchNorm2d(5, affine=False))
keys("batch_norm2d_notrack", nn.BatchNorm2d(5, track_running_stats=False))
keys("instance_norm2d", nn.InstanceNorm2d(5))
keys("instance_norm2d_affine_track", nn.InstanceNorm2d(5, affine=True, track_running_stats=True))
keys("linear", nn.Linear(7, 3))
keys("sequential", nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 2, 1, bias=False)))

# ---- modules loaded from PyTorch state dicts, forward (+ grads) ---------------------------
def forward_case(case, module, x, extra=None):
    put_sd(case, module)
    xg = x.clone().requires_grad_()
    y = module(xg) if extra is None else module(xg, **extra)
    r = torch.randn(y.shape)
    y.backward(r)
    out[f"{case}.x"] = x
    out[f"{case}.y"] = y.detach()
    out[f"{case}.r"] = r
    out[f"{case}.grad_x"] = xg.grad
    for n, p in module.named_parameters():
        out[f"{case}.grad_{n}"] = p.grad


forward_case("conv_reflect", nn.Conv2d(2, 3, 3, stride=2, padding=2, padding_mode="reflect"), torch.randn(2, 2, 7, 6))
forward_case("conv_replicate", nn.Conv2d(2, 4, (3, 2), padding=(1, 2), dilation=(1, 2), groups=2,
                                         padding_mode="replicate"), torch.randn(1, 2, 5, 5))
forward_case("conv_circular_same", nn.Conv2d(3, 2, 4, padding="same", dilation=2, padding_mode="circular"),
             torch.randn(2, 3, 9, 8))
forward_case("conv_zeros_same", nn.Conv2d(3, 2, (2, 3), padding="same"), torch.randn(1, 3, 5, 6))
forward_case("convT_output_size", nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), torch.randn(2, 3, 5, 4),
             {"output_size": [10, 8]})
forward_case("convT_groups", nn.ConvTranspose2d(4, 6, 3, stride=(2, 1), padding=1, output_padding=(1, 0), groups=2,
                                                dilation=(1, 2)), torch.randn(1, 4, 3, 5))
forward_case("linear", nn.Linear(5, 3), torch.randn(2, 4, 5))


def norm_case(case, module, train_xs, eval_x):
    """Loads a randomised state, runs training steps then one eval step; stores the states."""
    randomize(module)
    put_sd(case, module)
    module.train()
    for i, x in enumerate(train_xs):
        out[f"{case}.x{i}"] = x
        out[f"{case}.y{i}"] = module(x).detach()
    module.eval()
    out[f"{case}.xe"] = eval_x
    out[f"{case}.ye"] = module(eval_x).detach()
    for k, v in module.state_dict().items():
        out[f"{case}.after.{k}"] = v.detach().clone()


xs = [torch.randn(4, 3, 5, 6) * 2 + 1 for _ in range(3)]
norm_case("bn", nn.BatchNorm2d(3, momentum=0.2, eps=1e-3), xs, torch.randn(2, 3, 4, 4))
bn_none = nn.BatchNorm2d(3, momentum=None)
bn_none.num_batches_tracked.fill_(5)  # loaded from the state dict, it sets momentum 1/6, 1/7, 1/8
norm_case("bn_cma", bn_none, xs, torch.randn(2, 3, 4, 4))
norm_case("in_track", nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=0.3), xs[:2],
          torch.randn(2, 3, 4, 4))
norm_case("in_default", nn.InstanceNorm2d(3), xs[:1], torch.randn(2, 3, 4, 4))

# ---- regression losses --------------------------------------------------------------------
a, b = torch.randn(3, 4, 5), torch.randn(3, 4, 5)
b[0, 0, :2] = a[0, 0, :2]  # equal elements: the l1 gradient there is 0
for name, fn in (("l1", F.l1_loss), ("mse", F.mse_loss)):
    for red in ("mean", "sum", "none"):
        ag, bg = a.clone().requires_grad_(), b.clone().requires_grad_()
        y = fn(ag, bg, reduction=red)
        r = torch.randn(y.shape)
        y.backward(r)
        case = f"loss.{name}.{red}"
        out[f"{case}.y"], out[f"{case}.r"] = y.detach(), r
        out[f"{case}.grad_input"], out[f"{case}.grad_target"] = ag.grad, bg.grad
out["loss.input"], out["loss.target"] = a, b


if __name__ == "__main__":
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "golden", "nn.safetensors")
    write_safetensors(path, out, meta, metadata_first=True)
    print(f"wrote {len(out)} tensors to {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")
