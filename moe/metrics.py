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

Two bootstraps are offered; the same seed and data give the same resamples,
which is what makes paired differences between two models' predictions of the
same pairs possible.

- ``unit="pair"``: resamples pairs, stratified by the true label (each class
  keeps its count, so every class stays present and ROC-AUC stays defined).
  Kept for tests and comparison; it treats pairs as independent, which they are
  not when proteins recur (Guo: about 9 pairs per protein).
- ``unit="protein"`` (:func:`protein_bootstrap_weights`): resamples proteins;
  the benchmark uses it. See that function for the scheme.

How the bootstrap is computed: the predictions are validated once and every
per-row quantity (confidence, bin, row log-loss, ...) is prepared once; a
resample is a row of indices into them, and a block of resamples is scored at
once by bincounts over (resample, bin) cells. Sums run over the same operands in
the same order as scoring the resampled predictions alone would, so a
replicate equals :func:`all_metrics` of the resampled predictions bit for bit.
A protein resample is a row of integer weights ``w_i`` (the multiplicity of
pair ``i``) instead; :meth:`_Rows.weighted_metrics` scores a block of them by
matrix products and prefix sums, equal to :func:`all_metrics` of the expanded
resample ``np.repeat(arange(n), w)`` up to rounding.
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
    "pair_multiplicity",
    "protein_bootstrap_weights",
    "weighted_replicates",
    "estimate_interval",
    "bootstrap_p_value",
    "normal_interval",
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

#: protein-bootstrap draws made at once (bounds the memory of the draws)
_DRAW_BLOCK = 128

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

    @cached_property
    def auc_orders(self) -> list:
        """Per scored class: rows by rank, the first row of each rank, positives in that order."""
        orders = []
        for positive, rank, _ in self.auc_parts:
            order = np.argsort(rank, kind="stable")
            first = np.flatnonzero(np.r_[True, np.diff(rank[order]) > 0])
            orders.append((order, first, positive[order].astype(np.float64)))
        return orders

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

    # ------------------------------------------------------------------ weighted resamples
    @cached_property
    def mass_order(self) -> np.ndarray:
        """Rows by confidence, ties by position: the order equal-mass bins cut."""
        return np.argsort(self.confidence, kind="stable")

    @cached_property
    def design(self):
        """Columns whose weighted sums give every additive statistic; and their slices.

        One matrix product ``W @ design`` then yields, per resample: the
        weighted sums of correctness, row log-loss and row Brier terms; the
        per-class counts of labels, predictions and hits; and per bin the
        count, summed confidence and summed correctness (top label, then each
        class's one-vs-rest probability).
        """
        B, C = self.n_bins, self.n_classes
        labels = np.arange(C)
        blocks = {
            "correct": self.correct[:, None],
            "log_loss": self.log_loss[:, None],
            "brier": self.brier[:, None],
            "true": self.onehot,
            "predicted": (self.prediction[:, None] == labels).astype(np.float64),
            "hits": self.onehot * self.correct[:, None],
        }

        def binned(name, bins, values, outcome):
            onehot = (bins[:, None] == np.arange(B)).astype(np.float64)
            blocks[f"{name}_count"] = onehot
            blocks[f"{name}_value"] = onehot * values[:, None]
            blocks[f"{name}_outcome"] = onehot * outcome[:, None]

        binned("width", self.width_bin, self.confidence, self.correct)
        for c in range(C):
            binned(f"class{c}", self.class_bin[c], self.class_proba[c], self.class_outcome[c])
        slices, start = {}, 0
        for name, block in blocks.items():
            slices[name] = slice(start, start + block.shape[1])
            start += block.shape[1]
        return np.ascontiguousarray(np.hstack(list(blocks.values()))), slices

    def _weighted_mass(self, W):
        """Equal-mass ECE per row of ``W``.

        The expanded resample ``repeat(arange(n), w)`` sorted stably by
        confidence is ``repeat(order, w[order])`` (``order`` = :attr:`mass_order`):
        copies of a row are adjacent and ties keep row order. Bin ``b`` holds
        places ``[s_b, s_{b+1})`` with ``s_b = b q + min(b, r)``, ``(q, r) =
        divmod(m, B)``, as ``np.array_split``; with ``F(t)`` the sum of the
        first ``t`` places (linear within a row's copies) a bin's sum is
        ``F(s_{b+1}) - F(s_b)``.
        """
        order = self.mass_order
        Ws = W[:, order]
        R, n = Ws.shape
        B = self.n_bins
        cw = np.cumsum(Ws, axis=1)
        m = cw[:, -1]
        q, r = np.divmod(m, B)
        b = np.arange(B + 1)
        starts = b * q[:, None] + np.minimum(b, r[:, None])  # (R, B + 1)
        span = m.max() + 1
        offset = span * np.arange(R)
        place = np.searchsorted((cw + offset[:, None]).ravel(), (starts + offset[:, None]).ravel(),
                                side="right").reshape(R, B + 1) - (n * np.arange(R))[:, None]
        inside = place < n  # t == m lies past the last row
        j = np.minimum(place, n - 1)
        rows = np.arange(R)[:, None]
        before = np.take_along_axis(cw - Ws, j, axis=1)

        def prefix(values):
            v = values[order]
            cum = np.cumsum(Ws * v, axis=1)
            at = np.take_along_axis(cum - Ws * v, j, axis=1) + (starts - before) * v[j]
            return np.where(inside, at, cum[rows, -1])

        value_sum = np.diff(prefix(self.confidence), axis=1)
        outcome_sum = np.diff(prefix(self.correct), axis=1)
        count = np.diff(starts, axis=1).astype(np.float64)
        return _gaps(count, value_sum, outcome_sum, m)[0]

    def _weighted_auc(self, W) -> np.ndarray:
        """Mann-Whitney AUC per row of ``W``: per-rank weighted counts, as :func:`_auc`.

        Multi-class: the mean over the classes present in the resample.
        """
        per_class = []
        for order, first, positive in self.auc_orders:
            Ws = W[:, order]
            pos = np.add.reduceat(Ws * positive, first, axis=1)
            neg = np.add.reduceat(Ws, first, axis=1) - pos
            below = np.cumsum(neg, axis=1) - neg
            twice_u = np.sum(pos * (2 * below + neg), axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):  # class absent: NaN, skipped
                per_class.append(twice_u / (2 * pos.sum(axis=1) * neg.sum(axis=1)))
        per_class = np.stack(per_class, axis=1)
        if self.n_classes == 2:
            return per_class[:, 0]
        with np.errstate(invalid="ignore"):
            return np.nanmean(np.where(np.isfinite(per_class), per_class, np.nan), axis=1)

    def weighted_metrics(self, W) -> dict:
        """Every metric of :data:`METRICS` per row of integer weights ``W`` (R, n).

        Row ``r`` is the resample holding pair ``i`` ``W[r, i]`` times.
        """
        W = np.ascontiguousarray(W, dtype=np.float64)
        design, at = self.design
        sums = W @ design  # exact for counts: integers well below 2**53
        m = W.sum(axis=1)
        C = self.n_classes

        def gaps(name):
            return _gaps(sums[:, at[f"{name}_count"]], sums[:, at[f"{name}_value"]],
                         sums[:, at[f"{name}_outcome"]], m)

        ece_width, mce = gaps("width")
        classwise = np.mean([gaps(f"class{c}")[0] for c in range(C)], axis=0)
        true, predicted, hits = (sums[:, at[k]] for k in ("true", "predicted", "hits"))
        denominator = true + predicted
        labelled = denominator > 0  # the labels in the resample's y or its predictions
        f1 = np.divide(2.0 * hits, denominator, out=np.zeros_like(true), where=labelled)
        values = {
            "accuracy": sums[:, at["correct"]][:, 0] / m,
            "macro_f1": f1.sum(axis=1) / labelled.sum(axis=1),
            "roc_auc": self._weighted_auc(W),
            "log_loss": sums[:, at["log_loss"]][:, 0] / m,
            "brier": sums[:, at["brier"]][:, 0] / m * (0.5 if C == 2 else 1.0),
            "ece_width": ece_width,
            "ece_mass": self._weighted_mass(W),
            "mce": mce,
            "classwise_ece": classwise,
        }
        return {name: values[name] for name in METRICS}


def _gaps(count, value_sum, outcome_sum, m):
    """ECE and MCE from per-(resample, bin) counts and sums; ``m`` the resample sizes."""
    kept = count > 0
    with np.errstate(divide="ignore", invalid="ignore"):  # empty bins, masked out below
        gap = np.abs(outcome_sum / count - value_sum / count)
    ece = np.where(kept, count * gap, 0.0).sum(axis=1) / m
    mce = np.max(np.where(kept, gap, -np.inf), axis=1)
    return ece, mce


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
    y, proba, classes, n_resamples: int = 1000, seed=0, n_bins: int = 15,
    unit: str = "pair", proteins=None,
) -> pd.DataFrame:
    """All metrics on each bootstrap resample.

    ``unit="pair"``: stratified pair resamples; equal, bit for bit, to
    :func:`all_metrics` of each resample's rows (``bootstrap_indices(y,
    n_resamples, seed)``), computed a block of resamples at a time.
    ``unit="protein"``: protein resamples of :func:`protein_bootstrap_weights`
    over ``proteins = (protein_a, protein_b)``, scored by
    :func:`weighted_replicates`; ``attrs["n_redrawn"]`` counts the draws
    rejected for a missing class and ``attrs["sizes"]`` holds each resample's
    number of pairs (a fingerprint of the resamples).

    Returns
    -------
    DataFrame of shape (n_resamples, len(METRICS))
    """
    if unit == "protein":
        if proteins is None:
            raise ValueError('unit="protein" needs proteins=(protein_a, protein_b)')
        y_checked, _ = check_predictions(y, proba, len(classes))
        weights, n_redrawn = protein_bootstrap_weights(*proteins, y_checked, n_resamples, seed)
        table = weighted_replicates(y, proba, classes, weights, n_bins)
        table.attrs["n_redrawn"] = n_redrawn
        table.attrs["sizes"] = weights.sum(axis=1)
        return table
    if unit != "pair":
        raise ValueError(f'unit must be "pair" or "protein"; got {unit!r}')
    rows, _ = _rows(y, proba, n_bins, n_classes=len(classes))
    resamples = bootstrap_indices(rows.y, n_resamples, seed)
    step = max(1, _BLOCK_VALUES // (rows.y.size * (rows.n_classes + 1)))
    blocks = [rows.metrics(resamples[i : i + step]) for i in range(0, n_resamples, step)]
    return pd.DataFrame({name: np.concatenate([b[name] for b in blocks]) for name in METRICS})


def pair_multiplicity(counts, index_a, index_b) -> np.ndarray:
    """Multiplicity of each pair given each protein's draw count ``c``.

    ``w = c_a c_b`` for a pair of two proteins, ``c_a`` for a self-pair
    ``(a, a)`` (the protein is drawn ``c_a`` times, the pair comes with it).
    ``index_a``, ``index_b`` index ``counts`` (its last axis: ``counts`` may
    hold one row of counts per resample).
    """
    counts = np.asarray(counts)
    if not np.issubdtype(counts.dtype, np.integer):
        raise ValueError(f"counts must be integers; got dtype {counts.dtype}")
    index_a, index_b = np.asarray(index_a), np.asarray(index_b)
    axis = counts.ndim - 1  # a row of counts per resample if 2-D
    w = np.take(counts, index_a, axis=axis)
    partner = np.take(counts, index_b, axis=axis)
    distinct = index_a != index_b
    w[..., distinct] *= partner[..., distinct]
    return w


def protein_bootstrap_weights(
    protein_a, protein_b, y, n_resamples: int = 1000, seed=0, max_draws: int | None = None
):
    """Protein ("pigeonhole") bootstrap: multiplicity of every pair per resample.

    Each resample draws the ``P`` proteins occurring in the pairs ``P`` times
    with replacement (seeded); with ``c_a`` the number of draws of protein
    ``a``, pair ``(a, b)`` enters the resample ``w = c_a c_b`` times, and a
    self-pair ``(a, a)`` ``c_a`` times. This is the two-way cluster
    ("pigeonhole") bootstrap of Owen (2007, Ann. Appl. Stat. 1:246) with both
    ways on the one protein set, the dyadic bootstrap studied by Davezies,
    D'Haultfoeuille & Guyonvarch (2021, Ann. Statist. 49:845): it keeps the
    dependence between pairs that share a protein, which a pair bootstrap
    ignores. Its variance is conservative (Owen 2007): the terms of the
    proteins are estimated consistently, but the pair-level term (what is
    left of a pair once both of its proteins' effects are taken out) is
    counted about ``Var(c_a c_b) = 3`` times instead of once. The excess is
    mild when proteins recur in many pairs (Guo: about 9 pairs per protein),
    where the protein terms dominate; in the extreme of no shared protein at
    all every term is pair-level and the variance is about 3 times the pair
    bootstrap's (intervals about sqrt(3) wider). The resample size varies:
    ``E[sum_i w_i] = n (1 - 1/P)`` for pairs of distinct proteins.

    A resample in which a class of ``y`` is absent (ROC-AUC would be undefined
    or estimate another average) is rejected and redrawn from the same random
    stream, so the accepted resamples depend only on the seed, the proteins and
    the labels, never on the predictions: a model and the reference get the same
    resamples. The number of rejected draws is returned so that callers report it.

    Parameters
    ----------
    protein_a, protein_b : array-like of shape (n,)
        The proteins of each pair (any hashable ids).
    y : array-like of int, shape (n,)
        Labels; every label present in ``y`` must be present in a resample.
    n_resamples : int
    seed : int or sequence of int
        For :func:`numpy.random.default_rng`.
    max_draws : int, optional
        Give up (ValueError) after this many draws; default ``100 * n_resamples``.

    Returns
    -------
    weights : ndarray of int64, shape (n_resamples, n)
    n_redrawn : int
        Draws rejected for a missing class.
    """
    a = np.asarray(protein_a)
    b = np.asarray(protein_b)
    y = np.asarray(y)
    n = y.size
    if a.shape != (n,) or b.shape != (n,):
        raise ValueError(
            f"protein_a and protein_b must have shape ({n},) to match y; got {a.shape}, {b.shape}"
        )
    if n == 0:
        raise ValueError("y is empty: no pairs to resample")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1; got {n_resamples}")
    ids, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    inverse = inverse.reshape(-1)
    ia, ib = inverse[:n], inverse[n:]
    P = ids.size
    labels, y_code = np.unique(y, return_inverse=True)
    y_code = y_code.reshape(-1)
    max_draws = 100 * n_resamples if max_draws is None else max_draws
    by_class = [y_code == k for k in range(labels.size)]
    rng = np.random.default_rng(seed)
    weights = np.empty((n_resamples, n), dtype=np.int32)  # products of small counts
    accepted = draws = 0
    while accepted < n_resamples:
        if draws >= max_draws:
            raise ValueError(
                f"protein bootstrap: only {accepted} of {draws} resamples held every class "
                f"of y; too few pairs per class to resample proteins"
            )
        # a block of at most _DRAW_BLOCK draws (bounds the memory), never more than are
        # missing, so no accepted draw is discarded and the stream fixes the resamples
        block = min(_DRAW_BLOCK, n_resamples - accepted)
        picks = rng.integers(0, P, size=(block, P)) + P * np.arange(block)[:, None]
        counts = np.bincount(picks.ravel(), minlength=block * P).reshape(block, P)
        w = pair_multiplicity(counts.astype(np.int32), ia, ib)
        ok = np.all([w[:, rows].any(axis=1) for rows in by_class], axis=0)
        weights[accepted : accepted + ok.sum()] = w[ok]
        accepted += int(ok.sum())
        draws += block
    return weights, draws - n_resamples


def weighted_replicates(y, proba, classes, weights, n_bins: int = 15) -> pd.DataFrame:
    """All metrics on each resample given as pair multiplicities ``weights`` (R, n).

    Equal, up to rounding, to :func:`all_metrics` of ``np.repeat(arange(n), w)``
    for each row ``w``; a resample with no pair raises ValueError.

    Returns
    -------
    DataFrame of shape (R, len(METRICS))
    """
    rows, _ = _rows(y, proba, n_bins, n_classes=len(classes))
    weights = np.asarray(weights)
    if weights.ndim != 2 or weights.shape[1] != rows.y.size:
        raise ValueError(f"weights must have shape (R, {rows.y.size}); got {weights.shape}")
    if weights.min(initial=0) < 0 or np.any(weights.sum(axis=1) == 0):
        raise ValueError("weights must be >= 0 with at least one pair per resample")
    step = max(1, _BLOCK_VALUES // (4 * rows.y.size))
    blocks = [
        rows.weighted_metrics(weights[i : i + step]) for i in range(0, weights.shape[0], step)
    ]
    return pd.DataFrame({name: np.concatenate([b[name] for b in blocks]) for name in METRICS})


def bootstrap_p_value(difference, delta) -> np.ndarray:
    """Two-sided p-value of each paired difference by its bootstrap standard error.

    ``p = 2 (1 - Phi(|d| / se*))``, ``d`` the difference of the point estimates and
    ``se*`` the standard deviation of the resampled differences ``delta`` (R, k) (a Wald
    test with a bootstrap standard error). A tail count of the replicates cannot go below
    ``2 / (R + 1)``, which after a Holm correction over some thirty tests per family
    leaves nothing significant at 1,000 resamples; the Wald form has no such floor, and is
    centred on the estimate rather than on the resamples, whose calibration errors are
    biased upwards. ``se* = 0`` gives p = 1 for ``d = 0`` and p = 0 otherwise.
    """
    from scipy.stats import norm

    delta = np.asarray(delta, dtype=np.float64)
    if delta.ndim == 1:
        delta = delta[:, None]
    difference = np.broadcast_to(np.asarray(difference, dtype=np.float64), delta.shape[1:])
    se = delta.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, np.abs(difference) / se, np.where(difference == 0, 0.0, np.inf))
    return 2 * norm.sf(z)


def normal_interval(difference, delta, level: float = 0.95):
    """``d -/+ z se*``: the interval that matches :func:`bootstrap_p_value` (it excludes 0
    exactly when ``p < 1 - level``). Returns ``(lower, upper)`` arrays."""
    from scipy.stats import norm

    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1); got {level}")
    delta = np.asarray(delta, dtype=np.float64)
    if delta.ndim == 1:
        delta = delta[:, None]
    half = norm.isf((1 - level) / 2) * delta.std(axis=0, ddof=1)
    difference = np.asarray(difference, dtype=np.float64)
    return difference - half, difference + half


def estimate_interval(estimate: dict, replicates: pd.DataFrame, level: float = 0.95):
    """``estimate -/+ z se*`` per metric, ``se*`` the standard deviation of the resampled
    values, clipped to the metric's range ([0, 1]; log-loss [0, inf)).

    Centred on the estimate, not on the resamples: a resample repeats rows, and binned
    calibration errors grow with repeated points, so their percentile intervals can lie
    wholly above the estimate.

    Returns
    -------
    DataFrame
        Columns ``metric, lower, upper``.
    """
    metrics = list(replicates.columns)
    centre = np.array([estimate[m] for m in metrics], dtype=np.float64)
    lower, upper = normal_interval(centre, replicates.to_numpy(np.float64), level)
    top = np.array([np.inf if m == "log_loss" else 1.0 for m in metrics])
    return pd.DataFrame(
        {"metric": metrics, "lower": np.clip(lower, 0.0, top), "upper": np.clip(upper, 0.0, top)}
    )


def paired_difference(
    replicates: pd.DataFrame,
    reference_replicates: pd.DataFrame,
    estimate: dict,
    reference_estimate: dict,
    level: float = 0.95,
) -> pd.DataFrame:
    """Differences ``model - reference`` with a paired normal interval (bootstrap standard
    error, :func:`normal_interval`).

    Both replicate tables must come from the same resamples (same labels in the
    same order, same seed).

    Returns
    -------
    DataFrame
        Columns ``metric, difference, lower, upper, better, p_value``:
        ``better`` is the share of resamples in which the model beats the
        reference (ties count half), using each metric's direction from
        :data:`METRICS`; ``p_value`` is :func:`bootstrap_p_value` of the
        differences, so the interval excludes 0 exactly when ``p_value < 1 - level`` (NaN differences are not expected: resamples keep every class).
    """
    if replicates.shape != reference_replicates.shape:
        raise ValueError(
            "replicates and reference_replicates differ in shape "
            f"{replicates.shape} vs {reference_replicates.shape}: not the same resamples"
        )
    delta = replicates - reference_replicates[replicates.columns]
    difference = np.array([estimate[m] - reference_estimate[m] for m in delta.columns])
    lower, upper = normal_interval(difference, delta.to_numpy(), level)
    table = pd.DataFrame(
        {"metric": list(delta.columns), "difference": difference, "lower": lower, "upper": upper}
    )
    sign = np.array([1.0 if METRICS[m] else -1.0 for m in delta.columns])
    signed = delta.to_numpy() * sign
    table["better"] = np.mean(signed > 0, axis=0) + 0.5 * np.mean(signed == 0, axis=0)
    table["p_value"] = bootstrap_p_value(difference, delta.to_numpy())
    return table
