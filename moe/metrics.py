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
- Brier score as scikit-learn's ``brier_score_loss``: for two classes the usual
  ``mean (y - p_1)^2``; for more, the mean over samples of the squared error of
  the one-hot vector summed over classes. Log-loss clips probabilities to
  ``[eps, 1 - eps]`` as scikit-learn's ``log_loss`` does.
- Macro-F1 as scikit-learn's ``f1_score(average="macro", zero_division=0)``:
  the mean over the labels that occur in ``y`` or in the predictions.
- ROC-AUC is binary for two classes and the macro average of one-vs-rest AUCs
  otherwise, over the classes present in ``y`` (a test fold of a
  protein-disjoint split can miss a rare class). Each AUC is the Mann-Whitney
  statistic, the share of (positive, negative) pairs ranked in the right order
  with ties counting half, counted in integers and divided once; scikit-learn's
  ``roc_auc_score`` sums trapezoids and agrees with it to a few units in the
  last place.

Bootstrap resamples are stratified by the true label: each class keeps its
count, so every class stays present and ROC-AUC stays defined. The same seed and
labels give the same resamples, which is what makes paired differences between
two models' predictions of the same pairs possible.

How the bootstrap is computed: the predictions are validated once and every
per-row quantity (confidence, bin, row log-loss, ...) is prepared once; a
resample is a row of indices into them, and a block of resamples is scored at
once by bincounts over (resample, bin) cells. Sums run over the same operands in
the same order as scoring the resampled predictions alone would, so a
replicate equals :func:`all_metrics` of the resampled predictions bit for bit.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd
from scipy.special import xlogy

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
    "paired_difference",
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


#: gathered values per block of resamples scored at once (bounds the memory)
_BLOCK_VALUES = 1 << 21

_EPS = np.finfo(np.float64).eps


def _width_bins(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-width bin of every value in ``[0, 1]``, the last bin closed."""
    return np.minimum((values * n_bins).astype(np.int64), n_bins - 1)


def _mass_bins(rank: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-mass bins of each row of ``rank`` (R, m), dense ranks of the values.

    A stable sort orders a row by value, then by position; the ``k``-th entry
    of that order falls in the bin of ``np.array_split(range(m), n_bins)``
    holding ``k``. The keys ``rank * m + position`` are distinct and sort to
    the same order without a stable sort.
    """
    R, m = rank.shape
    q, r = divmod(m, n_bins)
    bin_of_place = np.repeat(np.arange(n_bins), [q + 1] * r + [q] * (n_bins - r))
    position = np.sort(rank * m + np.arange(m), axis=1) % m
    ids = np.empty((R, m), dtype=np.int64)
    np.put_along_axis(ids, position, np.broadcast_to(bin_of_place, (R, m)), axis=1)
    return ids


def _binned(bins, values, outcome, n_bins: int):
    """Per row of a block and bin: count, summed values and summed outcomes.

    One bincount over (row, bin) cells adds each cell's entries in row order,
    as a bincount of the row alone does.
    """
    R = bins.shape[0]
    cells = (bins + n_bins * np.arange(R)[:, None]).ravel()
    size = R * n_bins
    count = np.bincount(cells, minlength=size).reshape(R, n_bins)
    value_sum = np.bincount(cells, weights=values.ravel(), minlength=size).reshape(R, n_bins)
    outcome_sum = np.bincount(cells, weights=outcome.ravel(), minlength=size).reshape(R, n_bins)
    return count, value_sum, outcome_sum


def _masked_row_sum(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each row's sum over its masked entries, as ``np.sum(row[mask_row])``.

    Rows are grouped by mask and each group's compacted rows summed at once, so
    numpy's pairwise summation sees the same operands in the same order as on
    one row alone (padding with zeros would regroup them). The compacted block
    must be C-ordered: numpy sums along the fast axis pairwise, along a slow one
    term by term.
    """
    out = np.empty(values.shape[0])
    patterns, group = np.unique(mask, axis=0, return_inverse=True)
    group = group.reshape(-1)
    for k, pattern in enumerate(patterns):
        rows = group == k
        out[rows] = np.ascontiguousarray(values[rows][:, pattern]).sum(axis=1)
    return out


def _calibration_gaps(bins, values, outcome, n_bins: int):
    """ECE and MCE of each row of a block (all arguments (R, m))."""
    count, value_sum, outcome_sum = _binned(bins, values, outcome, n_bins)
    kept = count > 0
    with np.errstate(divide="ignore", invalid="ignore"):  # empty bins, masked out below
        gap = np.abs(outcome_sum / count - value_sum / count)
    ece = _masked_row_sum(count * gap, kept) / bins.shape[1]
    mce = np.max(np.where(kept, gap, -np.inf), axis=1)
    return ece, mce


def _auc(idx, positive, rank, n_ranks: int) -> np.ndarray:
    """Mann-Whitney AUC of each resample (row of ``idx``) for one class.

    ``rank`` is the dense rank of each row's score; per resample, positives and
    negatives are counted per rank and twice the statistic,
    ``sum over positives of 2 * (negatives below) + (negatives tied)``, is
    summed in integers and divided once.
    """
    R = idx.shape[0]
    cells = (rank[idx] + n_ranks * np.arange(R)[:, None]).ravel()
    size = R * n_ranks
    total = np.bincount(cells, minlength=size).reshape(R, n_ranks)
    pos = np.bincount(cells[positive[idx].ravel()], minlength=size).reshape(R, n_ranks)
    neg = total - pos
    below = np.cumsum(neg, axis=1) - neg
    twice_u = np.sum(pos * (2 * below + neg), axis=1)
    return twice_u / (2 * pos.sum(axis=1) * neg.sum(axis=1))


class _Rows:
    """Validated predictions and the per-row quantities every metric reads.

    Each method scores a block of resamples: ``idx`` (R, m) holds the row
    indices of R resamples; ``np.arange(n)[None]`` is the predictions themselves.
    """

    def __init__(self, y: np.ndarray, proba: np.ndarray, n_bins: int):
        if n_bins < 1:
            raise ValueError(f"n_bins must be >= 1; got {n_bins}")
        n, C = proba.shape
        self.y, self.proba, self.n_bins, self.n_classes = y, proba, n_bins, C
        self.prediction = np.argmax(proba, axis=1)
        self.confidence = proba[np.arange(n), self.prediction]
        self.correct = (self.prediction == y).astype(np.float64)
        self.onehot = (y[:, None] == np.arange(C)).astype(np.float64)
        # row terms of scikit-learn's log_loss and brier_score_loss, computed as they are
        self.log_loss = -np.sum(xlogy(self.onehot, np.clip(proba, _EPS, 1 - _EPS)), axis=1)
        self.brier = np.sum((self.onehot - proba) ** 2, axis=1)
        self.width_bin = _width_bins(self.confidence, n_bins)
        # class-major copies: gathering a block of resamples gives (C, R, m) rows directly
        self.class_proba = np.ascontiguousarray(proba.T)
        self.class_outcome = np.ascontiguousarray(self.onehot.T)
        self.class_bin = _width_bins(self.class_proba, n_bins)

    @cached_property
    def confidence_rank(self) -> np.ndarray:
        return np.unique(self.confidence, return_inverse=True)[1].reshape(-1)

    @cached_property
    def auc_parts(self) -> list:
        """Per scored class: (is positive, dense rank of its score, number of ranks)."""
        present = np.unique(self.y)
        if present.size < 2:
            raise ValueError(
                f"ROC-AUC needs at least two classes in y; only label {present[0]} occurs"
            )
        scored = [1] if self.n_classes == 2 else present
        parts = []
        for c in scored:
            values, rank = np.unique(self.proba[:, c], return_inverse=True)
            parts.append((self.y == c, rank.reshape(-1), values.size))
        return parts

    def bins(self, idx, strategy: str) -> np.ndarray:
        if strategy == "width":
            return self.width_bin[idx]
        if strategy == "mass":
            return _mass_bins(self.confidence_rank[idx], self.n_bins)
        raise ValueError(f"strategy must be one of {STRATEGIES}; got {strategy!r}")

    def calibration(self, idx, strategy: str):
        """Top-label (ECE, MCE) per resample."""
        return _calibration_gaps(
            self.bins(idx, strategy), self.confidence[idx], self.correct[idx], self.n_bins
        )

    def classwise_ece(self, idx) -> np.ndarray:
        R, m = idx.shape
        C = self.n_classes

        def by_class(values):  # one row per class and resample
            return np.take(values, idx, axis=1).reshape(C * R, m)

        ece, _ = _calibration_gaps(
            by_class(self.class_bin), by_class(self.class_proba), by_class(self.class_outcome),
            self.n_bins,
        )
        # C-ordered (R, C), so that each resample's mean over classes is a fast-axis sum
        return np.ascontiguousarray(ece.reshape(C, R).T).mean(axis=1)

    def roc_auc(self, idx) -> np.ndarray:
        per_class = np.stack([_auc(idx, *part) for part in self.auc_parts], axis=1)
        return per_class[:, 0] if self.n_classes == 2 else per_class.mean(axis=1)

    def macro_f1(self, idx) -> np.ndarray:
        R = idx.shape[0]
        C = self.n_classes
        y, prediction = self.y[idx], self.prediction[idx]
        cells = y + C * np.arange(R)[:, None]
        size = R * C
        true = np.bincount(cells.ravel(), minlength=size).reshape(R, C)
        predicted = np.bincount(
            (prediction + C * np.arange(R)[:, None]).ravel(), minlength=size
        ).reshape(R, C)
        hits = np.bincount(cells[y == prediction], minlength=size).reshape(R, C)
        denominator = 1.0 * true + predicted
        labelled = denominator > 0  # the labels in y or in the predictions
        f1 = np.divide(2.0 * hits, denominator, out=np.zeros((R, C)), where=labelled)
        return _masked_row_sum(f1, labelled) / labelled.sum(axis=1)

    def metrics(self, idx) -> dict:
        """Every metric of :data:`METRICS` per resample, as arrays of length R."""
        m = idx.shape[1]
        ece_width, mce = self.calibration(idx, "width")
        values = {
            "accuracy": np.count_nonzero(self.y[idx] == self.prediction[idx], axis=1) / m,
            "macro_f1": self.macro_f1(idx),
            "roc_auc": self.roc_auc(idx),
            "log_loss": self.log_loss[idx].mean(axis=1),
            "brier": self.brier[idx].mean(axis=1) * (0.5 if self.n_classes == 2 else 1.0),
            "ece_width": ece_width,
            "ece_mass": self.calibration(idx, "mass")[0],
            "mce": mce,
            "classwise_ece": self.classwise_ece(idx),
        }
        return {name: values[name] for name in METRICS}


def _rows(y, proba, n_bins, n_classes=None):
    """Validated predictions, prepared, and the identity resample."""
    y, proba = check_predictions(y, proba, n_classes)
    return _Rows(y, proba, n_bins), np.arange(y.size)[None, :]


def calibration_bins(y, proba, n_bins: int = 15, strategy: str = "width") -> pd.DataFrame:
    """Top-label reliability table, one row per non-empty bin.

    Returns
    -------
    DataFrame
        Columns ``bin, lower, upper, count, confidence, accuracy``; ``lower`` and
        ``upper`` are the smallest and largest confidence in the bin.
    """
    rows, idx = _rows(y, proba, n_bins)
    ids = rows.bins(idx, strategy)
    binned = _binned(ids, rows.confidence[idx], rows.correct[idx], n_bins)
    count, conf_sum, correct_sum = (part[0] for part in binned)
    bins = np.flatnonzero(count)
    ids = ids[0]
    return pd.DataFrame(
        {
            "bin": bins,
            "lower": [rows.confidence[ids == b].min() for b in bins],
            "upper": [rows.confidence[ids == b].max() for b in bins],
            "count": count[bins],
            "confidence": conf_sum[bins] / count[bins],
            "accuracy": correct_sum[bins] / count[bins],
        }
    )


def expected_calibration_error(y, proba, n_bins: int = 15, strategy: str = "width") -> float:
    """Top-label ECE with ``n_bins`` equal-width or equal-mass bins."""
    rows, idx = _rows(y, proba, n_bins)
    return float(rows.calibration(idx, strategy)[0][0])


def maximum_calibration_error(y, proba, n_bins: int = 15, strategy: str = "width") -> float:
    """Top-label MCE: the largest gap over non-empty bins."""
    rows, idx = _rows(y, proba, n_bins)
    return float(rows.calibration(idx, strategy)[1][0])


def classwise_ece(y, proba, n_bins: int = 15) -> float:
    """Mean over classes of the equal-width ECE of ``proba[:, c]`` against ``y == c``."""
    rows, idx = _rows(y, proba, n_bins)
    return float(rows.classwise_ece(idx)[0])


def roc_auc(y, proba) -> float:
    """Binary ROC-AUC, or macro one-vs-rest AUC over the classes present in ``y``."""
    rows, idx = _rows(y, proba, 1)
    return float(rows.roc_auc(idx)[0])


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
    rows, idx = _rows(y, proba, n_bins, n_classes=len(classes))
    return {name: float(value[0]) for name, value in rows.metrics(idx).items()}


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

    Equal, bit for bit, to :func:`all_metrics` of each resample's rows
    (``bootstrap_indices(y, n_resamples, seed)``), computed a block of
    resamples at a time.

    Returns
    -------
    DataFrame of shape (n_resamples, len(METRICS))
    """
    rows, _ = _rows(y, proba, n_bins, n_classes=len(classes))
    resamples = bootstrap_indices(rows.y, n_resamples, seed)
    step = max(1, _BLOCK_VALUES // (rows.y.size * (rows.n_classes + 1)))
    blocks = [rows.metrics(resamples[i : i + step]) for i in range(0, n_resamples, step)]
    return pd.DataFrame({name: np.concatenate([b[name] for b in blocks]) for name in METRICS})


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
