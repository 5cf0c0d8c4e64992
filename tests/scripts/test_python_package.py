#!/usr/bin/env python3
"""python/semsec against semsec itself: a trained SS-ISAC run and a two-point sweep ensemble,
exported with `semsec export --layout torch --all`, load into the package's nn.Modules with
strict=True (from .safetensors and from .pt), and the modules reproduce semsec's outputs on the
check vectors that the export writes (encryption with the run's power constraint, both decryptions,
the base system's transmitter and receivers, Eve's logits). Bad --point / --layout values and a
grid-layout file are refused with messages naming them. read_sweep returns a sweep's and a run's
summary, points and metrics as DataFrames that hold what the files hold, and reading them loads no
torch.
usage: test_python_package.py SEMSEC_BINARY"""
import os
import subprocess
import sys
import tempfile
import unittest

import torch
from safetensors.torch import load_file

import semsec

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SEMSEC = None
TINY = ["data.train_limit=512", "data.test_limit=128", "train.steps=8", "train.batch_size=32", "eve.steps=6",
        "security.steps=6", "eval.batch_size=64", "eval.test_snr_db=[15]", "output.tensorboard=false",
        "output.export=none"]


def run(*args):
    r = subprocess.run([SEMSEC, *args], capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"),
                       timeout=600)
    return r.returncode, r.stdout + r.stderr


class TorchLayout(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="semsec_torch_layout_")
        cfg = os.path.join(ROOT, "experiments", "ss_isac.yaml")
        rc, log = run("train", cfg, *TINY, "security.equal_power=true", "--out", os.path.join(cls.dir, "run"))
        assert rc == 0, log
        rc, log = run("sweep", cfg, *TINY, "seed=0,1", "security.psr_db=-15", "--out", os.path.join(cls.dir, "sweep"))
        assert rc == 0, log

    def check_against_semsec(self, base):
        """Loads BASE.safetensors and BASE.pt; compares every network with BASE.check.safetensors."""
        nets, meta = semsec.load(base + ".safetensors")
        nets_pt, _ = semsec.load(base + ".pt")
        for (k, a), (k2, b) in zip(sorted(nets.state_dict().items()), sorted(nets_pt.state_dict().items())):
            self.assertEqual(k, k2)
            self.assertTrue(torch.equal(a, b), k)
        c = load_file(base + ".check.safetensors")
        psr = 10 ** (float(meta["psr_db"]) / 10)
        close = dict(rtol=1e-5, atol=1e-6)
        with torch.no_grad():
            sent = nets.arn.encrypt(c["arn.z"], psr, projection=meta["power_constraint"] == "projection",
                                    equal_power=meta["equal_power"] == "true")
            torch.testing.assert_close(nets.arn.delta(c["arn.z"]), c["arn.delta"], **close)
            torch.testing.assert_close(sent, c["arn.encrypt"], **close)
            torch.testing.assert_close(nets.arn.decrypt_bs(c["arn.y"]), c["arn.decrypt_bs"], **close)
            torch.testing.assert_close(nets.arn.decrypt_ue(c["arn.y"]), c["arn.decrypt_ue"], **close)
            torch.testing.assert_close(nets.base.transmit(c["base.x"]), c["base.transmit"], **close)
            torch.testing.assert_close(nets.base.receive_bs(c["base.y"]), c["base.receive_bs"], **close)
            torch.testing.assert_close(nets.base.receive_ue(c["base.y"]), c["base.receive_ue"], **close)
            torch.testing.assert_close(nets.eve(c["eve.y"]), c["eve.logits"], **close)
            # The trained pair is not the identity, so the comparisons above test the weights.
            self.assertGreater(float((sent - c["arn.z"]).abs().max()), 1e-4)
        return nets, meta

    def test_a_run_loads_strictly_and_reproduces_semsec(self):
        out = os.path.join(self.dir, "run_torch")
        rc, log = run("export", os.path.join(self.dir, "run"), "--layout", "torch", "--all", "--out", out)
        self.assertEqual(rc, 0, log)
        nets, meta = self.check_against_semsec(out)
        self.assertEqual(meta["equal_power"], "true")
        self.assertEqual(meta["activations"].count("="), 10)  # 3 ARN networks, 6 base networks, Eve
        self.assertIsInstance(nets.arn.enc[0], torch.nn.Linear)
        self.assertEqual(tuple(nets.base.se[0].weight.shape), (64, 784))  # nn.Linear's [out, in]

    def test_every_point_of_an_ensemble_and_a_chosen_one(self):
        ens = os.path.join(self.dir, "sweep", "ensemble000")
        out = os.path.join(self.dir, "ens")
        rc, log = run("export", ens, "--layout", "torch", "--all", "--out", out)
        self.assertEqual(rc, 0, log)
        p0, m0 = self.check_against_semsec(out + "_p0")
        p1, m1 = self.check_against_semsec(out + "_p1")
        self.assertEqual((m0["seed"], m1["seed"], m1["psr_db"]), ("0", "1", "-15"))
        self.assertFalse(torch.equal(p0.arn.enc[0].weight, p1.arn.enc[0].weight))
        one = os.path.join(self.dir, "one")
        rc, log = run("export", ens, "--layout", "torch", "--point", "1", "--out", one)
        self.assertEqual(rc, 0, log)
        chosen, _ = semsec.load(one + ".safetensors")
        self.assertTrue(torch.equal(chosen.arn.enc[0].weight, p1.arn.enc[0].weight))
        self.assertFalse(hasattr(chosen, "base"))  # without --all: the ARN pair only

    def test_bad_requests_are_refused(self):
        ens = os.path.join(self.dir, "sweep", "ensemble000")
        rc, log = run("export", ens, "--layout", "torch", "--point", "2", "--out", os.path.join(self.dir, "bad"))
        self.assertEqual(rc, 2, log)
        self.assertIn("--point 2:", log)
        self.assertIn("has 2 grid point(s) (0-1)", log)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "bad.safetensors")))
        rc, log = run("export", ens, "--point", "0")
        self.assertEqual(rc, 2, log)
        self.assertIn("only with --layout torch", log)
        rc, log = run("export", ens, "--layout", "onnx")
        self.assertEqual(rc, 2, log)
        self.assertIn("--layout onnx: expected grid or torch", log)
        grid = os.path.join(self.dir, "grid")
        self.assertEqual(run("export", ens, "--out", grid)[0], 0)
        with self.assertRaisesRegex(ValueError, "not a --layout torch export"):
            semsec.load(grid + ".safetensors")

    def test_read_sweep_returns_the_files_as_data_frames(self):
        sweep = os.path.join(self.dir, "sweep")
        summary, points, metrics = semsec.read_sweep(sweep)
        with open(os.path.join(sweep, "summary.csv")) as f:
            self.assertEqual(len(summary), sum(1 for _ in f) - 1)
        self.assertEqual(list(summary.columns[:3]), ["ensemble", "point", "variant"])
        # One row per grid point with its plan and its points.csv settings.
        self.assertEqual(points[["ensemble", "point", "seed"]].values.tolist(), [[0, 0, 0], [0, 1, 1]])
        self.assertEqual(points["psr_db"].tolist(), [-15, -15])
        self.assertEqual(set(metrics["stage"]), {"general", "eve_whitebox", "eve_substitute", "arn_whitebox",
                                                 "arn_blackbox", "eve_adaptive"})
        self.assertEqual(set(metrics["point"]), {0, 1})
        self.assertTrue((metrics["ensemble"] == 0).all())
        run_summary, run_points, run_metrics = semsec.read_sweep(os.path.join(self.dir, "run"))
        self.assertEqual(run_points.values.tolist(), [[0, 0]])
        self.assertIn("loss", set(run_metrics["term"]))
        self.assertTrue((run_summary["status"] == "ok").all())
        with self.assertRaisesRegex(FileNotFoundError, "is this a finished semsec run or sweep directory"):
            semsec.read_sweep(self.dir)

    def test_reading_a_sweep_does_not_load_torch(self):
        # The plotting scripts read summaries only; the modules' names load torch on first use.
        code = ("import sys, semsec\n"
                "s = semsec.read_summary(sys.argv[1])\n"
                "assert len(s) > 0 and 'torch' not in sys.modules, sorted(sys.modules)\n"
                "semsec.load\n"
                "assert 'torch' in sys.modules\n"
                "try:\n    semsec.no_such_name\nexcept AttributeError as e:\n    print(e)\n")
        r = subprocess.run([sys.executable, "-c", code, os.path.join(self.dir, "sweep")], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), "module 'semsec' has no attribute 'no_such_name'")


if __name__ == "__main__":
    SEMSEC = sys.argv[1]
    unittest.main(argv=sys.argv[:1] + sys.argv[2:])
