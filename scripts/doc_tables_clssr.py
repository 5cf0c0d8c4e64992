"""The CLSSR tables of docs/experiments/clssr.md (scripts/doc_tables.py runs them), from the raw files
that scripts/clssr_results.sh merges under docs/results/. Standard library only."""
import os

import doc_tables as dt

SCRIPT = "bash scripts/clssr_results.sh"
FILES = {  # name: (raw file, stage of clssr_results.sh, what the stage runs)
    "fig2": ("clssr_fig2_summary.csv", "fig2", "semsec clssr experiments/clssr_fig2.yaml seed=S"),
    "fig2_episodes": ("clssr_fig2_episodes.csv", "fig2", "semsec clssr experiments/clssr_fig2.yaml seed=S"),
    "fig2_codec": ("clssr_fig2_codec.csv", "fig2", "semsec clssr experiments/clssr_fig2.yaml seed=S"),
    "fig2_full": ("clssr_fig2_full_summary.csv", "fig2", "... rl.experience=all_actions"),
    "fig2_full_episodes": ("clssr_fig2_full_episodes.csv", "fig2", "... rl.experience=all_actions"),
    "fig3": ("clssr_fig3_summary.csv", "fig3",
             "semsec clssr experiments/clssr_fig3.yaml seed=S clssr.omega=monotone|literal"),
    "gain0": ("clssr_gain0_summary.csv", "gain0", "... experiments/clssr_fig3.yaml rl.gain_weight=0"),
    "sens": ("clssr_sens_summary.csv", "sens",
             "... experiments/clssr_fig2.yaml task.images=K task.epsilon=E"),
    "noise": ("clssr_noise_summary.csv", "noise", "... experiments/clssr_fig2.yaml codec.noise=input|constant"),
    "noise_codec": ("clssr_noise_codec.csv", "noise", "... experiments/clssr_fig2.yaml codec.noise=input|constant"),
    "eps06": ("clssr_eps06_summary.csv", "eps06",
              "... experiments/clssr_fig3.yaml task.epsilon=0.06 task.images=4 clssr.antennas=[mimo]"),
    "map": ("clssr_map_summary.csv", "map",
            "... experiments/clssr_fig3.yaml clssr.methods=[cl_ss,pl_ss] clssr.antennas=[mimo] clssr.tau=[1,5] "
            "clssr.path_loss_exponents=[2,3,4] clssr.eve1_xy=[400,450,683,183,612,-354]"),
}
TAUS = ["1", "2", "3", "4", "5"]


def raw(name):
    key = "clssr:" + name  # cached with doc_tables' raw files (its tests clear that cache)
    if key not in dt._raw_cache:
        path, stage, what = FILES[name]
        dt._raw_cache[key] = dt.Raw(os.path.join("docs/results", path), f"{SCRIPT}, stage {stage}: {what} --device cpu")
    return dt._raw_cache[key]


def cell(r, column, digits, **where):
    return dt.fmt(r.values(column, **where).values(), digits)


def both(r, digits=2, **where):
    """'CLSSR (reliability %)' of one setting."""
    return f"{cell(r, 'clssr_ksut', digits, **where)} ({cell(r, 'task_reliability', 1, **where)} %)"


def gain_pct(r, cl_where, pl_where):
    """Per-seed CLSSR gain of one setting over another (CL-SS over PL-SS) in percent, as
    'mean ± half-width': a paired comparison, seed by seed on the same codec and tasks."""
    cl, pl = r.values("clssr_ksut", **cl_where), r.values("clssr_ksut", **pl_where)
    return dt.fmt([100.0 * (v - 1.0) for v in dt.ratio(cl, pl)], 0)


def fig3_table(variant, column, digits, note):
    r = raw("fig3")
    rows = []
    for tau in TAUS:
        w = dict(variant=variant, tau=tau)
        cells = [tau] + [cell(r, column, digits, method=m, antennas=a, **w)
                         for m, a in [("cl_ss", "mimo"), ("cl_ss", "miso"), ("pl_ss", "mimo"), ("pl_ss", "miso"),
                                      ("ao", "mimo"), ("ao_stat", "mimo")]]
        if column == "clssr_ksut":
            cl = dict(method="cl_ss", antennas="mimo", **w)
            cells.append(gain_pct(r, cl, dict(method="pl_ss", antennas="mimo", **w)))
            cells.append(gain_pct(r, cl, dict(method="ao", antennas="mimo", **w)))
        rows.append(cells)
    head = ["tau", "CL-SS MIMO", "CL-SS MISO", "PL-SS MIMO", "PL-SS MISO", "AO oracle (MIMO)", "AO stat. CSI (MIMO)"]
    if column == "clssr_ksut":
        head += ["CL-SS over PL-SS, MIMO (%)", "CL-SS over AO oracle, MIMO (%)"]
    return [r.header() + " " + note, ""] + dt.md_table(head, rows)


def clssr_fig3():
    return fig3_table("monotone", "clssr_ksut", 2, "CLSSR in ksut/s (eq. 8), eq. 7 read monotone (the default).")


def clssr_fig3_reliability():
    return fig3_table("monotone", "task_reliability", 1, "Task reliability in % (eq. 14), eq. 7 read monotone.")


def clssr_fig3_literal():
    return fig3_table("literal", "clssr_ksut", 2, "CLSSR in ksut/s, eq. 7 read literally (policies, AO and "
                                                  "timeliness all use the literal reading).")


def clssr_fig2():
    rows = []
    for label, summary, episodes, variant in [("on-policy (default)", "fig2", "fig2_episodes", "on_policy"),
                                              ("full information (ablation)", "fig2_full", "fig2_full_episodes",
                                               "all_actions")]:
        s, e = raw(summary), raw(episodes)
        for method in ["cl_ss", "pl_ss"]:
            cells = [label, method.replace("_", "-").upper()]
            cells += [cell(e, "task_reliability", 1, variant=variant, method=method, episode=ep)
                      for ep in ["0", "10", "30", "100"]]
            cells += [cell(e, "clssr_ksut", 2, variant=variant, method=method, episode=ep) for ep in ["0", "100"]]
            cells += [cell(s, c, 0, variant=variant, method=method) for c in ["converged_clssr", "converged_reliability"]]
            cells += [dt.fmt(settled(e, variant, method, "clssr_ksut", 0.10, relative=True), 0),
                      dt.fmt(settled(e, variant, method, "task_reliability", 5.0, relative=False), 0)]
            rows.append(cells)
    head = ["experience", "method", "reliability ep. 0 (%)", "ep. 10", "ep. 30", "ep. 100", "CLSSR ep. 0 (ksut/s)",
            "ep. 100", "converged: CLSSR, 2 % (ep.)", "reliability, 2 points", "CLSSR, 10 %", "reliability, 5 points"]
    return [raw("fig2_episodes").header(), raw("fig2_full_episodes").header(),
            "tau = 2, MIMO; episode 0 is the untrained (uniformly random) policy. Converged = the first episode from "
            "which the score stays within a band around its final value: rl.converge_tol = 0.02 as semsec clssr "
            "reports it (2 % of the final CLSSR, 2 points of reliability), and a looser band (10 %, 5 points) "
            "computed here from the same episode rows.", ""] + dt.md_table(head, rows)


def settled(r, variant, method, column, tol, relative):
    """Per seed, the first episode from which `column` stays within tol (x the final value when
    relative) of its final value: the rule of trainers/clssr/agent.h, on the episode rows."""
    out = []
    for seed in r.seeds():
        series = sorted((int(x["episode"]), float(x[column])) for x in r.rows
                        if x["variant"] == variant and x["method"] == method and x["seed"] == str(seed))
        last = series[-1][1]
        band = tol * abs(last) if relative else tol
        e = len(series) - 1
        while e > 0 and abs(series[e - 1][1] - last) <= band:
            e -= 1
        out.append(float(series[e][0]))
    return out


def clssr_gain0():
    base, g0 = raw("fig3"), raw("gain0")
    rows = []
    for tau in TAUS:
        w = dict(tau=tau, antennas="mimo")
        rows.append([tau, both(base, variant="monotone", method="cl_ss", **w),
                     both(g0, variant="gain_weight_0", method="cl_ss", **w),
                     both(base, variant="monotone", method="pl_ss", **w),
                     both(g0, variant="gain_weight_0", method="pl_ss", **w),
                     both(base, variant="monotone", method="ao", **w),
                     both(base, variant="monotone", method="ao_stat", **w)])
    head = ["tau", "CL-SS, gain_weight 1", "CL-SS, gain_weight 0", "PL-SS, gain_weight 1", "PL-SS, gain_weight 0",
            "AO oracle", "AO stat. CSI"]
    return [base.header(), g0.header(), "MIMO, eq. 7 monotone; CLSSR in ksut/s (task reliability).", ""] + \
        dt.md_table(head, rows)


def clssr_eps06():
    r = raw("eps06")
    rows = []
    for tau in TAUS:
        w = dict(variant="eps0.06_K4", tau=tau, antennas="mimo")
        rows.append([tau] + [both(r, method=m, **w) for m in ["cl_ss", "pl_ss", "ao", "ao_stat"]])
    head = ["tau", "CL-SS (RL)", "PL-SS (RL)", "AO oracle", "AO stat. CSI"]
    return [r.header() + " MIMO, epsilon = 0.06, K = 4 images per task, eq. 7 monotone; CLSSR in ksut/s "
            "(task reliability).", ""] + dt.md_table(head, rows)


def clssr_sens():
    r = raw("sens")
    rows = []
    for k in ["1", "4"]:
        for eps in ["0.01", "0.03", "0.06"]:
            w = dict(variant=f"K{k}_eps{eps}")
            rows.append([k, eps, both(r, method="cl_ss", **w), both(r, method="pl_ss", **w),
                         gain_pct(r, dict(method="cl_ss", **w), dict(method="pl_ss", **w)),
                         dt.fmt([100 * v for v in r.values("eve_image_leak_rate", method="cl_ss", **w).values()], 1)])
    head = ["K", "epsilon", "CL-SS: CLSSR (reliability)", "PL-SS: CLSSR (reliability)", "CL-SS over PL-SS (%)",
            "tasks with an image Eve gets below epsilon (CL-SS, %)"]
    return [r.header() + " tau = 2, MIMO, eq. 7 monotone, on-policy learning, 100 episodes.", ""] + \
        dt.md_table(head, rows)


def clssr_noise():
    r = raw("noise")
    rows = []
    for eps in ["0.01", "0.06"]:
        for noise in ["constant", "input"]:
            w = dict(variant=f"{noise}_eps{eps}")
            rows.append([noise, eps, both(r, method="cl_ss", **w), both(r, method="pl_ss", **w),
                         dt.fmt([100 * v for v in r.values("eve_image_leak_rate", method="cl_ss", **w).values()], 1)])
    head = ["semantic noise", "epsilon", "CL-SS: CLSSR (reliability)", "PL-SS: CLSSR (reliability)",
            "tasks with an image Eve gets below epsilon (CL-SS, %)"]
    return [r.header() + " tau = 2, MIMO, K = 1, eq. 7 monotone.", ""] + dt.md_table(head, rows)


def clssr_noise_codec():
    r = raw("noise_codec")
    rows = []
    for b in ["2", "3", "4", "5", "6"]:
        cells = [b]
        for c, digits, scale in [("mse_user_aware_mean", 4, 1), ("mse_user_aware_p99", 3, 1), ("mse_eve_mean", 3, 1),
                                 ("mse_eve_p1", 3, 1), ("eve_not_above_user", 2, 100)]:
            for noise in ["constant", "input"]:
                cells.append(dt.fmt([scale * v for v in r.values(c, variant=noise, b=b).values()], digits))
        rows.append(cells)
    head = ["b"] + [f"{c}, {n}" for c in ["user MSE", "user p99", "Eve MSE", "Eve p1", "Eve <= user (% of images)"]
                    for n in ["constant", "input"]]
    return [r.header() + " Per-image MSE on the 10 000 test images.", ""] + dt.md_table(head, rows)


def clssr_map():
    r = raw("map")
    eves = [("400", "450"), ("683", "183"), ("612", "-354")]
    rows = []
    for eta in ["2", "3", "4"]:
        cells = [eta]
        for tau in ["1", "5"]:
            for x, y in eves:
                w = dict(tau=tau, path_loss_exponent=eta, eve1_x=x, eve1_y=y)
                cells.append(gain_pct(r, dict(method="cl_ss", **w), dict(method="pl_ss", **w)))
        rows.append(cells)
    head = ["eta"] + [f"tau {tau}, Eve 1 at ({x}, {y})" for tau in ["1", "5"] for x, y in eves]
    return [r.header() + " CLSSR gain of CL-SS over PL-SS in % (MIMO, eq. 7 monotone); the paper reports +85 % "
            "at tau = 1 and +295 % at tau = 5.", ""] + dt.md_table(head, rows)


def clssr_codec():
    r = raw("fig2_codec")
    rows = []
    for b in ["2", "3", "4", "5", "6"]:
        cells = [b]
        for c, digits, scale in [("mse_user_plain_mean", 4, 1), ("mse_user_aware_mean", 4, 1),
                                 ("mse_user_aware_p99", 3, 1), ("mse_eve_mean", 3, 1), ("mse_eve_p1", 3, 1),
                                 ("user_below_eps", 1, 100), ("eve_at_or_above_eps", 1, 100),
                                 ("eve_not_above_user", 2, 100)]:
            cells.append(dt.fmt([scale * v for v in r.values(c, b=b).values()], digits))
        rows.append(cells)
    head = ["b", "user, no noise", "user, noise-aware", "user p99", "Eve mean", "Eve p1", "G_u < 0.01 (%)",
            "G_e >= 0.01 (%)", "Eve <= user (% of images)"]
    return [r.header() + " Per-image MSE on the 10 000 test images.", ""] + dt.md_table(head, rows)


PAGE = "docs/experiments/clssr.md"
TABLES = {name: (PAGE, fn) for name, fn in [
    ("clssr_fig2", clssr_fig2), ("clssr_fig3", clssr_fig3), ("clssr_fig3_reliability", clssr_fig3_reliability),
    ("clssr_fig3_literal", clssr_fig3_literal), ("clssr_gain0", clssr_gain0), ("clssr_eps06", clssr_eps06), ("clssr_sens", clssr_sens),
    ("clssr_noise", clssr_noise), ("clssr_noise_codec", clssr_noise_codec), ("clssr_map", clssr_map),
    ("clssr_codec", clssr_codec)]}
