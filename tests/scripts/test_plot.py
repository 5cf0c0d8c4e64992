#!/usr/bin/env python3
"""scripts/plot.py on made-up summary files: a sweep's summary.csv gives fig3.png and fig4.png (with
Eve-ceiling rows, which have no test SNR, left out); a sweep over another key is refused until
--where picks one setting; an unknown --where key, a file of ceiling rows only, and a file that is
not a summary each fail with a message naming the problem and draw nothing."""
import csv
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.normpath(os.path.join(HERE, "..", "..", "scripts", "plot.py"))
HEAD = ["security.power_constraint", "ensemble", "point", "variant", "eve", "train_snr_db", "test_snr_db", "psr_db",
        "seed", "mse_sen", "mse_com", "pc_eve", "psr_real_db", "psr_p99_db", "status"]


def summary_rows(constraints=("projection",), ceiling=True):
    rows = []
    for c in constraints:
        for psr in ("-20", "-10"):
            for seed in ("0", "1", "2"):
                for snr in ("0", "15"):
                    for variant in ("unplug", "decrypt_only", "plugged"):
                        real = str(float(psr) - 0.3) if variant == "plugged" else ""
                        pc = 0.6 if variant != "plugged" else 0.3 + float(psr) / 100
                        rows.append([c, "0", seed, variant, "whitebox", "15", snr, psr, seed,
                                     str(0.01 / (1 + float(snr))), "0.04", str(pc + int(seed) * 0.01), real,
                                     real, "ok"])
                if ceiling:
                    rows.append([c, "0", seed, "clean", "clean", "15", "", psr, seed, "", "", "0.8", "", "", "ok"])
    return rows


class Plot(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="semsec_plot_")

    def write(self, rows, head=HEAD):
        path = os.path.join(self.dir, "summary.csv")
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(head)
            w.writerows(rows)
        return path

    def plot(self, path, *args):
        out = os.path.join(self.dir, "figs")
        r = subprocess.run([sys.executable, SCRIPT, path, "--out", out, *args], capture_output=True, text=True)
        return r, out

    def assert_png(self, path):
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", path)

    def test_sweep_draws_both_figures_without_the_ceiling_rows(self):
        r, out = self.plot(self.write(summary_rows()))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_png(os.path.join(out, "fig3.png"))
        self.assert_png(os.path.join(out, "fig4.png"))
        self.assertEqual(sorted(os.listdir(out)), ["fig3.png", "fig4.png"])  # no temporary left

    def test_a_sweep_over_another_key_needs_where(self):
        path = self.write(summary_rows(("projection", "hinge")))
        r, out = self.plot(path)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("the sweep varies security.power_constraint (hinge, projection)", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, "fig3.png")))
        r, out = self.plot(path, "--where", "security.power_constraint=hinge")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_png(os.path.join(out, "fig4.png"))

    def test_bad_inputs_name_the_problem(self):
        path = self.write(summary_rows())
        r, _ = self.plot(path, "--where", "channel.beamformer=sector")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("has no column 'channel.beamformer'", r.stderr)
        r, _ = self.plot(path, "--where", "security.power_constraint=clipped")
        self.assertIn("no row has security.power_constraint=clipped (values: projection)", r.stderr)
        r, _ = self.plot(self.write([row for row in summary_rows() if row[3] == "clean"]))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("only Eve-ceiling rows", r.stderr)
        r, out = self.plot(self.write([["a", "b"]], head=["method", "tau"]))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("column 'variant' missing", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(out, "fig3.png")))


if __name__ == "__main__":
    unittest.main()
