#!/usr/bin/python3
"""PyTorch reference runs for crisp's optimisers, schedulers and gradient clipping.

Run with Debian's python3-torch (the pyenv `python3` has no torch):

    /usr/bin/python3 tools/make_optim_goldens.py

Writes tests/data/golden/optim.safetensors, read by tests/optim/test_optim_golden.cpp:
  net.init.<key>, net.x, net.target     a small conv net's initial weights and its fixed batch
  net.<case>.final.<key>, net.<case>.losses
                                        the weights after 20 training steps (loss mse) and the
                                        loss before each step, per optimiser configuration
  formula.<case>.p0 / .grads / .final   one parameter updated with given gradients, for every
                                        branch of the update formulas (dampening, nesterov,
                                        maximize, amsgrad, weight decay)
  clip.g<i>, clip.<case>.out<i>, clip.<case>.total
                                        clip_grad_norm_ on three gradients
  sched.<case>                          get_last_lr() after 0..49 steps, two param groups (F64)
The file is written by hand in the safetensors layout (torch 1.13 has no safetensors module).
"""
import math
import os

import torch

from golden_io import write_safetensors

torch.manual_seed(0)
F = torch.float32
STEPS = 20
OUT = {}


def put(name, t, dtype=F):
    OUT[name] = t.detach().contiguous().to(dtype)


def make_net():
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(4, 2, 3, padding=1))


# ---- the conv net -------------------------------------------------------------------------
net0 = make_net()
init = {k: v.clone() for k, v in net0.state_dict().items()}
x = torch.randn(2, 3, 6, 6)
target = torch.randn(2, 2, 6, 6)
for k, v in init.items():
    put(f"net.init.{k}", v)
put("net.x", x)
put("net.target", target)

NET_CASES = {
    "sgd_momentum": lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-2),
    "sgd_groups_nesterov": lambda ps: torch.optim.SGD(
        [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.02, "momentum": 0.5, "nesterov": True}],
        lr=0.05, momentum=0.9, dampening=0.0, weight_decay=1e-3),
    "adam": lambda ps: torch.optim.Adam(ps, lr=2e-3),
    "adam_amsgrad": lambda ps: torch.optim.Adam(ps, lr=2e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2,
                                                amsgrad=True),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=2e-3, weight_decay=0.1),
    # nesterov SGD with gradient clipping and a cosine schedule stepped every iteration
    "sgd_clip_cosine": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
}

for name, make_opt in NET_CASES.items():
    net = make_net()
    net.load_state_dict(init)
    opt = make_opt(list(net.parameters()))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=8) if name == "sgd_clip_cosine" else None
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(x), target)
        loss.backward()
        if name == "sgd_clip_cosine":
            torch.nn.utils.clip_grad_norm_(net.parameters(), 0.05)
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(loss.item())
    for k, v in net.state_dict().items():
        put(f"net.{name}.final.{k}", v)
    put(f"net.{name}.losses", torch.tensor(losses))

# ---- formulas on one parameter with given gradients --------------------------------------
FORMULA_CASES = {
    "sgd_plain": (torch.optim.SGD, dict(lr=0.1)),
    "sgd_weight_decay": (torch.optim.SGD, dict(lr=0.1, weight_decay=0.3)),
    "sgd_momentum_dampening": (torch.optim.SGD, dict(lr=0.1, momentum=0.8, dampening=0.3)),
    "sgd_nesterov_weight_decay": (torch.optim.SGD, dict(lr=0.1, momentum=0.7, nesterov=True, weight_decay=0.2)),
    "sgd_maximize": (torch.optim.SGD, dict(lr=0.1, momentum=0.5, maximize=True)),
    "adam_default": (torch.optim.Adam, dict(lr=1e-3)),
    "adam_weight_decay_eps": (torch.optim.Adam, dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.1)),
    "adam_amsgrad": (torch.optim.Adam, dict(lr=0.05, amsgrad=True)),
    "adam_maximize": (torch.optim.Adam, dict(lr=0.05, maximize=True, weight_decay=0.01)),
    "adamw_default": (torch.optim.AdamW, dict(lr=0.05)),
    "adamw_amsgrad": (torch.optim.AdamW, dict(lr=0.05, betas=(0.7, 0.95), weight_decay=0.5, amsgrad=True)),
}
p0 = torch.randn(12)
# gradients of decreasing size so that amsgrad's maximum differs from exp_avg_sq
grads = torch.randn(6, 12) * torch.tensor([3.0, 1.0, 0.5, 2.0, 0.1, 1.0]).unsqueeze(1)
for name, (cls, kw) in FORMULA_CASES.items():
    p = p0.clone().requires_grad_()
    opt = cls([p], **kw)
    for g in grads:
        p.grad = g.clone()
        opt.step()
    put(f"formula.{name}.p0", p0)
    put(f"formula.{name}.grads", grads)
    put(f"formula.{name}.final", p)

# ---- clip_grad_norm_ ---------------------------------------------------------------------
clip_grads = [torch.randn(3, 4), torch.randn(5) * 2, torch.randn(2, 2, 2) * 0.5]
for i, g in enumerate(clip_grads):
    put(f"clip.g{i}", g)
CLIP_CASES = {"l2": (1.0, 2.0), "l1": (2.0, 1.0), "inf": (0.5, math.inf), "p3": (1.0, 3.0), "noop": (100.0, 2.0)}
for name, (max_norm, norm_type) in CLIP_CASES.items():
    ps = [torch.zeros_like(g, requires_grad=True) for g in clip_grads]
    for p, g in zip(ps, clip_grads):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
    for i, p in enumerate(ps):
        put(f"clip.{name}.out{i}", p.grad)
    put(f"clip.{name}.total", total.reshape(1), torch.float64)

# ---- schedulers --------------------------------------------------------------------------
L = torch.optim.lr_scheduler


def cyclegan_linear(n_epochs, n_epochs_decay, epoch_count=1):
    # networks.get_scheduler(opt) with lr_policy == 'linear' in pytorch-CycleGAN-and-pix2pix
    def lambda_rule(epoch):
        return 1.0 - max(0, epoch + epoch_count - n_epochs) / float(n_epochs_decay + 1)
    return lambda_rule


SCHED_CASES = {
    "step": lambda o: L.StepLR(o, step_size=7, gamma=0.5),
    "multistep": lambda o: L.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "exponential": lambda o: L.ExponentialLR(o, gamma=0.93),
    "cosine": lambda o: L.CosineAnnealingLR(o, T_max=10, eta_min=1e-3),
    "cosine_long": lambda o: L.CosineAnnealingLR(o, T_max=60),
    "linear_decay": lambda o: L.LambdaLR(o, cyclegan_linear(20, 25)),
    "linear_decay_epoch_count": lambda o: L.LambdaLR(o, cyclegan_linear(10, 30, epoch_count=5)),
}
for name, make in SCHED_CASES.items():
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.03}], lr=0.1, momentum=0.9)
    sched = make(opt)
    rows = []
    for _ in range(50):
        rows.append(sched.get_last_lr())
        opt.step()
        sched.step()
    put(f"sched.{name}", torch.tensor(rows, dtype=torch.float64), torch.float64)


if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "tests", "data", "golden", "optim.safetensors")
    write_safetensors(path, OUT, {"generator": "tools/make_optim_goldens.py", "torch": torch.__version__,
                                  "steps": str(STEPS)})
    print(f"wrote {len(OUT)} tensors to {path} ({os.path.getsize(path)} bytes)")
