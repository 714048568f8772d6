#!/usr/bin/python3
"""PyTorch reference values for crisp's CycleGAN networks and VGG16 features.

Run with Debian's python3-torch (the pyenv `python3` has no torch):

    /usr/bin/python3 tools/make_model_goldens.py

Writes, read by tests/models/test_cyclegan.cpp and tests/models/test_vgg16.cpp:
  tests/data/golden/models_cyclegan.safetensors
    - metadata "keys.<net>": the full-width state dicts' "name:[shape];..." in PyTorch's order
      (resnet_9blocks, resnet_6blocks, nlayer_3) and of small variants; "params.<net>": counts;
    - "<case>.sd.<key>" state dicts of small networks, "<case>.x" inputs, "<case>.y" outputs,
      for some cases "<case>.r" and "<case>.grad_x" (gradient of sum(y * r) for x).
  tests/data/golden/models_vgg16.safetensors
    - metadata "keys.vgg16_features", "params.vgg16_features" from torchvision's vgg16();
    - "vgg16_w16.sd.features.N.*": a width/16 replica (torchvision's make_layers, cfg 'D' with
      every width divided by 16, so the same indices and key names), input "vgg16_w16.x" and
      per-layer outputs "vgg16_w16.y.<layer>" (normalised input) and "vgg16_w16.raw.<layer>"
      (normalize_input off).

The CycleGAN networks are written here from the facts in shared/REFERENCE.md (the official
pytorch-CycleGAN-and-pix2pix topology), not imported. The file is written by hand in the
safetensors layout (tools/golden_io.py; torch 1.13 has no safetensors module).
"""
import functools
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from golden_io import write_safetensors

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "golden")


# ---- the official CycleGAN topology -------------------------------------------------------------
class Identity(nn.Module):
    def forward(self, x):
        return x


def get_norm_layer(kind):
    if kind == "instance":
        return functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    if kind == "batch":
        return functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    return lambda c: Identity()


class ResnetBlock(nn.Module):
    def __init__(self, dim, padding_type, norm_layer, use_dropout, use_bias):
        super().__init__()
        layers = []
        for second in (False, True):
            p = 0
            if padding_type == "reflect":
                layers.append(nn.ReflectionPad2d(1))
            elif padding_type == "replicate":
                layers.append(nn.ReplicationPad2d(1))
            else:
                p = 1
            layers += [nn.Conv2d(dim, dim, 3, padding=p, bias=use_bias), norm_layer(dim)]
            if not second:
                layers.append(nn.ReLU(True))
                if use_dropout:
                    layers.append(nn.Dropout(0.5))
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, input_nc, output_nc, ngf=64, norm="instance", use_dropout=False, n_blocks=6,
                 padding_type="reflect"):
        super().__init__()
        norm_layer = get_norm_layer(norm)
        use_bias = norm == "instance"
        m = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7, bias=use_bias), norm_layer(ngf), nn.ReLU(True)]
        for mult in (1, 2):
            m += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1, bias=use_bias),
                  norm_layer(ngf * mult * 2), nn.ReLU(True)]
        m += [ResnetBlock(ngf * 4, padding_type, norm_layer, use_dropout, use_bias) for _ in range(n_blocks)]
        for mult in (4, 2):
            m += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, stride=2, padding=1, output_padding=1,
                                     bias=use_bias), norm_layer(ngf * mult // 2), nn.ReLU(True)]
        m += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*m)

    def forward(self, x):
        return self.model(x)


class NLayerDiscriminator(nn.Module):
    def __init__(self, input_nc, ndf=64, n_layers=3, norm="instance"):
        super().__init__()
        norm_layer = get_norm_layer(norm)
        use_bias = norm == "instance"
        s = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2 ** n, 8)
            s += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=2, padding=1, bias=use_bias), norm_layer(ndf * mult),
                  nn.LeakyReLU(0.2, True)]
        prev, mult = mult, min(2 ** n_layers, 8)
        s += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=1, padding=1, bias=use_bias), norm_layer(ndf * mult),
              nn.LeakyReLU(0.2, True), nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1)]
        self.model = nn.Sequential(*s)

    def forward(self, x):
        return self.model(x)


# ---- helpers ------------------------------------------------------------------------------------
def keys(meta, name, module):
    sd = module.state_dict()
    meta[f"keys.{name}"] = ";".join(f"{k}:{list(v.shape)}" for k, v in sd.items())
    meta[f"params.{name}"] = str(sum(p.numel() for p in module.parameters()))


def randomize(module):
    """Non-zero biases and BatchNorm affine / running statistics, so that loading them is tested."""
    with torch.no_grad():
        for n, t in list(module.named_parameters()) + list(module.named_buffers()):
            if t.dtype != torch.float32:
                continue
            if n.endswith("running_var"):
                t.copy_(torch.rand_like(t) + 0.5)
            elif n.endswith("bias") or n.endswith("running_mean"):
                t.copy_(0.1 * torch.randn_like(t))
            elif t.dim() == 1:  # BatchNorm weight
                t.copy_(torch.rand_like(t) + 0.5)


def case(out, name, module, x, grad=False):
    for k, v in module.state_dict().items():
        out[f"{name}.sd.{k}"] = v.detach().clone()
    x = x.clone().requires_grad_(grad)
    y = module(x)
    out[f"{name}.x"] = x.detach().clone()
    out[f"{name}.y"] = y.detach().clone()
    if grad:
        r = torch.randn_like(y)
        (y * r).sum().backward()
        out[f"{name}.r"] = r
        out[f"{name}.grad_x"] = x.grad.detach().clone()


def cyclegan():
    out = {}
    meta = {"generator": "tools/make_model_goldens.py", "torch": torch.__version__}
    keys(meta, "resnet_9blocks", ResnetGenerator(3, 3, 64, n_blocks=9))
    keys(meta, "resnet_6blocks", ResnetGenerator(3, 3, 64, n_blocks=6))
    keys(meta, "nlayer_3", NLayerDiscriminator(3, 64, 3))
    keys(meta, "resnet_batch_dropout", ResnetGenerator(3, 3, 4, norm="batch", use_dropout=True, n_blocks=2))
    keys(meta, "resnet_zero", ResnetGenerator(3, 3, 4, n_blocks=1, padding_type="zero"))
    keys(meta, "nlayer_batch", NLayerDiscriminator(3, 4, 2, norm="batch"))
    keys(meta, "nlayer_none_1", NLayerDiscriminator(1, 4, 1, norm="none"))

    def g(*a, **k):
        m = ResnetGenerator(*a, **k)
        randomize(m)
        return m

    def d(*a, **k):
        m = NLayerDiscriminator(*a, **k)
        randomize(m)
        return m

    case(out, "gen_b2", g(3, 3, 4, n_blocks=2), 2 * torch.rand(2, 3, 24, 24) - 1, grad=True)
    case(out, "gen_b6", g(3, 1, 2, n_blocks=6), 2 * torch.rand(1, 3, 24, 40) - 1)
    m = g(3, 3, 2, n_blocks=1, norm="batch", padding_type="zero", use_dropout=True).eval()
    case(out, "gen_batch_zero_eval", m, 2 * torch.rand(1, 3, 16, 16) - 1)
    case(out, "gen_none_replicate", g(2, 3, 2, n_blocks=1, norm="none", padding_type="replicate"),
         2 * torch.rand(1, 2, 16, 12) - 1)
    case(out, "disc_n3", d(3, 2, 3), 2 * torch.rand(1, 3, 32, 40) - 1, grad=True)
    case(out, "disc_n2_batch_eval", d(3, 4, 2, norm="batch").eval(), 2 * torch.rand(1, 3, 16, 16) - 1)
    write_safetensors(os.path.join(GOLDEN, "models_cyclegan.safetensors"), out, meta)


# ---- VGG16 --------------------------------------------------------------------------------------
LAYERS = []
for block, n in enumerate([2, 2, 3, 3, 3], 1):
    for i in range(1, n + 1):
        LAYERS += [f"conv{block}_{i}", f"relu{block}_{i}"]
    LAYERS.append(f"pool{block}")
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def vgg_layers(features, x):
    """Every named layer's output; ReLUs out of place so a conv's entry is its pre-ReLU output."""
    res = {}
    for name, m in zip(LAYERS, features):
        x = F.relu(x) if isinstance(m, nn.ReLU) else m(x)
        res[name] = x.detach().clone()
    return res


def vgg16():
    out = {}
    meta = {"generator": "tools/make_model_goldens.py", "torch": torch.__version__,
            "torchvision": torchvision.__version__}
    full = torchvision.models.vgg16()
    features_only = nn.Module()
    features_only.features = full.features
    keys(meta, "vgg16_features", features_only)

    cfg = [c if c == "M" else c // 16 for c in torchvision.models.vgg.cfgs["D"]]
    small = nn.Module()
    small.features = torchvision.models.vgg.make_layers(cfg)
    assert len(small.features) == 31
    randomize(small)
    for k, v in small.state_dict().items():
        out[f"vgg16_w16.sd.{k}"] = v.detach().clone()
    x = torch.rand(1, 3, 32, 32)
    out["vgg16_w16.x"] = x
    with torch.no_grad():
        norm = vgg_layers(small.features, (x - MEAN) / STD)
        raw = vgg_layers(small.features, x)
    for name in ["conv1_1", "relu2_2", "pool2", "conv3_1", "relu4_3", "pool5"]:
        out[f"vgg16_w16.y.{name}"] = norm[name]
    out["vgg16_w16.raw.pool1"] = raw["pool1"]
    write_safetensors(os.path.join(GOLDEN, "models_vgg16.safetensors"), out, meta)


if __name__ == "__main__":
    torch.manual_seed(0)
    cyclegan()
    torch.manual_seed(1)
    vgg16()
