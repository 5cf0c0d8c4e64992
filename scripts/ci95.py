"""Means with two-sided 95 % confidence intervals from Student's t: the one definition that the doc
tables (doc_tables.py, doc_tables_clssr.py) and the figures (plot.py, plot_clssr.py) share."""
import functools
import math

# Two-sided 95 % quantiles of Student's t by degrees of freedom (they agree to 3 decimals with
# t95_numeric, which larger degrees of freedom use).
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
       11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093,
       20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048,
       29: 2.045, 30: 2.042}


@functools.lru_cache(maxsize=None)
def t95_numeric(df):
    """The 97.5 % quantile of Student's t with `df` degrees of freedom: Simpson's rule on the density
    and bisection (no scipy in the venv)."""
    c = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)

    def cdf(t, steps=4000):
        h = t / steps
        s = sum((1 if i in (0, steps) else 4 if i % 2 else 2) * (1 + (i * h) ** 2 / df) ** (-(df + 1) / 2)
                for i in range(steps + 1))
        return 0.5 + c * s * h / 3

    lo, hi = 0.0, 20.0
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < 0.975 else (lo, mid)
    return lo


def t95(df):
    return T95[df] if df in T95 else t95_numeric(df)


def mean_ci(values, single=float("nan")):
    """(mean, half-width of its 95 % interval); `single` is the half-width reported for one value."""
    n = len(values)
    m = sum(values) / n
    if n < 2:
        return m, single
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1))
    return m, t95(n - 1) * sd / math.sqrt(n)
