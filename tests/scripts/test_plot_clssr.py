#!/usr/bin/env python3
"""scripts/plot_clssr.py and scripts/merge_csv.py on made-up CLSSR files: one run gives fig2.png
(episode 0 included) and fig3.png; files of several seeds give the same figures with intervals; a
regime map gives map.png and no fig3.png; merge_csv tags rows with their variant and refuses files
whose headers differ, leaving the earlier output as it was."""
import csv
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.normpath(os.path.join(HERE, "..", "..", "scripts"))
SUMMARY = ["seed", "method", "antennas", "tau", "path_loss_exponent", "eve1_x", "eve1_y", "omega", "clssr_ksut",
           "clssr_literal_ksut", "clssr_monotone_ksut", "task_reliability"]
EPISODES = ["seed", "method", "antennas", "tau", "path_loss_exponent", "eve1_x", "eve1_y", "episode",
            "task_reliability", "clssr_ksut"]


def write(path, head, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        w.writerows(rows)


def run_files(d, seeds=(0,), etas=("4",), eves=(("400", "450"),)):
    summary, episodes = [], []
    for s in seeds:
        for eta in etas:
            for x, y in eves:
                for m in ("cl_ss", "pl_ss", "ao"):
                    for tau in ("1", "5"):
                        v = str(10 + s + float(tau) + (5 if m == "cl_ss" else 0))
                        summary.append([s, m, "mimo", tau, eta, x, y, "monotone", v, v, v, "90"])
                        if m != "ao":
                            for e in range(4):
                                episodes.append([s, m, "mimo", tau, eta, x, y, e, str(50 + 10 * e + s), v])
    write(os.path.join(d, "summary.csv"), SUMMARY, summary)
    write(os.path.join(d, "episodes.csv"), EPISODES, episodes)


class PlotClssr(unittest.TestCase):
    def plot(self, d):
        return subprocess.run([sys.executable, os.path.join(SCRIPTS, "plot_clssr.py"), d], capture_output=True,
                              text=True)

    def test_one_run_and_several_seeds(self):
        for seeds in ((0,), (0, 1, 2)):
            d = tempfile.mkdtemp(prefix="semsec_plot_clssr_")
            run_files(d, seeds=seeds)
            r = self.plot(d)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(os.path.isfile(os.path.join(d, "fig2.png")))
            self.assertTrue(os.path.isfile(os.path.join(d, "fig3.png")))
            self.assertFalse(os.path.exists(os.path.join(d, "map.png")))

    def test_regime_map(self):
        d = tempfile.mkdtemp(prefix="semsec_plot_clssr_")
        run_files(d, seeds=(0, 1), etas=("2", "3"), eves=(("400", "450"), ("700", "-100")))
        r = self.plot(d)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.isfile(os.path.join(d, "map.png")))
        self.assertTrue(os.path.isfile(os.path.join(d, "fig2.png")))
        self.assertFalse(os.path.exists(os.path.join(d, "fig3.png")))

    def test_variant_of_merged_files(self):
        d = tempfile.mkdtemp(prefix="semsec_plot_clssr_")
        run_files(d, seeds=(0, 1))
        for name in ("summary.csv", "episodes.csv"):
            path = os.path.join(d, name)
            with open(path, newline="") as f:
                rows = list(csv.reader(f))
            write(path, ["variant"] + rows[0], [["a"] + r for r in rows[1:]] + [["b"] + r for r in rows[1:]])
        r = subprocess.run([sys.executable, os.path.join(SCRIPTS, "plot_clssr.py"), d, "--variant", "b"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.isfile(os.path.join(d, "fig3.png")))
        os.remove(os.path.join(d, "episodes.csv"))  # a summary alone: fig3.png only
        os.remove(os.path.join(d, "fig2.png"))
        r = subprocess.run([sys.executable, os.path.join(SCRIPTS, "plot_clssr.py"), d, "--variant", "a"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, "fig2.png")))
        r = subprocess.run([sys.executable, os.path.join(SCRIPTS, "plot_clssr.py"), d, "--variant", "c"],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no rows of variant 'c'", r.stderr)

    def test_not_a_run_directory(self):
        d = tempfile.mkdtemp(prefix="semsec_plot_clssr_")
        r = self.plot(d)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("episodes.csv: not found", r.stderr)


class MergeCsv(unittest.TestCase):
    def test_tags_rows_and_refuses_other_headers(self):
        d = tempfile.mkdtemp(prefix="semsec_merge_")
        write(os.path.join(d, "a.csv"), ["seed", "x"], [[0, 1], [1, 2]])
        write(os.path.join(d, "b.csv"), ["seed", "x"], [[0, 3]])
        write(os.path.join(d, "c.csv"), ["seed", "y"], [[0, 3]])
        out = os.path.join(d, "out.csv")
        merge = [sys.executable, os.path.join(SCRIPTS, "merge_csv.py"), out]
        r = subprocess.run(merge + ["base=" + os.path.join(d, "a.csv"), "abl=" + os.path.join(d, "b.csv")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, newline="") as f:
            rows = list(csv.reader(f))
        self.assertEqual(rows, [["variant", "seed", "x"], ["base", "0", "1"], ["base", "1", "2"], ["abl", "0", "3"]])
        before = open(out).read()
        r = subprocess.run(merge + ["base=" + os.path.join(d, "a.csv"), "other=" + os.path.join(d, "c.csv")],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("c.csv: header", r.stderr)
        self.assertEqual(open(out).read(), before)
        r = subprocess.run(merge + ["x=" + os.path.join(d, "missing.csv")], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("missing.csv: no such file", r.stderr)


if __name__ == "__main__":
    unittest.main()
