"""semsec's trained networks as PyTorch modules.

`semsec export RUN_DIR --layout torch [--all]` writes one state dict per grid point, named and
shaped as the modules below name them; `load(path)` rebuilds the modules from the file's tensor
shapes and loads them with strict=True:

    import semsec
    nets, meta = semsec.load("runs/x/export/arn.safetensors")
    z_sent = nets.arn.encrypt(z, psr=10 ** (float(meta["psr_db"]) / 10))

`read_sweep(DIR)` returns a sweep's (or a run's) summary, points and metrics as pandas DataFrames;
`read_summary(DIR_OR_FILE)` the summary alone (what scripts/plot.py draws). `semsec.ops` holds the
channel kernels as torch ops (docs/interop.md).
"""
_MODEL_NAMES = ("ArnPair", "Eve", "Exported", "GeneralSystem", "Mlp", "load", "normalize_power")


def __getattr__(name):
    """The modules' names load semsec.models, and with it torch, on first use: reading a sweep's
    CSVs (semsec.sweeps, as scripts/plot.py does) then takes pandas alone, about 3 s less a call."""
    if name in _MODEL_NAMES:
        from semsec import models
        return getattr(models, name)
    raise AttributeError(f"module 'semsec' has no attribute {name!r}")


def read_summary(path):
    """summary.csv of a sweep or run directory (or the file itself) as a DataFrame (needs pandas)."""
    from semsec.sweeps import read_summary as read
    return read(path)


def read_sweep(directory):
    """(summary, points, metrics) DataFrames of a sweep or run directory (semsec.sweeps; needs pandas)."""
    from semsec.sweeps import read_sweep as read
    return read(directory)


__all__ = ["ArnPair", "Eve", "Exported", "GeneralSystem", "Mlp", "load", "normalize_power", "read_summary", "read_sweep"]
