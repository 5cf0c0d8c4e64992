#!/usr/bin/env python3
"""A plain PyTorch training loop through semsec's fused SS-ISAC link (torch.ops.semsec.isac_link).

An encoder maps a source vector x in [0, 1]^D to L real symbols of unit energy; the link carries
them to the UE (Rayleigh fading, MMSE equaliser, noise at the point's SNR); a decoder reconstructs
x from the UE's signal. The two SNRs are two grid points of one call: they share the encoder and
decoder (the grid here batches only the channel), and the loss is the mean over both. Every step
uses a new counter, so every step sees new fading and noise; the seeds fix the channel's
randomness, torch.manual_seed the networks'. A constant guess of 0.5 has MSE 1/12 = 0.0833.

usage: isac_link_training.py [--steps N] [--device cpu|cuda] [--snr-db 5 20]
prints one line per 50 steps: step, then the UE's reconstruction MSE at each SNR."""
import argparse

import torch
from torch import nn

from semsec import ops


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--snr-db", type=float, nargs="+", default=[5.0, 20.0])
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    dev = torch.device(args.device)
    source_dim, length, batch = 32, 16, 128
    snr_db = torch.tensor(args.snr_db, device=dev)
    grid = len(args.snr_db)
    seeds = torch.arange(grid, device=dev) + 1000  # one Philox key per grid point
    w = ops.beamformer("wide2", 16)  # the paper's array of 16 antennas, a wide beam

    encoder = nn.Sequential(nn.Linear(source_dim, 64), nn.ReLU(), nn.Linear(64, length)).to(dev)
    decoder = nn.Sequential(nn.Linear(2 * length, 64), nn.ReLU(), nn.Linear(64, source_dim), nn.Sigmoid()).to(dev)
    opt = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=3e-3)

    history = []
    for step in range(args.steps):
        x = torch.rand(grid, batch, source_dim, device=dev)
        z = encoder(x)
        z = z / z.norm(dim=-1, keepdim=True)  # ||z||^2 = 1 per codeword
        phi = (torch.rand(grid, batch, device=dev) - 0.5) * 0.6  # target azimuth, radians
        counter = torch.tensor([step], device=dev)
        out = ops.isac_link(z, phi, snr_db, seeds, counter, w)
        x_hat = decoder(out.y_ue)
        mse = (x_hat - x).square().mean(dim=(1, 2))  # per SNR
        opt.zero_grad()
        mse.mean().backward()  # gradients reach the encoder through the link's analytic backward
        opt.step()
        history.append(mse.detach().cpu())
        if step % 50 == 0 or step == args.steps - 1:
            print(step, " ".join(f"{v:.5f}" for v in mse.tolist()), flush=True)
    return torch.stack(history)


if __name__ == "__main__":
    main()
