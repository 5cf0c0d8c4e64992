#!/usr/bin/env python3
"""Draw the CLSSR figures from a `semsec clssr` run directory.

usage: .venv/bin/python scripts/plot_clssr.py RUN_DIR [--out DIR]

fig2.png: task reliability (eq. 14) of the greedy policy after each training episode (paper Fig. 2),
          one line per (method, antennas) at the run's tau closest to 2;
fig3.png: achievable CLSSR (eq. 8, ksut/s) versus the noise factor tau (paper Fig. 3),
          one line per (method, antennas).
semsec clssr calls this itself when it finds a python with matplotlib.
"""
import argparse
import csv
import os
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABEL = {"cl_ss": "CL-SS (RL)", "pl_ss": "PL-SS (RL)", "ao": "AO"}
STYLE = {("cl_ss", "mimo"): "r-o", ("cl_ss", "miso"): "r--s", ("pl_ss", "mimo"): "b-^",
         ("pl_ss", "miso"): "b--v", ("ao", "mimo"): "g-.d", ("ao", "miso"): "g:d"}


def read(path, columns):
    if not os.path.exists(path):
        sys.exit(f"{path}: not found (is this a semsec clssr run directory?)")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for c in columns:
        if rows and c not in rows[0]:
            sys.exit(f"{path}: column '{c}' missing")
    return rows


def atomic_save(fig, path):
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=130, bbox_inches="tight")
    os.replace(tmp, path)
    plt.close(fig)


def fig2(run, out):
    rows = read(os.path.join(run, "episodes.csv"), ["method", "antennas", "tau", "episode", "task_reliability"])
    if not rows:
        return None
    taus = sorted({float(r["tau"]) for r in rows})
    tau = min(taus, key=lambda t: abs(t - 2.0))
    series = defaultdict(list)
    for r in rows:
        if float(r["tau"]) == tau:
            series[(r["method"], r["antennas"])].append(
                (int(r["episode"]), float(r["task_reliability"]), float(r["clssr_ksut"])))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for key, pts in sorted(series.items()):
        pts.sort()
        label = f"{LABEL.get(key[0], key[0])}, {key[1].upper()}"
        ax.plot([p[0] for p in pts], [p[1] for p in pts], STYLE.get(key, "k-"), markersize=3, label=label)
        ax2.plot([p[0] for p in pts], [p[2] for p in pts], STYLE.get(key, "k-"), markersize=3, label=label)
    ax.set_xlabel("training episode")
    ax.set_ylabel("task reliability (%)")
    ax.set_ylim(-2, 102)
    ax.set_title(f"Task reliability convergence, tau = {tau:g}")
    ax2.set_xlabel("training episode")
    ax2.set_ylabel("CLSSR of the greedy policy (ksut/s)")
    ax2.set_title("CLSSR during training")
    for a in (ax, ax2):
        a.grid(True, alpha=0.3)
        a.legend()
    path = os.path.join(out, "fig2.png")
    atomic_save(fig, path)
    return path


def fig3(run, out):
    rows = read(os.path.join(run, "summary.csv"), ["method", "antennas", "tau", "clssr_ksut"])
    series = defaultdict(list)
    for r in rows:
        series[(r["method"], r["antennas"])].append((float(r["tau"]), float(r["clssr_ksut"])))
    if not any(len(v) > 1 for v in series.values()):
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, pts in sorted(series.items()):
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], STYLE.get(key, "k-"),
                label=f"{LABEL.get(key[0], key[0])}, {key[1].upper()}")
    ax.set_xlabel("noise factor tau (P = tau P0)")
    ax.set_ylabel("CLSSR (ksut/s)")
    ax.set_title("Achievable CLSSR")
    ax.grid(True, alpha=0.3)
    ax.legend()
    path = os.path.join(out, "fig3.png")
    atomic_save(fig, path)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    out = a.out or a.run
    os.makedirs(out, exist_ok=True)
    for p in (fig2(a.run, out), fig3(a.run, out)):
        if p:
            print(p)


if __name__ == "__main__":
    main()
