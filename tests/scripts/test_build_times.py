#!/usr/bin/env python3
"""scripts/build_times.py on made-up ninja logs: the wall time runs from the first job's start to
the last job's end, an edge that wrote two outputs counts once, the slowest jobs come first, --show
lists and sums the matching jobs, and a missing or foreign log is one clear error."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.normpath(os.path.join(HERE, "..", "..", "scripts", "build_times.py"))

LOG = """# ninja log v5
1000\t31000\t0\tcore/a.cpp.o\taaaa
2000\t12000\t0\tcore/b.cpp.o\tbbbb
31000\t41000\t0\ttests/t\tcccc
31000\t41000\t0\ttests/t[1]_tests.cmake\tcccc
12000\t52000\t0\tkernels/x_op.cpp.o\tdddd
"""


def run(build_dir, *args):
    p = subprocess.run([sys.executable, SCRIPT, build_dir, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    return p.returncode, p.stdout


class BuildTimes(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def write(self, text):
        with open(os.path.join(self.dir.name, ".ninja_log"), "w", encoding="utf-8") as f:
            f.write(text)

    def test_wall_jobs_slowest_and_shown(self):
        self.write(LOG)
        rc, out = run(self.dir.name, "--label", "made up", "--top", "2", "--show", "_op.cpp.o", "--show", "b.cpp")
        self.assertEqual(rc, 0, out)
        lines = out.splitlines()
        self.assertEqual(lines[0], "# made up")
        self.assertIn("wall_s 51", lines)  # 1.0 s to 52.0 s
        self.assertIn("job_s 90", lines)  # 30 + 10 + 10 + 40: the two outputs of tests/t once
        self.assertIn("jobs 4 (compiles 3)", lines)
        slowest = lines[lines.index("slowest 2:") + 1:lines.index("slowest 2:") + 3]
        self.assertEqual([s.split()[-1] for s in slowest], ["kernels/x_op.cpp.o", "core/a.cpp.o"])
        shown = lines[lines.index("shown (_op.cpp.o, b.cpp):") + 1:]
        self.assertEqual([s.split()[-1] for s in shown], ["core/b.cpp.o", "kernels/x_op.cpp.o", "sum"])
        self.assertEqual(shown[-1].split()[0], "50.0")

    def test_missing_and_foreign_logs_are_named(self):
        rc, out = run(self.dir.name)
        self.assertNotEqual(rc, 0)
        self.assertIn(".ninja_log: no such file", out)
        self.write("not a log\n")
        rc, out = run(self.dir.name)
        self.assertNotEqual(rc, 0)
        self.assertIn("not a ninja log", out)


if __name__ == "__main__":
    unittest.main()
