#!/usr/bin/env python3
"""Does a row of a matrix product depend on the batch it is computed in? For the CLSSR decoder's
layers (torch.addmm as GridLinear::forward_point calls it, float32, the venv's torch and its MKL),
each batch size 1..64 and some random row subsets of a 3000-row batch are compared bit for bit with
the same rows of the whole batch. Writes the result to OUT (default docs/results/sgemm_batch_rounding.txt).

    OMP_NUM_THREADS=1 ~/.cache/semsec/venv/bin/python scripts/sgemm_rows.py [OUT]
"""
import os
import sys

import torch

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "docs", "results",
                                                         "sgemm_batch_rounding.txt")
LAYERS = [(64, 256), (256, 784)]  # n k = 16 x 4 -> hidden 256 -> 784 pixels


def main():
    torch.manual_seed(0)
    lines = [f"# OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} python scripts/sgemm_rows.py; "
             f"torch {torch.__version__}, {torch.get_num_threads()} thread(s)",
             "layer,case,rows_equal_to_the_whole_batch"]
    for fan_in, fan_out in LAYERS:
        w, b, x = torch.randn(fan_in, fan_out), torch.randn(fan_out), torch.randn(3000, fan_in)
        whole = torch.addmm(b, x, w)
        differ = [m for m in range(1, 65) if not torch.equal(torch.addmm(b, x[:m], w), whole[:m])]
        lines.append(f"{fan_in}x{fan_out},first m rows for m in 1..64,"
                     f"all but m in {differ}" if differ else f"{fan_in}x{fan_out},first m rows for m in 1..64,all")
        bad = 0
        for m in list(range(4, 40)) + [100, 257, 999]:
            idx = torch.randperm(3000)[:m]
            bad += 0 if torch.equal(torch.addmm(b, x[idx], w), whole[idx]) else 1
        lines.append(f"{fan_in}x{fan_out},39 random subsets of 4..999 rows,{39 - bad} of 39")
    text = "\n".join(lines) + "\n"
    tmp = OUT + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, OUT)
    print(text, end="")


if __name__ == "__main__":
    main()
