"""Classification and calibration metrics, with bootstrap intervals.

Conventions (used everywhere in the benchmark):

- ``y`` holds integer labels ``0..C-1`` and ``proba`` is ``(n, C)`` with column
  ``c`` the predicted probability of label ``c``; ``classes`` names the labels.
- Top-label calibration: the confidence of a prediction is its largest
  probability and it is *correct* when the arg-max equals ``y``.
- Equal-width bins split ``[0, 1]`` into ``n_bins`` intervals ``[b/B, (b+1)/B)``,
  the last one closed. Equal-mass bins sort the confidences (stably) and cut them
  into ``n_bins`` runs whose sizes differ by at most one, so tied confidences
  may fall in two neighbouring bins. Empty bins are dropped.
- ``ECE = sum_b (n_b / n) |acc_b - conf_b|`` and ``MCE = max_b |acc_b - conf_b|``.
- Class-wise ECE (Kull et al., 2019) averages over classes ``c`` the
  equal-width ECE of the one-vs-rest probability ``proba[:, c]`` against the
  indicator ``y == c``.
- Brier score is scikit-learn's ``brier_score_loss``: for two classes the usual
  ``mean (y - p_1)^2``; for more, the mean over samples of the squared error of
  the one-hot vector summed over classes.
- ROC-AUC is binary for two classes and the macro average of one-vs-rest AUCs
  otherwise, over the classes present in ``y`` (a test fold of a
  protein-disjoint split can miss a rare class).

Bootstrap resamples are stratified by the true label: each class keeps its
count, so every class stays present and ROC-AUC stays defined. The same seed and
labels give the same resamples, which is what makes paired differences between
two models' predictions of the same pairs possible.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    roc_auc_score,
)

__all__ = [
    "METRICS",
    "STRATEGIES",
    "check_predictions",
    "calibration_bins",
    "expected_calibration_error",
    "maximum_calibration_error",
    "classwise_ece",
    "roc_auc",
    "all_metrics",
    "bootstrap_indices",
    "bootstrap_replicates",
    "percentile_interval",
    "bootstrap_interval",
    "paired_difference",
    "paired_bootstrap",
]

#: metric name -> True when larger is better. Order is the column order of tables.
METRICS: dict[str, bool] = {
    "accuracy": True,
    "macro_f1": True,
    "roc_auc": True,
    "log_loss": False,
    "brier": False,
    "ece_width": False,
    "ece_mass": False,
    "mce": False,
    "classwise_ece": False,
}

#: binning strategies for ECE and MCE
STRATEGIES = ("width", "mass")


def check_predictions(y, proba, n_classes: int | None = None):
    """Validate labels and probabilities; return them as arrays.

    Parameters
    ----------
    y : array-like of shape (n,)
        Integer labels in ``0..C-1``.
    proba : array-like of shape (n, C)
        Rows of class probabilities.
    n_classes : int, optional
        Expected ``C``; defaults to ``proba.shape[1]``.

    Returns
    -------
    y : ndarray of int64, proba : ndarray of float64

    Raises
    ------
    ValueError
        Naming the offending argument.
    """
    proba = np.asarray(proba, dtype=np.float64)
    y_arr = np.asarray(y)
    if proba.ndim != 2:
        raise ValueError(f"proba must be 2-D (n, C); got shape {proba.shape}")
    n, C = proba.shape
    if n_classes is not None and C != n_classes:
        raise ValueError(f"proba has {C} columns but there are {n_classes} classes")
    if C < 2:
        raise ValueError(f"proba needs at least 2 columns; got {C}")
    if y_arr.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match proba; got {y_arr.shape}")
    if n == 0:
        raise ValueError("y and proba are empty")
    if not np.issubdtype(y_arr.dtype, np.integer):
        raise ValueError(f"y must hold integer labels 0..{C - 1}; got dtype {y_arr.dtype}")
    if y_arr.min() < 0 or y_arr.max() >= C:
        raise ValueError(f"y must hold labels in 0..{C - 1}; got {y_arr.min()}..{y_arr.max()}")
    if not np.all(np.isfinite(proba)):
        raise ValueError("proba holds NaN or infinite values")
    if proba.min() < 0 or proba.max() > 1:
        raise ValueError("proba must lie in [0, 1]")
    worst = np.max(np.abs(proba.sum(axis=1) - 1.0))
    if worst > 1e-6:
        raise ValueError(f"proba rows must sum to 1; the worst is off by {worst:.3g}")
    return y_arr.astype(np.int64), proba


def _bin_ids(confidence: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    """Bin index of every confidence (see the module notes for the conventions)."""
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1; got {n_bins}")
    if strategy == "width":
        return np.minimum((confidence * n_bins).astype(np.int64), n_bins - 1)
    if strategy == "mass":
        order = np.argsort(confidence, kind="stable")
        ids = np.empty(confidence.size, dtype=np.int64)
        for b, chunk in enumerate(np.array_split(order, n_bins)):
            ids[chunk] = b
        return ids
    raise ValueError(f"strategy must be one of {STRATEGIES}; got {strategy!r}")


def _binned_gaps(confidence, outcome, n_bins, strategy):
    """Per non-empty bin: count, mean confidence and mean outcome."""
    ids = _bin_ids(confidence, n_bins, strategy)
    count = np.bincount(ids, minlength=n_bins)
    conf_sum = np.bincount(ids, weights=confidence, minlength=n_bins)
    out_sum = np.bincount(ids, weights=outcome, minlength=n_bins)
    keep = count > 0
    return (
        np.flatnonzero(keep),
        count[keep],
        conf_sum[keep] / count[keep],
        out_sum[keep] / count[keep],
    )


def _top_label(y, proba):
    prediction = np.argmax(proba, axis=1)
    confidence = proba[np.arange(proba.shape[0]), prediction]
    return confidence, (prediction == y).astype(np.float64)


def calibration_bins(y, proba, n_bins: int = 15, strategy: str = "width") -> pd.DataFrame:
    """Top-label reliability table, one row per non-empty bin.

    Returns
    -------
    DataFrame
        Columns ``bin, lower, upper, count, confidence, accuracy``; ``lower`` and
        ``upper`` are the smallest and largest confidence in the bin.
    """
    y, proba = check_predictions(y, proba)
    confidence, correct = _top_label(y, proba)
    ids = _bin_ids(confidence, n_bins, strategy)
    bins, count, conf, acc = _binned_gaps(confidence, correct, n_bins, strategy)
    lower = [confidence[ids == b].min() for b in bins]
    upper = [confidence[ids == b].max() for b in bins]
    return pd.DataFrame(
        {
            "bin": bins,
            "lower": lower,
            "upper": upper,
            "count": count,
            "confidence": conf,
            "accuracy": acc,
        }
    )


def expected_calibration_error(y, proba, n_bins: int = 15, strategy: str = "width") -> float:
    """Top-label ECE with ``n_bins`` equal-width or equal-mass bins."""
    y, proba = check_predictions(y, proba)
    _, count, conf, acc = _binned_gaps(*_top_label(y, proba), n_bins, strategy)
    return float(np.sum(count * np.abs(acc - conf)) / y.size)


def maximum_calibration_error(y, proba, n_bins: int = 15, strategy: str = "width") -> float:
    """Top-label MCE: the largest gap over non-empty bins."""
    y, proba = check_predictions(y, proba)
    _, _, conf, acc = _binned_gaps(*_top_label(y, proba), n_bins, strategy)
    return float(np.max(np.abs(acc - conf)))


def classwise_ece(y, proba, n_bins: int = 15) -> float:
    """Mean over classes of the equal-width ECE of ``proba[:, c]`` against ``y == c``."""
    y, proba = check_predictions(y, proba)
    per_class = []
    for c in range(proba.shape[1]):
        _, count, conf, freq = _binned_gaps(
            proba[:, c], (y == c).astype(np.float64), n_bins, "width"
        )
        per_class.append(np.sum(count * np.abs(freq - conf)) / y.size)
    return float(np.mean(per_class))


def roc_auc(y, proba) -> float:
    """Binary ROC-AUC, or macro one-vs-rest AUC over the classes present in ``y``."""
    y, proba = check_predictions(y, proba)
    present = np.unique(y)
    if present.size < 2:
        raise ValueError(
            f"ROC-AUC needs at least two classes in y; only label {present[0]} occurs"
        )
    if proba.shape[1] == 2:
        return float(roc_auc_score(y, proba[:, 1]))
    # one call on the indicator matrix: the macro mean of the per-class AUCs
    indicator = (y[:, None] == present[None, :]).astype(np.int64)
    return float(roc_auc_score(indicator, proba[:, present], average="macro"))


def all_metrics(y, proba, classes, n_bins: int = 15) -> dict[str, float]:
    """Every metric of :data:`METRICS` for one set of predictions.

    Parameters
    ----------
    y : array-like of shape (n,)
        Integer labels ``0..C-1``.
    proba : array-like of shape (n, C)
    classes : sequence of str
        Label names; only their number is used (it fixes ``C``).
    n_bins : int, default=15

    Returns
    -------
    dict
        ``{metric: value}`` in the order of :data:`METRICS`.
    """
    y, proba = check_predictions(y, proba, n_classes=len(classes))
    labels = np.arange(proba.shape[1])
    prediction = np.argmax(proba, axis=1)
    values = {
        "accuracy": accuracy_score(y, prediction),
        "macro_f1": f1_score(y, prediction, average="macro", zero_division=0),
        "roc_auc": roc_auc(y, proba),
        "log_loss": log_loss(y, proba, labels=labels),
        "brier": brier_score_loss(y, proba, labels=labels),
        "ece_width": expected_calibration_error(y, proba, n_bins, "width"),
        "ece_mass": expected_calibration_error(y, proba, n_bins, "mass"),
        "mce": maximum_calibration_error(y, proba, n_bins, "width"),
        "classwise_ece": classwise_ece(y, proba, n_bins),
    }
    return {name: float(values[name]) for name in METRICS}


def bootstrap_indices(y, n_resamples: int = 1000, seed: int = 0) -> np.ndarray:
    """Stratified bootstrap resamples of ``0..n-1``.

    Each resample draws, with replacement, as many rows of every class as the
    class has; the resample is returned sorted by class, then draw order.

    Returns
    -------
    ndarray of shape (n_resamples, n)
    """
    y = np.asarray(y)
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1; got {n_resamples}")
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y == label) for label in np.unique(y)]
    return np.concatenate(
        [rows[rng.integers(0, rows.size, size=(n_resamples, rows.size))] for rows in groups],
        axis=1,
    )


def bootstrap_replicates(
    y, proba, classes, n_resamples: int = 1000, seed: int = 0, n_bins: int = 15
) -> pd.DataFrame:
    """All metrics on each stratified bootstrap resample.

    Returns
    -------
    DataFrame of shape (n_resamples, len(METRICS))
    """
    y, proba = check_predictions(y, proba, n_classes=len(classes))
    rows = [
        all_metrics(y[idx], proba[idx], classes, n_bins)
        for idx in bootstrap_indices(y, n_resamples, seed)
    ]
    return pd.DataFrame(rows, columns=list(METRICS))


def percentile_interval(replicates: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Percentile interval per column of ``replicates``.

    Returns
    -------
    DataFrame
        Columns ``metric, lower, upper``.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1); got {level}")
    alpha = (1 - level) / 2
    return pd.DataFrame(
        {
            "metric": list(replicates.columns),
            "lower": replicates.quantile(alpha).to_numpy(),
            "upper": replicates.quantile(1 - alpha).to_numpy(),
        }
    )


def bootstrap_interval(
    y, proba, classes, n_resamples: int = 1000, level: float = 0.95, seed: int = 0,
    n_bins: int = 15,
) -> pd.DataFrame:
    """Point estimates and bootstrap percentile intervals of every metric.

    Returns
    -------
    DataFrame
        Columns ``metric, estimate, lower, upper``.
    """
    estimate = all_metrics(y, proba, classes, n_bins)
    replicates = bootstrap_replicates(y, proba, classes, n_resamples, seed, n_bins)
    table = percentile_interval(replicates, level)
    table.insert(1, "estimate", [estimate[m] for m in table["metric"]])
    return table


def paired_difference(
    replicates: pd.DataFrame,
    reference_replicates: pd.DataFrame,
    estimate: dict,
    reference_estimate: dict,
    level: float = 0.95,
) -> pd.DataFrame:
    """Differences ``model - reference`` with a paired percentile interval.

    Both replicate tables must come from the same resamples (same labels in the
    same order, same seed).

    Returns
    -------
    DataFrame
        Columns ``metric, difference, lower, upper, better``: ``better`` is the
        share of resamples in which the model beats the reference (ties count
        half), using each metric's direction from :data:`METRICS`.
    """
    if replicates.shape != reference_replicates.shape:
        raise ValueError(
            "replicates and reference_replicates differ in shape "
            f"{replicates.shape} vs {reference_replicates.shape}: not the same resamples"
        )
    delta = replicates - reference_replicates[replicates.columns]
    table = percentile_interval(delta, level)
    table.insert(1, "difference", [estimate[m] - reference_estimate[m] for m in table["metric"]])
    sign = np.array([1.0 if METRICS[m] else -1.0 for m in delta.columns])
    signed = delta.to_numpy() * sign
    table["better"] = np.mean(signed > 0, axis=0) + 0.5 * np.mean(signed == 0, axis=0)
    return table


def paired_bootstrap(
    y, proba, reference_proba, classes, n_resamples: int = 1000, level: float = 0.95,
    seed: int = 0, n_bins: int = 15,
) -> pd.DataFrame:
    """Paired bootstrap of ``metric(proba) - metric(reference_proba)`` on the same rows.

    Returns
    -------
    DataFrame
        As :func:`paired_difference`.
    """
    args = (classes, n_resamples, seed, n_bins)
    return paired_difference(
        bootstrap_replicates(y, proba, *args),
        bootstrap_replicates(y, reference_proba, *args),
        all_metrics(y, proba, classes, n_bins),
        all_metrics(y, reference_proba, classes, n_bins),
        level,
    )
