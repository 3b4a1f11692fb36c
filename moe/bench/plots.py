"""One figure per benchmark section, drawn from the section's tidy table."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from moe.bench.optimum import DEFAULT_METHOD

METHOD_STYLES = {  # label and colour of each method
    "mm_fixed": ("MM fixed", "#9ecae1"),
    "mm_fixed_squarem": ("MM fixed + SQUAREM", "#3182bd"),
    "mm_fixed_squarem_relaxed": ("MM fixed + SQUAREM, relaxed", "#08519c"),
    "mm_weighted": ("MM weighted", "#fdae6b"),
    "mm_weighted_squarem": ("MM weighted + SQUAREM", "#e6550d"),
    "mm_weighted_squarem_relaxed": ("MM weighted + SQUAREM, relaxed", "#a63603"),
    "mm_weighted_qn": ("MM weighted + quasi-Newton", "#fb6a4a"),
    "mm_lazy_squarem": ("MM lazy + SQUAREM", "#bcbddc"),
    "mm_lazy_squarem_relaxed": ("MM lazy + SQUAREM, relaxed", "#54278f"),
    "em": ("EM (capped L-BFGS M-steps)", "#31a354"),
    "flexmix": ("R flexmix (EM, nnet M-steps)", "#636363"),
}
METHOD_LABELS = {method: label + (" (default)" if method == DEFAULT_METHOD else "")
                 for method, (label, _) in METHOD_STYLES.items()}
METHOD_COLOURS = {method: colour for method, (_, colour) in METHOD_STYLES.items()}


def _subplots(*args, figsize, **kwargs):
    """``plt.subplots`` without pyplot: a Figure outside pyplot leaves the user's backend alone."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)


def plot_step_cost(table: pd.DataFrame, path) -> None:
    """Step time against n, log-log: one panel per (d, K), lines per curvature and M, floor dashed."""
    ds, Ks = sorted(table["d"].unique()), sorted(table["K"].unique())
    fig, axes = _subplots(len(ds), len(Ks), figsize=(4 * len(Ks), 3.2 * len(ds)),
                             squeeze=False, sharex=True)
    styles = {"fixed": "#3182bd", "weighted": "#e6550d"}
    for (i, d), (j, K) in ((a, b) for a in enumerate(ds) for b in enumerate(Ks)):
        ax = axes[i][j]
        part = table[(table["d"] == d) & (table["K"] == K)]
        for M, marker in zip(sorted(part["M"].unique()), "os^v"):
            sub = part[part["M"] == M].sort_values("n")
            for curvature, colour in styles.items():
                line = sub[sub["curvature"] == curvature]
                if len(line):
                    ax.plot(line["n"], line["step_seconds"], marker=marker, color=colour,
                            label=f"{curvature} step, M={M}")
            floor = sub.drop_duplicates("n")
            ax.plot(floor["n"], floor["floor_seconds"], marker=marker, color="black",
                    linestyle="--", label=f"matrix-product floor, M={M}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"d = {d}, K = {K}")
        ax.grid(True, which="both", alpha=0.3)
        if i == len(ds) - 1:
            ax.set_xlabel("n")
        if j == 0:
            ax.set_ylabel("seconds per MM step")
    axes[0][0].legend(fontsize=7)
    threads = table["threads"].iloc[0]
    fig.suptitle(f"Time per MM step against the two products that bound it ({threads} BLAS thread)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def plot_time_to_optimum(table: pd.DataFrame, path) -> None:
    """Relative gap to the best objective against wall time, every method and start."""
    datasets = list(dict.fromkeys(table["dataset"]))
    fig, axes = _subplots(1, len(datasets), figsize=(6.5 * len(datasets), 4.6), squeeze=False)
    for ax, dataset in zip(axes[0], datasets):
        part = table[table["dataset"] == dataset]
        best = part["best_objective"].iloc[0]
        gap_floor = 1e-12
        for method in METHOD_STYLES:
            runs = part[part["method"] == method]
            labelled = False
            for _, run in runs.groupby("start"):
                run = run.dropna(subset=["seconds", "loglik"])
                if not len(run):
                    continue
                gap = np.maximum((best - run["loglik"]) / abs(best), gap_floor)
                ax.plot(run["seconds"].clip(lower=1e-4), gap, color=METHOD_COLOURS[method],
                        alpha=0.8, linewidth=1.2, label=None if labelled else METHOD_LABELS[method])
                labelled = True
            if not labelled and len(runs):
                ax.plot([], [], color=METHOD_COLOURS[method], label=f"{METHOD_LABELS[method]}: not run")
        rel_gap = (best - part["target_objective"].iloc[0]) / abs(best)
        ax.axhline(rel_gap, color="grey", linestyle=":", label=f"target: {rel_gap:.0e} relative")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("wall time (s)")
        ax.set_ylabel("(L* - L) / |L*|")
        ax.set_title(f"{dataset}: L* = {best:.6g}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Log-likelihood against time from the same starts (one line per start)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def plot_selection_cost(table: pd.DataFrame, path) -> None:
    """Median wall time of each selection path, annotated with the K it picked."""
    runs = table.drop_duplicates(["method", "repeat"])
    medians = runs.groupby("method", sort=False)["seconds"].median()
    picks = table.groupby(["method", "criterion"], sort=False)["selected_k"].agg(
        lambda k: int(k.mode().iloc[0]))
    fig, ax = _subplots(figsize=(6.5, 3.8))
    bars = ax.bar(range(len(medians)), medians.to_numpy(), color=["#e6550d", "#3182bd"][: len(medians)])
    for bar, method in zip(bars, medians.index):
        chosen = ", ".join(f"{c.upper()}: K={k}" for (m, c), k in picks.items() if m == method)
        ax.annotate(chosen, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(medians)), medians.index)
    ax.set_ylabel("median wall time (s)")
    first = table.iloc[0]
    ax.set_title(f"Selecting K (true K = {first['K0']}, n = {first['n']}, d = {first['d']}, "
                 f"M = {first['M']}, K_bar = {first['k_bar']})", fontsize=9)
    ax.margins(y=0.15)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def plot_scale(table: pd.DataFrame, path) -> None:
    """Fit time and peak memory per dtype at scale."""
    ok = table[table["status"] == "ok"]
    fig, (left, right) = _subplots(1, 2, figsize=(8, 3.5))
    left.bar(ok["dtype"], ok["seconds"] / 60, color="#3182bd")
    left.set_ylabel("fit wall time (min)")
    right.bar(ok["dtype"], ok["peak_rss_gb"], color="#e6550d", label="peak")
    right.bar(ok["dtype"], ok["data_rss_gb"], color="#fdae6b", label="data loaded")
    right.axhline(4.0, color="grey", linestyle=":", label="4 GB target")
    right.set_ylabel("resident memory (GiB)")
    right.legend(fontsize=8)
    first = table.iloc[0]
    fig.suptitle(f"n = {first['n']:,}, d = {first['d']}, K = {first['K']}, M = {first['M']}, "
                 f"{first['threads']} BLAS threads")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


PLOTS = {
    "step_cost": plot_step_cost,
    "time_to_optimum": plot_time_to_optimum,
    "selection_cost": plot_selection_cost,
    "scale": plot_scale,
}
