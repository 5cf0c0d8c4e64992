#!/usr/bin/env python3
"""Mutation check: does the test suite catch a wrong equation?

Applies each mutant of scripts/mutants.txt (a sign flip, a changed constant, swapped arguments or an
off-by-one in the equation files) to the source tree, rebuilds only the test executables that cover
that file, runs them, and restores the file. A mutant is killed when a test fails (or hangs past
--timeout), survived when every test passes. The golden-output test is never run: it compares bytes
with the unmutated code, so it would kill every mutant that changes a number without saying which
equation is wrong.

    python3 scripts/mutate.py                       # every mutant, table on stdout
    python3 scripts/mutate.py --only L01,C03        # some of them
    python3 scripts/mutate.py --new-tests test_ss_isac_equations,test_ss_isac_keys   # score with and without them
    python3 scripts/mutate.py --out docs/results/mutation.txt
    python3 scripts/mutate.py --check               # every mutant still applies (CTest script_mutants)

Runs by hand, not in CI. It edits files in place (each restored before the next mutant, and on
Ctrl-C), so it refuses to start when a file it mutates has uncommitted changes; build it first
(scripts/setup.sh). Documented in docs/testing.md.
"""
import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The test executables that cover each source folder (the first matching prefix wins).
COVERING_TESTS = [
    ("trainers/ss_isac/", ["test_ss_isac_equations", "test_ss_isac_keys", "test_ss_isac", "test_adaptive_eve",
                           "test_export", "test_cli"]),
    ("trainers/clssr/", ["test_clssr_units", "test_clssr_ao", "test_clssr_metrics", "test_clssr_rl",
                         "test_clssr_experiment", "test_models", "test_cli"]),
    ("trainers/engine/", ["test_training", "test_ss_isac", "test_ss_isac_equations"]),
    ("kernels/isac_link/", ["test_isac_link", "test_ss_isac_equations"]),
    ("kernels/link_level/", ["test_link_level", "test_clssr_metrics", "test_clssr_units", "test_clssr_ao"]),
    ("kernels/loss/", ["test_loss", "test_models"]),
    ("datasets/", ["test_idx", "test_loader", "test_ss_isac_keys", "test_ss_isac_equations"]),
    ("core/", ["test_config", "test_ss_isac_keys", "test_clssr_units", "test_cli"]),
    ("models/", ["test_training", "test_models", "test_ss_isac", "test_ss_isac_equations"]),
]


@dataclass
class Mutant:
    id: str
    path: str
    what: str
    old: str = ""
    new: str = ""
    tests: list = field(default_factory=list)


def parse_mutants(text, name="scripts/mutants.txt"):
    """Blocks of
         [ID] path/to/file.cpp | what the mutant does
         - the original text (one line, exactly once in the file)
         + its replacement
         tests: optional explicit test executables
    separated by blank lines; '#' starts a comment line."""
    mutants, cur = [], None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.startswith("["):
            head, _, what = line.partition("|")
            mid, _, path = head.partition("]")
            cur = Mutant(mid.strip("[ "), path.strip(), what.strip())
            mutants.append(cur)
        elif cur is None:
            sys.exit(f"{name}:{n}: expected '[ID] file | description' before '{line}'")
        elif line.startswith("- "):
            cur.old = line[2:]
        elif line.startswith("+ "):
            cur.new = line[2:]
        elif line.startswith("tests:"):
            cur.tests = line.split(":", 1)[1].split()
        else:
            sys.exit(f"{name}:{n}: expected '- old', '+ new' or 'tests: ...', got '{line}'")
    for m in mutants:
        if not m.old or m.old == m.new:
            sys.exit(f"{name}: mutant {m.id}: needs '- old' and a different '+ new' line")
    ids = [m.id for m in mutants]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        sys.exit(f"{name}: duplicate ids {sorted(dup)}")
    return mutants


def check_applies(mutants, build, skip):
    """Every pattern occurs exactly once in its file and every covering test executable is built, so a
    mutant cannot go stale unnoticed when its code changes (CTest script_mutants runs --check)."""
    for m in mutants:
        if not os.path.isfile(m.path):
            sys.exit(f"mutant {m.id}: file {m.path} not found")
        with open(m.path) as f:
            count = f.read().count(m.old)
        if count != 1:
            sys.exit(f"mutant {m.id}: '{m.old}' occurs {count} times in {m.path}, expected once")
        for t in covering_tests(m):
            if t not in skip and not os.path.isfile(os.path.join(build, "tests", t)):
                sys.exit(f"mutant {m.id}: covering test {t} is not built in {build}/tests")


def covering_tests(m):
    if m.tests:
        return m.tests
    for prefix, tests in COVERING_TESTS:
        if m.path.startswith(prefix):
            return tests
    sys.exit(f"mutant {m.id}: no covering tests for {m.path} (add a 'tests:' line)")


def run(cmd, timeout=None, env=None):
    try:
        p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout, env=env)
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout or ""
        return None, out.decode(errors="replace") if isinstance(out, bytes) else out


def first_failure(output):
    for line in output.splitlines():
        if line.startswith("[  FAILED  ]"):
            return line[len("[  FAILED  ]"):].strip().split(" (")[0]
    return ""


def check_mutant(m, args, skip, new_tests):
    """Returns (status, status_without_new_tests, detail); a status is killed / survived / build-failed.
    The covering tests not in new_tests run first, so one build scores the suite with and without them."""
    tests = [t for t in covering_tests(m) if t not in skip]
    tests = [t for t in tests if t not in new_tests] + [t for t in tests if t in new_tests]
    targets = tests + (["semsec"] if "test_cli" in tests else [])
    rc, out = run(["cmake", "--build", args.build, "--target", *targets], timeout=args.timeout)
    if rc != 0:
        detail = out.strip().splitlines()[-1] if out.strip() else "timeout"
        return "build-failed", "build-failed", detail
    env = dict(os.environ, OMP_NUM_THREADS="1")
    for t in tests:
        exe = os.path.join(args.build, "tests", t)
        rc, out = run([exe, "--gtest_brief=1"], timeout=args.timeout, env=env)
        before = "survived" if t in new_tests else "killed"
        if rc is None:
            return "killed", before, f"{t}: timeout after {args.timeout} s"
        if rc != 0:
            return "killed", before, f"{t}: {first_failure(out) or 'exit ' + str(rc)}"
    return "survived", "survived", " ".join(tests)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.environ.get("SEMSEC_BUILD_DIR", "build"))
    ap.add_argument("--mutants", default="scripts/mutants.txt")
    ap.add_argument("--only", default="", help="comma list of mutant ids")
    ap.add_argument("--skip-tests", default="", help="comma list of test executables not to run")
    ap.add_argument("--new-tests", default="",
                    help="comma list of test executables to score separately: the table gets a column for the "
                         "suite without them (the 'before' of a change that added them)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per build and per test executable")
    ap.add_argument("--out", default="", help="also write the table to this file")
    ap.add_argument("--check", action="store_true",
                    help="only check that every mutant applies (pattern found once, covering tests built); "
                         "edits and builds nothing")
    args = ap.parse_args()
    os.chdir(ROOT)
    with open(args.mutants) as f:
        mutants = parse_mutants(f.read(), args.mutants)
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {m.id for m in mutants}
        if unknown:
            sys.exit(f"--only: no mutants {sorted(unknown)} in {args.mutants}")
        mutants = [m for m in mutants if m.id in wanted]
    skip = set(filter(None, args.skip_tests.split(",")))
    new_tests = set(filter(None, args.new_tests.split(",")))
    if not os.path.isdir(os.path.join(args.build, "tests")):
        sys.exit(f"--build: {args.build}/tests not found; build first (bash scripts/setup.sh)")
    check_applies(mutants, args.build, skip)
    if args.check:
        print(f"{args.mutants}: {len(mutants)} mutants, each pattern found once, covering tests built")
        return 0
    paths = sorted({m.path for m in mutants})
    if run(["git", "diff", "--quiet", "HEAD", "--", *paths])[0] != 0:
        sys.exit("mutate.py: uncommitted changes in " + " ".join(paths) + "; commit or stash them first")

    rows, start = [], time.time()
    for i, m in enumerate(mutants, 1):
        with open(m.path) as f:
            original = f.read()
        t0 = time.time()
        try:
            with open(m.path, "w") as f:
                f.write(original.replace(m.old, m.new))
            status, before, detail = check_mutant(m, args, skip, new_tests)
        finally:
            with open(m.path, "w") as f:
                f.write(original)
        rows.append((m, status, before, detail, time.time() - t0))
        print(f"[{i}/{len(mutants)}] {m.id} {status:9s} (without new tests: {before:9s}) {time.time() - t0:4.0f} s  "
              f"{m.what}: {detail}", flush=True)
    # Rebuild what the mutants touched, so the build matches the restored sources.
    run(["cmake", "--build", args.build], timeout=3600)

    scored = [r for r in rows if r[1] in ("killed", "survived")]
    killed = sum(r[1] == "killed" for r in scored)
    killed_before = sum(r[2] == "killed" for r in scored)
    pct = lambda k: 100.0 * k / max(1, len(scored))
    lines = [f"# mutation check: {len(rows)} mutants, {killed}/{len(scored)} killed ({pct(killed):.1f} %), "
             f"{time.time() - start:.0f} s",
             f"# command: python3 scripts/mutate.py {' '.join(sys.argv[1:])}".rstrip()]
    if new_tests:
        lines.append(f"# without {', '.join(sorted(new_tests))}: {killed_before}/{len(scored)} killed "
                     f"({pct(killed_before):.1f} %)")
    lines += ["| id | file | mutant | without new tests | result | first failing test |",
              "|---|---|---|---|---|---|"]
    for m, status, before, detail, _ in rows:
        shown = detail if status != "survived" else ""
        lines.append(f"| {m.id} | {m.path} | {m.what} | {before if new_tests else ''} | {status} | {shown} |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(table)
        os.replace(tmp, args.out)
    return 0 if all(r[1] != "build-failed" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
