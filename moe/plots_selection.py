"""Figures for the selection of the number of experts and the synthetic study.

Built on ``matplotlib.figure.Figure`` (no pyplot state, no backend switch), saved through a
temporary file so a failed draw leaves no partial output. :func:`plot_dendrogram_dsc` is the one
dendrogram and DSC figure, of the workflow and of a fitted ``MixingDendrogram`` alike.
"""

from __future__ import annotations

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from scipy.cluster.hierarchy import dendrogram as scipy_dendrogram

from moe.io import atomic_savefig
from moe.simulate import loglog_slope


def plot_dendrogram(dendrogram, ax=None):
    """Draw the dendrogram of mixing measures; returns the Axes.

    ``dendrogram`` is a fitted ``MixingDendrogram`` or its SciPy linkage
    matrix. Leaves are labelled with the over-fitted model's expert index k;
    the axis is the merge height.
    """
    ax = ax if ax is not None else Figure(figsize=(6, 4)).add_subplot()
    linkage = np.asarray(getattr(dendrogram, "linkage_", dendrogram), dtype=float)
    K_bar = linkage.shape[0] + 1
    scipy_dendrogram(linkage, ax=ax, labels=[str(k) for k in range(K_bar)],
                     color_threshold=0, above_threshold_color="C0")
    ax.set_xlabel("expert of the over-fitted model")
    ax.set_ylabel("merge height")
    title = "dendrogram of mixing measures"
    if hasattr(dendrogram, "variant"):
        title += f" ({_variant_label(dendrogram)})"
    ax.set_title(title)
    return ax


def plot_dsc(table, selected_k=None, ax=None, *, sweep=None, criterion="bic"):
    """Draw the score curve of a ``dsc_table_`` (columns ``n_experts, dsc``; ``criterion``, when
    present, names the score), the chosen K marked.

    ``sweep`` (columns ``n_experts`` and ``criterion``), when given, is drawn for
    comparison: on the same axis when it is the same criterion as the curve's,
    else on a twin axis. Returns the curve's Axes.
    """
    ax = ax if ax is not None else Figure(figsize=(6, 4)).add_subplot()
    table = table.sort_values("n_experts")
    # the ``dsc`` column holds the variant's score; ``criterion`` names it (tables written
    # before it existed hold the DSC)
    name = str(table["criterion"].iloc[0]).upper() if "criterion" in table else "DSC"
    # the curve needs a legend entry only beside the criterion's
    ax.plot(table["n_experts"], table["dsc"], "o-", color="C0",
            label=name if sweep is not None else None)
    if selected_k is not None:
        row = table[table["n_experts"] == selected_k]
        ax.plot(row["n_experts"], row["dsc"], "o", ms=12, mfc="none", mec="C3",
                label=f"selected K = {selected_k}")
    ax.set_xlabel("number of experts")
    ax.set_ylabel(f"{name} of the dendrogram levels (smaller is better)")
    ax.set_xticks(table["n_experts"])
    handles, labels = ax.get_legend_handles_labels()
    if sweep is not None:
        same = criterion.upper() == name
        sweep_ax = ax if same else ax.twinx()
        s = sweep.sort_values("n_experts")
        sweep_ax.plot(s["n_experts"], s[criterion], "s--", color="C2", ms=4,
                      label=f"{criterion.upper()} sweep")
        if same:
            ax.set_ylabel(f"{name} (smaller is better)")
            handles, labels = ax.get_legend_handles_labels()
        else:
            sweep_ax.set_ylabel(criterion.upper())
            more_handles, more_labels = sweep_ax.get_legend_handles_labels()
            handles, labels = handles + more_handles, labels + more_labels
    if handles:
        ax.legend(handles, labels, fontsize="small")
    return ax


def plot_dendrogram_dsc(
    dendrogram, dsc_table, selected_k, path, *, sweep=None, criterion="bic", title=None
) -> None:
    """The dendrogram and the whole DSC curve side by side, to ``path``.

    Parameters
    ----------
    dendrogram : MixingDendrogram or array-like
        The fitted tree, or its SciPy linkage matrix.
    dsc_table : DataFrame
        Columns ``n_experts, dsc`` (and others).
    selected_k : int
        K chosen by the DSC, marked on the curve.
    sweep, criterion
        As for :func:`plot_dsc`.
    title : str, optional
    """
    fig = Figure(figsize=(11, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    plot_dendrogram(dendrogram, left)
    plot_dsc(dsc_table, selected_k, right, sweep=sweep, criterion=criterion)
    if title:
        fig.suptitle(title)
    atomic_savefig(fig, path, dpi=120)


def plot_selection_summary(dendrogram, X, y, path) -> None:
    """:func:`plot_dendrogram_dsc` of a ``MixingDendrogram`` and its selection on (X, y)."""
    if not hasattr(dendrogram, "dsc_table_"):
        dendrogram.select(X, y)
    plot_dendrogram_dsc(dendrogram, dendrogram.dsc_table_, dendrogram.selected_k_, path)


def _variant_label(dendrogram):
    return dendrogram.variant if isinstance(dendrogram.variant, str) else "custom variant"


# ---------------------------------------------------------------------------- synthetic study
def _recovery_panels(panels, path, colour=None) -> None:
    """Columns of two panels against n: the share of replicates selecting K0 (top) and the
    mean selected number of experts (bottom, K0 drawn). ``panels`` is a list of ``(title, K0,
    lines)``, ``lines`` of ``(label, line style, frame with n, share, mean_k)``; ``colour``
    maps a label to its colour (default: matplotlib's cycle)."""
    fig = Figure(figsize=(5 * len(panels) + 3, 8), layout="constrained")
    axes = fig.subplots(2, len(panels), sharex=True, squeeze=False)
    for col, (title, K0, lines) in enumerate(panels):
        for label, style, g in lines:
            extra = {"color": colour[label]} if colour else {}
            axes[0, col].plot(g["n"], g["share"], style, marker="o", label=label, **extra)
            axes[1, col].plot(g["n"], g["mean_k"], style, marker="o", label=label, **extra)
        axes[1, col].axhline(K0, color="k", lw=0.8)
        axes[0, col].set_title(title)
        axes[0, col].set_ylim(-0.05, 1.05)
        axes[1, col].set_xscale("log")
        axes[1, col].set_xlabel("n")
    axes[0, 0].set_ylabel("share of replicates selecting K0")
    axes[1, 0].set_ylabel("mean selected number of experts")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize="x-small", loc="outside right center")
    atomic_savefig(fig, path, dpi=120)


def _recovery(table, by):
    """share (of correct) and mean_k per ``by`` and n."""
    return table.groupby([*by, "n"]).agg(
        share=("correct", "mean"), mean_k=("selected_k", "mean")).reset_index()


def plot_selection_experiment(table, path) -> None:
    """Per setting (columns): the share of replicates selecting K0 (top) and the mean selected
    number of experts (bottom) against n, one line per method (and ridge alpha)."""
    panels = []
    for setting in dict.fromkeys(table["setting"]):
        sub = table[table["setting"] == setting]
        lines = [
            (method if alpha == 0 else f"{method} (ridge {alpha:g})",
             "--" if method.startswith("dsc:") else "-", g)
            for (method, alpha), g in _recovery(sub, ["method", "alpha"]).groupby(["method", "alpha"])
        ]
        K0 = sub["K0"].iloc[0]
        panels.append((f"{setting} (K0 = {K0})", K0, lines))
    _recovery_panels(panels, path)


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


def plot_split_copies_experiment(table, path) -> None:
    """Per K0 (columns): the share of replicates selecting K0 (top) and the mean selected
    number of experts (bottom) against n, one line per DSC variant, when the over-fitted model
    is the truth split into exact copies."""
    methods = list(dict.fromkeys(table["method"]))
    # one colour per method in every panel; the paper scale has more than ten variants
    palette = colormaps["tab20" if len(methods) > 10 else "tab10"].colors
    colour = {method: palette[i % len(palette)] for i, method in enumerate(methods)}
    panels = []
    for K0 in sorted(table["K0"].unique()):
        summary = _recovery(table[table["K0"] == K0], ["method"])
        lines = [(m, "--", summary[summary["method"] == m]) for m in methods]
        panels.append((f"split copies, K0 = {K0}", K0, lines))
    _recovery_panels(panels, path, colour)


EXPERIMENT_PLOTS = {
    "selection": plot_selection_experiment,
    "voronoi": plot_voronoi_experiment,
    "optimisation": plot_optimisation_experiment,
    "selection_cost": plot_selection_cost_experiment,
    "split_copies": plot_split_copies_experiment,
}
