#!/usr/bin/env python3
"""Summarise a clean build from its .ninja_log: wall time (first job start to last job end), the
sum of the jobs' times, the number of compile and link jobs, and the slowest jobs.

    python3 scripts/build_times.py BUILD_DIR [--label TEXT] [--top N] [--show TEXT ...]

Read the log of a build that started from an empty build directory (a fresh clone's `.ci/run`, or
`cmake -S . -B DIR -G Ninja ... && ninja -C DIR -j2`): an incremental build's log mixes runs.
Standard library only.
"""
import argparse
import os
import sys


def read_log(path):
    """(start_ms, end_ms, output) of each job, one row per job (ninja logs every output of an edge)."""
    jobs = {}
    with open(path, encoding="utf-8") as f:
        header = f.readline()
        if not header.startswith("# ninja log v"):
            sys.exit(f"{path}: not a ninja log (first line {header.strip()!r})")
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 5:
                sys.exit(f"{path}: malformed line {line!r}")
            start, end, _mtime, output, cmd_hash = parts
            key = (int(start), int(end), cmd_hash)
            # Keep the first output named for an edge (its object or executable).
            jobs.setdefault(key, output)
    return [(s, e, out) for (s, e, _h), out in jobs.items()]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("build_dir")
    p.add_argument("--label", default="")
    p.add_argument("--top", type=int, default=10)
    p.add_argument("--show", action="append", default=[], help="also list the jobs whose output contains TEXT, and their sum")
    a = p.parse_args()
    path = os.path.join(a.build_dir, ".ninja_log")
    if not os.path.isfile(path):
        sys.exit(f"{path}: no such file (build with Ninja first)")
    jobs = read_log(path)
    if not jobs:
        sys.exit(f"{path}: no jobs logged")
    wall = (max(e for _, e, _ in jobs) - min(s for s, _, _ in jobs)) / 1000
    total = sum(e - s for s, e, _ in jobs) / 1000
    compiles = sum(1 for _, _, o in jobs if o.endswith((".o", ".gch")))
    print(f"# {a.label}" if a.label else f"# {a.build_dir}")
    print(f"wall_s {wall:.0f}")
    print(f"job_s {total:.0f}")
    print(f"jobs {len(jobs)} (compiles {compiles})")
    print(f"slowest {a.top}:")
    for s, e, o in sorted(jobs, key=lambda j: j[0] - j[1])[: a.top]:
        print(f"  {(e - s) / 1000:7.1f} s  {o}")
    if a.show:
        shown = sorted((o, (e - s) / 1000) for s, e, o in jobs if any(t in o for t in a.show))
        print(f"shown ({', '.join(a.show)}):")
        for o, d in shown:
            print(f"  {d:7.1f} s  {o}")
        print(f"  {sum(d for _, d in shown):7.1f} s  sum")


if __name__ == "__main__":
    main()
