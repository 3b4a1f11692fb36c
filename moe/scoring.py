"""Score out-of-fold predictions: per fold, pooled and per component, with uncertainty.

:func:`fold_metrics` scores each fold. :func:`protein_evaluation` pools the
out-of-fold predictions (the test parts partition the pairs) and scores them
all together and per Park-Marcotte component (C1/C2/C3), with protein-bootstrap
intervals (:func:`moe.metrics.protein_bootstrap_weights`);
:func:`paired_protein_evaluation` compares a model with the reference model on
the same resamples and gives two-sided bootstrap p-values; :func:`evaluation_outputs`
splits the two into the tables the workflow writes per model. :func:`summarize`
joins the fold means, the pooled intervals and the paired differences into one
long table and :func:`correct_components` completes the component table; both
adjust the p-values of the *primary* metrics (:data:`PRIMARY`) by Holm's
step-down method (:func:`holm`) within each dataset x split (x component)
across models x primary metrics, and give verdicts from the adjusted values.
:mod:`moe.report` renders them.

Predictions come as the prediction tables of :mod:`moe.predictions`.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from moe import metrics as M
from moe.predictions import prediction_arrays

__all__ = [
    "KEYS",
    "PRIMARY",
    "COMPONENTS",
    "holm",
    "protein_evaluation",
    "paired_protein_evaluation",
    "evaluation_outputs",
    "correct_components",
    "fold_metrics",
    "summarize",
]

#: identifying columns of every long table
KEYS = ["dataset", "split", "model"]

#: the primary metrics: their paired tests are Holm-corrected and give the verdicts
PRIMARY = ("log_loss", "brier", "ece_width")

#: the pooled predictions ("all") and the Park-Marcotte components, in table order
COMPONENTS = ("all", "C1", "C2", "C3")

#: verdicts, read from the reference's side
WORSE, BETTER, UNCLEAR = "reference worse", "reference better", "no clear difference"
UNCORRECTED = " (uncorrected)"
UNSCORABLE = "not scorable"

#: the columns of :func:`evaluation_outputs`' three tables
POOLED_COLUMNS = ["metric", "estimate", "lower", "upper", "n_redrawn"]
PAIRED_COLUMNS = ["metric", "difference", "lower", "upper", "better", "p_value"]
COMPONENT_COLUMNS = ["component", "n_pairs", "n_redrawn", "metric", "value", "lower", "upper",
                     "diff", "diff_lower", "diff_upper", "p_value"]


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


def _pooled(predictions: pd.DataFrame) -> pd.DataFrame:
    """Pooled out-of-fold predictions in pair order (one row per pair)."""
    pooled = predictions.sort_values("pair_index", kind="stable").reset_index(drop=True)
    if pooled["pair_index"].duplicated().any():
        raise ValueError("a pair is predicted in more than one fold; test parts must partition")
    return pooled


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values.

    With the ``m`` finite p-values sorted, ``p_(1) <= ... <= p_(m)``, the
    adjusted value of ``p_(i)`` is ``min(1, max_{j <= i} (m - j + 1) p_(j))``;
    rejecting where it is below ``alpha`` controls the family-wise error rate at
    ``alpha`` under any dependence. NaN entries stay NaN and are not counted in ``m``.
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    q = p[finite]
    if np.any((q < 0) | (q > 1)):
        raise ValueError("p_values must lie in [0, 1]")
    m = q.size
    order = np.argsort(q, kind="stable")
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * q[order]))
    out[finite] = adjusted
    return out


def _protein_columns(pooled: pd.DataFrame, pairs: pd.DataFrame):
    """The two proteins of each pooled prediction, looked up by ``pair_index``."""
    missing = [c for c in ("protein_a", "protein_b") if c not in pairs.columns]
    if missing:
        raise ValueError(f"pairs lacks column(s) {missing}; found {list(pairs.columns)}")
    index = pooled["pair_index"].to_numpy(np.int64)
    if index.size and (index.min() < 0 or index.max() >= len(pairs)):
        raise ValueError(
            f"predictions hold pair_index {index.min()}..{index.max()} but pairs has "
            f"{len(pairs)} rows: not the pair table these predictions index"
        )
    return (pairs["protein_a"].to_numpy(str)[index], pairs["protein_b"].to_numpy(str)[index])


def protein_evaluation(
    predictions: pd.DataFrame, pairs: pd.DataFrame, classes, n_resamples: int = 1000,
    level: float = 0.95, seed: int = 0, n_bins: int = 15,
):
    """Metrics of the pooled predictions, all and per component, with protein-bootstrap intervals.

    The proteins of the part scored (all pairs, or a component's pairs) are
    resampled (:func:`moe.metrics.protein_bootstrap_weights`, seed ``[seed, k]``
    for the ``k``-th entry of :data:`COMPONENTS`), so the resamples depend on the
    pairs, labels and seed only: every model gets the same ones. A component
    whose pairs hold fewer than two classes, or a class so rare that fewer than
    1 in 100 protein resamples keep it, cannot be scored; its rows carry NaN
    values (reported, not dropped; the second case with a warning).

    Parameters
    ----------
    predictions : DataFrame
        A prediction table (:mod:`moe.predictions`); ``pair_index`` indexes ``pairs``.
    pairs : DataFrame
        The dataset's pair table, columns ``protein_a, protein_b``.

    Returns
    -------
    table : DataFrame
        Columns ``component, n_pairs, n_redrawn, metric, estimate, lower,
        upper``; ``n_redrawn`` counts resamples redrawn for a missing class.
    replicates : DataFrame
        Columns ``component, resample, size`` (the resample's number of pairs)
        and one per metric; feed it to :func:`paired_protein_evaluation`.
    """
    pooled = _pooled(predictions)
    protein_a, protein_b = _protein_columns(pooled, pairs)
    y_all, proba_all = prediction_arrays(pooled, len(classes))
    rows, replicate_tables = [], []
    for component, keep in _component_parts(pooled):
        k = COMPONENTS.index(component)
        n_pairs = int(keep.sum())
        y, proba = y_all[keep], proba_all[keep]
        replicates = None
        if np.unique(y).size >= 2:
            try:
                replicates = M.bootstrap_replicates(
                    y, proba, classes, n_resamples, [seed, k], n_bins, unit="protein",
                    proteins=(protein_a[keep], protein_b[keep]),
                )
            except ValueError as error:  # a class too rare to survive resampling proteins
                if component == "all":
                    raise
                warnings.warn(f"component {component} not scored: {error}", stacklevel=2)
        if replicates is None:
            rows += [
                {"component": component, "n_pairs": n_pairs, "n_redrawn": np.nan,
                 "metric": metric, "estimate": np.nan, "lower": np.nan, "upper": np.nan}
                for metric in M.METRICS
            ]
            continue
        estimate = M.all_metrics(y, proba, classes, n_bins)
        interval = M.estimate_interval(estimate, replicates, level).set_index("metric")
        rows += [
            {"component": component, "n_pairs": n_pairs,
             "n_redrawn": replicates.attrs["n_redrawn"], "metric": metric,
             "estimate": estimate[metric], "lower": interval.loc[metric, "lower"],
             "upper": interval.loc[metric, "upper"]}
            for metric in M.METRICS
        ]
        sizes = replicates.attrs["sizes"]
        replicates.attrs = {}  # concat compares attrs; the values are in columns now
        replicate_tables.append(
            replicates.assign(component=component, resample=np.arange(n_resamples), size=sizes)
        )
    columns = ["component", "n_pairs", "n_redrawn", "metric", "estimate", "lower", "upper"]
    replicate_columns = ["component", "resample", "size", *M.METRICS]
    replicates = (
        pd.concat(replicate_tables, ignore_index=True)[replicate_columns]
        if replicate_tables else pd.DataFrame(columns=replicate_columns)
    )
    return pd.DataFrame(rows, columns=columns), replicates


def _component_parts(pooled: pd.DataFrame):
    """``(component, row mask)`` for "all" and each component present, in table order."""
    tags = pooled["component"].to_numpy(str)
    for component in COMPONENTS:
        keep = np.ones(len(pooled), bool) if component == "all" else tags == component
        if keep.any():
            yield component, keep


def paired_protein_evaluation(
    predictions: pd.DataFrame,
    reference_predictions: pd.DataFrame,
    replicates: pd.DataFrame,
    reference_replicates: pd.DataFrame,
    classes,
    level: float = 0.95,
    n_bins: int = 15,
) -> pd.DataFrame:
    """Paired differences ``model - reference`` per component and metric, with p-values.

    Both replicate tables come from :func:`protein_evaluation` of the same
    pairs with the same seed and resample count, so row ``r`` of a
    component's replicates is the same resample for both (the resamples depend
    on the pairs and labels only, which are checked to agree).

    Returns
    -------
    DataFrame
        Columns ``component, metric, difference, lower, upper, better, p_value``
        (:func:`moe.metrics.paired_difference`); NaN for an unscorable component.
    """
    ours, theirs = _pooled(predictions), _pooled(reference_predictions)
    if not (
        np.array_equal(ours["pair_index"], theirs["pair_index"])
        and np.array_equal(ours["y"], theirs["y"])
        and np.array_equal(ours["component"].to_numpy(str), theirs["component"].to_numpy(str))
    ):
        raise ValueError("model and reference predictions cover different pairs or labels")
    y_all, proba_all = prediction_arrays(ours, len(classes))
    _, reference_all = prediction_arrays(theirs, len(classes))
    out = []
    for component, keep in _component_parts(ours):
        ours_rep = replicates[replicates["component"] == component]
        theirs_rep = reference_replicates[reference_replicates["component"] == component]
        if len(ours_rep) != len(theirs_rep) or not np.array_equal(
            ours_rep["size"], theirs_rep["size"]
        ):
            raise ValueError(
                f"replicates and reference_replicates hold {len(ours_rep)} and "
                f"{len(theirs_rep)} resamples of component {component} whose sizes differ: "
                "not the same resamples (same pairs, labels, seed and n_resamples?)"
            )
        if ours_rep.empty:  # not scorable
            out.append(pd.DataFrame({"component": component, "metric": list(M.METRICS)}))
            continue
        y = y_all[keep]
        diff = M.paired_difference(
            ours_rep[list(M.METRICS)].reset_index(drop=True),
            theirs_rep[list(M.METRICS)].reset_index(drop=True),
            M.all_metrics(y, proba_all[keep], classes, n_bins),
            M.all_metrics(y, reference_all[keep], classes, n_bins),
            level,
        )
        out.append(diff.assign(component=component))
    columns = ["component", "metric", "difference", "lower", "upper", "better", "p_value"]
    return pd.concat(out, ignore_index=True).reindex(columns=columns)


def evaluation_outputs(table: pd.DataFrame, paired: pd.DataFrame | None = None):
    """One model's evaluation as the workflow writes it: pooled, paired and per component.

    ``table`` comes from :func:`protein_evaluation`, ``paired`` from
    :func:`paired_protein_evaluation` against the reference (None when the model is the
    reference: its differences with itself are left empty).

    Returns
    -------
    pooled : DataFrame
        All pairs, :data:`POOLED_COLUMNS`.
    paired : DataFrame
        All pairs, the paired difference with the reference, :data:`PAIRED_COLUMNS`.
    components : DataFrame
        Each component's estimate (``value``) beside its paired difference (``diff``,
        ``diff_lower``, ``diff_upper``, ``p_value``), :data:`COMPONENT_COLUMNS`; the input of
        :func:`correct_components`.
    """
    if paired is None:
        paired = table[["component", "metric"]].reindex(columns=["component", *PAIRED_COLUMNS])
    whole = table["component"] == "all"
    components = table[~whole].rename(columns={"estimate": "value"}).merge(
        paired.rename(columns={"difference": "diff", "lower": "diff_lower",
                               "upper": "diff_upper"}),
        on=["component", "metric"], how="left",
    )
    return (table.loc[whole, POOLED_COLUMNS], paired.loc[paired["component"] == "all", PAIRED_COLUMNS],
            components[COMPONENT_COLUMNS])


def _verdicts(table: pd.DataFrame, groups, reference: str, level: float, primary) -> pd.DataFrame:
    """Add ``primary, p_holm, verdict`` to a table with ``model, metric, diff, diff_lower,
    diff_upper, p_value``.

    Holm runs within each group of ``groups`` over the non-reference rows of the
    primary metrics. A primary verdict is ``reference worse`` (or ``better``)
    when ``p_holm < 1 - level`` and the difference favours the model (or the
    reference); a secondary one reads the uncorrected interval and says so.
    """
    unknown = sorted(set(primary) - set(M.METRICS))
    if unknown:
        raise ValueError(f"primary holds unknown metrics {unknown}")
    table = table.copy()
    table["primary"] = table["metric"].isin(primary)
    table["p_holm"] = np.nan
    tested = table["primary"] & (table["model"] != reference)
    for _, part in table[tested].groupby(groups, sort=False):
        table.loc[part.index, "p_holm"] = holm(part["p_value"].to_numpy(np.float64))
    greater = table["metric"].map(M.METRICS).astype(bool)
    diff = table["diff"].to_numpy(np.float64)
    favours_model = np.where(greater, diff > 0, diff < 0)
    favours_reference = np.where(greater, diff < 0, diff > 0)
    significant = (table["p_holm"] < 1 - level).to_numpy()
    model_better = np.where(greater, table["diff_lower"] > 0, table["diff_upper"] < 0)
    model_worse = np.where(greater, table["diff_upper"] < 0, table["diff_lower"] > 0)
    primary_verdict = np.select(
        [significant & favours_model, significant & favours_reference], [WORSE, BETTER],
        default=UNCLEAR,
    )
    secondary_verdict = np.select(
        [model_better, model_worse], [WORSE + UNCORRECTED, BETTER + UNCORRECTED],
        default=UNCLEAR + UNCORRECTED,
    )
    table["verdict"] = np.select(
        [table["model"] == reference, table["diff"].isna(), table["primary"]],
        ["", UNSCORABLE, primary_verdict],
        default=secondary_verdict,
    )
    return table


def correct_components(
    components: pd.DataFrame, reference: str, level: float = 0.95, primary=PRIMARY
) -> pd.DataFrame:
    """Holm-adjust the component table within dataset x split x component; add verdicts.

    ``components`` holds the columns of the evaluate jobs' ``components.csv``
    (``dataset, split, model, component, n_pairs, n_redrawn, metric, value,
    lower, upper, diff, diff_lower, diff_upper, p_value``); the result adds
    ``primary, p_holm, verdict`` (as :func:`summarize`; ``not scorable`` for a
    component with one class, empty for the reference).
    """
    table = _verdicts(components, ["dataset", "split", "component"], reference, level, primary)
    table.loc[(table["model"] == reference) & table["value"].isna(), "verdict"] = UNSCORABLE
    order = {m: i for i, m in enumerate(M.METRICS)}
    table["_order"] = table["metric"].map(order)
    table = table.sort_values(["dataset", "split", "component", "_order"], kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)


def summarize(
    metrics: pd.DataFrame, pooled: pd.DataFrame, paired: pd.DataFrame, reference: str,
    level: float = 0.95, primary=PRIMARY,
) -> pd.DataFrame:
    """One row per dataset, split, model and metric.

    Parameters
    ----------
    metrics : DataFrame
        The long per-fold table: ``dataset, split, model, fold, metric, value``.
    pooled : DataFrame
        ``dataset, split, model, metric, estimate, lower, upper``.
    paired : DataFrame
        ``dataset, split, model, metric, difference, lower, upper, better,
        p_value`` for every model but the reference.
    reference : str
        The model the differences are taken against.
    level : float
        Interval level; a corrected test rejects at ``p_holm < 1 - level``.
    primary : sequence of str
        The primary metrics (:data:`PRIMARY`).

    Returns
    -------
    DataFrame
        Columns ``dataset, split, model, metric, n_folds, mean, sd, pooled,
        lower, upper, diff, diff_lower, diff_upper, p_better, p_value, primary,
        p_holm, verdict`` (and any other column of ``pooled``). ``p_holm`` is
        Holm's adjustment (:func:`holm`) of ``p_value`` within dataset x split
        over the non-reference models x primary metrics. ``verdict`` reads from
        the reference's side: for a primary metric ``"reference better"`` or
        ``"reference worse"`` when ``p_holm < 1 - level`` (by the sign of
        ``diff``), else ``"no clear difference"``; for a secondary metric the
        same words from the uncorrected interval, followed by
        ``" (uncorrected)"``; empty for the reference itself.
    """
    by_fold = (
        metrics.groupby(KEYS + ["metric"], sort=False)["value"]
        .agg(n_folds="count", mean="mean", sd="std")
        .reset_index()
    )
    table = by_fold.merge(
        pooled.rename(columns={"estimate": "pooled"}), on=KEYS + ["metric"], how="left"
    )
    paired = paired.copy()
    if "p_value" not in paired.columns:
        raise ValueError("paired lacks column p_value: rerun the evaluate jobs")
    diffs = paired.rename(
        columns={
            "difference": "diff",
            "lower": "diff_lower",
            "upper": "diff_upper",
            "better": "p_better",
        }
    )
    table = table.merge(diffs, on=KEYS + ["metric"], how="left")
    table = _verdicts(table, ["dataset", "split"], reference, level, primary)
    order = {m: i for i, m in enumerate(M.METRICS)}
    table["_order"] = table["metric"].map(order)
    table = table.sort_values(["dataset", "split", "_order"], kind="stable")
    return table.drop(columns="_order").reset_index(drop=True)
