"""semsec's channel kernels as PyTorch operators: torch.ops.semsec.*.

Importing this module loads libsemsec_torch_ops.so (built by the test build, or by
`cmake --build build --target semsec_torch_ops`; found through $SEMSEC_TORCH_OPS or in the
checkout's build/kernels/) with torch.ops.load_library. The wrappers below give the ops Python
defaults and names; the raw ops are torch.ops.semsec.<name>.

The SS-ISAC link (eq. 3, 4 and 11-13 of the SS-ISAC paper) for a grid of G points, B samples each:

    w = beamformer("wide2", 16)
    y_bs, y_ue, y_eve, gains = isac_link(z, phi, snr_db, seeds, counter, w)

z [G, B, L] real symbols (float32 or float64, unit energy per codeword), phi [G, B] target azimuth
in radians, snr_db [G], seeds [G] int64 (one Philox key per grid point) and counter [1] int64 (the
step). Every draw is a function of (seed_g, counter, b, element) only: the same call gives the same
channel, on either device. Outputs interleave (re, im) per symbol: y_* [G, B, 2L]; gains
[G, B, 3, 2] holds (s_bs, s_ue, s_eve). Gradients flow to z through the fused analytic backward.

isac_link_torch() is the same channel written with plain PyTorch ops, for reading and for
comparison: given isac_link_draws() it returns the op's numbers; given torch.randn draws
(random_draws) it is what one would write without semsec.

The CLSSR link level: generate_channels(cfg, n, seed, step) draws every receiver's channel
[R, n, num_rx, num_tx, 2] (receiver 0 the user, then the Eves); transmit(cfg, bits, h, beams, tau,
seed, step) sends bits [n, num_bits] (uint8) through them and returns the bits each receiver
decides, [R, n, num_bits], and the gain of the beam used [R, n].
"""
import dataclasses
import glob
import math
import os
from collections import namedtuple

import torch

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.normpath(os.path.join(_HERE, "..", ".."))
_LIBRARY = "libsemsec_torch_ops.so"


def library_path():
    """The op library to load: $SEMSEC_TORCH_OPS, else the checkout's build*/kernels/ (newest)."""
    env = os.environ.get("SEMSEC_TORCH_OPS")
    if env:
        if not os.path.isfile(env):
            raise FileNotFoundError(f"SEMSEC_TORCH_OPS={env}: no such file (expected the path of {_LIBRARY})")
        return env
    found = glob.glob(os.path.join(_ROOT, "build*", "kernels", _LIBRARY))
    if not found:
        raise FileNotFoundError(
            f"semsec.ops: {_LIBRARY} not found under {_ROOT}/build*/kernels/: build it with "
            "`cmake --build build --target semsec_torch_ops` (README command 2 builds it), or set SEMSEC_TORCH_OPS")
    return max(found, key=os.path.getmtime)


if not hasattr(torch.ops.semsec, "isac_link"):
    torch.ops.load_library(library_path())

IsacLinkOut = namedtuple("IsacLinkOut", ["y_bs", "y_ue", "y_eve", "gains"])
IsacLinkDraws = namedtuple("IsacLinkDraws", ["fading", "noise_bs", "noise_ue", "noise_eve"])


def beamformer(kind="wide2", num_antennas=16, steer_deg=0.0, sector_deg=(-20.0, 20.0)):
    """The beamformer of the config key channel.beamformer (wide2, uniform, steer, sector): complex128 [M]."""
    return torch.ops.semsec.make_beamformer(kind, num_antennas, steer_deg, sector_deg[0], sector_deg[1])


def mean_sensing_gain(w, phi_lo, phi_hi, alpha=1.0 + 0.0j):
    """Mean of |alpha a^H(phi) w|^2 over phi uniform in [phi_lo, phi_hi] (radians): ref_gain_bs."""
    alpha = complex(alpha)
    return torch.ops.semsec.mean_sensing_gain(w, alpha.real, alpha.imag, phi_lo, phi_hi)


def isac_link(z, phi, snr_db, seeds, counter, w, *, alpha=1.0 + 0.0j, si_residual_power=0.0, eve_snr_offset_db=0.0,
              ref_gain_bs=1.0, noise=True, eval=False, alpha_random_phase=False):
    """The fused SS-ISAC link (torch.ops.semsec.isac_link); see the module's docstring."""
    alpha = complex(alpha)
    return IsacLinkOut(*torch.ops.semsec.isac_link(z, phi, snr_db, seeds, counter, w, alpha.real, alpha.imag,
                                                   si_residual_power, eve_snr_offset_db, ref_gain_bs, noise, eval,
                                                   alpha_random_phase))


def isac_link_draws(seeds, counter, batch, length, num_antennas, *, eval=False, alpha_random_phase=False):
    """The standard normals isac_link draws (float64, host): fading [G, B, 2M+2(+2)], noise_* [G, B, L, 2]."""
    return IsacLinkDraws(*torch.ops.semsec.isac_link_draws(seeds, counter, batch, length, num_antennas, eval,
                                                           alpha_random_phase))


def random_draws(num_grid, batch, length, num_antennas, *, alpha_random_phase=False, dtype=torch.float64,
                 device="cpu", generator=None):
    """Draws of the same shapes from torch.randn: the channel without semsec's counters."""
    per_sample = 2 * num_antennas + 2 + (2 if alpha_random_phase else 0)
    kw = dict(dtype=dtype, device=device, generator=generator)
    return IsacLinkDraws(torch.randn(num_grid, batch, per_sample, **kw),
                         *(torch.randn(num_grid, batch, length, 2, **kw) for _ in range(3)))


def isac_link_torch(z, phi, snr_db, draws, w, *, alpha=1.0 + 0.0j, si_residual_power=0.0, eve_snr_offset_db=0.0,
                    ref_gain_bs=1.0, noise=True, alpha_random_phase=False):
    """The SS-ISAC link in plain PyTorch ops, from given standard normals `draws`.

    Sensing gain  s = alpha a^H(phi) w,  a_m(phi) = exp(j pi m sin phi)  (times e^{j theta} with a
    random reflection phase); fading h ~ CN(0, I_M), h' = h^H w; residual self-interference
    s_si ~ CN(0, rho). The UE equalises with c = conj(h') / (|h'|^2 + 1/snr). With P_s = 1/L:
        y_bs  = (s + s_si) z + n_bs,   n_bs  ~ CN(0, ref_gain_bs P_s / snr)
        y_ue  = c h' z + c n_ue,       n_ue  ~ CN(0, P_s / snr)
        y_eve = s z + n_eve,           n_eve ~ CN(0, ref_gain_bs P_s / snr_eve),  snr_eve = snr + offset (dB)
    Returns IsacLinkOut in z's dtype (float64 computes in complex128, float32 in complex64), (re, im)
    interleaved per symbol."""
    num_grid, batch, length = z.shape
    m = w.shape[0]
    dev, real = z.device, z.dtype  # float64 computes in complex128, float32 in complex64
    cplx = torch.complex128 if real == torch.float64 else torch.complex64
    fading = draws.fading.to(dev, real)
    w = w.to(dev, cplx)
    arange = torch.arange(m, device=dev, dtype=real)
    conj_a = torch.exp(-1j * math.pi * arange * torch.sin(phi.to(real)).unsqueeze(-1))  # [G, B, M]
    sens = (conj_a * w).sum(-1) * complex(alpha)
    if alpha_random_phase:
        u = torch.complex(fading[..., 2 * m + 2], fading[..., 2 * m + 3])
        sens = sens * u / u.abs()
    h = torch.complex(fading[..., 0:2 * m:2], fading[..., 1:2 * m:2]) / math.sqrt(2.0)
    h_eff = (h.conj() * w).sum(-1)
    s_si = torch.complex(fading[..., 2 * m], fading[..., 2 * m + 1]) * math.sqrt(0.5 * si_residual_power)
    snr = (10.0 ** (snr_db.to(real) / 10.0)).unsqueeze(-1)
    snr_eve = (10.0 ** ((snr_db.to(real) + eve_snr_offset_db) / 10.0)).unsqueeze(-1)
    c_ue = h_eff.conj() / (h_eff.abs().square() + 1.0 / snr)
    gains = torch.stack([sens + s_si, c_ue * h_eff, sens], -1)  # s_bs, s_ue, s_eve: [G, B, 3]

    p_s = 1.0 / length

    def cn(n, var):
        if not noise:
            return torch.zeros(num_grid, batch, length, dtype=cplx, device=dev)
        n = n.to(dev, real)
        return torch.complex(n[..., 0], n[..., 1]) * torch.sqrt(var / 2.0).unsqueeze(-1)

    ys = (gains[..., 0:1] * z + cn(draws.noise_bs, ref_gain_bs * p_s / snr),
          gains[..., 1:2] * z + c_ue.unsqueeze(-1) * cn(draws.noise_ue, p_s / snr),
          gains[..., 2:3] * z + cn(draws.noise_eve, ref_gain_bs * p_s / snr_eve))
    out = [torch.view_as_real(y).reshape(num_grid, batch, 2 * length) for y in ys]
    return IsacLinkOut(*out, torch.view_as_real(gains).contiguous())


# ---------------------------------------------------------------------------------------------
# The CLSSR link level.

@dataclasses.dataclass
class LinkConfig:
    """A geometric link (semsec's link.* config keys). Schemes: awgn, rayleigh, alamouti_2x1,
    alamouti_2x2, beamforming, beam_alamouti. Positions in metres; receiver 0 is the user, then
    the Eves. Path loss (d / d0)^-eta; channels come in units of sqrt(N0 B), so |h f|^2 / tau is a
    sample's SNR with noise power tau N0 B."""
    scheme: str = "beamforming"
    num_tx: int = 2
    num_rx: int = 1
    num_beams: int = 8
    bs: tuple = (0.0, 0.0)
    user: tuple = (500.0, 500.0)
    eves: tuple = ((400.0, 450.0), (800.0, 300.0))
    d0_m: float = 1.0
    path_loss_exponent: float = 3.0
    p_tx_dbm: float = 20.0
    bandwidth_hz: float = 1e6
    n0_dbm_per_hz: float = -174.0
    rician_k: float = 0.0

    def args(self):
        return (self.scheme, self.num_tx, self.num_rx, self.num_beams, [float(v) for v in self.bs],
                [float(v) for v in self.user], [float(v) for e in self.eves for v in e], self.d0_m,
                self.path_loss_exponent, self.p_tx_dbm, self.bandwidth_hz, self.n0_dbm_per_hz, self.rician_k)


LINK_STREAM = 8  # rng::kStreamLink, the Philox stream of semsec's CLSSR runs


def generate_channels(cfg, num_samples, seed, step, device="cpu", stream=LINK_STREAM):
    """Every receiver's channel for samples 0 .. num_samples-1 of `step`: [R, N, num_rx, num_tx, 2] float64."""
    return torch.ops.semsec.link_generate_channels(*cfg.args(), num_samples, seed, step, torch.device(device), stream)


def transmit(cfg, bits, h, beams, tau, seed, step, stream=LINK_STREAM, sample_ids=None):
    """Sends bits [N, num_bits] (uint8) over h with beams [N] (int64) at noise power tau [N] (float64,
    in units of N0 B); returns (rx_bits [R, N, num_bits] decided by each receiver, gain [R, N])."""
    return torch.ops.semsec.link_transmit(*cfg.args(), bits, h, beams, tau, seed, step, stream, sample_ids)
