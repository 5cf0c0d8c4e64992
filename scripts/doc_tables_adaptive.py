"""The tables of docs/experiments/adaptive-eve.md (scripts/doc_tables.py runs them), from the merged
files of one sweep of experiments/adaptive_eve.yaml under docs/results/. Standard library only."""
import doc_tables as dt

PAGE = "docs/experiments/adaptive-eve.md"
CMD = "semsec sweep experiments/adaptive_eve.yaml seed=0,1,2 output.tensorboard=false --device cpu"
PSR_CMD = ("semsec sweep experiments/adaptive_eve.yaml security.psr_db=-5,0 seed=0,1,2 threat.samples=[0] "
           "threat.starts=[scratch] threat.large_hidden=[0] output.tensorboard=false --device cpu")
OFFSET_CMD = ("semsec sweep experiments/adaptive_eve.yaml channel.eve_snr_offset_db=-10 seed=0,1,2 "
              "threat.samples=[0] threat.starts=[scratch] threat.large_hidden=[0] output.tensorboard=false "
              "--device cpu")
FILES = {  # name: (raw file: the sweep's merged file of the same name, command)
    "adaptive": ("docs/results/adaptive_eve_cpu.csv", CMD),
    "defences": ("docs/results/adaptive_eve_defences_cpu.csv", CMD),
    "summary": ("docs/results/adaptive_eve_summary_cpu.csv", CMD),
    "psr": ("docs/results/adaptive_eve_psr_cpu.csv", PSR_CMD),
    "psr_defences": ("docs/results/adaptive_eve_psr_defences_cpu.csv", PSR_CMD),
    "offset": ("docs/results/adaptive_eve_offset_cpu.csv", OFFSET_CMD),
    "offset_defences": ("docs/results/adaptive_eve_offset_defences_cpu.csv", OFFSET_CMD),
}
DEFENCES = [("unprotected", "unprotected"), ("paired", "paired ARNs (the paper)"), ("minmax", "min-max"),
            ("keyed", "keyed, min-max"), ("confusion", "confusion, min-max")]
SNR = "20"


def raw(name):
    key = "adaptive:" + name
    if key not in dt._raw_cache:
        dt._raw_cache[key] = dt.Raw(*FILES[name])
    return dt._raw_cache[key]


def counts(r):
    return sorted({int(row["samples"]) for row in r.rows})


def pc_table(arch, start, caption):
    r = raw("adaptive")
    ns = counts(r)
    head = ["defence"] + [f"n = {n}" for n in ns]
    rows = []
    for d, label in DEFENCES:
        rows.append([label] + [dt.fmt(r.values("pc_eve", defence=d, arch=arch, start=start, samples=n,
                                               test_snr_db=SNR).values(), 3) for n in ns])
    return [r.header(), caption, ""] + dt.md_table(head, rows)


def adaptive_scratch():
    return pc_table("paper", "scratch", "P_c of Eves of the paper's architecture (64-32-32) trained from scratch on n "
                    "labelled encrypted samples, test SNR 20 dB.")


def adaptive_finetune():
    return pc_table("paper", "finetune", "P_c of Eves of the paper's architecture fine-tuned from P_Eve on n labelled "
                    "encrypted samples, test SNR 20 dB.")


def adaptive_large():
    return pc_table("large", "scratch", "P_c of the larger Eves (256-256-128) trained from scratch on n labelled "
                    "encrypted samples, test SNR 20 dB.")


def adaptive_drop():
    """P_c of the unprotected system's Eve minus the defence's, per seed (the same base system, data and
    Eve initialisation), for the paper's Eve from scratch."""
    r = raw("adaptive")
    ns = counts(r)
    head = ["defence"] + [f"n = {n}" for n in ns]
    rows = []
    for d, label in DEFENCES[1:]:
        cells = []
        for n in ns:
            where = dict(arch="paper", start="scratch", samples=n, test_snr_db=SNR)
            base, pc = r.values("pc_eve", defence="unprotected", **where), r.values("pc_eve", defence=d, **where)
            cells.append(dt.fmt([base[k] - pc[k] for k in sorted(base)], 3))
        rows.append([label] + cells)
    return [r.header(), "P_c of the unprotected system's Eve minus the defence's, seed by seed: what the defence "
            "takes from an Eve of the paper's architecture trained from scratch on n samples, test SNR 20 dB.",
            ""] + dt.md_table(head, rows)


def psr_table():
    """The defences at nominal PSR -10 (the main sweep), -5 and 0 dB against the paper's Eve trained from
    scratch on every sample, with their realised PSR and utility."""
    main, more = raw("adaptive"), raw("psr")
    dmain, dmore = raw("defences"), raw("psr_defences")
    head = ["defence", "nominal PSR (dB)", "realised PSR mean (dB)", "P_c adaptive Eve", "mse_sen / unprotected",
            "mse_com / unprotected"]
    rows = []
    for d, label in DEFENCES[1:]:
        for psr, r, dr in (("-10", main, dmain), ("-5", more, dmore), ("0", more, dmore)):
            n = str(max(counts(r)))
            where = dict(test_snr_db=SNR, psr_db=psr)
            pc = r.values("pc_eve", defence=d, arch="paper", start="scratch", samples=n, **where)
            rows.append([label, psr, dt.fmt(dr.values("psr_real_db", defence=d, **where).values(), 2),
                         dt.fmt(pc.values(), 3),
                         dt.fmt(dt.ratio(dr.values("mse_sen", defence=d, **where),
                                         dr.values("mse_sen", defence="unprotected", **where)), 3),
                         dt.fmt(dt.ratio(dr.values("mse_com", defence=d, **where),
                                         dr.values("mse_com", defence="unprotected", **where)), 3)])
    return [more.header(), "Rows at -10 dB: " + main.header(), "The paper's Eve from scratch on every training "
            "sample, test SNR 20 dB.", ""] + dt.md_table(head, rows)


def wrong_key():
    """The keyed pair's utility with the right key and with a wrong one, at each nominal PSR."""
    head = ["nominal PSR (dB)", "mse_sen / unprotected, right key", "mse_sen / unprotected, wrong key",
            "mse_com / unprotected, right key", "mse_com / unprotected, wrong key"]
    rows = []
    for psr, dr in (("-10", raw("defences")), ("-5", raw("psr_defences")), ("0", raw("psr_defences"))):
        where = dict(test_snr_db=SNR, psr_db=psr)
        row = [psr]
        for metric in ("mse_sen", "mse_com"):
            base = dr.values(metric, defence="unprotected", **where)
            for column in (metric, metric + "_wrong_key"):
                row.append(dt.fmt(dt.ratio(dr.values(column, defence="keyed", **where), base), 3))
        rows.append(row)
    return [raw("psr_defences").header(), "Rows at -10 dB: " + raw("defences").header(),
            "The keyed pair at test SNR 20 dB; a wrong key is the key stream of another secret.", ""] + \
        dt.md_table(head, rows)


def offset_table():
    """Every defence with Eve's channel as good as the UE's (the main sweep) and 10 dB worse."""
    head = ["defence", "Eve's SNR - UE's (dB)", "P_c adaptive Eve", "drop against unprotected (per seed)",
            "mse_sen / unprotected", "mse_com / unprotected"]
    rows = []
    for d, label in DEFENCES:
        for offset, r, dr in (("0", raw("adaptive"), raw("defences")), ("-10", raw("offset"), raw("offset_defences"))):
            where = dict(arch="paper", start="scratch", samples=str(max(counts(r))), test_snr_db=SNR)
            pc, base = r.values("pc_eve", defence=d, **where), r.values("pc_eve", defence="unprotected", **where)
            drop = "-" if d == "unprotected" else dt.fmt([base[k] - pc[k] for k in sorted(base)], 3)
            cells = []
            for metric in ("mse_sen", "mse_com"):
                cells.append(dt.fmt(dt.ratio(dr.values(metric, defence=d, test_snr_db=SNR),
                                             dr.values(metric, defence="unprotected", test_snr_db=SNR)), 3))
            rows.append([label, offset, dt.fmt(pc.values(), 3), drop] + cells)
    return [raw("offset").header(), "Rows at 0 dB: " + raw("adaptive").header(),
            "The paper's Eve from scratch on every training sample, test SNR 20 dB (Eve's at 10 dB in the "
            "-10 dB rows), nominal PSR -10 dB.", ""] + dt.md_table(head, rows)


def defence_cost():
    """Each defence at 20 dB: the realised PSR, its utility next to the unprotected system's (the
    ratio per seed), a wrong key's utility, and the P_c of P_Eve, which never adapts."""
    r = raw("defences")
    base_sen = r.values("mse_sen", defence="unprotected", test_snr_db=SNR)
    base_com = r.values("mse_com", defence="unprotected", test_snr_db=SNR)
    head = ["defence", "realised PSR mean (dB)", "realised PSR 99th pct. (dB)", "mse_sen / unprotected",
            "mse_com / unprotected", "wrong key: mse_sen / unprotected", "wrong key: mse_com / unprotected",
            "P_c of P_Eve (not adapted)"]
    rows = []
    for d, label in DEFENCES:
        row = [label]
        for column in ("psr_real_db", "psr_p99_db"):
            row.append("-" if d == "unprotected" else dt.fmt(r.values(column, defence=d, test_snr_db=SNR).values(), 2))
        row.append(dt.fmt(dt.ratio(r.values("mse_sen", defence=d, test_snr_db=SNR), base_sen), 3))
        row.append(dt.fmt(dt.ratio(r.values("mse_com", defence=d, test_snr_db=SNR), base_com), 3))
        for column, base in (("mse_sen_wrong_key", base_sen), ("mse_com_wrong_key", base_com)):
            row.append(dt.fmt(dt.ratio(r.values(column, defence=d, test_snr_db=SNR), base), 3) if d == "keyed"
                       else "-")
        row.append(dt.fmt(r.values("pc_whitebox", defence=d, test_snr_db=SNR).values(), 3))
        rows.append(row)
    return [r.header(), "Test SNR 20 dB, nominal PSR -10 dB (projection).", ""] + dt.md_table(head, rows)


def summary_check():
    """The paired pair's row of summary.csv against defences.csv: the same evaluation twice."""
    s = raw("summary")
    head = ["", "P_c of P_Eve, plugged (summary.csv)", "P_c of the adaptive Eve of summary.csv (20 epochs, all "
            "samples)"]
    rows = [["paired ARNs, 20 dB",
             dt.fmt(s.values("pc_eve", variant="plugged", eve="whitebox", test_snr_db=SNR).values(), 3),
             dt.fmt(s.values("pc_eve", variant="plugged", eve="adaptive", test_snr_db=SNR).values(), 3)]]
    return [s.header(), ""] + dt.md_table(head, rows)


TABLES = {
    "adaptive_scratch": (PAGE, adaptive_scratch),
    "adaptive_finetune": (PAGE, adaptive_finetune),
    "adaptive_large": (PAGE, adaptive_large),
    "adaptive_drop": (PAGE, adaptive_drop),
    "adaptive_defence_cost": (PAGE, defence_cost),
    "adaptive_psr": (PAGE, psr_table),
    "adaptive_wrong_key": (PAGE, wrong_key),
    "adaptive_offset": (PAGE, offset_table),
    "adaptive_summary": (PAGE, summary_check),
}
