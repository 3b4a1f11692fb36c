"""Score out-of-fold predictions: per fold, pooled with bootstrap intervals, paired.

:func:`fold_metrics` scores each fold; :func:`pooled_evaluation` pools the
out-of-fold predictions (the test parts partition the pairs) and gives
bootstrap intervals; :func:`paired_evaluation` compares a model with the
reference model on the same resamples; :func:`component_metrics` scores the
pooled predictions per Park-Marcotte component (C1/C2/C3). :func:`summarize`
joins the fold means, the pooled intervals and the paired differences into one
long table, which :mod:`moe.report` renders.

Predictions come as the prediction tables of :mod:`moe.folds`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from moe import metrics as M
from moe.folds import prediction_arrays

__all__ = [
    "KEYS",
    "fold_metrics",
    "component_metrics",
    "pooled_evaluation",
    "paired_evaluation",
    "summarize",
]

#: identifying columns of every long table
KEYS = ["dataset", "split", "model"]


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
