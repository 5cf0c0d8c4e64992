#!/usr/bin/env python3
"""Draw the CLSSR figures from a `semsec clssr` run directory.

usage: .venv/bin/python scripts/plot_clssr.py RUN_DIR [--out DIR] [--variant V]

fig2.png: task reliability (eq. 14) of the greedy policy after each training episode (paper Fig. 2;
          episode 0 is the untrained policy), one line per (method, antennas) at the run's tau
          closest to 2;
fig3.png: achievable CLSSR (eq. 8, ksut/s) versus the noise factor tau (paper Fig. 3),
          one line per (method, antennas).
map.png:  with a regime map (clssr.path_loss_exponents, clssr.eve1_xy), the CLSSR gain of CL-SS over
          PL-SS (MIMO) versus the path-loss exponent, one line per Eve 1 position, one panel per
          tau (fig3.png is then not drawn: its lines would mix the map's points).
RUN_DIR may also hold CSV files concatenated from runs of several seeds (their `seed` column):
lines are then means with a shaded 95 % interval (Student's t); files merged by scripts/merge_csv.py
carry a `variant` column, and --variant V keeps the rows of one. The titles name the reading of
eq. 7 (summary.csv's `omega` column). semsec clssr calls this itself when it finds matplotlib.
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

LABEL = {"cl_ss": "CL-SS (RL)", "pl_ss": "PL-SS (RL)", "ao": "AO oracle (exact Eve CSI)",
         "ao_stat": "AO (statistical Eve CSI)"}
STYLE = {("cl_ss", "mimo"): "r-o", ("cl_ss", "miso"): "r--s", ("pl_ss", "mimo"): "b-^",
         ("pl_ss", "miso"): "b--v", ("ao", "mimo"): "g-.d", ("ao", "miso"): "g:d",
         ("ao_stat", "mimo"): "m-.x", ("ao_stat", "miso"): "m:x"}


def mean_ci(values):
    return ci95.mean_ci(values, single=0.0)  # one seed: no error bar


def curves(points):
    """{x: [y per seed]} -> (xs, means, half-widths), sorted by x."""
    xs = sorted(points)
    stats = [mean_ci(points[x]) for x in xs]
    return xs, [m for m, _ in stats], [h for _, h in stats]


def draw(ax, key, points, column_label=None, markersize=4):
    xs, ms, hs = curves(points)
    label = column_label or f"{LABEL.get(key[0], key[0])}, {key[1].upper()}"
    line = ax.plot(xs, ms, STYLE.get(key, "k-"), markersize=markersize, label=label)[0]
    if any(h > 0 for h in hs):
        ax.fill_between(xs, [m - h for m, h in zip(ms, hs)], [m + h for m, h in zip(ms, hs)],
                        color=line.get_color(), alpha=0.15, linewidth=0)


def reading(run):
    path = os.path.join(run, "summary.csv")
    if not os.path.exists(path):
        return ""
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if VARIANT is None or r.get("variant") == VARIANT]
        names = sorted({r.get("omega", "") for r in rows} - {""})
    return f", eq. 7 {'/'.join(names)}" if names else ""


def seeds_note(rows):
    n = len({r.get("seed", "0") for r in rows})
    return f", {n} seeds, 95 % CI" if n > 1 else ""


VARIANT = None  # --variant: keep only the rows of this variant


def read(path, columns):
    if not os.path.exists(path):
        sys.exit(f"{path}: not found (is this a semsec clssr run directory?)")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if VARIANT is not None:
        if rows and "variant" not in rows[0]:
            sys.exit(f"{path}: --variant given, but the file has no variant column")
        rows = [r for r in rows if r["variant"] == VARIANT]
        if not rows:
            sys.exit(f"{path}: no rows of variant '{VARIANT}'")
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
    if not os.path.exists(os.path.join(run, "episodes.csv")) and os.path.exists(os.path.join(run, "summary.csv")):
        return None  # a summary without episodes (merged files): fig3.png / map.png only
    rows = read(os.path.join(run, "episodes.csv"), ["method", "antennas", "tau", "episode", "task_reliability"])
    if not rows:
        return None
    rows = [r for r in rows if map_point(r) == map_point(rows[0])]  # a regime map: its first point
    taus = sorted({float(r["tau"]) for r in rows})
    tau = min(taus, key=lambda t: abs(t - 2.0))
    rel = defaultdict(lambda: defaultdict(list))
    omega = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if float(r["tau"]) == tau:
            key = (r["method"], r["antennas"])
            rel[key][int(r["episode"])].append(float(r["task_reliability"]))
            omega[key][int(r["episode"])].append(float(r["clssr_ksut"]))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for key in sorted(rel):
        draw(ax, key, rel[key], markersize=3)
        draw(ax2, key, omega[key], markersize=3)
    ax.set_xlabel("training episode")
    ax.set_ylabel("task reliability (%)")
    ax.set_ylim(-2, 102)
    ax.set_title(f"Task reliability, tau = {tau:g}{seeds_note(rows)}")
    ax2.set_xlabel("training episode")
    ax2.set_ylabel("CLSSR of the greedy policy (ksut/s)")
    ax2.set_title(f"CLSSR during training{reading(run)}")
    for a in (ax, ax2):
        a.grid(True, alpha=0.3)
        a.legend()
    path = os.path.join(out, "fig2.png")
    atomic_save(fig, path)
    return path


def map_point(r):
    return (r.get("path_loss_exponent", ""), r.get("eve1_x", ""), r.get("eve1_y", ""))


def regime_map(run, out):
    rows = read(os.path.join(run, "summary.csv"), ["method", "antennas", "tau", "clssr_ksut"])
    if len({map_point(r) for r in rows}) < 2:
        return None
    value = defaultdict(list)  # (method, eta, x, y, tau) -> [per seed]
    for r in rows:
        if r["antennas"] == "mimo":
            value[(r["method"],) + map_point(r) + (r["tau"],)].append(float(r["clssr_ksut"]))
    taus = sorted({k[4] for k in value}, key=float)
    fig, axes = plt.subplots(1, len(taus), figsize=(5 * len(taus), 4), squeeze=False)
    for ax, tau in zip(axes[0], taus):
        lines = defaultdict(dict)
        for (m, eta, x, y, t), cl in value.items():
            pl = value.get(("pl_ss", eta, x, y, t))
            if m == "cl_ss" and t == tau and pl:
                lines[(x, y)][float(eta)] = [100.0 * (c / p - 1.0) for c, p in zip(cl, pl) if p > 0]
        for (x, y), pts in sorted(lines.items()):
            etas = sorted(e for e in pts if pts[e])
            ms = [mean_ci(pts[e])[0] for e in etas]
            ax.plot(etas, ms, "-o", label=f"Eve 1 at ({x}, {y}) m")
        ax.axhline(85, color="gray", linestyle=":", label="paper, tau = 1: +85 %")
        ax.axhline(295, color="gray", linestyle="--", label="paper, tau = 5: +295 %")
        ax.set_yscale("symlog", linthresh=100)
        lowest = min([m for pts in lines.values() for v in pts.values() if v for m in [mean_ci(v)[0]]] + [0.0])
        ax.set_ylim(bottom=1.2 * lowest)
        ax.set_xlabel("path-loss exponent eta")
        ax.set_ylabel("CLSSR gain of CL-SS over PL-SS (%)")
        ax.set_title(f"MIMO, tau = {tau}{reading(run)}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    path = os.path.join(out, "map.png")
    atomic_save(fig, path)
    return path


def fig3(run, out):
    rows = read(os.path.join(run, "summary.csv"), ["method", "antennas", "tau", "clssr_ksut"])
    if len({map_point(r) for r in rows}) > 1:
        return None
    series = defaultdict(lambda: defaultdict(list))
    for r in rows:
        series[(r["method"], r["antennas"])][float(r["tau"])].append(float(r["clssr_ksut"]))
    if not any(len(v) > 1 for v in series.values()):
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for key in sorted(series):
        draw(ax, key, series[key])
    ax.set_xlabel("noise factor tau (P = tau P0)")
    ax.set_ylabel("CLSSR (ksut/s)")
    ax.set_title(f"Achievable CLSSR{reading(run)}{seeds_note(rows)}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, bbox_to_anchor=(1.02, 1.0), loc="upper left")
    path = os.path.join(out, "fig3.png")
    atomic_save(fig, path)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--out", default=None)
    ap.add_argument("--variant", default=None, help="keep the rows of this variant (merged files)")
    a = ap.parse_args()
    global VARIANT
    VARIANT = a.variant
    out = a.out or a.run
    os.makedirs(out, exist_ok=True)
    for p in (fig2(a.run, out), fig3(a.run, out), regime_map(a.run, out)):
        if p:
            print(p)


if __name__ == "__main__":
    main()
