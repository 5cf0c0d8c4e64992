#!/usr/bin/env python3
"""torch.ops.semsec.isac_link against the same channel composed of PyTorch ops, both from Python.

The sizes are those of `semsec bench`'s channel cases: z [G, 256, 23] float32 (the paper's 46 real
outputs), G = 1 and 16, the default channel (16 antennas, the wide2 beam), one forward and one
backward of sum(v * y) over the three outputs. Implementations, timed in turn in every round:

  fused      torch.ops.semsec.isac_link (semsec.ops.isac_link): Philox draws inside the kernel
  composed   semsec.ops.isac_link_torch on torch.randn draws (semsec.ops.random_draws), in the
             timed region: what one writes without semsec
  composed_philox
             semsec.ops.isac_link_torch on semsec's own draws (semsec.ops.isac_link_draws, drawn on
             the host): the composition that gives the op's numbers
  fused_forward
             the fused op's forward alone, under torch.no_grad

Each round times `--calls` calls of each implementation (after `--warmup` calls) and records the
mean per call; the CSV holds the median over `--rounds` rounds and the quartiles, and the ratio of
each implementation to `fused`.
usage: bench_torch_ops.py [--device cpu|cuda] [--rounds 15] [--calls 20] [--out CSV]"""
import argparse
import csv
import os
import statistics
import sys
import time

import torch

from semsec import ops

BATCH, LENGTH, ANTENNAS = 256, 23, 16


def cases(num_grid, device):
    g = torch.Generator().manual_seed(num_grid)
    z = torch.randn(num_grid, BATCH, LENGTH, generator=g)
    z = (z / z.norm(dim=-1, keepdim=True)).to(device)
    phi = ((torch.rand(num_grid, BATCH, generator=g) - 0.5) * 0.6981).to(device)
    snr = torch.full((num_grid,), 15.0, device=device)
    seeds = torch.arange(num_grid, device=device)
    counter = torch.tensor([0], device=device)
    v = [torch.randn(num_grid, BATCH, 2 * LENGTH, generator=g).to(device) for _ in range(3)]
    w = ops.beamformer("wide2", ANTENNAS)
    kw = dict(si_residual_power=0.1)

    def backward(out, zz):
        sum((y * c).sum() for y, c in zip(out[:3], v)).backward()
        return zz.grad

    def fused():
        zz = z.detach().requires_grad_(True)
        return backward(ops.isac_link(zz, phi, snr, seeds, counter, w, **kw), zz)

    def composed():
        zz = z.detach().requires_grad_(True)
        d = ops.random_draws(num_grid, BATCH, LENGTH, ANTENNAS, dtype=torch.float32, device=device)
        return backward(ops.isac_link_torch(zz, phi, snr, d, w, **kw), zz)

    def composed_philox():
        zz = z.detach().requires_grad_(True)
        d = ops.isac_link_draws(seeds, counter, BATCH, LENGTH, ANTENNAS)
        return backward(ops.isac_link_torch(zz, phi, snr, d, w, **kw), zz)

    def fused_forward():
        with torch.no_grad():
            return ops.isac_link(z, phi, snr, seeds, counter, w, **kw)

    return {"fused": fused, "composed": composed, "composed_philox": composed_philox, "fused_forward": fused_forward}


def time_calls(fn, calls, device):
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) * 1e3 / calls


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--grid", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--out", help="CSV to write (to a temporary name, then renamed)")
    args = ap.parse_args()
    device = torch.device(args.device)
    rows = []
    for num_grid in args.grid:
        impls = cases(num_grid, device)
        for fn in impls.values():
            for _ in range(args.warmup):
                fn()
        ms = {name: [] for name in impls}
        names = list(impls)
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:  # rotate the order every round
                ms[name].append(time_calls(impls[name], args.calls, device))
        fused = statistics.median(ms["fused"])
        for name, values in ms.items():
            q = statistics.quantiles(values, n=4)
            med = statistics.median(values)
            rows.append(dict(device=str(device), threads=torch.get_num_threads(), G=num_grid, B=BATCH, L=LENGTH,
                             impl=name, median_ms=f"{med:.4f}", q25_ms=f"{q[0]:.4f}", q75_ms=f"{q[2]:.4f}",
                             rounds=args.rounds, calls=args.calls, ratio_to_fused=f"{med / fused:.3f}"))
            print(f"G={num_grid:3d} {name:16s} {med:9.4f} ms  ({med / fused:.2f}x fused)", flush=True)
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w", newline="") as f:
            wr = csv.DictWriter(f, fieldnames=list(rows[0]))
            wr.writeheader()
            wr.writerows(rows)
        os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
