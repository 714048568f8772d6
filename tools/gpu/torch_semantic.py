"""PyTorch twin of benchmarks/bench_semantic_cuda.cpp: the same SemanticDeblurNet architecture
(include/crisp/models/semantic_deblur.hpp, paper widths), inference at batch 1 on 128x128 and a
train step at batch 16 (L1 at both scales, backward, Adam), timed the same way (warm-up, then the
median and best of synchronised repetitions). Run on the lent GPU by tools/gpu_check.sh:
    python3 tools/gpu/torch_semantic.py [reps] [fp32|tf32|bf16]
bf16 runs the convolutions under torch.autocast(bfloat16), the nearest PyTorch analogue of crisp's
BF16 conv math (bf16 operands, fp32 accumulation and weights)."""
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ResBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 5, padding=2)
        self.conv2 = nn.Conv2d(c, c, 5, padding=2)

    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x)))


class Scale(nn.Module):
    def __init__(self, cin, c=64, blocks=6):
        super().__init__()
        self.conv_in = nn.Conv2d(cin, c, 11, padding=5)
        self.conv1 = nn.Conv2d(c, c, 5, padding=2)
        self.conv2 = nn.Conv2d(c, c, 5, padding=2)
        self.resblocks = nn.Sequential(*[ResBlock(c) for _ in range(blocks)])
        self.conv3 = nn.Conv2d(c, c, 5, padding=2)
        self.conv4 = nn.Conv2d(c, c, 5, padding=2)
        self.conv_out = nn.Conv2d(c, 3, 5, padding=2)

    def forward(self, x):
        y = F.relu(self.conv2(F.relu(self.conv1(F.relu(self.conv_in(x))))))
        y = self.resblocks(y)
        return self.conv_out(F.relu(self.conv4(F.relu(self.conv3(y)))))


class SemanticDeblurNet(nn.Module):
    def __init__(self, classes=11):
        super().__init__()
        self.scale1 = Scale(3 + classes)
        self.upsample = nn.ConvTranspose2d(3, 3, 4, stride=2, padding=1)
        self.scale2 = Scale(6 + classes)

    def forward(self, blurred, probs):
        s1 = self.scale1(torch.cat([F.avg_pool2d(blurred, 2), F.max_pool2d(probs, 2)], 1))
        s2 = self.scale2(torch.cat([self.upsample(s1), blurred, probs], 1))
        return s1, s2


def time_ms(reps, f):
    for _ in range(3):
        f()
    torch.cuda.synchronize()
    ms = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        torch.cuda.synchronize()
        ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ms), min(ms)


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    math = sys.argv[2] if len(sys.argv) > 2 else "fp32"
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = math == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = math == "tf32"
    dev = torch.device("cuda")
    torch.manual_seed(0)
    net = SemanticDeblurNet().to(dev)
    adam = torch.optim.Adam(net.parameters(), lr=1e-4)
    ac = torch.autocast("cuda", dtype=torch.bfloat16, enabled=math == "bf16")

    x1 = torch.rand(1, 3, 128, 128, device=dev)
    p1 = torch.softmax(torch.rand(1, 11, 128, 128, device=dev), 1)

    def infer():
        with torch.no_grad(), ac:
            net(x1, p1)

    med, best = time_ms(reps, infer)
    print(f"torch {torch.__version__} semantic inference b1@128 {math}: median {med:.3f} ms, best {best:.3f} ms")

    x = torch.rand(16, 3, 128, 128, device=dev)
    p = torch.softmax(torch.rand(16, 11, 128, 128, device=dev), 1)
    sharp = torch.rand(16, 3, 128, 128, device=dev)
    sharp_half = F.avg_pool2d(sharp, 2)

    def step():
        adam.zero_grad(set_to_none=True)
        with ac:
            s1, s2 = net(x, p)
        loss = F.l1_loss(s2.float(), sharp) + F.l1_loss(s1.float(), sharp_half)
        loss.backward()
        adam.step()

    med, best = time_ms(max(3, reps // 2), step)
    print(f"torch {torch.__version__} semantic train step b16@128 {math}: median {med:.3f} ms, best {best:.3f} ms")


if __name__ == "__main__":
    main()
