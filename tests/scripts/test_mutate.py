#!/usr/bin/env python3
"""scripts/mutate.py --check: every mutant of scripts/mutants.txt still applies to the tree (its
pattern occurs exactly once, its covering test executables are built), so a mutant cannot go stale
when the code it mutates changes; a stale or ambiguous pattern, an unknown file, a test that is not
built and a malformed list are each refused with the mutant or line named. Needs the build directory
(argv[1]); edits and builds nothing."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MUTATE = os.path.join(ROOT, "scripts", "mutate.py")
BUILD = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else os.path.join(ROOT, "build")


def check(mutants_text=None, build=BUILD):
    args = [sys.executable, MUTATE, "--check", "--build", build]
    with tempfile.TemporaryDirectory() as d:
        if mutants_text is not None:
            path = os.path.join(d, "mutants.txt")
            with open(path, "w") as f:
                f.write(mutants_text)
            args += ["--mutants", path]
        p = subprocess.run(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


class MutantsApply(unittest.TestCase):
    def test_the_committed_list_applies(self):
        rc, out = check()
        self.assertEqual(rc, 0, out)
        self.assertIn("each pattern found once", out)

    def test_a_stale_pattern_is_named(self):
        rc, out = check("[X01] trainers/ss_isac/losses.cpp | gone\n- no such line in the file\n+ x\n")
        self.assertNotEqual(rc, 0)
        self.assertIn("mutant X01", out)
        self.assertIn("occurs 0 times in trainers/ss_isac/losses.cpp", out)

    def test_an_ambiguous_pattern_is_named(self):
        rc, out = check("[X02] trainers/ss_isac/losses.cpp | twice\n- torch::Tensor\n+ at::Tensor\n")
        self.assertNotEqual(rc, 0)
        self.assertIn("mutant X02", out)
        self.assertIn("expected once", out)

    def test_an_unknown_file_is_named(self):
        rc, out = check("[X03] trainers/nowhere.cpp | no file\n- a\n+ b\n")
        self.assertNotEqual(rc, 0)
        self.assertIn("mutant X03: file trainers/nowhere.cpp not found", out)

    def test_a_covering_test_that_is_not_built_is_named(self):
        rc, out = check("[X04] trainers/ss_isac/losses.cpp | tests\n- const torch::Tensor l_pri\n+ auto l_pri\n"
                        "tests: test_that_does_not_exist\n")
        self.assertNotEqual(rc, 0)
        self.assertIn("covering test test_that_does_not_exist is not built", out)

    def test_a_malformed_list_names_its_line(self):
        rc, out = check("# a comment\n\n- a line before any mutant\n")
        self.assertNotEqual(rc, 0)
        self.assertIn(":3: expected '[ID] file | description'", out)


if __name__ == "__main__":
    unittest.main()
