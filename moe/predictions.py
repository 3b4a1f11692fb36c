"""Prediction tables: the out-of-fold probabilities a fit writes and the scoring reads.

A *prediction table* has columns ``pair_index, fold, component, y, proba_0 ..
proba_{C-1}``, one row per test pair of a fold (:func:`prediction_table`).
:func:`read_predictions` reads tables back and :func:`prediction_arrays` gives their
``(y, proba)`` for :mod:`moe.scoring`. Light on purpose: the evaluation, calibration and
plotting jobs read predictions without importing the models (:mod:`moe.folds`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["proba_columns", "align_proba", "prediction_table", "read_predictions",
           "prediction_arrays"]


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


def prediction_table(fold, fold_index: int, y: np.ndarray, proba: np.ndarray) -> pd.DataFrame:
    """The prediction table of ``fold.test``: ``pair_index, fold, component, y, proba_*``."""
    component = fold.component if fold.component is not None else np.full(len(fold.test), "")
    table = pd.DataFrame(
        {"pair_index": fold.test, "fold": fold_index, "component": component, "y": y[fold.test]}
    )
    table[proba_columns(proba.shape[1])] = proba
    return table


def read_predictions(paths) -> pd.DataFrame:
    """The prediction tables at ``paths`` (CSV files) as one table.

    ``component`` is read as text, so a fold without components keeps ``""``.
    """
    return pd.concat(
        [pd.read_csv(path, keep_default_na=False, dtype={"component": str}) for path in paths],
        ignore_index=True,
    )


def prediction_arrays(predictions: pd.DataFrame, n_classes: int):
    """``(y, proba)`` of a prediction table, with the rows renormalised.

    Renormalising removes the rounding of CSV storage (rows off by ~1e-16).
    """
    proba = predictions[proba_columns(n_classes)].to_numpy(dtype=np.float64)
    proba = proba / proba.sum(axis=1, keepdims=True)
    return predictions["y"].to_numpy(dtype=np.int64), proba
