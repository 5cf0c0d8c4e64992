"""Sweep and run directories of semsec as pandas DataFrames."""
import os

import pandas as pd


def _csv(path):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no such file (is this a finished semsec run or sweep directory?)")
    return pd.read_csv(path)


def read_summary(path):
    """summary.csv of a sweep or run directory, or the summary.csv file `path`, as a DataFrame."""
    return _csv(path if os.path.isfile(path) else os.path.join(path, "summary.csv"))


def read_sweep(directory):
    """(summary, points, metrics) of a `semsec sweep` directory, or of one `semsec train` run.

    summary: summary.csv, one row per grid point, variant, Eve and test SNR (with a leading column
             per swept key and `ensemble` for a sweep);
    points:  one row per grid point: `ensemble`, `point`, the swept values (plan.csv) and every
             per-point setting of its ensemble (points.csv: seed, train_snr_db, lr, psr_db, weights);
    metrics: every ensemble's metrics.csv (`stage, step, point, term, value`) with `ensemble`.
    A single run has ensemble 0."""
    summary = read_summary(directory)
    if os.path.isfile(os.path.join(directory, "plan.csv")):
        plan = _csv(os.path.join(directory, "plan.csv"))
        runs = [(e, os.path.join(directory, f"ensemble{e:03d}")) for e in sorted(plan["ensemble"].unique())]
    else:
        plan = None
        runs = [(0, directory)]
    points, metrics = [], []
    for e, run in runs:
        pts = os.path.join(run, "points.csv")
        if os.path.isfile(pts):
            p = pd.read_csv(pts)
        else:  # a run of one point (semsec train) has no points.csv: its settings are in summary.csv
            p = pd.DataFrame({"point": [0]})
        p.insert(0, "ensemble", e)
        points.append(p)
        m = _csv(os.path.join(run, "metrics.csv"))
        m.insert(0, "ensemble", e)
        metrics.append(m)
    points = pd.concat(points, ignore_index=True)
    if plan is not None:
        swept = plan.drop(columns=[c for c in plan.columns if c in points.columns and c not in ("ensemble", "point")])
        points = swept.merge(points, on=["ensemble", "point"], how="left", validate="one_to_one")
    return summary, points, pd.concat(metrics, ignore_index=True)
