"""Fit benchmark models fold by fold, score them, and summarise honestly.

The pieces, in workflow order:

1. :func:`fit_fold` fits one model on one fold's training part (preprocessing
   included, see :mod:`moe.baselines`) and returns the test part's
   probabilities as a *prediction table* with columns ``pair_index, fold,
   component, y, proba_0 .. proba_{C-1}``.
2. :func:`fold_metrics` scores each fold; :func:`pooled_evaluation` pools the
   out-of-fold predictions (the test parts partition the pairs) and gives
   bootstrap intervals; :func:`paired_evaluation` compares a model with the
   reference model on the same resamples; :func:`component_metrics` scores the
   pooled predictions per Park-Marcotte component (C1/C2/C3).
3. :func:`summarize` joins the fold means, the pooled intervals and the paired
   differences into one long table; :func:`summary_markdown` and
   :func:`summary_latex` render it, and the Markdown says in plain words where
   the reference (our method) loses.

Two helpers describe fits on a whole dataset for the figures:
:func:`expert_structure` (gate mass and class profile per expert) and
:func:`solver_traces` (MM against EM from one common start).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from moe import metrics as M
from moe.baselines import build_model, describe_fit, model_inputs

__all__ = [
    "KEYS",
    "proba_columns",
    "align_proba",
    "FoldFit",
    "fit_fold",
    "prediction_arrays",
    "fold_metrics",
    "component_metrics",
    "pooled_evaluation",
    "paired_evaluation",
    "summarize",
    "losses",
    "summary_markdown",
    "summary_latex",
    "expert_structure",
    "solver_traces",
    "stratified_subset",
    "runtime_summary",
]

#: identifying columns of every long table
KEYS = ["dataset", "split", "model"]

_HEADLINE = ["accuracy", "macro_f1", "roc_auc", "log_loss", "brier", "ece_width"]
_LABELS = {
    "accuracy": "Accuracy",
    "macro_f1": "Macro-F1",
    "roc_auc": "ROC-AUC",
    "log_loss": "Log-loss",
    "brier": "Brier",
    "ece_width": "ECE (width)",
    "ece_mass": "ECE (mass)",
    "mce": "MCE",
    "classwise_ece": "Class-wise ECE",
}


def proba_columns(n_classes: int) -> list[str]:
    """Names of the probability columns of a prediction table."""
    return [f"proba_{c}" for c in range(n_classes)]


def align_proba(proba, fitted_classes, n_classes: int) -> np.ndarray:
    """Place the columns of ``proba`` at their labels in ``0..n_classes-1``.

    A class absent from a training part has no column in the model's output;
    it gets probability 0.

    Raises
    ------
    ValueError
        If a fitted class is not an integer label below ``n_classes``.
    """
    proba = np.asarray(proba, dtype=np.float64)
    fitted_classes = np.asarray(fitted_classes)
    if proba.shape[1] != fitted_classes.size:
        raise ValueError(
            f"proba has {proba.shape[1]} columns for {fitted_classes.size} fitted classes"
        )
    if not np.issubdtype(fitted_classes.dtype, np.integer) or (
        fitted_classes.min() < 0 or fitted_classes.max() >= n_classes
    ):
        raise ValueError(
            f"fitted classes {fitted_classes.tolist()} are not labels in 0..{n_classes - 1}"
        )
    out = np.zeros((proba.shape[0], n_classes))
    out[:, fitted_classes] = proba
    return out


@dataclass
class FoldFit:
    """What one fold's fit produced.

    Attributes
    ----------
    predictions : DataFrame
        The prediction table of the test part.
    fit_seconds, predict_seconds : float
        Wall-clock time of ``fit`` and ``predict_proba``.
    details : dict
        :func:`moe.baselines.describe_fit` of the fitted model.
    estimator : object
        The fitted estimator.
    """

    predictions: pd.DataFrame
    fit_seconds: float
    predict_seconds: float
    details: dict = field(default_factory=dict)
    estimator: object = None


def fit_fold(
    name: str,
    settings: dict,
    features: pd.DataFrame | None,
    pairs: pd.DataFrame,
    fold,
    fold_index: int,
    n_classes: int,
    *,
    pca_dim: int = 32,
    random_state: int | None = 0,
    n_threads: int | None = 1,
) -> FoldFit:
    """Fit model ``name`` on ``fold.train`` and predict ``fold.test``.

    Parameters
    ----------
    name, settings
        As for :func:`moe.baselines.build_model`.
    features : DataFrame or None
        One row per pair (row ``i`` is pair ``i``); unused by models that take
        protein ids, which may pass None.
    pairs : DataFrame
        Columns ``protein_a, protein_b, label``; ``label`` holds ``0..C-1``.
    fold : moe.ppi.splits.Fold
    fold_index : int
    n_classes : int
    pca_dim, random_state, n_threads
        As for :func:`moe.baselines.build_model`; ``n_threads`` also caps the
        BLAS and OpenMP pools during fit and predict.

    Returns
    -------
    FoldFit
    """
    if model_inputs(name) == "proteins":
        inputs = pairs[["protein_a", "protein_b"]].reset_index(drop=True)
    else:
        if features is None:
            raise ValueError(f"model {name!r} needs the feature matrix; got None")
        if len(features) != len(pairs):
            raise ValueError(
                f"features has {len(features)} rows but pairs has {len(pairs)}"
            )
        inputs = features
    y = pairs["label"].to_numpy()
    estimator = build_model(
        name, settings, pca_dim=pca_dim, random_state=random_state, n_threads=n_threads
    )
    with threadpool_limits(limits=n_threads):
        start = time.perf_counter()
        estimator.fit(inputs.iloc[fold.train], y[fold.train])
        fitted = time.perf_counter()
        raw = estimator.predict_proba(inputs.iloc[fold.test])
        predicted = time.perf_counter()
    proba = align_proba(raw, estimator.classes_, n_classes)
    if not np.all(np.isfinite(proba)):
        raise FloatingPointError(f"model {name!r} predicted non-finite probabilities")
    component = fold.component if fold.component is not None else np.full(len(fold.test), "")
    table = pd.DataFrame(
        {
            "pair_index": fold.test,
            "fold": fold_index,
            "component": component,
            "y": y[fold.test],
        }
    )
    table[proba_columns(n_classes)] = proba
    return FoldFit(
        predictions=table,
        fit_seconds=fitted - start,
        predict_seconds=predicted - fitted,
        details=describe_fit(estimator),
        estimator=estimator,
    )


def prediction_arrays(predictions: pd.DataFrame, n_classes: int):
    """``(y, proba)`` of a prediction table, with the rows renormalised.

    Renormalising removes the rounding of CSV storage (rows off by ~1e-16).
    """
    proba = predictions[proba_columns(n_classes)].to_numpy(dtype=np.float64)
    proba = proba / proba.sum(axis=1, keepdims=True)
    return predictions["y"].to_numpy(dtype=np.int64), proba


def fold_metrics(predictions: pd.DataFrame, classes, n_bins: int = 15) -> pd.DataFrame:
    """Every metric per fold.

    Returns
    -------
    DataFrame
        Columns ``fold, metric, value``.
    """
    rows = []
    for fold, part in predictions.groupby("fold", sort=True):
        y, proba = prediction_arrays(part, len(classes))
        for metric, value in M.all_metrics(y, proba, classes, n_bins).items():
            rows.append({"fold": int(fold), "metric": metric, "value": value})
    return pd.DataFrame(rows, columns=["fold", "metric", "value"])


def component_metrics(predictions: pd.DataFrame, classes, n_bins: int = 15) -> pd.DataFrame:
    """Every metric on the pooled predictions of each component (C1, C2, C3).

    A component whose pairs hold fewer than two classes cannot be scored
    (ROC-AUC is undefined); it is returned in ``unscored`` so that callers
    report it rather than drop it silently.

    Returns
    -------
    table : DataFrame
        Columns ``component, n_pairs, metric, value``.
    unscored : list of str
        Components present but not scorable.
    """
    rows, unscored = [], []
    for component, part in predictions.groupby("component", sort=True):
        if component == "":
            continue
        y, proba = prediction_arrays(part, len(classes))
        if np.unique(y).size < 2:
            unscored.append(component)
            continue
        for metric, value in M.all_metrics(y, proba, classes, n_bins).items():
            rows.append(
                {"component": component, "n_pairs": len(part), "metric": metric, "value": value}
            )
    return pd.DataFrame(rows, columns=["component", "n_pairs", "metric", "value"]), unscored


def _pooled(predictions: pd.DataFrame) -> pd.DataFrame:
    """Pooled out-of-fold predictions in pair order (one row per pair)."""
    pooled = predictions.sort_values("pair_index", kind="stable").reset_index(drop=True)
    if pooled["pair_index"].duplicated().any():
        raise ValueError("a pair is predicted in more than one fold; test parts must partition")
    return pooled


def pooled_evaluation(
    predictions: pd.DataFrame, classes, n_resamples: int = 1000, level: float = 0.95,
    seed: int = 0, n_bins: int = 15,
):
    """Metrics of the pooled out-of-fold predictions with bootstrap intervals.

    Returns
    -------
    table : DataFrame
        Columns ``metric, estimate, lower, upper``.
    replicates : DataFrame
        One row per resample, one column per metric; feed it to
        :func:`paired_evaluation`.
    """
    y, proba = prediction_arrays(_pooled(predictions), len(classes))
    estimate = M.all_metrics(y, proba, classes, n_bins)
    replicates = M.bootstrap_replicates(y, proba, classes, n_resamples, seed, n_bins)
    table = M.percentile_interval(replicates, level)
    table.insert(1, "estimate", [estimate[m] for m in table["metric"]])
    return table, replicates


def paired_evaluation(
    predictions: pd.DataFrame,
    reference_predictions: pd.DataFrame,
    replicates: pd.DataFrame,
    reference_replicates: pd.DataFrame,
    classes,
    level: float = 0.95,
    n_bins: int = 15,
) -> pd.DataFrame:
    """Paired bootstrap differences ``model - reference`` on the pooled predictions.

    Both replicate tables must come from :func:`pooled_evaluation` with the same
    seed and resample count; the pooled pairs and labels must agree.

    Returns
    -------
    DataFrame
        Columns ``metric, difference, lower, upper, better``.
    """
    ours, theirs = _pooled(predictions), _pooled(reference_predictions)
    if not np.array_equal(ours["pair_index"], theirs["pair_index"]) or not np.array_equal(
        ours["y"], theirs["y"]
    ):
        raise ValueError("model and reference predictions cover different pairs or labels")
    y, proba = prediction_arrays(ours, len(classes))
    _, reference_proba = prediction_arrays(theirs, len(classes))
    return M.paired_difference(
        replicates,
        reference_replicates,
        M.all_metrics(y, proba, classes, n_bins),
        M.all_metrics(y, reference_proba, classes, n_bins),
        level,
    )


def summarize(
    metrics: pd.DataFrame, pooled: pd.DataFrame, paired: pd.DataFrame, reference: str
) -> pd.DataFrame:
    """One row per dataset, split, model and metric.

    Parameters
    ----------
    metrics : DataFrame
        The long per-fold table: ``dataset, split, model, fold, metric, value``.
    pooled : DataFrame
        ``dataset, split, model, metric, estimate, lower, upper``.
    paired : DataFrame
        ``dataset, split, model, metric, difference, lower, upper, better`` for
        every model but the reference.
    reference : str
        The model the differences are taken against.

    Returns
    -------
    DataFrame
        Columns ``dataset, split, model, metric, n_folds, mean, sd, pooled,
        lower, upper, diff, diff_lower, diff_upper, p_better, verdict``.
        ``verdict`` reads from the reference's side: ``"reference better"``,
        ``"reference worse"`` (the 95% interval of the difference excludes 0) or
        ``"no clear difference"``; empty for the reference itself.
    """
    by_fold = (
        metrics.groupby(KEYS + ["metric"], sort=False)["value"]
        .agg(n_folds="count", mean="mean", sd="std")
        .reset_index()
    )
    table = by_fold.merge(
        pooled.rename(columns={"estimate": "pooled"}), on=KEYS + ["metric"], how="left"
    )
    diffs = paired.rename(
        columns={
            "difference": "diff",
            "lower": "diff_lower",
            "upper": "diff_upper",
            "better": "p_better",
        }
    )
    table = table.merge(diffs, on=KEYS + ["metric"], how="left")
    greater = table["metric"].map(M.METRICS)
    model_better = np.where(greater, table["diff_lower"] > 0, table["diff_upper"] < 0)
    model_worse = np.where(greater, table["diff_upper"] < 0, table["diff_lower"] > 0)
    table["verdict"] = np.select(
        [table["model"] == reference, model_better, model_worse],
        ["", "reference worse", "reference better"],
        default="no clear difference",
    )
    order = {m: i for i, m in enumerate(M.METRICS)}
    table["_order"] = table["metric"].map(order)
    table = table.sort_values(["dataset", "split", "_order"], kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)


def losses(summary: pd.DataFrame) -> pd.DataFrame:
    """Rows of :func:`summarize` where another model beats the reference."""
    return summary[summary["verdict"] == "reference worse"].reset_index(drop=True)


def _cell(row, digits=3) -> str:
    sd = "" if pd.isna(row["sd"]) else f" ± {row['sd']:.{digits}f}"
    return f"{row['mean']:.{digits}f}{sd} [{row['lower']:.{digits}f}, {row['upper']:.{digits}f}]"


def _wide(summary: pd.DataFrame, metrics_shown, cell) -> dict:
    """``{(dataset, split): DataFrame(model x metric of cell strings)}``."""
    out = {}
    for (dataset, split), part in summary.groupby(["dataset", "split"], sort=False):
        part = part[part["metric"].isin(metrics_shown)]
        models = list(dict.fromkeys(part["model"]))
        frame = pd.DataFrame(index=models, columns=list(metrics_shown), dtype=object)
        for _, row in part.iterrows():
            frame.loc[row["model"], row["metric"]] = cell(row)
        out[(dataset, split)] = frame.fillna("")
    return out


def _difference_text(row) -> str:
    return (
        f"{row['diff']:+.3f} (95% CI {row['diff_lower']:+.3f} to {row['diff_upper']:+.3f})"
    )


def summary_markdown(
    summary: pd.DataFrame, reference: str, metrics_shown=tuple(M.METRICS)
) -> str:
    """Markdown tables per dataset and split, then plain statements of wins and losses.

    Cells read ``mean ± sd over folds [pooled 95% bootstrap interval]``.
    """
    lines = [
        "# PPI benchmark summary",
        "",
        "Cells: mean ± sd over folds [95% bootstrap interval of the pooled "
        "out-of-fold predictions]. Higher is better for accuracy, macro-F1 and "
        "ROC-AUC; lower is better for the rest.",
        "",
    ]
    for (dataset, split), frame in _wide(summary, metrics_shown, _cell).items():
        lines += [f"## {dataset}, {split} split", ""]
        header = ["model"] + [_LABELS[m] for m in frame.columns]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for model, row in frame.iterrows():
            name = f"**{model}**" if model == reference else model
            lines.append("| " + " | ".join([name] + list(row)) + " |")
        lines.append("")
    n_pairs = int((summary["verdict"] != "").sum())
    for title, verdict, verb in (
        (f"Where {reference} loses", "reference worse", "loses to"),
        (f"Where {reference} wins", "reference better", "beats"),
    ):
        rows = summary[summary["verdict"] == verdict]
        lines += [f"## {title}", ""]
        lines.append(
            f"{reference} {verb} another model in {len(rows)} of {n_pairs} paired "
            "comparisons (the 95% bootstrap interval of the difference excludes zero; "
            f"difference = other model - {reference})" + (":" if len(rows) else ".")
        )
        lines.append("")
        for (dataset, split, model), part in rows.groupby(["dataset", "split", "model"], sort=False):
            items = ", ".join(
                f"{_LABELS[row['metric']]} {_difference_text(row)}" for _, row in part.iterrows()
            )
            lines.append(f"- {dataset}, {split}: {reference} {verb} {model} on {items}.")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _latex_escape(text: str) -> str:
    return str(text).replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")


def summary_latex(summary: pd.DataFrame, reference: str, metrics_shown=tuple(_HEADLINE)) -> str:
    """A booktabs table per dataset and split: mean ± sd over folds.

    The reference is set in bold; a dagger marks a model whose paired interval
    shows it beats the reference on that metric.
    """

    def cell(row):
        text = f"{row['mean']:.3f}"
        if not pd.isna(row["sd"]):
            text += rf" $\pm$ {row['sd']:.3f}"
        if row["verdict"] == "reference worse":
            text += r"$^\dagger$"
        return text

    blocks = []
    for (dataset, split), frame in _wide(summary, metrics_shown, cell).items():
        columns = "l" + "r" * len(frame.columns)
        header = " & ".join(["Model"] + [_LABELS[m] for m in frame.columns]) + r" \\"
        body = []
        for model, row in frame.iterrows():
            name = _latex_escape(model)
            if model == reference:
                name = rf"\textbf{{{name}}}"
            body.append(" & ".join([name] + list(row)) + r" \\")
        blocks.append(
            "\n".join(
                [
                    r"\begin{table}[t]",
                    r"\centering\small",
                    rf"\caption{{{_latex_escape(dataset)}, {_latex_escape(split)} split: "
                    rf"mean $\pm$ sd over folds. $^\dagger$: better than "
                    rf"{_latex_escape(reference)} (paired bootstrap, 95\%).}}",
                    rf"\begin{{tabular}}{{{columns}}}",
                    r"\toprule",
                    header,
                    r"\midrule",
                    *body,
                    r"\bottomrule",
                    r"\end{tabular}",
                    r"\end{table}",
                ]
            )
        )
    return "\n\n".join(blocks) + "\n"


def expert_structure(model, X, class_names) -> pd.DataFrame:
    """Gate mass and class profile of every expert of a fitted SGMLMoE.

    Gate mass of expert k: ``mean_i pi_k(x_i)``. Class profile:
    ``sum_i pi_k(x_i) p_k(m | x_i) / sum_i pi_k(x_i)``, the class distribution
    of expert k averaged over the inputs it is gated to.

    Returns
    -------
    DataFrame
        Columns ``expert, gate_mass, class, probability`` (one row per expert and
        class), experts ordered by decreasing gate mass and renumbered from 1.
    """
    gate = model.gate_proba(X)  # (n, K)
    K = gate.shape[1]
    rows = []
    for k in range(K):
        single = type(model).from_parameters(
            np.zeros((1, model.gate_coef_.shape[1])),
            model.expert_coef_[k : k + 1],
            model.classes_,
        )
        profile = gate[:, k] @ single.predict_proba(X) / gate[:, k].sum()
        rows.append((gate[:, k].mean(), profile))
    rows.sort(key=lambda item: -item[0])
    names = [class_names[int(c)] for c in model.classes_]
    return pd.DataFrame(
        [
            {"expert": k + 1, "gate_mass": mass, "class": names[m], "probability": profile[m]}
            for k, (mass, profile) in enumerate(rows)
            for m in range(len(names))
        ]
    )


def solver_traces(
    X, y, n_experts: int, *, max_iter: int = 500, tol: float = 1e-8, init_iter: int = 5,
    random_state: int | None = 0, n_threads: int | None = 1, **model_params,
) -> pd.DataFrame:
    """Log-likelihood traces of MM and EM from one common start.

    The start is an MM fit of ``init_iter`` map evaluations from k-means;
    both solvers then start from its parameters (``init`` as a dict), so the
    traces differ only by the solver.

    Returns
    -------
    DataFrame
        Columns ``solver, iteration, seconds, loglik`` (iteration 0 is the start
        as recorded by each fit), ``mean_loglik`` (per pair) and ``converged``
        (whether the fit met ``tol`` within ``max_iter``).
    """
    from moe.model import SGMLMoE

    common = dict(random_state=random_state, n_threads=n_threads, **model_params)
    start = SGMLMoE(
        n_experts=n_experts, solver="mm", n_init=1, max_iter=init_iter, tol=tol, **common
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a short start, by design
        start.fit(X, y)
    init = {"gate_coef": start.gate_coef_, "expert_coef": start.expert_coef_}
    frames = []
    for solver in ("mm", "em"):
        fit = SGMLMoE(
            n_experts=n_experts, solver=solver, n_init=1, max_iter=max_iter, tol=tol,
            init=init, **common,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fit.fit(X, y)
        trace = np.asarray(fit.loglik_trace_, dtype=float)
        frames.append(
            pd.DataFrame(
                {
                    "solver": solver,
                    "iteration": np.arange(trace.size),
                    "seconds": np.asarray(fit.time_trace_, dtype=float),
                    "loglik": trace,
                    "mean_loglik": trace / len(y),
                    "converged": bool(fit.converged_),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def stratified_subset(labels, size: int, seed: int = 0) -> np.ndarray:
    """Sorted row indices of a seeded, class-stratified random subset of ``size`` rows.

    Used to run the workflow on small parts of the real data (the end-to-end
    test); ``size`` at least the number of rows returns every row.
    """
    labels = np.asarray(labels)
    if size < 2:
        raise ValueError(f"size must be at least 2; got {size}")
    if size >= labels.size:
        return np.arange(labels.size)
    keep, _ = train_test_split(
        np.arange(labels.size), train_size=size, stratify=labels, random_state=seed
    )
    return np.sort(keep)


def runtime_summary(benchmark_root) -> pd.DataFrame:
    """Per rule, the cost of a workflow run from its Snakemake benchmark files.

    Parameters
    ----------
    benchmark_root : path-like
        The ``benchmarks/`` folder; ``<rule>/...tsv`` or ``<rule>.tsv`` below it.

    Returns
    -------
    DataFrame
        Columns ``rule, jobs, wall_seconds`` (summed), ``max_wall_seconds``,
        ``cpu_seconds`` (summed), ``max_rss_mb``; rules by decreasing wall time.
    """
    root = Path(benchmark_root)
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        table = pd.read_csv(path, sep="\t", na_values=["-", "NA"])
        relative = path.relative_to(root)
        rule = relative.parts[0] if len(relative.parts) > 1 else path.stem
        last = table.iloc[-1]  # a rule benchmarked with repeats keeps its last
        rows.append({"rule": rule, "s": last["s"], "cpu_time": last["cpu_time"],
                     "max_rss": last["max_rss"]})
    if not rows:
        raise ValueError(f"no benchmark files under {root}")
    frame = pd.DataFrame(rows)
    summary = frame.groupby("rule").agg(
        jobs=("s", "size"),
        wall_seconds=("s", "sum"),
        max_wall_seconds=("s", "max"),
        cpu_seconds=("cpu_time", "sum"),
        max_rss_mb=("max_rss", "max"),
    )
    return summary.sort_values("wall_seconds", ascending=False).reset_index()
