#!/usr/bin/env python3
"""Concatenate CSV files of several runs into one raw file, each row tagged with its variant.

usage: python3 scripts/merge_csv.py OUT.csv VARIANT=FILE.csv [VARIANT=FILE.csv ...]

Every input must have the same header; OUT.csv gets a first column `variant` and the rows of each
input in the order given. The output is written to a temporary name and renamed, so a failed merge
leaves an earlier OUT.csv as it was. Standard library only.
"""
import csv
import os
import sys


def main(argv):
    if len(argv) < 3 or any("=" not in a for a in argv[2:]):
        sys.exit(__doc__.strip())
    out = argv[1]
    header, rows = None, []
    for arg in argv[2:]:
        variant, path = arg.split("=", 1)
        if not os.path.isfile(path):
            sys.exit(f"merge_csv: {path}: no such file (variant {variant})")
        with open(path, newline="") as f:
            reader = csv.reader(f)
            head = next(reader, None)
            if head is None:
                sys.exit(f"merge_csv: {path}: empty file")
            if header is None:
                header = head
            elif head != header:
                sys.exit(f"merge_csv: {path}: header {head} differs from the first file's {header}")
            rows += [[variant] + r for r in reader]
    tmp = out + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["variant"] + header)
        w.writerows(rows)
    os.replace(tmp, out)
    print(f"{out}: {len(rows)} rows")


if __name__ == "__main__":
    main(sys.argv)
