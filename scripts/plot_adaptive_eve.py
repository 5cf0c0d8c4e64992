#!/usr/bin/env python3
"""The adaptive-Eve figure of a run or sweep of experiments/adaptive_eve.yaml: P_c against the number
of labelled encrypted samples Eve holds, one line per defence (mean and 95 % interval over seeds),
one panel per Eve (the paper's architecture from scratch, fine-tuned from P_Eve, the larger one).

usage: python3 scripts/plot_adaptive_eve.py RUN_OR_SWEEP_DIR [--snr DB] [--out FILE]

Reads DIR/adaptive_eve.csv (a sweep's merged file or a run's) and writes DIR/adaptive_eve.png (or
--out) atomically."""
import argparse
import csv
import os
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ci95 import mean_ci  # noqa: E402

PANELS = [("paper", "scratch", "paper's Eve (64-32-32), from scratch"),
          ("paper", "finetune", "paper's Eve, fine-tuned from P_Eve"),
          ("large", "scratch", "larger Eve (256-256-128), from scratch")]
DEFENCES = ["unprotected", "paired", "minmax", "keyed", "confusion"]


def load(path, snr):
    """{(arch, start, defence): {samples: [P_c per seed]}} at test SNR `snr`."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    need = {"defence", "arch", "start", "samples", "test_snr_db", "pc_eve", "seed"}
    if not rows or not need <= set(rows[0]):
        sys.exit(f"plot_adaptive_eve: {path}: expected the columns {', '.join(sorted(need))} and rows")
    out = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if float(r["test_snr_db"]) == snr:
            out[(r["arch"], r["start"], r["defence"])][int(r["samples"])].append(float(r["pc_eve"]))
    if not out:
        sys.exit(f"plot_adaptive_eve: {path}: no rows at test SNR {snr} dB")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--snr", type=float, default=20.0, help="test SNR of the threat evaluation (dB)")
    ap.add_argument("--out", help="output file (default DIR/adaptive_eve.png)")
    args = ap.parse_args()
    data = load(os.path.join(args.dir, "adaptive_eve.csv"), args.snr)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [p for p in PANELS if any(k[:2] == p[:2] for k in data)]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), sharey=True, squeeze=False)
    for ax, (arch, start, title) in zip(axes[0], panels):
        for d in DEFENCES + sorted({k[2] for k in data} - set(DEFENCES)):
            series = data.get((arch, start, d))
            if not series:
                continue
            ns = sorted(series)
            stats = [mean_ci(series[n]) for n in ns]
            ax.errorbar(ns, [m for m, _ in stats], yerr=[h for _, h in stats], marker="o", capsize=3, label=d)
        ax.set_xscale("log")
        ax.set_xlabel("labelled encrypted samples of Eve")
        ax.set_title(title, fontsize=10)
        ax.axhline(0.1, color="grey", lw=0.8, ls=":")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(f"P_c of the adaptive Eve at {args.snr:g} dB")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    out = args.out or os.path.join(args.dir, "adaptive_eve.png")
    tmp = out + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, out)
    print(f"plot_adaptive_eve: wrote {out}")


if __name__ == "__main__":
    main()
