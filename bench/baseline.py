"""Plain-PyTorch baseline for semsec's benchmarks: the training step a researcher would write by hand.

Same models, channel and losses as semsec's `general` (transceiver) and `arn` (adversarial residual
networks) steps from paper ss-isac-paired-arn, written as idiomatic eager PyTorch (no torch.compile,
no custom kernels), timed per step. `--grid G` trains G independent setups one after another in each
round, as a researcher sweeping G configurations in one process would.

    python bench/baseline.py --case general|arn --steps N --warmup W --batch 256 \
        --device cpu|cuda --threads T [--grid G] [--synthetic] --json
"""
import argparse
import gzip
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SYMBOLS = 23  # channel uses per sample (real semantic symbols)
PHI_MAX = math.radians(20.0)
TAU = 10 ** (-10 / 10) / SYMBOLS  # ARN perturbation power budget per symbol


def mlp(*sizes, out_act=None):
    """Linear layers with ReLU between them; optional activation after the last one."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    if out_act is not None:
        layers.append(out_act)
    return nn.Sequential(*layers)


class IsacChannel:
    """Monostatic ISAC link: BS echo from the target, UE over Rayleigh fading + MMSE, Eve = target."""

    def __init__(self, device, snr_db=15.0, antennas=16):
        self.device = device
        self.m = torch.arange(antennas, device=device, dtype=torch.float32)
        w = torch.zeros(antennas, dtype=torch.cfloat, device=device)
        w[0] = w[1] = 1 / math.sqrt(2)
        self.w = w
        self.snr = 10 ** (snr_db / 10)
        self.p_s = 1.0 / SYMBOLS
        # Reference echo gain: mean |a(phi)^H w|^2 over the azimuth range, so the BS SNR is 15 dB on average.
        phi_grid = torch.linspace(-PHI_MAX, PHI_MAX, 10001, device=device)
        self.g_ref = self.gain(phi_grid).abs().square().mean().item()

    def gain(self, phi):
        """a(phi)^H w for each azimuth, a(phi)_m = exp(j pi m sin phi)."""
        a = torch.polar(torch.ones_like(phi)[:, None].expand(-1, len(self.m)),
                        math.pi * self.m * torch.sin(phi)[:, None])
        return (a.conj() * self.w).sum(-1)

    def noise(self, batch, var):
        return torch.randn(batch, SYMBOLS, dtype=torch.cfloat, device=self.device) * math.sqrt(var)

    def __call__(self, z, phi):
        """z [B, 23] real, phi [B] -> (y_bs, y_ue, y_eve), each real [B, 46] as interleaved (re, im)."""
        b = z.shape[0]
        s_bs = self.gain(phi)[:, None]  # alpha = 1
        h = torch.randn(b, len(self.m), dtype=torch.cfloat, device=self.device)  # CN(0, I)
        h_eff = (h.conj() * self.w).sum(-1)[:, None]
        c = h_eff.conj() / (h_eff.abs().square() + 1 / self.snr)  # UE MMSE equaliser
        bs_var = self.g_ref * self.p_s / self.snr
        y_bs = s_bs * z + self.noise(b, bs_var)
        y_ue = c * h_eff * z + c * self.noise(b, self.p_s / self.snr)
        y_eve = s_bs * z + self.noise(b, bs_var)
        return tuple(torch.view_as_real(y).flatten(-2) for y in (y_bs, y_ue, y_eve))


class Setup:
    """One independently trained configuration: networks, optimiser and its training step."""

    def __init__(self, case, channel, device):
        self.case, self.channel = case, channel
        self.se = mlp(784, 64, 64, out_act=nn.ReLU())
        self.jsce = mlp(64, 64, SYMBOLS)
        self.jscd_bs = mlp(46, 64, 64, out_act=nn.ReLU())
        self.sd_bs = mlp(64, 64, 1)
        self.jscd_ue = mlp(46, 16, 64, out_act=nn.ReLU())
        self.sd_ue = mlp(64, 16, 784, out_act=nn.Sigmoid())
        general = [self.se, self.jsce, self.jscd_bs, self.sd_bs, self.jscd_ue, self.sd_ue]
        if case == "general":
            trained = general
        else:
            self.eve = mlp(46, 64, 32, 32, 10)
            self.h_enc = mlp(SYMBOLS, 23, 64, SYMBOLS)
            self.h_dec_bs = mlp(46, 23, 64, 46)
            self.h_dec_ue = mlp(46, 23, 16, 46)
            trained = [self.h_enc, self.h_dec_bs, self.h_dec_ue]
            for net in general + [self.eve]:
                net.requires_grad_(False)
        for net in general + trained + ([self.eve] if case == "arn" else []):
            net.to(device)
        self.opt = torch.optim.Adam([p for net in trained for p in net.parameters()], lr=1e-4)

    def encode(self, x):
        z = self.jsce(self.se(x))
        return z / z.norm(dim=-1, keepdim=True)  # unit power per sample

    def step(self, x, label, phi):
        if self.case == "general":
            z = self.encode(x)
            y_bs, y_ue, _ = self.channel(z, phi)
            phi_hat = self.sd_bs(self.jscd_bs(y_bs)).squeeze(-1)
            x_hat = self.sd_ue(self.jscd_ue(y_ue))
            loss = 0.5 * F.mse_loss(phi_hat, phi) + 0.1 * F.mse_loss(x_hat, x)
        else:
            with torch.no_grad():
                z = self.encode(x)
            delta = self.h_enc(z)
            y_bs, y_ue, y_eve = self.channel(z + delta, phi)
            z_bs = y_bs - self.h_dec_bs(y_bs)
            z_ue = y_ue - self.h_dec_ue(y_ue)
            l_pow = F.relu(delta.square().sum(-1) / SYMBOLS - TAU).mean()
            l_sen = F.mse_loss(self.sd_bs(self.jscd_bs(z_bs)).squeeze(-1), phi)
            l_com = F.mse_loss(self.sd_ue(self.jscd_ue(z_ue)), x)
            p_true = F.softmax(self.eve(y_eve), dim=-1).gather(1, label[:, None]).squeeze(1)
            loss = 0.1 * l_pow + 0.5 * l_sen + 0.1 * l_com + 0.01 * p_true.square().mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss.detach()


def load_fashion_mnist(data_dir):
    with gzip.open(os.path.join(data_dir, "train-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(os.path.join(data_dir, "train-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.from_numpy(images.astype(np.float32) / 255.0), torch.from_numpy(labels.astype(np.int64))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", choices=["general", "arn"], default="general")
    p.add_argument("--steps", type=int, default=200, help="timed steps (rounds with --grid)")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--grid", type=int, default=1, help="independent setups trained one after another per round")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave default)")
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--synthetic", action="store_true", help="random images/labels instead of Fashion-MNIST")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON line")
    args = p.parse_args()

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    cuda = device.type == "cuda"

    if args.synthetic:
        images, labels = torch.rand(60000, 784), torch.randint(0, 10, (60000,))
    else:
        images, labels = load_fashion_mnist(args.data_dir)
    images, labels = images.to(device), labels.to(device)

    channel = IsacChannel(device)
    setups = [Setup(args.case, channel, device) for _ in range(args.grid)]

    times_ms, losses = [], []
    for it in range(args.warmup + args.steps):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for g, setup in enumerate(setups):
            idx = torch.randint(0, images.shape[0], (args.batch,), device=device)
            phi = (torch.rand(args.batch, device=device) * 2 - 1) * PHI_MAX
            loss = setup.step(images[idx], labels[idx], phi)
            if g == 0:
                losses.append(loss)
        if cuda:
            torch.cuda.synchronize()
        if it >= args.warmup:
            times_ms.append((time.perf_counter() - t0) * 1e3)

    losses = torch.stack(losses).cpu()
    k = min(10, len(losses))
    p10, median, p90 = np.percentile(times_ms, [10, 50, 90])
    result = {"case": args.case, "device": args.device, "batch": args.batch, "grid": args.grid,
              "median_ms": round(float(median), 4), "p10_ms": round(float(p10), 4),
              "p90_ms": round(float(p90), 4), "steps": args.steps, "threads": torch.get_num_threads(),
              "torch": torch.__version__,
              "loss_first": round(losses[:k].mean().item(), 6), "loss_last": round(losses[-k:].mean().item(), 6)}
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>10}: {value}")


if __name__ == "__main__":
    main()
