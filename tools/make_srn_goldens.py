#!/usr/bin/python3
"""PyTorch reference of crisp's SRN-DeblurNet (include/crisp/models/srn.hpp), tiny configuration.

Run with Debian's python3-torch (the pyenv `python3` has no torch):

    /usr/bin/python3 tools/make_srn_goldens.py

Writes tests/data/golden/models_srn.safetensors, read by tests/models/test_srn.cpp:
  - metadata "keys.srn": the PyTorch state_dict as "name:[shape];..." (crisp's key names);
  - "srn.sd.<key>": the weights (Xavier-uniform, biases drawn small and non-zero so that they
    are exercised), "srn.x" (blurred), "srn.sharp";
  - "srn.pred<i>": the per-level predictions, coarsest first; "srn.loss": the multi-scale MSE;
  - "srn.grad_x" and "srn.grad.<key>": gradients of the loss.
The topology is the one srn.hpp documents: F.interpolate bilinear (align_corners=False) resizes,
symmetric padding, previous prediction detached, LSTM state carried with gradient.
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from golden_io import write_safetensors

C, B, R, K, SCALES = 3, 2, 1, 5, 3  # channels, base_channels, num_resblocks, kernel_size, scales


class ResBlock(nn.Module):
    def __init__(self, ch, k):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, k, padding=k // 2)
        self.conv2 = nn.Conv2d(ch, ch, k, padding=k // 2)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class Encoder(nn.Module):
    def __init__(self, cin, cout, k, stride, r):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)
        self.resblocks = nn.Sequential(*[ResBlock(cout, k) for _ in range(r)])

    def forward(self, x):
        return self.resblocks(F.relu(self.conv(x)))


class Decoder(nn.Module):
    def __init__(self, ch, out, k, r):
        super().__init__()
        self.resblocks = nn.Sequential(*[ResBlock(ch, k) for _ in range(r)])
        self.deconv = nn.ConvTranspose2d(ch, out, 4, stride=2, padding=1) if out > 0 else None

    def forward(self, x):
        y = self.resblocks(x)
        return F.relu(self.deconv(y)) if self.deconv is not None else y


class ConvLSTMCell(nn.Module):  # SRN's gate layout: i, j, f, o; forget bias 1
    def __init__(self, cin, hid):
        super().__init__()
        self.hid = hid
        self.conv = nn.Conv2d(cin + hid, 4 * hid, 3, padding=1)

    def forward(self, x, state):
        h, c = state
        i, j, f, o = torch.split(self.conv(torch.cat([x, h], 1)), self.hid, 1)
        c2 = c * torch.sigmoid(f + 1.0) + torch.sigmoid(i) * torch.tanh(j)
        return torch.tanh(c2) * torch.sigmoid(o), c2


def resize(x, h, w):
    if x.shape[2] == h and x.shape[3] == w:
        return x
    return F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)


class SRN(nn.Module):
    def __init__(self, c, b, r, k, scales):
        super().__init__()
        self.scales = scales
        self.enc1 = Encoder(2 * c, b, k, 1, r)
        self.enc2 = Encoder(b, 2 * b, k, 2, r)
        self.enc3 = Encoder(2 * b, 4 * b, k, 2, r)
        self.convlstm = ConvLSTMCell(4 * b, 4 * b)
        self.dec3 = Decoder(4 * b, 2 * b, k, r)
        self.dec2 = Decoder(2 * b, b, k, r)
        self.dec1 = Decoder(b, 0, k, r)
        self.out = nn.Conv2d(b, c, k, padding=k // 2)

    def forward(self, blurred):
        n, _, H, W = blurred.shape
        preds, previous, state = [], blurred, None
        for i in range(self.scales):
            f = 0.5 ** (self.scales - 1 - i)
            h, w = round(H * f), round(W * f)
            blurred_s = resize(blurred, h, w)
            previous_s = resize(previous.detach(), h, w)
            if state is None:
                z = blurred.new_zeros(n, self.convlstm.hid, h // 4, w // 4)
                state = (z, z)
            else:
                state = (resize(state[0], h // 4, w // 4), resize(state[1], h // 4, w // 4))
            e1 = self.enc1(torch.cat([blurred_s, previous_s], 1))
            e2 = self.enc2(e1)
            e3 = self.enc3(e2)
            state = self.convlstm(e3, state)
            d2 = self.dec3(state[0]) + e2
            d1 = self.dec2(d2) + e1
            previous = self.out(self.dec1(d1))
            preds.append(previous)
        return preds


def multiscale_loss(preds, sharp):
    return sum(F.mse_loss(p, resize(sharp, p.shape[2], p.shape[3])) for p in preds)


def main():
    torch.manual_seed(0)
    net = SRN(C, B, R, K, SCALES)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("bias"):
                p.uniform_(-0.05, 0.05)
            else:
                nn.init.xavier_uniform_(p)
    x = torch.rand(2, C, 16, 32, requires_grad=True)
    sharp = torch.rand(2, C, 16, 32)
    preds = net(x)
    loss = multiscale_loss(preds, sharp)
    loss.backward()

    out = {"srn.x": x.detach(), "srn.sharp": sharp, "srn.loss": loss.detach(), "srn.grad_x": x.grad}
    for i, p in enumerate(preds):
        out[f"srn.pred{i}"] = p.detach()
    for k, v in net.state_dict().items():
        out[f"srn.sd.{k}"] = v.detach().clone()
    for k, p in net.named_parameters():
        out[f"srn.grad.{k}"] = p.grad
    meta = {
        "generator": "tools/make_srn_goldens.py",
        "torch": torch.__version__,
        "config": f"channels {C}, base_channels {B}, num_resblocks {R}, kernel_size {K}, scales {SCALES}",
        "keys.srn": ";".join(f"{k}:{list(v.shape)}" for k, v in net.state_dict().items()),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "golden",
                        "models_srn.safetensors")
    write_safetensors(path, out, meta)
    print(f"wrote {os.path.normpath(path)}: {len(out)} tensors, loss {loss.item():.6f}")


if __name__ == "__main__":
    main()
