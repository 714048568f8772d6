#!/usr/bin/python3
"""PyTorch reference values for crisp's losses (include/crisp/loss/) and the papers' blocks
(include/crisp/nn/blocks.hpp).

Run with Debian's python3-torch (the pyenv `python3` has no torch):

    /usr/bin/python3 tools/make_loss_goldens.py

Writes tests/data/golden/loss.safetensors, read by tests/loss/test_losses.cpp and
tests/nn/test_blocks.cpp. Layout:
  - loss case "<case>" (e.g. "smooth_l1.b0.5.sum"): inputs under "<case>.in.<name>" (or shared
    ones named in the C++ table), the output "<case>.y", a cotangent "<case>.r" and the
    gradients "<case>.grad_<name>" of sum(y * r) for every input that requires grad;
  - block case "<case>": the torch module's state_dict "<case>.sd.<key>", inputs, outputs,
    cotangents and gradients; metadata "keys.<case>" lists the state_dict as "name:shape;...".
Integer targets are stored as I64. The file is written by hand in the safetensors layout
(torch 1.13 has no safetensors module).
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from golden_io import write_safetensors

torch.manual_seed(0)
out = {}
meta = {"generator": "tools/make_loss_goldens.py", "torch": torch.__version__}
REDS = ("mean", "sum", "none")


def run_case(case, fn, inputs, grad_names):
    """fn(**inputs) with the named inputs requiring grad; stores y, r and the gradients."""
    args = {k: (v.clone().requires_grad_() if k in grad_names else v) for k, v in inputs.items()}
    y = fn(**args)
    r = torch.randn(y.shape)
    y.backward(r)
    out[f"{case}.y"] = y.detach()
    out[f"{case}.r"] = r
    for k in grad_names:
        out[f"{case}.grad_{k}"] = args[k].grad


def put(prefix, **tensors):
    for k, v in tensors.items():
        out[f"{prefix}.{k}"] = v


# ---- smooth_l1 ----------------------------------------------------------------------------
a, b = torch.randn(3, 4, 5), torch.randn(3, 4, 5)
b[0, 0, :2] = a[0, 0, :2]  # equal elements
put("smooth_l1.in", input=a, target=b)
for beta in (1.0, 0.5, 0.0):
    for red in REDS:
        run_case(f"smooth_l1.b{beta}.{red}", lambda input, target: F.smooth_l1_loss(input, target, reduction=red, beta=beta),
                 {"input": a, "target": b}, ("input", "target"))

# ---- bce ------------------------------------------------------------------------------------
x = torch.sigmoid(torch.randn(3, 4, 5) * 2)
y = torch.rand(3, 4, 5)
y[0, 0] = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5])
w = torch.rand(5) + 0.5
put("bce.in", input=x, target=y, weight=w)
for red in REDS:
    run_case(f"bce.{red}", lambda input, target: F.binary_cross_entropy(input, target, reduction=red),
             {"input": x, "target": y}, ("input", "target"))
    run_case(f"bce_weight.{red}", lambda input, target: F.binary_cross_entropy(input, target, weight=w, reduction=red),
             {"input": x, "target": y}, ("input", "target"))
# probabilities of exactly 0 and 1: the log clamp at -100 and the 1e-12 floor of the gradient
xc = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.3, 1e-30])
yc = torch.tensor([0.0, 1.0, 1.0, 0.0, 0.3, 0.0])
put("bce_clamp.in", input=xc, target=yc)
run_case("bce_clamp.sum", lambda input: F.binary_cross_entropy(input, yc, reduction="sum"), {"input": xc}, ("input",))

# ---- bce_with_logits ------------------------------------------------------------------------
x = torch.randn(3, 4, 5) * 3
x[0, 0] = torch.tensor([30.0, -30.0, 0.0, 90.0, -90.0])
y = torch.rand(3, 4, 5)
pw = torch.rand(5) * 3
put("bcel.in", input=x, target=y, weight=w, pos_weight=pw)
for red in REDS:
    run_case(f"bcel.{red}", lambda input, target: F.binary_cross_entropy_with_logits(input, target, reduction=red),
             {"input": x, "target": y}, ("input", "target"))
    run_case(f"bcel_weight_pos.{red}",
             lambda input, target: F.binary_cross_entropy_with_logits(input, target, weight=w, pos_weight=pw,
                                                                      reduction=red),
             {"input": x, "target": y}, ("input", "target"))
run_case("bcel_pos.mean", lambda input, target: F.binary_cross_entropy_with_logits(input, target, pos_weight=pw),
         {"input": x, "target": y}, ("input", "target"))

# ---- cross_entropy --------------------------------------------------------------------------
x2 = torch.randn(6, 5) * 2
t2 = torch.tensor([0, 4, 2, -100, 1, 2])
cw = torch.rand(5) + 0.2
x4 = torch.randn(2, 4, 3, 3) * 2
t4 = torch.randint(0, 4, (2, 3, 3))
t4[0, 0, 0] = t4[1, 2, 1] = 255
cw4 = torch.rand(4) + 0.2
put("ce.in", x2=x2, t2=t2, w2=cw, x4=x4, t4=t4, w4=cw4)
for red in REDS:
    run_case(f"ce2d.{red}", lambda input: F.cross_entropy(input, t2, reduction=red), {"input": x2}, ("input",))
    run_case(f"ce2d_weight.{red}", lambda input: F.cross_entropy(input, t2, weight=cw, reduction=red), {"input": x2},
             ("input",))
    run_case(f"ce4d_weight_ignore.{red}",
             lambda input: F.cross_entropy(input, t4, weight=cw4, ignore_index=255, reduction=red), {"input": x4},
             ("input",))
# ignoring a class that occurs (index 1), no weight
run_case("ce4d_ignore1.mean", lambda input: F.cross_entropy(input, t4.masked_fill(t4 == 255, 0), ignore_index=1),
         {"input": x4}, ("input",))
put("ce.in", t4_ignore1=t4.masked_fill(t4 == 255, 0))
run_case("nll.mean", lambda input: F.nll_loss(input, t2, weight=cw), {"input": F.log_softmax(x2, 1)}, ("input",))
put("ce.in", logp2=F.log_softmax(x2, 1))

# ---- masked_l1 ------------------------------------------------------------------------------
G, I = torch.randn(2, 3, 6, 6), torch.randn(2, 3, 6, 6)
M = torch.rand(2, 5, 6, 6)
M[M < 0.4] = 0.0  # hard zeros as in parsing-derived masks
put("masked_l1.in", input=G, target=I, masks=M)


def masked_l1(input, target, masks, red):
    e = (masks.unsqueeze(2) * (input - target).unsqueeze(1)).abs()
    return {"sum": e.sum(), "mean": e.sum() / input.numel(), "none": e}[red]


for red in REDS:
    run_case(f"masked_l1.{red}", lambda input, target, masks: masked_l1(input, target, masks, red),
             {"input": G, "target": I, "masks": M}, ("input", "target", "masks"))

# ---- perceptual -----------------------------------------------------------------------------
feat = nn.ModuleDict({"c1": nn.Conv2d(3, 4, 3, padding=1), "c2": nn.Conv2d(4, 6, 3, padding=1)})
for k, v in feat.state_dict().items():
    out[f"perceptual.sd.{k}"] = v.clone()


def features(img):
    f1 = F.relu(feat["c1"](img))
    f2 = F.relu(feat["c2"](F.max_pool2d(f1, 2)))
    return [f1, f2]


P, Q = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
put("perceptual.in", input=P, target=Q)
for red in ("mean", "sum"):
    def perc(input, red=red):
        fi, ft = features(input), [f.detach() for f in features(Q)]
        return sum(F.mse_loss(p, q, reduction=red) for p, q in zip(fi, ft))
    run_case(f"perceptual.{red}", perc, {"input": P}, ("input",))
run_case("perceptual_weighted.mean",
         lambda input: 0.25 * F.mse_loss(features(input)[0], features(Q)[0].detach())
         + 2.0 * F.mse_loss(features(input)[1], features(Q)[1].detach()), {"input": P}, ("input",))

# ---- GAN (the official CycleGAN GANLoss: BCEWithLogits / MSE to expanded labels) -----------
real, fake = torch.randn(2, 1, 4, 4), torch.randn(2, 1, 4, 4)
put("gan.in", real=real, fake=fake)


def gan(pred, is_real, mode, labels):
    t = torch.tensor(labels[0] if is_real else labels[1]).expand_as(pred)
    return F.binary_cross_entropy_with_logits(pred, t) if mode == "vanilla" else F.mse_loss(pred, t)


for mode in ("vanilla", "lsgan"):
    for lname, labels in (("default", (1.0, 0.0)), ("smooth", (0.9, 0.1))):
        run_case(f"gan_g.{mode}.{lname}", lambda fake: gan(fake, True, mode, labels), {"fake": fake}, ("fake",))
        run_case(f"gan_d.{mode}.{lname}",
                 lambda real, fake: 0.5 * (gan(real, True, mode, labels) + gan(fake, False, mode, labels)),
                 {"real": real, "fake": fake}, ("real", "fake"))

# ---- cycle consistency and total variation --------------------------------------------------
rec, img = torch.randn(2, 3, 5, 6), torch.randn(2, 3, 5, 6)
put("cycle.in", rec=rec, real=img)
run_case("cycle.l10", lambda rec, real: 10.0 * F.l1_loss(rec, real), {"rec": rec, "real": img}, ("rec", "real"))
run_case("cycle.l5", lambda rec, real: 5.0 * F.l1_loss(rec, real), {"rec": rec, "real": img}, ("rec", "real"))
tv_x = torch.randn(2, 3, 5, 6)
tv_x[0, 0, 1, :] = tv_x[0, 0, 0, :]  # equal neighbours: the |.| kink, gradient 0 there
put("tv.in", x=tv_x)
for red in ("sum", "mean"):
    def tv(x, red=red):
        dh, dw = (x[..., 1:, :] - x[..., :-1, :]).abs(), (x[..., :, 1:] - x[..., :, :-1]).abs()
        return dh.sum() + dw.sum() if red == "sum" else dh.mean() + dw.mean()
    run_case(f"tv.{red}", tv, {"x": tv_x}, ("x",))


# ---- blocks ---------------------------------------------------------------------------------
class ResnetBlock(nn.Module):
    """pytorch-CycleGAN-and-pix2pix models/networks.py ResnetBlock, layer for layer."""

    def __init__(self, dim, padding_type, norm_layer, use_dropout, use_bias):
        super().__init__()
        self.conv_block = self.build_conv_block(dim, padding_type, norm_layer, use_dropout, use_bias)

    def build_conv_block(self, dim, padding_type, norm_layer, use_dropout, use_bias):
        conv_block = []
        for half in (0, 1):
            p = 0
            if padding_type == "reflect":
                conv_block += [nn.ReflectionPad2d(1)]
            elif padding_type == "replicate":
                conv_block += [nn.ReplicationPad2d(1)]
            else:
                p = 1
            conv_block += [nn.Conv2d(dim, dim, kernel_size=3, padding=p, bias=use_bias), norm_layer(dim)]
            if half == 0:
                conv_block += [nn.ReLU(True)]
                if use_dropout:
                    conv_block += [nn.Dropout(0.5)]
        return nn.Sequential(*conv_block)

    def forward(self, x):
        return x + self.conv_block(x)


class Identity(nn.Module):
    def forward(self, x):
        return x


def instance(d):
    return nn.InstanceNorm2d(d, affine=False, track_running_stats=False)


class ResBlock(nn.Module):
    def __init__(self, c, k, relu_after):
        super().__init__()
        self.conv1, self.conv2, self.relu_after = nn.Conv2d(c, c, k, padding=k // 2), nn.Conv2d(c, c, k, padding=k // 2), relu_after

    def forward(self, x):
        y = x + self.conv2(F.relu(self.conv1(x)))
        return F.relu(y) if self.relu_after else y


class ConvLSTMCell(nn.Module):
    def __init__(self, cin, hid, k, srn):
        super().__init__()
        self.conv, self.hid, self.srn = nn.Conv2d(cin + hid, 4 * hid, k, padding=k // 2), hid, srn

    def forward(self, x, h, c):
        a = torch.split(self.conv(torch.cat([x, h], 1)), self.hid, 1)
        if self.srn:  # i, j, f, o with forget bias 1
            i, g, f, o = a
            f = f + 1.0
        else:
            i, f, o, g = a
        c2 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c2), c2


def keys(case, module):
    meta[f"keys.{case}"] = ";".join(f"{k}:{list(v.shape)}" for k, v in module.state_dict().items())


def randomize_sd(module):
    with torch.no_grad():
        for n, t in module.state_dict().items():
            if t.dtype == torch.float32:
                t.copy_(torch.randn_like(t) * 0.3)


def block_case(case, module, x):
    randomize_sd(module)
    module.eval()
    for k, v in module.state_dict().items():
        out[f"{case}.sd.{k}"] = v.clone()
    xg = x.clone().requires_grad_()
    y = module(xg)
    r = torch.randn(y.shape)
    y.backward(r)
    put(case, x=x, y=y.detach(), r=r, grad_x=xg.grad)
    for n, p in module.named_parameters():
        out[f"{case}.grad_{n}"] = p.grad


for pad in ("reflect", "replicate", "zero"):
    for drop in (False, True):
        m = ResnetBlock(4, pad, instance, drop, True)
        keys(f"resnet.{pad}{'_dropout' if drop else ''}", m)
        if not drop:
            block_case(f"resnet.{pad}", m, torch.randn(2, 4, 6, 5))
keys("resnet.reflect_batch", ResnetBlock(4, "reflect", nn.BatchNorm2d, False, False))
keys("resnet.zero_none", ResnetBlock(4, "zero", lambda d: Identity(), False, True))
block_case("resnet.reflect_dropout", ResnetBlock(4, "reflect", instance, True, True), torch.randn(1, 4, 5, 5))
block_case("resblock.k5", ResBlock(3, 5, False), torch.randn(2, 3, 7, 6))
block_case("resblock.k3_relu_after", ResBlock(3, 3, True), torch.randn(1, 3, 5, 5))
keys("resblock.k5", ResBlock(3, 5, False))

for case, srn in (("convlstm.ifog", False), ("convlstm.srn", True)):
    m = ConvLSTMCell(3, 4, 3, srn)
    keys(case, m)
    randomize_sd(m)
    for k, v in m.state_dict().items():
        out[f"{case}.sd.{k}"] = v.clone()
    x1, x2 = torch.randn(2, 3, 5, 6), torch.randn(2, 3, 5, 6)
    h0, c0 = torch.randn(2, 4, 5, 6) * 0.5, torch.randn(2, 4, 5, 6) * 0.5
    ins = {n: t.clone().requires_grad_() for n, t in (("x1", x1), ("x2", x2), ("h0", h0), ("c0", c0))}
    h1, c1 = m(ins["x1"], ins["h0"], ins["c0"])
    h2, c2 = m(ins["x2"], h1, c1)
    rh, rc = torch.randn(h2.shape), torch.randn(c2.shape)
    ((h2 * rh).sum() + (c2 * rc).sum()).backward()
    put(case, x1=x1, x2=x2, h0=h0, c0=c0, h1=h1.detach(), c1=c1.detach(), h2=h2.detach(), c2=c2.detach(), rh=rh, rc=rc)
    for n, t in ins.items():
        out[f"{case}.grad_{n}"] = t.grad
    for n, p in m.named_parameters():
        out[f"{case}.grad_{n}"] = p.grad
    # from a zero state
    hz, cz = m(x1, torch.zeros(2, 4, 5, 6), torch.zeros(2, 4, 5, 6))
    put(case, hz=hz.detach(), cz=cz.detach())


if __name__ == "__main__":
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "golden", "loss.safetensors")
    write_safetensors(path, out, meta, metadata_first=True)
    print(f"wrote {len(out)} tensors to {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")
