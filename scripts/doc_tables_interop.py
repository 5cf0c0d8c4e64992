"""The benchmark table of torch.ops.semsec.isac_link (docs/interop.md, docs/benchmarks.md; scripts/doc_tables.py
runs it), from docs/results/bench_torch_ops_cpu.csv and, for semsec's own C++ path timed on the same
machine, docs/results/bench_torch_ops_cpp_cpu.csv. Standard library only."""
import csv
import os

import doc_tables as dt

PY_FILE = "docs/results/bench_torch_ops_cpu.csv"
PY_CMD = "OMP_NUM_THREADS=2 PYTHONPATH=python python scripts/bench_torch_ops.py --out " + PY_FILE
CPP_FILE = "docs/results/bench_torch_ops_cpp_cpu.csv"
CPP_CMD = "OMP_NUM_THREADS=2 semsec bench --only channel --out DIR (DIR/bench.csv copied to " + CPP_FILE + ")"
IMPLS = [("fused", "torch.ops.semsec.isac_link, fwd + bwd"),
         ("composed", "the same channel in PyTorch ops on torch.randn draws, fwd + bwd"),
         ("composed_philox", "the same channel in PyTorch ops on semsec's Philox draws (the op's numbers), fwd + bwd"),
         ("fused_forward", "torch.ops.semsec.isac_link, forward alone")]
CPP = {"fused": "channel_fused_G{}", "fused_forward": "channel_fused_fwd_G{}"}


def read(rel):
    with open(os.path.join(dt.ROOT, rel), newline="") as f:
        return list(csv.DictReader(f))


def bench_table():
    py = {(r["impl"], r["G"]): r for r in read(PY_FILE)}
    cpp = {r["case"]: r for r in read(CPP_FILE)}
    grids = sorted({g for _, g in py}, key=int)
    head = ["case"] + [f"G={g}: median ms (quartiles)" for g in grids] + [f"G={g}: / fused" for g in grids] + \
        [f"G={g}: semsec's C++ path, ms" for g in grids]
    rows = []
    for impl, label in IMPLS:
        cells = [label]
        cells += [f"{float(py[impl, g]['median_ms']):.2f} ({float(py[impl, g]['q25_ms']):.2f}-"
                  f"{float(py[impl, g]['q75_ms']):.2f})" for g in grids]
        cells += [f"{float(py[impl, g]['ratio_to_fused']):.2f}x" for g in grids]
        cells += [f"{float(cpp[CPP[impl].format(g)]['median_ms']):.2f}" if impl in CPP else "" for g in grids]
        rows.append(cells)
    any_row = next(iter(py.values()))
    header = (f"Raw files `{PY_FILE}`, made by `{PY_CMD}` ({any_row['rounds']} rounds of {any_row['calls']} calls, "
              f"{any_row['threads']} threads, z [G, {any_row['B']}, {any_row['L']}] float32), and `{CPP_FILE}`, made "
              f"by `{CPP_CMD}` minutes before on the same machine.")
    return [header, ""] + dt.md_table(head, rows)


TABLES = {
    "torch_ops_bench": ("docs/interop.md", bench_table),
    "torch_ops_bench_benchmarks": ("docs/benchmarks.md", bench_table),
}
