#!/usr/bin/env python3
"""scripts/plot_adaptive_eve.py on made-up threat-model files: three seeds give the figure with its
three panels' data; a file without the threat model's columns, or without rows at the asked test SNR,
is refused with its name and leaves no figure."""
import csv
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.normpath(os.path.join(HERE, "..", "..", "scripts", "plot_adaptive_eve.py"))
HEAD = ["point", "seed", "defence", "arch", "start", "samples", "steps", "test_snr_db", "psr_db", "pc_eve"]


def write(path, rows, head=HEAD):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        w.writerows(rows)


def threat_rows():
    rows = []
    for seed in (0, 1, 2):
        for d in ("unprotected", "paired", "minmax"):
            for arch, start in (("paper", "scratch"), ("paper", "finetune"), ("large", "scratch")):
                for n in (100, 1000, 60000):
                    rows.append([seed, seed, d, arch, start, n, 10, 20, -10, 0.3 + 0.01 * seed + n / 1e6])
    return rows


class PlotAdaptiveEve(unittest.TestCase):
    def run_script(self, d, *extra):
        return subprocess.run([sys.executable, SCRIPT, d, *extra], capture_output=True, text=True)

    def test_figure_from_three_seeds(self):
        with tempfile.TemporaryDirectory() as d:
            write(os.path.join(d, "adaptive_eve.csv"), threat_rows())
            r = self.run_script(d)
            self.assertEqual(r.returncode, 0, r.stderr)
            png = os.path.join(d, "adaptive_eve.png")
            self.assertTrue(os.path.getsize(png) > 1000)
            self.assertEqual(sorted(os.listdir(d)), ["adaptive_eve.csv", "adaptive_eve.png"])

    def test_bad_files_are_refused(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "adaptive_eve.csv")
            write(path, [[0, 0, 0.5]], head=["point", "seed", "pc"])
            r = self.run_script(d)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(path, r.stderr)
            self.assertIn("expected the columns", r.stderr)
            write(path, threat_rows())
            r = self.run_script(d, "--snr", "5")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("no rows at test SNR 5.0 dB", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(d, "adaptive_eve.png")))


if __name__ == "__main__":
    unittest.main()
