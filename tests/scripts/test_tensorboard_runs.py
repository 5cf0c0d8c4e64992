#!/usr/bin/env python3
"""semsec's TensorBoard event files read back with the tensorboard package (its EventAccumulator,
what TensorBoard's UI loads):
  - a run killed after it logged steps past its last checkpoint, then resumed: every step appears
    once, with the values of metrics.csv (the SessionLog START of the resumed stage drops the rest);
  - a grid of 2 points: one run per point (RUN/tb/p0, RUN/tb/p1) with the same tags, so the curves
    overlay, each with its own point's values; later stages continue the step axis;
  - HParams: each point's run is one session whose hparams are its points.csv values and the
    sweep's non-grid keys (here security.power_constraint, two ensembles), ended with success,
    whose metrics are final/* scalars equal to its rows of summary.csv; TensorBoard's own HParams
    backend lists the four sessions with those values; a point that diverged (train.lr=10) ends
    its session with failure and has no metrics.
usage: test_tensorboard_runs.py SEMSEC_BINARY"""
import csv
import os
import subprocess
import sys
import tempfile
import unittest

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import api_pb2
from tensorboard.plugins.hparams import metadata as hp_metadata

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


def hparams(run_dir):
    """(experiment, session start, session end, final scalars {tag: value}) of one run."""
    acc = EventAccumulator(run_dir, size_guidance={"scalars": 0})
    acc.Reload()
    content = acc.PluginTagToContent(hp_metadata.PLUGIN_NAME)
    finals = {t: acc.Scalars(t)[-1].value for t in acc.Tags()["scalars"] if t.startswith("final/")}
    return (hp_metadata.parse_experiment_plugin_data(content[hp_metadata.EXPERIMENT_TAG]),
            hp_metadata.parse_session_start_info_plugin_data(content[hp_metadata.SESSION_START_INFO_TAG]),
            hp_metadata.parse_session_end_info_plugin_data(content[hp_metadata.SESSION_END_INFO_TAG]), finals)


def rows_of(path):
    with open(path) as f:
        return list(csv.DictReader(f))


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
        rc, log = run(["sweep", cfg, *TINY, "eve.steps=4", "security.steps=4", "seed=0,1",
                       "security.power_constraint=projection,hinge", "--out", out])
        self.assertEqual(rc, 0, log)
        self.check_hparams(out)
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

    def test_a_diverged_point_ends_its_session_with_failure(self):
        out = os.path.join(self.dir, "diverged")
        cfg = os.path.join(ROOT, "experiments", "gs_isac.yaml")
        tiny = [a for a in TINY if not a.startswith("train.steps=")]
        rc, log = run(["sweep", cfg, *tiny, "train.steps=60", "train.lr=0.001,10", "--out", out])
        self.assertEqual(rc, 0, log)
        ens = os.path.join(out, "ensemble000")
        lrs = {int(r["point"]): float(r["lr"]) for r in rows_of(os.path.join(ens, "points.csv"))}
        for g, lr in lrs.items():
            _, start, end, finals = hparams(os.path.join(ens, "tb", f"p{g}"))
            self.assertEqual(start.hparams["lr"].number_value, lr)
            if lr == 10:
                self.assertEqual(end.status, api_pb2.STATUS_FAILURE)
                self.assertEqual(finals, {})
            else:
                self.assertEqual(end.status, api_pb2.STATUS_SUCCESS)
                self.assertIn("final/unplug/none/mse_com/15dB", finals)

    def check_hparams(self, out):
        plan = rows_of(os.path.join(out, "plan.csv"))
        self.assertEqual(len(plan), 4)
        for p in plan:
            ens = os.path.join(out, f"ensemble{int(p['ensemble']):03d}")
            g = int(p["point"])
            exp, start, end, finals = hparams(os.path.join(ens, "tb", f"p{g}"))
            point = next(r for r in rows_of(os.path.join(ens, "points.csv")) if int(r["point"]) == g)
            hp = start.hparams
            for col, text in point.items():
                if col != "point":
                    self.assertEqual(hp[col].number_value, float(text), col)
            self.assertEqual(hp["security.power_constraint"].string_value, p["security.power_constraint"])
            self.assertEqual(end.status, api_pb2.STATUS_SUCCESS)
            types = {h.name: h.type for h in exp.hparam_infos}
            self.assertEqual(types["seed"], api_pb2.DATA_TYPE_FLOAT64)
            self.assertEqual(types["security.power_constraint"], api_pb2.DATA_TYPE_STRING)
            self.assertEqual(sorted(m.name.tag for m in exp.metric_infos), sorted(finals))
            want = {}
            for r in rows_of(os.path.join(ens, "summary.csv")):
                if int(r["point"]) != g:
                    continue
                for metric in ("mse_sen", "mse_com", "pc_eve"):
                    if r[metric] != "":
                        want[f"final/{r['variant']}/{r['eve']}/{metric}/{float(r['test_snr_db']):g}dB"] = \
                            float(r[metric])
            self.assertEqual(sorted(want), sorted(finals))
            for tag, value in want.items():
                self.assertAlmostEqual(finals[tag], value, delta=1e-6 * max(1.0, abs(value)), msg=tag)
        self.check_tensorboard_lists_sessions(out, plan)

    def check_tensorboard_lists_sessions(self, out, plan):
        """TensorBoard's HParams backend (what its dashboard asks) over the sweep directory."""
        from tensorboard import context as tb_context
        from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
        from tensorboard.plugins import base_plugin
        from tensorboard.plugins.hparams import backend_context
        mux = plugin_event_multiplexer.EventMultiplexer()
        mux.AddRunsFromDirectory(out)
        mux.Reload()
        provider = data_provider.MultiplexerDataProvider(mux, out)
        ctx = backend_context.Context(base_plugin.TBContext(logdir=out, multiplexer=mux, data_provider=provider))
        req = tb_context.RequestContext()
        runs = ctx.hparams_metadata(req, "")
        sessions = {run: hp_metadata.parse_session_start_info_plugin_data(tags[hp_metadata.SESSION_START_INFO_TAG])
                    for run, tags in runs.items() if hp_metadata.SESSION_START_INFO_TAG in tags}
        self.assertEqual(sorted(sessions), sorted(f"ensemble{int(p['ensemble']):03d}/tb/p{p['point']}" for p in plan))
        experiment = ctx.experiment_from_metadata(req, "", True, runs, ctx.hparams_from_data_provider(req, "", None))
        names = {h.name for h in experiment.hparam_infos}
        self.assertTrue({"seed", "psr_db", "security.power_constraint"} <= names, names)
        self.assertTrue(any(m.name.tag == "final/plugged/whitebox/pc_eve/15dB" for m in experiment.metric_infos))


if __name__ == "__main__":
    SEMSEC = sys.argv[1]
    unittest.main(argv=sys.argv[:1] + sys.argv[2:])
