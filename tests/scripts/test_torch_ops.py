#!/usr/bin/env python3
"""torch.ops.semsec (libsemsec_torch_ops.so, loaded by python/semsec/ops.py) from Python.

ISAC link: the fused op equals the channel written in plain PyTorch (semsec.ops.isac_link_torch)
and semsec's C++ ATen reference on the same Philox counters, in float64 and float32, with every
option; a grid point alone equals the same point inside a grid; gradcheck in double through each
output and through all three; the op's gradient equals autograd through the PyTorch composition;
bad arguments raise errors naming them. Link level: channels and decisions are functions of the
counters, sample_ids gives rows of the whole batch, and the user's bit error rate over AWGN matches
Q(sqrt(SNR)). CPU == CUDA on the same counters where a GPU exists (skipped otherwise). The
example training loop (python/examples/isac_link_training.py) learns.
usage: test_torch_ops.py   (SEMSEC_TORCH_OPS=path of the library, PYTHONPATH=python/)"""
import math
import os
import sys
import unittest

import torch

from semsec import ops

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.normpath(os.path.join(HERE, "..", "..", "python", "examples")))

OPTIONS = [
    dict(),
    dict(alpha=0.8 - 0.3j, si_residual_power=0.1, eve_snr_offset_db=-3.0, ref_gain_bs=0.5),
    dict(alpha=1.2 + 0.1j, alpha_random_phase=True, eve_snr_offset_db=4.0),
    dict(noise=False, si_residual_power=0.2),
]


def inputs(num_grid=3, batch=5, length=6, dtype=torch.float64, device="cpu", seed=0):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(num_grid, batch, length, generator=g, dtype=dtype)
    z = z / z.norm(dim=-1, keepdim=True)
    phi = (torch.rand(num_grid, batch, generator=g, dtype=dtype) - 0.5) * 0.7
    snr = torch.linspace(0.0, 20.0, num_grid, dtype=dtype)
    seeds = torch.arange(num_grid, dtype=torch.int64) * 7 + 3
    counter = torch.tensor([11], dtype=torch.int64)
    return [t.to(device) for t in (z, phi, snr, seeds, counter)]


def assert_outs_close(test, a, b, **tol):
    for name, x, y in zip(ops.IsacLinkOut._fields, a, b):
        torch.testing.assert_close(x.cpu(), y.cpu(), msg=lambda m, n=name: f"{n}: {m}", **tol)


class IsacLinkOp(unittest.TestCase):
    def test_equals_plain_pytorch_and_cpp_reference(self):
        w = ops.beamformer("sector", 16)
        z, phi, snr, seeds, counter = inputs()
        for kw in OPTIONS:
            for ev in (False, True):
                with self.subTest(options=kw, eval=ev):
                    fused = ops.isac_link(z, phi, snr, seeds, counter, w, eval=ev, **kw)
                    d = ops.isac_link_draws(seeds, counter, z.shape[1], z.shape[2], w.shape[0], eval=ev,
                                            alpha_random_phase=kw.get("alpha_random_phase", False))
                    plain = ops.isac_link_torch(z, phi, snr, d, w, **kw)
                    assert_outs_close(self, fused, plain, rtol=1e-12, atol=1e-12)
                    a = complex(kw.get("alpha", 1.0))
                    args = [kw.get(k, v) for k, v in (("si_residual_power", 0.0), ("eve_snr_offset_db", 0.0),
                                                       ("ref_gain_bs", 1.0), ("noise", True))]
                    ref = torch.ops.semsec.isac_link_reference(z, phi, snr, seeds, counter, w, a.real, a.imag, *args,
                                                               ev, kw.get("alpha_random_phase", False))
                    assert_outs_close(self, fused, ref, rtol=1e-12, atol=1e-12)
        # Evaluation draws come from other streams; the step changes every draw.
        base = ops.isac_link(z, phi, snr, seeds, counter, w)
        self.assertFalse(torch.allclose(base.y_bs, ops.isac_link(z, phi, snr, seeds, counter, w, eval=True).y_bs))
        self.assertFalse(torch.allclose(base.y_bs, ops.isac_link(z, phi, snr, seeds, counter + 1, w).y_bs))

    def test_float32(self):
        w = ops.beamformer("wide2", 16)
        z, phi, snr, seeds, counter = inputs()
        f64 = ops.isac_link(z, phi, snr, seeds, counter, w, si_residual_power=0.05)
        f32 = ops.isac_link(z.float(), phi.float(), snr.float(), seeds, counter, w, si_residual_power=0.05)
        self.assertTrue(all(t.dtype == torch.float32 for t in f32))
        assert_outs_close(self, f32, [t.float() for t in f64], rtol=1e-4, atol=1e-5)
        d = ops.isac_link_draws(seeds, counter, z.shape[1], z.shape[2], w.shape[0])
        plain = ops.isac_link_torch(z.float(), phi.float(), snr.float(), d, w, si_residual_power=0.05)
        self.assertTrue(all(t.dtype == torch.float32 for t in plain))
        assert_outs_close(self, f32, plain, rtol=1e-4, atol=1e-5)

    def test_grid_point_alone_equals_inside_grid(self):
        w = ops.beamformer("wide2", 16)
        z, phi, snr, seeds, counter = inputs(num_grid=4)
        whole = ops.isac_link(z, phi, snr, seeds, counter, w)
        for g in range(4):
            alone = ops.isac_link(z[g:g + 1], phi[g:g + 1], snr[g:g + 1], seeds[g:g + 1], counter, w)
            for x, y in zip(alone, whole):
                self.assertTrue(torch.equal(x[0], y[g]))

    def test_gradcheck_double(self):
        w = ops.beamformer("sector", 8)
        z, phi, snr, seeds, counter = inputs(num_grid=2, batch=3, length=4)
        z.requires_grad_(True)
        for kw in OPTIONS[:3]:
            for k in range(3):  # each output alone: the other two have no gradient
                with self.subTest(options=kw, output=ops.IsacLinkOut._fields[k]):
                    self.assertTrue(torch.autograd.gradcheck(
                        lambda z: ops.isac_link(z, phi, snr, seeds, counter, w, **kw)[k], (z,)))
            self.assertTrue(torch.autograd.gradcheck(
                lambda z: tuple(ops.isac_link(z, phi, snr, seeds, counter, w, **kw)[:3]), (z,)))

    def test_gradient_equals_autograd_through_plain_pytorch(self):
        w = ops.beamformer("wide2", 16)
        z, phi, snr, seeds, counter = inputs()
        weights = [torch.randn(z.shape[0], z.shape[1], 2 * z.shape[2], dtype=z.dtype) for _ in range(3)]
        kw = OPTIONS[1]
        d = ops.isac_link_draws(seeds, counter, z.shape[1], z.shape[2], w.shape[0])
        grads = []
        for f in (lambda z: ops.isac_link(z, phi, snr, seeds, counter, w, **kw),
                  lambda z: ops.isac_link_torch(z, phi, snr, d, w, **kw)):
            zz = z.clone().requires_grad_(True)
            out = f(zz)
            sum(((y * c).sum() for y, c in zip(out[:3], weights))).backward()
            grads.append(zz.grad)
        torch.testing.assert_close(grads[0], grads[1], rtol=1e-12, atol=1e-12)
        # phi and snr_db carry no gradient; gains is not differentiable.
        phi_g = phi.clone().requires_grad_(True)
        out = ops.isac_link(z, phi_g, snr, seeds, counter, w)
        self.assertFalse(out.gains.requires_grad)

    def test_bad_arguments_are_named(self):
        w = ops.beamformer("wide2", 16)
        z, phi, snr, seeds, counter = inputs()
        with self.assertRaisesRegex(RuntimeError, r"phi must be \[G, B\]"):
            ops.isac_link(z, phi[:, :2], snr, seeds, counter, w)
        with self.assertRaisesRegex(RuntimeError, "seeds and counter must be int64"):
            ops.isac_link(z, phi, snr, seeds.double(), counter, w)
        with self.assertRaisesRegex(RuntimeError, "unknown beamformer 'narrow'"):
            ops.beamformer("narrow", 16)
        with self.assertRaisesRegex(RuntimeError, "num_antennas = 65 out of range"):
            ops.beamformer("uniform", 65)
        with self.assertRaisesRegex(RuntimeError, "ref_gain_bs"):
            ops.isac_link(z, phi, snr, seeds, counter, w, ref_gain_bs=0.0)

    def test_mean_sensing_gain(self):
        w = ops.beamformer("uniform", 4)
        # a uniform beam at broadside: |a^H(0) w|^2 = |sum_m 1 / sqrt(M)|^2 = M
        self.assertAlmostEqual(ops.mean_sensing_gain(w, 0.0, 0.0), 4.0, places=12)
        self.assertAlmostEqual(ops.mean_sensing_gain(w, 0.0, 0.0, alpha=0.5j), 1.0, places=12)


class LinkLevelOps(unittest.TestCase):
    def test_channels_and_decisions_follow_the_counters(self):
        cfg = ops.LinkConfig(scheme="beamforming", num_tx=4, num_rx=2)
        h = ops.generate_channels(cfg, 64, seed=5, step=2)
        self.assertEqual(tuple(h.shape), (3, 64, 2, 4, 2))
        self.assertTrue(torch.equal(h, ops.generate_channels(cfg, 64, seed=5, step=2)))
        self.assertFalse(torch.equal(h, ops.generate_channels(cfg, 64, seed=5, step=3)))
        bits = torch.randint(0, 2, (64, 40), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
        beams = torch.arange(64) % cfg.num_beams
        gain_user = ops.generate_channels(cfg, 4096, seed=9, step=0)[0].square().sum((1, 2, 3)).mean()
        tau = torch.full((64,), float(gain_user), dtype=torch.float64)  # mean SNR about 0 dB: errors
        rx, gain = ops.transmit(cfg, bits, h, beams, tau, seed=5, step=2)
        self.assertEqual(tuple(rx.shape), (3, 64, 40))
        self.assertGreater(int((rx[0] != bits).sum()), 0)
        rows = torch.tensor([3, 17, 40])
        part, gpart = ops.transmit(cfg, bits[rows], h[:, rows], beams[rows], tau[rows], seed=5, step=2,
                                   sample_ids=rows)
        self.assertTrue(torch.equal(part, rx[:, rows]))
        self.assertTrue(torch.equal(gpart, gain[:, rows]))

    def test_awgn_bit_error_rate_matches_theory(self):
        cfg = ops.LinkConfig(scheme="awgn", num_tx=1, num_rx=1)
        n, num_bits, snr = 2000, 64, 10 ** (4.0 / 10)  # Es/N0 = 4 dB, Eb/N0 = 1 dB
        h = ops.generate_channels(cfg, n, seed=1, step=0)
        gain_user = float(h[0, 0].square().sum())
        bits = torch.randint(0, 2, (n, num_bits), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))
        tau = torch.full((n,), gain_user / snr, dtype=torch.float64)
        rx, gain = ops.transmit(cfg, bits, h, torch.zeros(n, dtype=torch.int64), tau, seed=3, step=0)
        torch.testing.assert_close(gain[0], torch.full((n,), gain_user, dtype=torch.float64))
        ber = float((rx[0] != bits).double().mean())
        theory = 0.5 * math.erfc(math.sqrt(snr) / math.sqrt(2.0))  # Gray QPSK: Q(sqrt(2 Eb/N0))
        se = math.sqrt(theory * (1 - theory) / (n * num_bits))
        self.assertLess(abs(ber - theory), 5 * se, f"BER {ber} vs Q(sqrt(SNR)) = {theory}")

    def test_bad_link_arguments_are_named(self):
        with self.assertRaisesRegex(RuntimeError, "awgm"):
            ops.generate_channels(ops.LinkConfig(scheme="awgm"), 4, seed=0, step=0)
        cfg = ops.LinkConfig()
        h = ops.generate_channels(cfg, 4, seed=0, step=0)
        bits = torch.zeros(4, 8, dtype=torch.uint8)
        with self.assertRaisesRegex(RuntimeError, "every beam index must be in"):
            ops.transmit(cfg, bits, h, torch.full((4,), 99), torch.ones(4, dtype=torch.float64), seed=0, step=0)


@unittest.skipUnless(torch.cuda.is_available(), "no GPU")
class CpuEqualsCuda(unittest.TestCase):
    def test_isac_link(self):
        w = ops.beamformer("sector", 16)
        for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
            cpu = inputs(dtype=dtype)
            gpu = [t.cuda() for t in cpu]
            for kw in OPTIONS:
                a = ops.isac_link(*cpu, w, **kw)
                b = ops.isac_link(*gpu, w, **kw)
                assert_outs_close(self, a, b, rtol=tol, atol=tol)
            zc, zg = cpu[0].clone().requires_grad_(True), gpu[0].clone().requires_grad_(True)
            ops.isac_link(zc, *cpu[1:], w).y_eve.sum().backward()
            ops.isac_link(zg, *gpu[1:], w).y_eve.sum().backward()
            torch.testing.assert_close(zc.grad, zg.grad.cpu(), rtol=tol, atol=tol)

    def test_link_level(self):
        cfg = ops.LinkConfig(scheme="beam_alamouti", num_tx=4, num_rx=2)
        h = ops.generate_channels(cfg, 256, seed=4, step=1)
        self.assertTrue(torch.equal(h, ops.generate_channels(cfg, 256, seed=4, step=1, device="cuda").cpu()))
        bits = torch.randint(0, 2, (256, 24), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
        beams = torch.arange(256) % cfg.num_beams
        tau = torch.full((256,), float(h[0].square().sum((1, 2, 3)).mean()), dtype=torch.float64)
        rows = torch.arange(0, 256, 5)
        a = ops.transmit(cfg, bits[rows], h[:, rows], beams[rows], tau[rows], seed=4, step=1, sample_ids=rows)
        b = ops.transmit(cfg, *(t.cuda() for t in (bits[rows], h[:, rows], beams[rows], tau[rows])), seed=4, step=1,
                         sample_ids=rows.cuda())
        self.assertTrue(torch.equal(a[0], b[0].cpu()))
        torch.testing.assert_close(a[1], b[1].cpu(), rtol=1e-12, atol=0.0)


class Example(unittest.TestCase):
    def test_page_snippet_runs(self):
        """The training loop shown in docs/interop.md, run as written."""
        with open(os.path.join(HERE, "..", "..", "docs", "interop.md")) as f:
            blocks = f.read().split("```python\n")[1:]
        code = [b.split("```")[0] for b in blocks if "ops.isac_link(" in b]
        self.assertEqual(len(code), 1, "docs/interop.md: expected one python block calling ops.isac_link")
        torch.manual_seed(0)
        scope = {}
        exec(compile(code[0], "docs/interop.md", "exec"), scope)
        self.assertLess(float(scope["loss"]), 0.07, "a constant 0.5 scores 1/12 = 0.083")

    def test_training_loop_learns(self):
        import isac_link_training
        history = isac_link_training.main(["--steps", "151", "--device", "cpu"])
        first, last = history[:10].mean(0), history[-10:].mean(0)
        self.assertTrue(bool((last < 0.8 * first).all()), f"MSE {first.tolist()} -> {last.tolist()}")
        self.assertLess(float(last[1]), float(last[0]), "20 dB should reconstruct better than 5 dB")


if __name__ == "__main__":
    torch.set_num_threads(1)
    unittest.main(verbosity=2)
