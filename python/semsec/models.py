"""The SS-ISAC networks of semsec in plain PyTorch: every network is an nn.Sequential of nn.Linear
layers with nn.ReLU between them and its output activation last, the layout of
`semsec export --layout torch` (Linear layers at indices 0, 2, 4, ...)."""
import json

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid}


class Mlp(nn.Sequential):
    """Linear -> ReLU -> ... -> Linear [-> output activation]; sizes = [in, hidden..., out]."""

    def __init__(self, sizes, out_act="none"):
        layers = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i + 2 < len(sizes):
                layers.append(nn.ReLU())
        if out_act != "none":
            layers.append(ACTIVATIONS[out_act]())
        super().__init__(*layers)


def normalize_power(z):
    """||z||^2 = 1 per codeword (the paper's E||z||^2 = 1)."""
    return z * torch.rsqrt(z.square().sum(-1, keepdim=True) + 1e-12)


class GeneralSystem(nn.Module):
    """The general semantic ISAC system (eq. 1-9): SE and JSCE at the BS's transmitter, JSCD and SD
    at the BS (azimuth) and the UE (image). Received signals y interleave (re, im) per symbol."""

    def __init__(self, input_dim=784, bs_hidden=64, feature_dim=64, latent_dim=23, ue_hidden=16):
        super().__init__()
        y = 2 * latent_dim
        self.se = Mlp([input_dim, bs_hidden, feature_dim], "relu")
        self.jsce = Mlp([feature_dim, bs_hidden, latent_dim])
        self.jscd_bs = Mlp([y, bs_hidden, feature_dim], "relu")
        self.sd_bs = Mlp([feature_dim, bs_hidden, 1])
        self.jscd_ue = Mlp([y, ue_hidden, feature_dim], "relu")
        self.sd_ue = Mlp([feature_dim, ue_hidden, input_dim], "sigmoid")

    def transmit(self, x):
        return normalize_power(self.jsce(self.se(x)))

    def receive_bs(self, y_bs):
        return self.sd_bs(self.jscd_bs(y_bs)).squeeze(-1)

    def receive_ue(self, y_ue):
        return self.sd_ue(self.jscd_ue(y_ue))


class ArnPair(nn.Module):
    """The paired ARNs (eq. 19-23): delta = enc(z); z' = z + delta; z_hat = y - dec(y) at the BS / UE."""

    def __init__(self, latent_dim=23, enc_hidden=(23, 64), dec_bs_hidden=(23, 64), dec_ue_hidden=(23, 16)):
        super().__init__()
        y = 2 * latent_dim
        self.enc = Mlp([latent_dim, *enc_hidden, latent_dim])
        self.dec_bs = Mlp([y, *dec_bs_hidden, y])
        self.dec_ue = Mlp([y, *dec_ue_hidden, y])

    def delta(self, z):
        return self.enc(z)

    def encrypt(self, z, psr, projection=True, equal_power=False):
        """z' = z + delta. projection: delta scaled onto ||delta||^2 = psr ||z||^2 where it is longer
        (security.power_constraint=projection); equal_power: z' rescaled to ||z||."""
        delta = self.enc(z)
        z2 = z.square().sum(-1, keepdim=True)
        if projection:
            d2 = delta.square().sum(-1, keepdim=True)
            delta = delta * torch.sqrt(psr * z2 / d2.clamp_min(1e-30)).clamp_max(1.0)
        sent = z + delta
        if equal_power:
            sent = sent * torch.sqrt(z2 / sent.square().sum(-1, keepdim=True).clamp_min(1e-30))
        return sent

    def decrypt_bs(self, y_bs):
        return y_bs - self.dec_bs(y_bs)

    def decrypt_ue(self, y_ue):
        return y_ue - self.dec_ue(y_ue)


class Eve(nn.Module):
    """Eve's classifier P_Eve on y_Eve: logits of the image class."""

    def __init__(self, input_dim=46, hidden=(64, 32, 32), num_classes=10):
        super().__init__()
        self.net = Mlp([input_dim, *hidden, num_classes])

    def forward(self, y):
        return self.net(y)


class Exported(nn.Module):
    """What one exported file holds: `arn`, and with `semsec export --all` also `base` and `eve`."""

    def __init__(self, arn, base=None, eve=None):
        super().__init__()
        self.arn = arn
        if base is not None:
            self.base = base
        if eve is not None:
            self.eve = eve


def _layer_sizes(state, prefix):
    """[in, hidden..., out] of the Linear layers <prefix>.<i>.weight [out, in], i = 0, 2, 4, ..."""
    idx = sorted(int(k[len(prefix):].split(".")[0]) for k in state if k.startswith(prefix) and k.endswith(".weight"))
    if not idx or idx != list(range(0, 2 * len(idx), 2)):
        raise ValueError(f"no Linear layers 0, 2, 4, ... under '{prefix}' (found {idx})")
    shapes = [state[f"{prefix}{i}.weight"].shape for i in idx]
    return [shapes[0][1]] + [s[0] for s in shapes]


def build(state):
    """Modules shaped after the tensors of an export (the names say which networks are there)."""
    enc, dec_bs, dec_ue = (_layer_sizes(state, f"arn.{n}.") for n in ("enc", "dec_bs", "dec_ue"))
    arn = ArnPair(enc[0], tuple(enc[1:-1]), tuple(dec_bs[1:-1]), tuple(dec_ue[1:-1]))
    base = eve = None
    if any(k.startswith("base.") for k in state):
        se, jsce, sd_ue = (_layer_sizes(state, f"base.{n}.") for n in ("se", "jsce", "sd_ue"))
        base = GeneralSystem(input_dim=se[0], bs_hidden=se[1], feature_dim=se[2], latent_dim=jsce[-1],
                             ue_hidden=sd_ue[1])
    if any(k.startswith("eve.") for k in state):
        net = _layer_sizes(state, "eve.net.")
        eve = Eve(net[0], tuple(net[1:-1]), net[-1])
    return Exported(arn, base, eve)


def load(path):
    """(module, metadata) of a `semsec export --layout torch` file: safetensors (with its metadata)
    or .pt (metadata empty). Every tensor must match a parameter and every parameter a tensor."""
    if str(path).endswith(".safetensors"):
        from safetensors import safe_open
        from safetensors.torch import load_file
        state = load_file(str(path))
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
        if meta.get("format") != "semsec-weights-torch-1":
            raise ValueError(f"{path}: not a --layout torch export (format {meta.get('format')!r}); run "
                             f"'semsec export RUN_DIR --layout torch'")
    else:
        state = torch.load(str(path), map_location="cpu")
        meta = {}
    module = build(state)
    module.load_state_dict(state, strict=True)
    module.eval()
    return module, meta


def metadata_json(meta):
    """The metadata without the embedded configuration, as indented JSON (for a quick look)."""
    return json.dumps({k: v for k, v in meta.items() if k != "config_yaml"}, indent=2, sort_keys=True)
