#!/usr/bin/python3
"""Exports torchvision's VGG16 convolutional weights to safetensors for crisp's VGG16Features.

    /usr/bin/python3 tools/export_vgg16.py vgg16-397923af.pth vgg16_features.safetensors

The .pth is torchvision's pretrained vgg16 state dict, which torchvision itself caches at
~/.cache/torch/hub/checkpoints/vgg16-397923af.pth (this script downloads nothing). Only the
features.N.weight / features.N.bias entries are written (26 tensors, 14,714,688 parameters, F32),
after checking them against torchvision's configuration D; crisp loads the file with
VGG16Features::load_torchvision. Needs torch (Debian's python3-torch) and numpy; the safetensors
layout is written by tools/golden_io.py (torch 1.13 has no safetensors module).
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import write_safetensors  # noqa: E402

CFG_D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def expected_shapes():
    shapes, idx, cin = {}, 0, 3
    for c in CFG_D:
        if c == "M":
            idx += 1
            continue
        shapes[f"features.{idx}.weight"] = [c, cin, 3, 3]
        shapes[f"features.{idx}.bias"] = [c]
        idx, cin = idx + 2, c
    return shapes


def main(argv):
    if len(argv) != 3:
        sys.exit(f"usage: {argv[0]} vgg16-397923af.pth vgg16_features.safetensors")
    state = torch.load(argv[1], map_location="cpu")
    if isinstance(state, torch.nn.Module):  # a pickled model rather than its state dict
        state = state.state_dict()
    want = expected_shapes()
    got = {k: v for k, v in state.items() if k.startswith("features.")}
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    wrong = sorted(k for k in set(want) & set(got) if list(got[k].shape) != want[k])
    if missing or extra or wrong:
        sys.exit(f"{argv[1]}: not a torchvision vgg16 state dict: missing {missing}, unexpected {extra}, "
                 f"wrong shapes {[(k, list(got[k].shape), want[k]) for k in wrong]}")
    tensors = {k: v.detach().to(torch.float32).contiguous() for k, v in got.items()}
    write_safetensors(argv[2], tensors, {"source": os.path.basename(argv[1]), "format": "pt",
                                         "generator": "tools/export_vgg16.py"})
    print(f"wrote {len(tensors)} tensors, {sum(t.numel() for t in tensors.values())} parameters to {argv[2]}")


if __name__ == "__main__":
    main(sys.argv)
