"""Figures for the selection of the number of experts and the synthetic study.

Built on ``matplotlib.figure.Figure`` (no pyplot state), saved through a temporary file so a
failed draw leaves no partial output.
"""

from __future__ import annotations


import numpy as np
from matplotlib.figure import Figure
from scipy.cluster.hierarchy import dendrogram as scipy_dendrogram

from moe.io import atomic_savefig
from moe.simulate import loglog_slope


def plot_dendrogram(dendrogram, ax=None):
    """Draw a ``MixingDendrogram``: leaves are the fitted experts, the axis the merge heights.

    Returns the Axes. Leaves are labelled ``expert k`` with the fitted model's expert index.
    """
    ax = ax if ax is not None else Figure(figsize=(6, 4)).add_subplot()
    K_bar = dendrogram.linkage_.shape[0] + 1
    scipy_dendrogram(dendrogram.linkage_, ax=ax, labels=[f"expert {k}" for k in range(K_bar)],
                     color_threshold=0, above_threshold_color="C0")
    ax.set_ylabel("merge height")
    ax.set_title(f"dendrogram of mixing measures ({_variant_label(dendrogram)})")
    return ax


def plot_dsc(table, selected_k=None, ax=None):
    """Draw the DSC curve of a ``MixingDendrogram.dsc`` table, the chosen K marked."""
    ax = ax if ax is not None else Figure(figsize=(6, 4)).add_subplot()
    ax.plot(table["n_experts"], table["dsc"], "o-", color="C0")
    if selected_k is not None:
        row = table[table["n_experts"] == selected_k]
        ax.plot(row["n_experts"], row["dsc"], "o", ms=12, mfc="none", mec="C3",
                label=f"selected K = {selected_k}")
        ax.legend()
    ax.set_xlabel("number of experts")
    ax.set_ylabel("DSC (smaller is better)")
    ax.set_xticks(table["n_experts"])
    return ax


def plot_selection_summary(dendrogram, X, y, path) -> None:
    """The dendrogram and the DSC curve of ``dendrogram.select(X, y)`` side by side, to ``path``."""
    if not hasattr(dendrogram, "dsc_table_"):
        dendrogram.select(X, y)
    fig = Figure(figsize=(11, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    plot_dendrogram(dendrogram, left)
    plot_dsc(dendrogram.dsc_table_, dendrogram.selected_k_, right)
    atomic_savefig(fig, path, dpi=120)


def _variant_label(dendrogram):
    return dendrogram.variant if isinstance(dendrogram.variant, str) else "custom variant"


# ---------------------------------------------------------------------------- synthetic study
def plot_selection_experiment(table, path) -> None:
    """Per setting (columns): the share of replicates selecting K0 (top) and the mean selected
    number of experts (bottom) against n, one line per method (and ridge alpha)."""
    settings = list(dict.fromkeys(table["setting"]))
    fig = Figure(figsize=(5 * len(settings) + 3, 8), layout="constrained")
    axes = fig.subplots(2, len(settings), sharex=True, squeeze=False)
    for col, setting in enumerate(settings):
        sub = table[table["setting"] == setting]
        summary = sub.groupby(["method", "alpha", "n"]).agg(
            share=("correct", "mean"), mean_k=("selected_k", "mean")).reset_index()
        for (method, alpha), g in summary.groupby(["method", "alpha"]):
            label = method if alpha == 0 else f"{method} (ridge {alpha:g})"
            style = "--" if method.startswith("dsc:") else "-"
            axes[0, col].plot(g["n"], g["share"], style, marker="o", label=label)
            axes[1, col].plot(g["n"], g["mean_k"], style, marker="o", label=label)
        K0 = sub["K0"].iloc[0]
        axes[1, col].axhline(K0, color="k", lw=0.8)
        axes[0, col].set_title(f"{setting} (K0 = {K0})")
        axes[0, col].set_ylim(-0.05, 1.05)
        axes[1, col].set_xscale("log")
        axes[1, col].set_xlabel("n")
    axes[0, 0].set_ylabel("share of replicates selecting K0")
    axes[1, 0].set_ylabel("mean selected number of experts")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize="x-small", loc="outside right center")
    atomic_savefig(fig, path, dpi=120)


def plot_voronoi_experiment(table, path) -> None:
    """Voronoi loss against n on log-log axes, with the fitted slope per fit."""
    slopes = loglog_slope(table)
    fig = Figure(figsize=(6, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for fit, g in table.groupby("fit"):
        med = g.groupby("n")["loss"].median()
        ax.plot(med.index, med.values, "o-", label=f"{fit} (slope {slopes[fit]:.2f})")
        ax.scatter(g["n"], g["loss"], s=8, alpha=0.4)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n")
    ax.set_ylabel("Voronoi loss to the truth")
    ax.legend(fontsize="small")
    atomic_savefig(fig, path, dpi=120)


def plot_optimisation_experiment(table, path) -> None:
    """Log-likelihood against iteration and against wall time, one line per solver."""
    fig = Figure(figsize=(11, 4.5), layout="constrained")
    by_iter, by_time = fig.subplots(1, 2, sharey=True)
    best = table["mean_loglik"].max()
    for solver, g in table.groupby("solver", sort=False):
        gap = np.maximum(best - g["mean_loglik"], 1e-12)
        by_iter.plot(g["iteration"], gap, label=solver)
        by_time.plot(g["seconds"], gap, label=solver)
    for ax, xlabel in [(by_iter, "accepted step"), (by_time, "seconds")]:
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
    by_iter.set_ylabel("best mean log-likelihood minus the solver's")
    by_time.legend()
    atomic_savefig(fig, path, dpi=120)


def plot_selection_cost_experiment(table, path) -> None:
    """Seconds of one over-fitted fit plus the dendrogram against the sweep, against n."""
    fig = Figure(figsize=(6, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for procedure, g in table.groupby("procedure"):
        med = g.groupby("n")["seconds"].median()
        ax.plot(med.index, med.values, "o-", label=procedure)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n")
    ax.set_ylabel("wall time (s)")
    ax.legend()
    atomic_savefig(fig, path, dpi=120)


EXPERIMENT_PLOTS = {
    "selection": plot_selection_experiment,
    "voronoi": plot_voronoi_experiment,
    "optimisation": plot_optimisation_experiment,
    "selection_cost": plot_selection_cost_experiment,
}
