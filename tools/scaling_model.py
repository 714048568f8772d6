#!/usr/bin/env python3
"""Data-parallel scaling model of docs/distributed.md: predicted efficiency of ring all-reduce with
backward/communication overlap, from measured gradient bytes and step costs.

    OMP_NUM_THREADS=2 build/benchmarks/bench_allreduce --models > models.txt
    python3 tools/scaling_model.py models.txt

Every assumption is a named constant below; docs/distributed.md states them in words.
"""
import math
import sys

# --- assumptions -------------------------------------------------------------------------------
PAPER1_STEP_S = 5 * 86400 / 17e6   # paper 1: 17 M iterations in ~5 days on one Titan X, batch 16
PAPER1_BATCH = 16
H200_OVER_TITANX = 10.0            # assumed speed-up of an H200 over a Titan X on these fp32 convs
BACKWARD_SHARE = 2.0 / 3.0         # backward = 2x forward: the window in which buckets can overlap
BUCKET_BYTES = 25 * 2**20          # DistributedDataParallel's default bucket_cap_mb
FABRICS = [  # name, per-GPU unidirectional bandwidth (bytes/s), per-step latency of one ring hop (s)
    ("NVLink 450 GB/s", 450e9, 3e-6),
    ("IB 50 GB/s", 50e9, 10e-6),
    ("IB 25 GB/s", 25e9, 10e-6),
]
GPUS = [8, 16, 64]
BATCH = {  # per-GPU batch (weak scaling: each GPU keeps the paper's batch)
    "SemanticDeblurNet": 16, "DCGANDiscriminator": 16, "FaceParsingNet": 16, "SRN": 16,
    "CycleGAN ResnetGenerator": 4, "CycleGAN NLayerDiscriminator": 4,
}
# Trainers: (model, forward+backward passes per step, gradient reductions per step). In
# train_semantic_deblur G's loss flows back through D (not frozen), so D's gradients are reduced in
# G's backward as well as in D's; train_cyclegan freezes its discriminators in the generator step.
TRAINERS = [
    ("train_semantic_deblur (G + D)", [("SemanticDeblurNet", 1, 1), ("DCGANDiscriminator", 1, 2)]),
    ("train_parsing", [("FaceParsingNet", 1, 1)]),
    ("train_srn", [("SRN", 1, 1)]),
    ("train_cyclegan (2 G + 2 D)", [("CycleGAN ResnetGenerator", 2, 2), ("CycleGAN NLayerDiscriminator", 2, 2)]),
]


def ring_allreduce_s(nbytes, n, bw, lat):
    return 2 * (n - 1) / n * nbytes / bw + 2 * (n - 1) * lat


def exposed_comm_s(grad_bytes, step_s, n, bw, lat):
    """Communication not hidden behind backward: buckets fill evenly during backward, the last one
    can only start when backward ends."""
    k = max(1, math.ceil(grad_bytes / BUCKET_BYTES))
    last = grad_bytes - (k - 1) * BUCKET_BYTES
    overlap_window = BACKWARD_SHARE * step_s * (k - 1) / k
    return max(ring_allreduce_s(last, n, bw, lat), ring_allreduce_s(grad_bytes, n, bw, lat) - overlap_window)


def parse(path):
    rows = {}
    for line in open(path):
        parts = line.split()
        if len(parts) < 4 or not parts[-1].replace(".", "").isdigit():
            continue
        try:
            params, mb, cpu = int(parts[-3]), float(parts[-2]), float(parts[-1])
        except ValueError:
            continue
        name = " ".join(parts[:-3])
        for key in BATCH:
            if name.startswith(key):
                rows[key] = (params, cpu)
    return rows


def main():
    rows = parse(sys.argv[1])
    ref = rows["SemanticDeblurNet"][1] + rows["DCGANDiscriminator"][1]  # cpu s/sample of paper 1's step
    titan_s_per_sample = PAPER1_STEP_S / PAPER1_BATCH
    print("| trainer | MB reduced / step | step on Titan X (ms) | step on H200 (ms) | fabric | N=8 | N=16 | N=64 |")
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for trainer, parts in TRAINERS:
        grad = sum(rows[m][0] * 4 * r for m, c, r in parts)
        step_titan = sum(rows[m][1] * c * BATCH[m] for m, c, r in parts) / ref * titan_s_per_sample
        step_h200 = step_titan / H200_OVER_TITANX
        for i, (fabric, bw, lat) in enumerate(FABRICS):
            effs = []
            for n in GPUS:
                e_t = step_titan / (step_titan + exposed_comm_s(grad, step_titan, n, bw, lat))
                e_h = step_h200 / (step_h200 + exposed_comm_s(grad, step_h200, n, bw, lat))
                effs.append(f"{100 * e_h:.0f}% ({100 * e_t:.0f}%)")
            head = f"| {trainer} | {grad / 1e6:.1f} | {1e3 * step_titan:.1f} | {1e3 * step_h200:.2f} |" if i == 0 \
                else "| | | | |"
            print(f"{head} {fabric} | " + " | ".join(effs) + " |")


if __name__ == "__main__":
    main()
