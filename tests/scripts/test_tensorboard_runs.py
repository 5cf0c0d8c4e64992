#!/usr/bin/env python3
"""semsec's TensorBoard event files read back with the tensorboard package (its EventAccumulator,
what TensorBoard's UI loads):
  - a run killed after it logged steps past its last checkpoint, then resumed: every step appears
    once, with the values of metrics.csv (the SessionLog START of the resumed stage drops the rest);
  - a grid of 2 points: one run per point (RUN/tb/p0, RUN/tb/p1) with the same tags, so the curves
    overlay, each with its own point's values; later stages continue the step axis.
usage: test_tensorboard_runs.py SEMSEC_BINARY"""
import csv
import os
import subprocess
import sys
import tempfile
import unittest

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SEMSEC = None
TINY = ["data.train_limit=512", "data.test_limit=128", "train.steps=12", "train.batch_size=32", "train.log_every=2",
        "train.checkpoint_every=4", "eval.batch_size=64", "eval.test_snr_db=[0,15]", "output.tensorboard=true"]


def run(args, extra_env=None):
    env = dict(os.environ, OMP_NUM_THREADS="1", **(extra_env or {}))
    r = subprocess.run([SEMSEC, *args], capture_output=True, text=True, env=env, timeout=600)
    return r.returncode, r.stdout + r.stderr


def scalars(run_dir, tag):
    acc = EventAccumulator(run_dir, size_guidance={"scalars": 0})
    acc.Reload()
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def metrics(run_dir, stage, point, term="loss"):
    with open(os.path.join(run_dir, "metrics.csv")) as f:
        return [(int(r["step"]), float(r["value"])) for r in csv.DictReader(f)
                if r["stage"] == stage and int(r["point"]) == point and r["term"] == term]


class TensorBoardRuns(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="semsec_tb_")

    def assert_same_curve(self, events, rows, offset=0):
        self.assertEqual([s for s, _ in events], [s + offset for s, _ in rows])
        for (_, a), (_, b) in zip(events, rows):
            self.assertAlmostEqual(a, b, delta=1e-6 * max(1.0, abs(b)))

    def test_a_resumed_run_shows_every_step_once(self):
        out = os.path.join(self.dir, "run")
        cfg = os.path.join(ROOT, "experiments", "gs_isac.yaml")
        rc, log = run(["train", cfg, *TINY, "--out", out], {"SEMSEC_TEST_KILL_AT_STEP": "general:10"})
        self.assertNotEqual(rc, 0, log)
        self.assertEqual([s for s, _ in scalars(out, "general/loss")], [2, 4, 6, 8, 10])  # 10 is past the checkpoint
        rc, log = run(["train", "--resume", out])
        self.assertEqual(rc, 0, log)
        self.assert_same_curve(scalars(out, "general/loss"), metrics(out, "general", 0))
        self.assertEqual([s for s, _ in scalars(out, "eval/unplug/none/mse_com")], [0, 15])

    def test_grid_points_are_runs_of_their_own(self):
        out = os.path.join(self.dir, "sweep")
        cfg = os.path.join(ROOT, "experiments", "ss_isac.yaml")
        rc, log = run(["sweep", cfg, *TINY, "eve.steps=4", "security.steps=4", "seed=0,1", "--out", out])
        self.assertEqual(rc, 0, log)
        ens = os.path.join(out, "ensemble000")
        self.assertEqual(sorted(os.listdir(os.path.join(ens, "tb"))), ["p0", "p1"])
        for g in (0, 1):
            run_dir = os.path.join(ens, "tb", f"p{g}")
            self.assert_same_curve(scalars(run_dir, "general/loss"), metrics(ens, "general", g))
            # The next stage continues the step axis after general's 12 steps.
            self.assert_same_curve(scalars(run_dir, "eve_whitebox/loss"), metrics(ens, "eve_whitebox", g), offset=12)
            self.assertEqual(len(scalars(run_dir, "eval/plugged/whitebox/pc_eve")), 2)
        self.assertNotEqual(scalars(os.path.join(ens, "tb", "p0"), "general/loss"),
                            scalars(os.path.join(ens, "tb", "p1"), "general/loss"))


if __name__ == "__main__":
    SEMSEC = sys.argv[1]
    unittest.main(argv=sys.argv[:1] + sys.argv[2:])
