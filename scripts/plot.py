#!/usr/bin/env python3
"""Draw the SS-ISAC figures from a run's or a sweep's summary.csv.

usage: .venv/bin/python scripts/plot.py RUN_OR_SWEEP_DIR_OR_SUMMARY_CSV [--where KEY=VALUE ...] [--out DIR]

fig3.png: MSE of sensing / communication and Eve's P_c versus test SNR (paper Fig. 3),
          one line per variant (unplug, decrypt_only, plugged) and Eve (whitebox, blackbox, adaptive);
fig4.png: the same versus PSR at the training SNR (paper Fig. 4), drawn when psr_db varies; each plugged
          series is placed at its realised PSR (summary.csv's psr_real_db, the mean over the test set and
          the seeds) rather than the nominal one; series without a perturbation stay at the nominal PSR.
Values are means over seeds with 95% intervals (t-distribution) when several seeds are present.
A sweep over other keys (a column of summary.csv before `ensemble`, e.g. security.power_constraint) is
drawn one setting at a time: pick it with --where KEY=VALUE (the figures would otherwise mix them).
"""
import argparse
import csv
import os
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ci95  # noqa: E402



def mean_ci(values):
    return ci95.mean_ci(values, single=0.0)  # one seed: no error bar


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{path}: no rows")
    for key in ("variant", "eve", "test_snr_db", "mse_sen", "mse_com", "pc_eve", "seed", "psr_db"):
        if key not in rows[0]:
            sys.exit(f"{path}: column '{key}' missing (is this a semsec summary.csv?)")
    # Eve's ceiling (eve.clean_ceiling) has no test SNR: it is not a curve of either figure.
    rows = [r for r in rows if r["variant"] != "clean"]
    if not rows:
        sys.exit(f"{path}: only Eve-ceiling rows; nothing to plot")
    # Points that diverged (status diverged@STAGE:STEP) have no metrics: leave them out, loudly.
    bad = sorted({(r["seed"], r["status"]) for r in rows if r.get("status", "ok") != "ok"})
    if bad:
        print(f"{path}: leaving out {len(bad)} diverged grid point(s): "
              + ", ".join(f"seed {s} ({st})" for s, st in bad), file=sys.stderr)
        rows = [r for r in rows if r.get("status", "ok") == "ok"]
        if not rows:
            sys.exit(f"{path}: every grid point diverged; nothing to plot")
    return rows


def series(rows, x_key, fixed):
    groups = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if any(r[k] != v for k, v in fixed.items()):
            continue
        groups[(r["variant"], r["eve"])][float(r[x_key])].append(r)
    return groups


STYLE = {"unplug": ("k", "o"), "decrypt_only": ("b", "s"), "plugged": ("r", "^")}
EVE_LS = {"whitebox": "-", "blackbox": ":", "adaptive": "-.", "none": "-"}


def realised_x(by_x, xs):
    """Mean realised PSR (dB) of each nominal-PSR group, where summary.csv has it."""
    out = []
    for x in xs:
        real = [float(r["psr_real_db"]) for r in by_x[x] if r.get("psr_real_db", "") != ""]
        out.append(sum(real) / len(real) if real else x)
    return out


def draw(rows, x_key, xlabel, fixed, title, out, realised=False):
    groups = series(rows, x_key, fixed)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for (variant, eve), by_x in sorted(groups.items()):
        xs = sorted(by_x)
        x_pos = realised_x(by_x, xs) if realised else xs
        for ax, metric in zip(axes, ("mse_sen", "mse_com", "pc_eve")):
            vals = [[float(r[metric]) for r in by_x[x] if r[metric] != ""] for x in xs]
            if not all(vals):
                continue
            if metric != "pc_eve" and eve not in ("whitebox", "none"):
                if variant == "unplug":
                    continue
            stats = [mean_ci(v) for v in vals]
            color, marker = STYLE.get(variant, ("g", "x"))
            ls = "--" if variant == "decrypt_only" else EVE_LS.get(eve, "-")
            ax.errorbar(x_pos, [s[0] for s in stats], yerr=[s[1] for s in stats], color=color, marker=marker,
                        linestyle=ls, capsize=3, label=f"{variant} / {eve}")
    for ax, name in zip(axes, ("sensing MSE (rad$^2$)", "communication MSE (per pixel)", "P$_c$ at Eve")):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(name)
        ax.grid(True, alpha=0.3)
        if name.startswith("sensing") or name.startswith("communication"):
            ax.set_yscale("log")
    axes[2].axhline(0.1, color="gray", lw=0.8, ls="--")
    axes[2].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    tmp = out + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, out)
    print(out)


def select(rows, path, where):
    """The rows matching every KEY=VALUE of `where`; fails on an unknown key, an empty selection, or
    a swept key (a column before `ensemble`) left with several values."""
    for item in where:
        key, sep, value = item.partition("=")
        if not sep:
            sys.exit(f"--where {item}: expected KEY=VALUE")
        if key not in rows[0]:
            sys.exit(f"--where {item}: {path} has no column '{key}' (columns: {', '.join(rows[0])})")
        values = sorted({r[key] for r in rows})
        rows = [r for r in rows if r[key] == value]
        if not rows:
            sys.exit(f"--where {item}: no row has {key}={value} (values: {', '.join(values)})")
    columns = list(rows[0])
    swept = columns[:columns.index("ensemble")] if "ensemble" in columns else []
    for key in swept:
        if key in ("seed", "psr_db", "train.snr_db", "security.psr_db"):
            continue
        values = sorted({r[key] for r in rows})
        if len(values) > 1:
            sys.exit(f"{path}: the sweep varies {key} ({', '.join(values)}); draw one setting with "
                     f"--where {key}=VALUE")
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", help="a run or sweep directory, or a summary.csv")
    p.add_argument("--where", action="append", default=[], metavar="KEY=VALUE",
                   help="only rows whose column KEY is VALUE (repeatable)")
    p.add_argument("--out", default=None, help="output directory (default: the run or sweep directory)")
    a = p.parse_args()
    path = a.dir if os.path.isfile(a.dir) else os.path.join(a.dir, "summary.csv")
    if not os.path.isfile(path):
        sys.exit(f"{path}: no such file (give a semsec run or sweep directory, or its summary.csv)")
    rows = select(load(path), path, a.where)
    out = a.out or (os.path.dirname(path) or ".")
    os.makedirs(out, exist_ok=True)
    psrs = sorted({r["psr_db"] for r in rows if r["psr_db"] != ""}, key=float)
    train_snrs = sorted({r["train_snr_db"] for r in rows}, key=float)
    fixed = {"train_snr_db": train_snrs[0]}
    if len(psrs) > 1:
        # Fig. 3 at the paper's PSR (-10 dB) when present, else the first.
        fixed3 = dict(fixed, psr_db="-10" if "-10" in psrs else psrs[0])
    else:
        fixed3 = fixed
    draw(rows, "test_snr_db", "test SNR (dB)", fixed3, "MSE and P$_c$ versus SNR (Fig. 3)", os.path.join(out, "fig3.png"))
    if len(psrs) > 1:
        snr = fixed["train_snr_db"]
        realised = any(r.get("psr_real_db", "") != "" for r in rows)
        xlabel = "realised PSR of the plugged signal (dB)" if realised else "nominal PSR (dB)"
        draw(rows, "psr_db", xlabel, dict(fixed, test_snr_db=snr), f"MSE and P$_c$ versus PSR at {snr} dB (Fig. 4)",
             os.path.join(out, "fig4.png"), realised=realised)


if __name__ == "__main__":
    main()
