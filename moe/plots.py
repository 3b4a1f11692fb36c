"""Figures of the PPI benchmark, written atomically.

Each function draws one figure file from tables the workflow already wrote;
none of them computes a result that is not also in a table. Figures are
``matplotlib.figure.Figure`` objects, outside pyplot: saving renders them with
Agg, and importing this module leaves the user's backend alone. The
dendrogram and DSC figure is :func:`moe.plots_selection.plot_dendrogram_dsc`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from moe.io import atomic_savefig
from moe.metrics import calibration_bins, expected_calibration_error

__all__ = [
    "C3_SPLITS",
    "plot_reliability",
    "plot_accuracy_vs_ece",
    "plot_fit_times",
    "plot_solver_traces",
    "plot_expert_structure",
]


#: Splits whose C3 test pairs (neither protein seen in training) get their own
#: panels. The random split tags components too, but its few C3 pairs (about
#: 0.4 % on guo_yeast) are chance leftovers, not a test of unseen proteins.
C3_SPLITS = ("protein_disjoint",)


def _figure(nrows: int, ncols: int, figsize):
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def _grid(n_panels: int, ncols: int, size=(3.2, 3.0)):
    ncols = max(1, min(ncols, n_panels))
    nrows = math.ceil(n_panels / ncols)
    fig, axes = _figure(nrows, ncols, (size[0] * ncols, size[1] * nrows))
    for ax in axes.flat[n_panels:]:
        ax.set_visible(False)
    return fig, axes.flat


def _save(fig, path) -> None:
    atomic_savefig(fig, path, dpi=150)


def _reliability_panel(ax, y, proba, n_bins, strategy, title, bold) -> None:
    bins = calibration_bins(y, proba, n_bins, strategy)
    ece = expected_calibration_error(y, proba, n_bins, strategy)
    ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--")
    ax.bar(
        bins["confidence"], bins["accuracy"] - bins["confidence"],
        bottom=bins["confidence"], width=1 / n_bins * 0.9, color="tab:red",
        alpha=0.35, label="gap",
    )
    ax.plot(bins["confidence"], bins["accuracy"], "o-", color="tab:blue", ms=3, label="accuracy")
    ax.bar(bins["confidence"], 0.25 * bins["count"] / bins["count"].max(),
           width=1 / n_bins * 0.9, color="0.3", alpha=0.4,
           label="pairs per bin (largest = 0.25)")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence", ylabel="accuracy")
    ax.set_title(f"{title}\nECE {ece:.3f}", fontsize=9, fontweight="bold" if bold else "normal")
    ax.set_aspect("equal")


def plot_reliability(
    predictions: dict, path, *, n_bins: int = 15, strategy: str = "width",
    title: str | None = None, reference: str | None = None, c3: dict | None = None,
) -> Figure:
    """Top-label reliability diagram per model, pooled over folds.

    Parameters
    ----------
    predictions : dict
        ``{model: (y, proba)}`` in panel order.
    path : path-like
    n_bins, strategy
        As for :func:`moe.metrics.calibration_bins`.
    title : str, optional
    reference : str, optional
        Model whose panel title is set in bold.
    c3 : dict, optional
        ``{model: (y, proba)}`` of the C3 test pairs only (neither protein
        seen in training; protein-disjoint split). When given and not empty,
        its panels follow those of all test pairs, starting on a new row and
        titled ``<model>, C3 (n = ...)``; models with no C3 pair get no panel.

    Returns
    -------
    matplotlib.figure.Figure
        The figure written to ``path``.
    """
    c3 = {model: arrays for model, arrays in (c3 or {}).items() if len(arrays[0])}
    ncols = max(1, min(4, len(predictions)))
    all_rows = math.ceil(len(predictions) / ncols)
    c3_rows = math.ceil(len(c3) / ncols)
    fig, axes = _figure(all_rows + c3_rows, ncols, (3.2 * ncols, 3.0 * (all_rows + c3_rows)))
    panels = [(model, arrays, model) for model, arrays in predictions.items()]
    positions = list(range(len(panels)))
    panels += [
        (model, arrays, f"{model}, C3 (n = {len(arrays[0])})") for model, arrays in c3.items()
    ]
    positions += [all_rows * ncols + i for i in range(len(c3))]
    flat = axes.flat
    for position, (model, (y, proba), label) in zip(positions, panels):
        _reliability_panel(flat[position], y, proba, n_bins, strategy, label, model == reference)
    for position in set(range(axes.size)) - set(positions):
        fig.delaxes(flat[position])  # no empty panel
    flat[0].legend(fontsize=6, loc="upper left")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path)
    return fig


def _accuracy_vs_ece_panel(ax, wide, models, ece_metric, reference, title) -> None:
    for model in models:
        acc, ece = wide.loc[(model, "accuracy")], wide.loc[(model, ece_metric)]
        marker = ax.plot(
            ece["estimate"], acc["estimate"], "*" if model == reference else "o",
            ms=10 if model == reference else 5,
        )[0]
        if "lower" in wide.columns and np.isfinite(ece["lower"]) and np.isfinite(acc["lower"]):
            style = {"color": marker.get_color(), "lw": 1}
            ax.plot([ece["lower"], ece["upper"]], [acc["estimate"]] * 2, **style)
            ax.plot([ece["estimate"]] * 2, [acc["lower"], acc["upper"]], **style)
        ax.annotate(model, (ece["estimate"], acc["estimate"]), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    ax.set(xlabel=f"{ece_metric} (lower is better)", ylabel="accuracy", title=title)
    ax.grid(alpha=0.3)


def plot_accuracy_vs_ece(
    pooled: pd.DataFrame, path, *, ece_metric: str = "ece_width", reference: str | None = None,
    components: pd.DataFrame | None = None, c3_splits=C3_SPLITS,
) -> Figure:
    """Pooled accuracy against pooled ECE per model, one panel per dataset and split.

    One row of panels per dataset. With ``components``, each dataset and split
    of ``c3_splits`` that has C3 test pairs gets one more panel: accuracy
    against ECE of the C3 pairs alone (no interval: the components table holds
    point values).

    Parameters
    ----------
    pooled : DataFrame
        Columns ``dataset, split, model, metric, estimate, lower, upper``.
    components : DataFrame, optional
        Columns ``dataset, split, model, component, metric, value`` (the
        evaluation's ``components.csv``); rows of other components are ignored.

    Returns
    -------
    matplotlib.figure.Figure
        The figure written to ``path``.
    """
    panels = []  # (dataset, title, wide table, models)
    for (dataset, split), part in pooled.groupby(["dataset", "split"], sort=False):
        models = list(dict.fromkeys(part["model"]))
        wide = part.set_index(["model", "metric"])
        panels.append((dataset, f"{dataset}, {split}", wide, models))
    if components is not None and len(components):
        c3 = components[
            (components["component"].astype(str) == "C3")
            & components["split"].isin(list(c3_splits))
        ]
        for (dataset, split), part in c3.groupby(["dataset", "split"], sort=False):
            wide = part.rename(columns={"value": "estimate"}).set_index(["model", "metric"])
            have = set(wide.index)
            models = [
                m for m in dict.fromkeys(part["model"])
                if (m, "accuracy") in have and (m, ece_metric) in have
            ]
            if models:
                panels.append((dataset, f"{dataset}, {split}: C3 pairs only", wide, models))
    datasets = list(dict.fromkeys(p[0] for p in panels))
    rows = [[p for p in panels if p[0] == d] for d in datasets]
    ncols = max((len(r) for r in rows), default=1)
    fig, axes = _figure(len(rows), ncols, (4.6 * ncols, 3.8 * len(rows)))
    for row_axes, row in zip(axes, rows):
        for ax, (_, title, wide, models) in zip(row_axes, row):
            _accuracy_vs_ece_panel(ax, wide, models, ece_metric, reference, title)
        for ax in row_axes[len(row):]:
            fig.delaxes(ax)
    fig.tight_layout()
    _save(fig, path)
    return fig


def plot_fit_times(times: pd.DataFrame, path) -> None:
    """Fit time per model and fold (log scale), one row of panels per dataset.

    Parameters
    ----------
    times : DataFrame
        Columns ``dataset, split, model, fold, fit_seconds``.
    """
    datasets = list(dict.fromkeys(times["dataset"]))
    fig, axes = _grid(len(datasets), len(datasets), size=(5.0, 0.35 * times["model"].nunique() + 1.5))
    for ax, dataset in zip(axes, datasets):
        part = times[times["dataset"] == dataset]
        order = part.groupby("model")["fit_seconds"].median().sort_values().index
        for i, model in enumerate(order):
            for j, (split, rows) in enumerate(part[part["model"] == model].groupby("split")):
                ax.scatter(rows["fit_seconds"], np.full(len(rows), i + 0.15 * (j - 0.5)),
                           s=12, color=f"C{j}", label=split if i == 0 else None)
        ax.set_yticks(range(len(order)), order)
        ax.set_xscale("log")
        ax.set(xlabel="fit time per fold (s)", title=dataset)
        ax.grid(alpha=0.3, axis="x")
        ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)


def plot_solver_traces(traces: pd.DataFrame, path) -> None:
    """MM against EM: distance to the best log-likelihood per pair, against time and iteration.

    The best is the largest value either solver reached on that dataset; the
    point reaching it is not drawn (its distance is zero).

    Parameters
    ----------
    traces : DataFrame
        Columns ``dataset, solver, iteration, seconds, mean_loglik``.
    """
    datasets = list(dict.fromkeys(traces["dataset"]))
    fig, axes = _figure(len(datasets), 2, (9, 3.2 * len(datasets)))
    for row, dataset in zip(axes, datasets):
        part = traces[traces["dataset"] == dataset]
        best = part["mean_loglik"].max()
        for solver, rows in part.groupby("solver", sort=False):
            gap = best - rows["mean_loglik"].to_numpy()
            shown = gap > 0  # the best point itself has no distance to show on a log scale
            row[0].plot(rows["seconds"][shown], gap[shown], label=solver.upper())
            row[1].plot(rows["iteration"][shown], gap[shown], label=solver.upper())
        for ax, xlabel in zip(row, ("seconds", "iteration")):
            ax.set(yscale="log", xlabel=xlabel, ylabel="best - loglik per pair",
                   title=f"{dataset}")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)


def plot_expert_structure(table: pd.DataFrame, path) -> None:
    """Gate mass and class profile of the selected experts, one row per dataset.

    Parameters
    ----------
    table : DataFrame
        Columns ``dataset, expert, gate_mass, class, probability``.
    """
    datasets = list(dict.fromkeys(table["dataset"]))
    fig, axes = _figure(len(datasets), 2, (10, 3.2 * len(datasets)))
    for row, dataset in zip(axes, datasets):
        part = table[table["dataset"] == dataset]
        mass = part.drop_duplicates("expert").set_index("expert")["gate_mass"]
        row[0].bar(mass.index.astype(str), mass.to_numpy(), color="tab:purple")
        row[0].set(xlabel="expert", ylabel="mean gate probability",
                   title=f"{dataset}: gate mass")
        profile = part.pivot(index="expert", columns="class", values="probability")
        profile = profile[list(dict.fromkeys(part["class"]))]
        bottom = np.zeros(len(profile))
        for i, name in enumerate(profile.columns):
            row[1].bar(profile.index.astype(str), profile[name], bottom=bottom,
                       color=f"C{i}", label=name)
            bottom += profile[name].to_numpy()
        row[1].set(xlabel="expert", ylabel="class probability", ylim=(0, 1),
                   title=f"{dataset}: class profile")
        row[1].legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    _save(fig, path)
