#!/usr/bin/env python3
"""The result tables of docs/experiments/*.md, recomputed from the raw files under docs/results/.

usage: python3 scripts/doc_tables.py [--check | --write] [TABLE...]

Each table in a page sits between two markers,

    <!-- doc_tables: NAME -->
    ...
    <!-- /doc_tables -->

and NAME is one of TABLES below: a function of the raw CSV it names, which the generated text
names too, with the command that produced that file. --check (the default; a CTest test) fails
listing every table whose text differs from what the raw file gives, or whose markers are missing;
--write rewrites the text between the markers. Values are means over seeds with 95 % intervals
(Student's t, n - 1 degrees of freedom) written as "mean ± half-width", after the raw file's
digits are rounded to the precision shown. Standard library only.
"""
import argparse
import csv
import math
import os
import re
import sys
from collections import defaultdict

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ci95 import mean_ci  # noqa: E402


class Raw:
    """A summary.csv-like file: rows as dicts, looked up by column values."""

    def __init__(self, rel_path, command):
        self.rel_path = rel_path
        self.command = command
        path = os.path.join(ROOT, rel_path)
        with open(path, newline="") as f:
            self.rows = list(csv.DictReader(f))
        if not self.rows:
            raise ValueError(f"{rel_path}: no rows")
        bad = [r for r in self.rows if r.get("status", "ok") != "ok"]
        if bad:
            raise ValueError(f"{rel_path}: {len(bad)} rows are not status ok; the tables assume every point trained")

    def values(self, column, **where):
        """The column's values (float) over the rows matching `where` (column=value, by text), one per
        seed; fails unless every seed appears once."""
        where = {k.replace("__", "."): str(v) for k, v in where.items()}
        for k in where:
            if k not in self.rows[0]:
                raise KeyError(f"{self.rel_path}: no column '{k}'")
        picked = [r for r in self.rows if all(r[k] == v for k, v in where.items())]
        seeds = [r["seed"] for r in picked]
        if not picked or len(seeds) != len(set(seeds)):
            raise ValueError(f"{self.rel_path}: {len(picked)} rows for {where} (seeds {seeds}); expected one per seed")
        out = {}
        for r in picked:
            if r[column] == "":
                raise ValueError(f"{self.rel_path}: column '{column}' blank for {where}")
            out[r["seed"]] = float(r[column])
        return out

    def seeds(self):
        return sorted({int(r["seed"]) for r in self.rows})

    def header(self):
        s = self.seeds()
        return (f"Raw file `{self.rel_path}`, made by `{self.command}`; mean ± 95 % interval over seeds "
                f"{s[0]}-{s[-1]} (t, n = {len(s)}).")


def fmt(values, digits):
    """'mean ± half-width' with `digits` decimals (significant figures when digits is 'gN')."""
    m, h = mean_ci(list(values))
    if isinstance(digits, str):  # 'g2': two significant figures of the half-width decide
        sig = int(digits[1:])
        d = max(0, sig - 1 - int(math.floor(math.log10(abs(h))))) if h > 0 else 4
    else:
        d = digits
    return f"{m:.{d}f} ± {h:.{d}f}"


def ratio(a, b):
    """Per-seed a / b (two dicts seed -> value)."""
    if a.keys() != b.keys():
        raise ValueError("ratio of values over different seeds")
    return [a[s] / b[s] for s in sorted(a)]


def md_table(head, rows):
    lines = ["| " + " | ".join(head) + " |", "| " + " | ".join("---" for _ in head) + " |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


# --- the raw files ---------------------------------------------------------------------------------

FIG34_CMD = ("semsec sweep experiments/ss_isac.yaml security.psr_db=-20,-15,-10,-5 seed=0,1,2,3,4 "
             "security.power_constraint=projection,hinge sweep.max_grid=20 output.export=none "
             "output.tensorboard=false --device cpu")
FIG34_EQ_CMD = ("semsec sweep experiments/ss_isac.yaml security.psr_db=-20,-15,-10,-5 seed=0,1,2,3,4 "
                "security.equal_power=true sweep.max_grid=20 output.export=none output.tensorboard=false "
                "--device cpu")
CHANNEL_CMD = ("semsec sweep experiments/ss_isac.yaml channel.beamformer=wide2,sector "
               "channel.alpha_phase=fixed,random seed=0,1,2,3,4 sweep.max_grid=20 output.export=none "
               "output.tensorboard=false --device cpu")
COM_SUM_CMD = ("semsec sweep experiments/ss_isac.yaml train.com_loss=sum seed=0,1,2,3,4 output.export=none "
               "output.tensorboard=false --device cpu")
CEILING_CMD = ("semsec sweep experiments/ss_isac.yaml eve.clean_ceiling=true eve.epochs=20,100,300 seed=0,1,2,3,4 "
               "security.blackbox=false security.adaptive_eve=false output.export=none output.tensorboard=false "
               "--device cpu")
MNIST_CMD = ("semsec sweep experiments/ss_isac_mnist.yaml seed=0,1,2,3,4 output.export=none "
             "output.tensorboard=false --device cpu")
_raw_cache = {}


def raw(name):
    files = {
        "fig34": ("docs/results/ss_isac_fig34_constraint_cpu.csv", FIG34_CMD),
        "fig34_eq": ("docs/results/ss_isac_fig34_equal_power_cpu.csv", FIG34_EQ_CMD),
        "channel": ("docs/results/ss_isac_channel_cpu.csv", CHANNEL_CMD),
        "mnist": ("docs/results/ss_isac_mnist_cpu.csv", MNIST_CMD),
        "ceiling": ("docs/results/ss_isac_eve_ceiling_cpu.csv", CEILING_CMD),
        "com_sum": ("docs/results/ss_isac_com_loss_sum_cpu.csv", COM_SUM_CMD),
    }
    if name not in _raw_cache:
        _raw_cache[name] = Raw(*files[name])
    return _raw_cache[name]


PSRS = ["-20", "-15", "-10", "-5"]
TRAIN_SNR = "15"


def fig34_settings():
    """(label, raw file, extra filter) of the three constraint settings of the Fig. 4 sweeps."""
    return [
        ("projection", raw("fig34"), {"security__power_constraint": "projection"}),
        ("hinge (eq. 26)", raw("fig34"), {"security__power_constraint": "hinge"}),
        ("projection + equal power", raw("fig34_eq"), {}),
    ]


# --- the tables ------------------------------------------------------------------------------------

def snr_variant_table(r, where, caption):
    """Fig. 3's layout: test SNR x variant, MSEs and P_c of the three Eves."""
    rows = []
    for snr in ["20", "15", "10", "5", "0"]:
        for variant in ["unplug", "decrypt_only", "plugged"]:
            w = dict(where, test_snr_db=snr, variant=variant)
            cells = [f"{snr} dB", variant,
                     fmt([v * 1e4 for v in r.values("mse_sen", eve="whitebox", **w).values()], "g2"),
                     fmt(r.values("mse_com", eve="whitebox", **w).values(), 4)]
            cells += [fmt(r.values("pc_eve", eve=eve, **w).values(), 3) for eve in ["whitebox", "blackbox", "adaptive"]]
            rows.append(cells)
    head = ["test SNR", "variant", "mse_sen (1e-4 rad^2)", "mse_com", "P_c white box", "P_c black box",
            "P_c adaptive Eve"]
    return [r.header() + " " + caption, ""] + md_table(head, rows)


def gs_isac_snr():
    r = raw("fig34")
    snrs = ["0", "5", "10", "15", "20"]
    w = dict(security__power_constraint="projection", psr_db="-10", variant="unplug", eve="whitebox")
    rows = [["mse_sen (1e-4 rad^2)"] + [fmt([v * 1e4 for v in r.values("mse_sen", test_snr_db=t, **w).values()], "g2")
                                        for t in snrs],
            ["mse_com (per pixel)"] + [fmt(r.values("mse_com", test_snr_db=t, **w).values(), 4) for t in snrs]]
    return [r.header() + " The unplugged rows (the general system of the first stage) of its projection, "
            "PSR -10 dB points.", ""] + md_table(["test SNR (dB)"] + snrs, rows)


def ss_isac_fig3():
    return snr_variant_table(raw("fig34"), dict(security__power_constraint="projection", psr_db="-10"),
                             "Projection constraint, PSR -10 dB, train SNR 15 dB.")


def ss_isac_mnist():
    return snr_variant_table(raw("mnist"), {}, "MNIST digits (data/mnist5k), projection constraint, PSR -10 dB, "
                                               "train SNR 15 dB.")


def mse_cells(r, w):
    """mse_sen (1e-4 rad^2) and mse_com, unplugged and plugged, of the white-box pair."""
    return [fmt([v * scale for v in r.values(metric, variant=variant, eve="whitebox", **w).values()], digits)
            for metric, scale, digits in [("mse_sen", 1e4, "g2"), ("mse_com", 1, 4)]
            for variant in ["unplug", "plugged"]]


def pc_cells(r, w):
    """P_c unplugged (P_Eve), then plugged against the white-box, black-box and adaptive Eves."""
    return [fmt(r.values("pc_eve", variant="unplug", eve="whitebox", **w).values(), 3)] + \
        [fmt(r.values("pc_eve", variant="plugged", eve=eve, **w).values(), 3) for eve in ["whitebox", "blackbox", "adaptive"]]


def ss_isac_channel():
    r = raw("channel")
    rows = []
    for beam in ["wide2", "sector"]:
        for phase in ["fixed", "random"]:
            w = dict(channel__beamformer=beam, channel__alpha_phase=phase, test_snr_db=TRAIN_SNR)
            cells = [beam, "known (alpha = 1)" if phase == "fixed" else "random phase"]
            rows.append(cells + mse_cells(r, w) + pc_cells(r, w))
    head = ["beamformer", "alpha", "mse_sen unplug (1e-4 rad^2)", "mse_sen plugged", "mse_com unplug",
            "mse_com plugged", "P_c unplug", "P_c plugged white box", "P_c plugged black box", "P_c plugged adaptive"]
    return [r.header() + f" Projection constraint, PSR -10 dB, train and test SNR {TRAIN_SNR} dB.", ""] + \
        md_table(head, rows)


def ss_isac_com_loss():
    """train.com_loss mean (the Fig. 3/4 sweep's projection, PSR -10 dB points) against sum."""
    rows = []
    for label, r, w in [("mean (per pixel)", raw("fig34"), dict(security__power_constraint="projection", psr_db="-10")),
                        ("sum (eq. 9, 28)", raw("com_sum"), {})]:
        w = dict(w, test_snr_db=TRAIN_SNR)
        psr = fmt(r.values("psr_real_db", variant="plugged", eve="whitebox", **w).values(), 2)
        rows.append([label] + mse_cells(r, w) + [psr] + pc_cells(r, w))
    head = ["train.com_loss", "mse_sen unplug (1e-4 rad^2)", "mse_sen plugged", "mse_com unplug", "mse_com plugged",
            "realised PSR (dB)", "P_c unplug", "P_c plugged white box", "P_c plugged black box", "P_c plugged adaptive"]
    return [raw("fig34").header(), raw("com_sum").header(),
            f"Projection constraint, PSR -10 dB, train and test SNR {TRAIN_SNR} dB.", ""] + md_table(head, rows)


def ss_isac_eve_ceiling():
    """P_c of P_Eve's architecture on clean codewords (no channel) and of P_Eve on the unplugged and
    plugged signals, by how long Eve trained."""
    r = raw("ceiling")
    rows = []
    for epochs in ["20", "100", "300"]:
        w = dict(eve__epochs=epochs)
        cells = [epochs + (" (default)" if epochs == "20" else ""),
                 fmt(r.values("pc_eve", variant="clean", eve="clean", **w).values(), 3)]
        cells += [fmt(r.values("pc_eve", variant="unplug", eve="whitebox", test_snr_db=snr, **w).values(), 3)
                  for snr in ["20", "15", "0"]]
        cells.append(fmt(r.values("pc_eve", variant="plugged", eve="whitebox", test_snr_db=TRAIN_SNR, **w).values(), 3))
        rows.append(cells)
    head = ["eve.epochs", "P_c clean z (no channel)", "P_c unplugged, 20 dB", "P_c unplugged, 15 dB",
            "P_c unplugged, 0 dB", f"P_c plugged white box, {TRAIN_SNR} dB"]
    return [r.header() + " Projection constraint, PSR -10 dB, train SNR 15 dB; the clean classifier and P_Eve "
            "train for the same epochs.", ""] + md_table(head, rows)


def ss_isac_fig4_psr():
    rows = []
    for psr in PSRS:
        cells = [psr]
        for _, r, extra in fig34_settings():
            w = dict(psr_db=psr, test_snr_db=TRAIN_SNR, variant="plugged", eve="whitebox", **extra)
            cells.append(fmt(r.values("psr_real_db", **w).values(), 2))
            cells.append(fmt(r.values("psr_p99_db", **w).values(), 2))
        rows.append(cells)
    head = ["nominal PSR (dB)"]
    for label, _, _ in fig34_settings():
        head += [f"{label}: mean", f"{label}: 99th pct."]
    return [raw("fig34").header(), raw("fig34_eq").header(),
            f"Realised PSR (dB) of the white-box pair's plugged signal on the test set, test SNR {TRAIN_SNR} dB.",
            ""] + md_table(head, rows)


def ss_isac_fig4_pc():
    rows = []
    for psr in PSRS:
        cells = [psr]
        for eve in ["whitebox", "blackbox", "adaptive"]:
            for _, r, extra in fig34_settings():
                w = dict(psr_db=psr, test_snr_db=TRAIN_SNR, variant="plugged", eve=eve, **extra)
                cells.append(fmt(r.values("pc_eve", **w).values(), 3))
        rows.append(cells)
    unplug = [fmt(r.values("pc_eve", psr_db="-10", test_snr_db=TRAIN_SNR, variant="unplug", eve="whitebox",
                           **extra).values(), 3) for _, r, extra in fig34_settings()]
    rows.append(["unplugged"] + unplug * 3)
    head = ["nominal PSR (dB)"]
    short = {"projection": "proj.", "hinge (eq. 26)": "hinge", "projection + equal power": "proj. + eq. power"}
    for eve in ["white box", "black box", "adaptive"]:
        head += [f"{eve}, {short[label]}" for label, _, _ in fig34_settings()]
    return [f"P_c of Eve at test SNR {TRAIN_SNR} dB, plugged (last row: unplugged, P_Eve, PSR -10 dB sweep "
            "point; the unplugged system does not depend on the PSR). Same raw files as above.", ""] + md_table(head, rows)


def ss_isac_fig4_mse():
    rows = []
    for psr in PSRS:
        cells = [psr]
        for metric in ["mse_sen", "mse_com"]:
            for _, r, extra in fig34_settings():
                w = dict(psr_db=psr, test_snr_db=TRAIN_SNR, eve="whitebox", **extra)
                cells.append(fmt(ratio(r.values(metric, variant="plugged", **w), r.values(metric, variant="unplug", **w)), 3))
        rows.append(cells)
    head = ["nominal PSR (dB)"]
    short = {"projection": "proj.", "hinge (eq. 26)": "hinge", "projection + equal power": "proj. + eq. power"}
    for metric in ["mse_sen", "mse_com"]:
        head += [f"{metric} ratio, {short[label]}" for label, _, _ in fig34_settings()]
    return [f"Plugged / unplugged MSE at test SNR {TRAIN_SNR} dB, the ratio per seed, then its mean and interval "
            "(below 1: plugged is better). Same raw files as above.", ""] + md_table(head, rows)


TABLES = {
    "gs_isac_snr": ("docs/experiments/gs-isac.md", gs_isac_snr),
    "ss_isac_fig3": ("docs/experiments/ss-isac.md", ss_isac_fig3),
    "ss_isac_fig4_psr": ("docs/experiments/ss-isac.md", ss_isac_fig4_psr),
    "ss_isac_fig4_pc": ("docs/experiments/ss-isac.md", ss_isac_fig4_pc),
    "ss_isac_fig4_mse": ("docs/experiments/ss-isac.md", ss_isac_fig4_mse),
    "ss_isac_channel": ("docs/experiments/ss-isac.md", ss_isac_channel),
    "ss_isac_mnist": ("docs/experiments/ss-isac.md", ss_isac_mnist),
    "ss_isac_com_loss": ("docs/experiments/ss-isac.md", ss_isac_com_loss),
    "ss_isac_eve_ceiling": ("docs/experiments/ss-isac.md", ss_isac_eve_ceiling),
}



def all_tables():
    """TABLES and the CLSSR, adaptive-Eve and interop pages' tables (scripts/doc_tables_clssr.py,
    scripts/doc_tables_adaptive.py, scripts/doc_tables_interop.py, which import this module)."""
    import doc_tables_adaptive
    import doc_tables_clssr
    import doc_tables_interop
    tables = dict(TABLES)
    tables.update(doc_tables_clssr.TABLES)
    tables.update(doc_tables_adaptive.TABLES)
    tables.update(doc_tables_interop.TABLES)
    return tables


BLOCK = re.compile(r"(<!-- doc_tables: (?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- /doc_tables -->)", re.S)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="fail on a table that differs (default)")
    mode.add_argument("--write", action="store_true", help="rewrite the tables in the pages")
    ap.add_argument("tables", nargs="*", help="only these tables (default: all)")
    args = ap.parse_args()
    TABLES.update(all_tables())
    names = args.tables or list(TABLES)
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        sys.exit(f"doc_tables: unknown table(s) {', '.join(unknown)}; known: {', '.join(TABLES)}")

    problems = []
    pages = defaultdict(list)
    for n in names:
        pages[TABLES[n][0]].append(n)
    for page, page_tables in pages.items():
        path = os.path.join(ROOT, page)
        with open(path) as f:
            text = f.read()
        found = {m.group("name") for m in BLOCK.finditer(text)}
        for n in page_tables:
            if n not in found:
                problems.append(f"{page}: no '<!-- doc_tables: {n} -->' ... '<!-- /doc_tables -->' block")
        for m in BLOCK.finditer(text):
            if m.group("name") not in TABLES:
                problems.append(f"{page}: block '{m.group('name')}' is not a table of scripts/doc_tables.py")

        def replace(m):
            name = m.group("name")
            if name not in page_tables:
                return m.group(0)
            want = "\n".join(TABLES[name][1]()) + "\n"
            if m.group("body") != want:
                if args.write:
                    print(f"doc_tables: rewrote {page}: {name}")
                else:
                    have = m.group("body").splitlines()
                    wl = want.splitlines()
                    first = next((i for i in range(max(len(have), len(wl)))
                                  if i >= len(have) or i >= len(wl) or have[i] != wl[i]), 0)
                    problems.append(f"{page}: table '{name}' differs from its raw file at its line {first + 1}:\n"
                                    f"    page: {have[first] if first < len(have) else '(missing)'}\n"
                                    f"    raw:  {wl[first] if first < len(wl) else '(missing)'}")
            return m.group(1) + want + m.group(4)

        new = BLOCK.sub(replace, text)
        if args.write and new != text:
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                f.write(new)
            os.replace(tmp, path)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        if not args.write:
            print("doc_tables: run `python3 scripts/doc_tables.py --write` after changing a raw file "
                  "(and the text around the table)", file=sys.stderr)
        sys.exit(1)
    print(f"doc_tables: {len(names)} table(s) match their raw files")


if __name__ == "__main__":
    main()
