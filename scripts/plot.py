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
The summary is read with semsec.read_summary (python/semsec, pandas), the reader of semsec.read_sweep.
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))
import ci95  # noqa: E402
from semsec.sweeps import read_summary  # noqa: E402

REQUIRED = ("variant", "eve", "test_snr_db", "mse_sen", "mse_com", "pc_eve", "seed", "psr_db")


def mean_ci(values):
    return ci95.mean_ci(values, single=0.0)  # one seed: no error bar


def text(v):
    """A cell as summary.csv would print it: -10 for -10.0, the text itself otherwise."""
    return f"{v:g}" if isinstance(v, (int, float)) else str(v)


def load(path):
    try:
        df = read_summary(path)
    except pd.errors.EmptyDataError:
        sys.exit(f"{path}: empty file")
    if df.empty:
        sys.exit(f"{path}: no rows")
    for key in REQUIRED:
        if key not in df.columns:
            sys.exit(f"{path}: column '{key}' missing (is this a semsec summary.csv?)")
    # Eve's ceiling (eve.clean_ceiling) has no test SNR: it is not a curve of either figure.
    df = df[df["variant"] != "clean"]
    if df.empty:
        sys.exit(f"{path}: only Eve-ceiling rows; nothing to plot")
    # Points that diverged (status diverged@STAGE:STEP) have no metrics: leave them out, loudly.
    if "status" in df.columns:
        bad = df[df["status"] != "ok"][["seed", "status"]].drop_duplicates().sort_values(["seed", "status"])
        if len(bad):
            print(f"{path}: leaving out {len(bad)} diverged grid point(s): "
                  + ", ".join(f"seed {s} ({st})" for s, st in bad.itertuples(index=False)), file=sys.stderr)
            df = df[df["status"] == "ok"]
            if df.empty:
                sys.exit(f"{path}: every grid point diverged; nothing to plot")
    return df


STYLE = {"unplug": ("k", "o"), "decrypt_only": ("b", "s"), "plugged": ("r", "^")}
EVE_LS = {"whitebox": "-", "blackbox": ":", "adaptive": "-.", "none": "-"}


def draw(df, x_key, xlabel, fixed, title, out, realised=False):
    for k, v in fixed.items():
        df = df[df[k] == v]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for (variant, eve), series in sorted(df.groupby(["variant", "eve"]), key=lambda kv: kv[0]):
        by_x = dict(tuple(series.groupby(x_key)))
        xs = sorted(by_x)
        # Each nominal-PSR group at its mean realised PSR (dB), where summary.csv has it.
        x_pos = [by_x[x]["psr_real_db"].mean() if by_x[x]["psr_real_db"].notna().any() else x
                 for x in xs] if realised else xs
        for ax, metric in zip(axes, ("mse_sen", "mse_com", "pc_eve")):
            vals = [by_x[x][metric].dropna().tolist() for x in xs]
            if not all(vals):
                continue
            if metric != "pc_eve" and eve not in ("whitebox", "none") and variant == "unplug":
                continue
            stats = [mean_ci(v) for v in vals]
            color, marker = STYLE.get(variant, ("g", "x"))
            ls = "--" if variant == "decrypt_only" else EVE_LS.get(eve, "-")
            ax.errorbar(x_pos, [m for m, _ in stats], yerr=[h for _, h in stats], color=color, marker=marker,
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


def select(df, path, where):
    """The rows matching every KEY=VALUE of `where`; fails on an unknown key, an empty selection, or
    a swept key (a column before `ensemble`) left with several values."""
    for item in where:
        key, sep, value = item.partition("=")
        if not sep:
            sys.exit(f"--where {item}: expected KEY=VALUE")
        if key not in df.columns:
            sys.exit(f"--where {item}: {path} has no column '{key}' (columns: {', '.join(df.columns)})")
        cells = df[key].map(text)
        try:
            want = text(float(value)) if pd.api.types.is_numeric_dtype(df[key]) else value
        except ValueError:
            want = value
        if not (cells == want).any():
            sys.exit(f"--where {item}: no row has {key}={value} (values: {', '.join(sorted(set(cells)))})")
        df = df[cells == want]
    columns = list(df.columns)
    swept = columns[:columns.index("ensemble")] if "ensemble" in columns else []
    for key in swept:
        if key in ("seed", "psr_db", "train.snr_db", "security.psr_db"):
            continue
        values = sorted(set(df[key].map(text)))
        if len(values) > 1:
            sys.exit(f"{path}: the sweep varies {key} ({', '.join(values)}); draw one setting with "
                     f"--where {key}=VALUE")
    return df


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
    df = select(load(path), path, a.where)
    out = a.out or (os.path.dirname(path) or ".")
    os.makedirs(out, exist_ok=True)
    psrs = sorted(df["psr_db"].dropna().unique())
    fixed = {"train_snr_db": sorted(df["train_snr_db"].unique())[0]}
    # Fig. 3 at the paper's PSR (-10 dB) when present, else the first.
    fixed3 = dict(fixed, psr_db=-10.0 if -10.0 in psrs else psrs[0]) if len(psrs) > 1 else fixed
    draw(df, "test_snr_db", "test SNR (dB)", fixed3, "MSE and P$_c$ versus SNR (Fig. 3)", os.path.join(out, "fig3.png"))
    if len(psrs) > 1:
        snr = fixed["train_snr_db"]
        realised = "psr_real_db" in df.columns and df["psr_real_db"].notna().any()
        xlabel = "realised PSR of the plugged signal (dB)" if realised else "nominal PSR (dB)"
        draw(df, "psr_db", xlabel, dict(fixed, test_snr_db=snr), f"MSE and P$_c$ versus PSR at {text(snr)} dB (Fig. 4)",
             os.path.join(out, "fig4.png"), realised=realised)


if __name__ == "__main__":
    main()
