#!/usr/bin/env python3
"""`semsec sweep` as a multi-process job under torch.distributed's elastic launcher (torchrun, from
the venv), two ranks on the CPU with one thread each, on a sweep of 4 ensembles:
  - the merged summary.csv is byte-identical to one process, and each ensemble trained exactly once;
  - a worker killed with SIGKILL mid-ensemble, restarted by torchrun (--max-restarts=1): same summary;
  - SIGTERM (as Slurm preempts) stops the job with a message; launched again with --resume: same summary;
  - a second job on the same --out is refused;
  - two processes started as srun starts them (SLURM_PROCID, SLURM_NTASKS, MASTER_ADDR and
    MASTER_PORT; rank 0 serves the store): the same summary;
  - scripts/slurm/sweep.sbatch and sweep_array.sbatch, run by bash with stand-ins for srun and
    scontrol on the PATH (no Slurm here): the same summary.
usage: test_distributed_sweeps.py SEMSEC_BINARY TORCHRUN"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SEMSEC = TORCHRUN = None
ARGS = ["sweep", os.path.join(ROOT, "experiments", "gs_isac.yaml"), "model.ue_hidden=8,16", "seed=0,1",
        "sweep.max_grid=1", "train.steps=12", "train.batch_size=32", "train.checkpoint_every=4", "train.log_every=2",
        "eval.batch_size=48", "eval.test_snr_db=[0,15]", "data.train_limit=512", "data.test_limit=128",
        "output.tensorboard=false"]


def env_with(extra=None):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for k in ("SEMSEC_TEST_KILL_AT_STEP", "SEMSEC_TEST_SIGNAL_AT_STEP", "SEMSEC_TEST_HOOK_ONCE"):
        env.pop(k, None)
    env.update(extra or {})
    return env


def job(args, extra_env=None, restarts=0):
    cmd = [TORCHRUN, "--standalone", "--nproc-per-node=2", f"--max-restarts={restarts}", "--no-python", SEMSEC]
    r = subprocess.run(cmd + args + ["--store-timeout", "60"], capture_output=True, text=True, env=env_with(extra_env),
                       timeout=600)
    return r.returncode, r.stdout + r.stderr


def slurp(path):
    with open(path, "rb") as f:
        return f.read()


class Torchrun(unittest.TestCase):
    reference = None

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="semsec_torchrun_")
        one = os.path.join(cls.dir, "one")
        r = subprocess.run([SEMSEC] + ARGS + ["--out", one], capture_output=True, text=True, env=env_with(),
                           timeout=600)
        assert r.returncode == 0, r.stderr
        cls.reference = slurp(os.path.join(one, "summary.csv"))

    def test_two_ranks_give_the_one_process_summary_and_train_each_ensemble_once(self):
        out = os.path.join(self.dir, "job")
        rc, log = job(ARGS + ["--out", out])
        self.assertEqual(rc, 0, log)
        self.assertEqual(slurp(os.path.join(out, "summary.csv")), self.reference)
        trained = re.findall(r"\[semsec (r[01]) [0-9:]+\] ensemble (\d): 1 grid point\(s\) in", log)
        self.assertEqual(sorted(e for _, e in trained), ["0", "1", "2", "3"], log)
        self.assertEqual({r for r, _ in trained}, {"r0", "r1"}, log)  # both ranks worked
        # A second job on the same --out is refused; the finished sweep stays as it was.
        rc, log = job(ARGS + ["--out", out])
        self.assertNotEqual(rc, 0, log)
        self.assertIn("already holds sweep.txt", log)
        # The other rank, waiting for rank 0's plan, ends on torchrun's SIGTERM (no SIGKILL 30 s later).
        self.assertNotIn("forcefully exiting", log)
        self.assertEqual(slurp(os.path.join(out, "summary.csv")), self.reference)

    def test_a_killed_worker_is_restarted_and_resumes_its_ensemble(self):
        out = os.path.join(self.dir, "killed")
        marker = os.path.join(self.dir, "killed.once")
        rc, log = job(ARGS + ["--out", out], {"SEMSEC_TEST_KILL_AT_STEP": "general:6", "SEMSEC_TEST_HOOK_ONCE": marker},
                      restarts=1)
        self.assertEqual(rc, 0, log)
        self.assertTrue(os.path.exists(marker), "the kill never happened")
        self.assertIn("restart 1", log)
        self.assertEqual(slurp(os.path.join(out, "summary.csv")), self.reference)

    def test_sigterm_stops_the_job_and_resume_finishes_it(self):
        out = os.path.join(self.dir, "stopped")
        marker = os.path.join(self.dir, "stopped.once")
        rc, log = job(ARGS + ["--out", out], {"SEMSEC_TEST_SIGNAL_AT_STEP": "general:6:15",
                                              "SEMSEC_TEST_HOOK_ONCE": marker})
        self.assertNotEqual(rc, 0, log)
        self.assertIn(f"'semsec sweep --resume {out}' in place of the sweep's arguments", log)
        self.assertFalse(os.path.exists(os.path.join(out, "summary.csv")))
        rc, log = job(["sweep", "--resume", out])
        self.assertEqual(rc, 0, log)
        self.assertEqual(slurp(os.path.join(out, "summary.csv")), self.reference)

    def test_two_slurm_tasks_give_the_one_process_summary(self):
        out = os.path.join(self.dir, "slurm")
        with socket.socket() as sock:  # a free port for rank 0's store
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        procs = []
        for rank in range(2):
            env = env_with({"SLURM_PROCID": str(rank), "SLURM_NTASKS": "2", "SLURM_LOCALID": str(rank),
                            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
            procs.append(subprocess.Popen([SEMSEC] + ARGS + ["--out", out, "--store-timeout", "60"], env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        logs = [p.communicate(timeout=600)[0] for p in procs]
        for p, log in zip(procs, logs):
            self.assertEqual(p.returncode, 0, log)
        self.assertIn("rank 1 of 2 (slurm)", logs[1])
        self.assertEqual(slurp(os.path.join(out, "summary.csv")), self.reference)

    def free_port(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    def fake_slurm_bin(self):
        """srun runs SLURM_NTASKS copies of its command with SLURM_PROCID / SLURM_LOCALID set and fails
        when one fails; scontrol lists the nodes 127.0.0.1 and node2."""
        bin_dir = os.path.join(self.dir, "fake_slurm_bin")
        os.makedirs(bin_dir, exist_ok=True)
        scripts = {
            "srun": "#!/bin/bash\nwhile [[ \"$1\" == --* ]]; do shift; done\npids=()\n"
                    "for ((i = 0; i < SLURM_NTASKS; i++)); do SLURM_PROCID=$i SLURM_LOCALID=$i \"$@\" & pids+=($!); done\n"
                    "rc=0\nfor p in \"${pids[@]}\"; do wait \"$p\" || rc=1; done\nexit $rc\n",
            "scontrol": "#!/bin/bash\necho 127.0.0.1\necho node2\n",
        }
        for name, text in scripts.items():
            path = os.path.join(bin_dir, name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o755)
        return bin_dir

    def sbatch(self, script, extra):
        env = env_with(dict({"PATH": self.fake_slurm_bin() + os.pathsep + os.environ["PATH"], "SEMSEC": SEMSEC,
                             "DEVICE": "cpu", "SWEEP": " ".join(ARGS[1:]), "SLURM_JOB_NODELIST": "n[1-2]",
                             "SLURM_JOB_ID": "77", "SLURM_CPUS_PER_TASK": "1"}, **extra))
        r = subprocess.run(["bash", os.path.join(ROOT, "scripts", "slurm", script)], capture_output=True, text=True,
                           env=env, cwd=ROOT, timeout=600)
        return r.returncode, r.stdout + r.stderr

    def test_the_sbatch_scripts_give_the_one_process_summary(self):
        out = os.path.join(self.dir, "sbatch")
        rc, log = self.sbatch("sweep.sbatch", {"OUT": out, "SLURM_NTASKS": "2", "MASTER_PORT": str(self.free_port())})
        self.assertEqual(rc, 0, log)
        self.assertIn("rank 1 of 2 (slurm)", log)
        self.assertEqual(slurp(os.path.join(out, "summary.csv")), self.reference)
        array = os.path.join(self.dir, "array")
        for task in ("0", "1"):
            rc, log = self.sbatch("sweep_array.sbatch", {"OUT": array, "SLURM_NTASKS": "1", "SLURM_ARRAY_TASK_ID": task,
                                                         "SLURM_ARRAY_TASK_COUNT": "2"})
            self.assertEqual(rc, 0, log)
        self.assertEqual(slurp(os.path.join(array, "summary.csv")), self.reference)


if __name__ == "__main__":
    SEMSEC, TORCHRUN = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1] + sys.argv[3:])
