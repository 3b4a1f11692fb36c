"""Fit a benchmark model fold by fold: the out-of-fold prediction tables.

:func:`fit_fold` fits one model on one fold's training part (preprocessing
included, see :mod:`moe.baselines`) and returns the test part's probabilities
as a *prediction table* with columns ``pair_index, fold, component, y,
proba_0 .. proba_{C-1}``. :func:`read_predictions` reads the tables back and
:func:`prediction_arrays` gives their ``(y, proba)`` for :mod:`moe.scoring`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from moe.baselines import build_model, describe_fit, model_inputs
from moe.threads import limit_threads

__all__ = [
    "proba_columns",
    "align_proba",
    "FoldFit",
    "fit_fold",
    "read_predictions",
    "prediction_arrays",
]


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
        BLAS and OpenMP pools during fit and predict
        (:func:`moe.threads.limit_threads`).

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
    with limit_threads(n_threads):
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
