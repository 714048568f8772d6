#!/usr/bin/python3
"""Plots the CSV logs of crisp's training programs (examples/train_*.cpp): every loss term of
OUT/log.csv against the step, and the held-out scores of OUT/eval.csv when given.

usage: /usr/bin/python3 tools/plot_training.py --log RUN/log.csv --loss-png loss.png
           [--eval RUN/eval.csv [RUN2/eval.csv ...] --labels a,b --eval-png psnr.png] [--title "..."]
           [--skip-terms kernel_max,lr]

log.csv: step,time_s,<term>,... (one row per --log-every steps, means over the window).
eval.csv of train_semantic_deblur: step,time_s,psnr_blurred,psnr_restored,ssim_blurred,ssim_restored
eval.csv of train_parsing:        step,time_s,val_overall_f,val_mean_iou,val_pixel_acc
Needs matplotlib and numpy (Debian: python3-matplotlib).
"""
import argparse
import csv

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise SystemExit(f"plot_training: {path} has no rows")
    cols = {k: [float(r[k]) for r in rows] for k in rows[0]}
    return cols


def plot_loss(path, png, title, skip):
    cols = read_csv(path)
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    for name, values in cols.items():
        if name in ("step", "time_s") or name in skip or not any(v != 0 for v in values):
            continue
        # zeros (a window where a masked loss had no pixels) cannot sit on a log axis: gaps
        ax.plot(cols["step"], [v if v > 0 else float("nan") for v in values], label=name, linewidth=1.2)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (mean over the logging window)")
    ax.set_title(title or path)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png)
    print(f"wrote {png}")


def plot_eval(paths, png, title, labels):
    runs = [read_csv(p) for p in paths]
    cols = runs[0]
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    if "psnr_restored" in cols:
        ax2 = ax.twinx() if len(runs) == 1 else None
        for i, run in enumerate(runs):
            name = labels[i] if i < len(labels) else paths[i]
            ax.plot(run["step"], run["psnr_restored"], "o-", label=f"restored ({name})" if len(runs) > 1 else "restored",
                    markersize=3)
            if ax2 is not None:
                ax2.plot(run["step"], run["ssim_restored"], "s:", color="tab:green", label="SSIM restored", markersize=2)
                ax2.plot(run["step"], run["ssim_blurred"], ":", color="tab:olive", label="SSIM blurred")
                ax2.set_ylabel("SSIM")
        longest = max(runs, key=lambda r: r["step"][-1])
        ax.plot(longest["step"], longest["psnr_blurred"], "--", color="gray", label="blurred input")
        ax.set_ylabel("held-out PSNR (dB)")
        lines = ax.get_lines() + (ax2.get_lines() if ax2 is not None else [])
        ax.legend(lines, [line.get_label() for line in lines], fontsize=8, loc="lower right")
    else:
        for name in cols:
            if name not in ("step", "time_s"):
                ax.plot(cols["step"], cols[name], "o-", label=name, markersize=3)
        ax.set_ylabel("validation score")
        ax.legend(fontsize=8)
    ax.set_xlabel("step")
    ax.set_title(title or ", ".join(paths))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png)
    print(f"wrote {png}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--log", help="OUT/log.csv of a training run")
    p.add_argument("--loss-png", help="where to write the loss curves")
    p.add_argument("--eval", nargs="+", help="OUT/eval.csv of the run (several: one curve each)")
    p.add_argument("--labels", default="", help="comma-separated names of the --eval runs")
    p.add_argument("--eval-png", help="where to write the held-out scores")
    p.add_argument("--title", default="")
    p.add_argument("--skip-terms", default="kernel_max,lr,time_s", help="comma-separated columns not to plot")
    a = p.parse_args()
    if not a.log and not a.eval:
        p.error("give --log and/or --eval")
    skip = set(a.skip_terms.split(",")) if a.skip_terms else set()
    if a.log:
        plot_loss(a.log, a.loss_png or "loss.png", a.title, skip)
    if a.eval:
        plot_eval(a.eval, a.eval_png or "eval.png", a.title, a.labels.split(",") if a.labels else [])


if __name__ == "__main__":
    main()
