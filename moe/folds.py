"""Fit a benchmark model fold by fold: the out-of-fold prediction tables.

:func:`fit_fold` fits one model on one fold's training part (preprocessing
included, see :mod:`moe.baselines`) and returns the test part's probabilities
as a prediction table (:mod:`moe.predictions`). Given a grid and inner folds it
first chooses the settings on the training part only (:mod:`moe.tuning`) and also
returns the chosen settings' inner-validation predictions (the calibration set of
:mod:`moe.calibration`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from moe.baselines import build_model, describe_fit, model_inputs
from moe.predictions import align_proba, prediction_table
from moe.threads import limit_threads

__all__ = ["FoldFit", "model_input_frame", "fit_predict", "fit_fold"]


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
    settings : dict
        The settings of the final fit (fixed settings with the chosen candidate).
    inner_predictions : DataFrame or None
        Inner-validation prediction table of the chosen settings fitted on the
        inner-train part; None without inner folds.
    tuning : moe.tuning.TuningResult or None
    tuning_seconds : float
        Wall-clock time of the inner fits.
    """

    predictions: pd.DataFrame
    fit_seconds: float
    predict_seconds: float
    details: dict = field(default_factory=dict)
    estimator: object = None
    settings: dict = field(default_factory=dict)
    inner_predictions: pd.DataFrame | None = None
    tuning: object = None
    tuning_seconds: float = 0.0


def model_input_frame(name: str, features: pd.DataFrame | None, pairs: pd.DataFrame):
    """What model ``name`` fits on: the feature rows or the protein ids of ``pairs``."""
    if model_inputs(name) == "proteins":
        return pairs[["protein_a", "protein_b"]].reset_index(drop=True)
    if features is None:
        raise ValueError(f"model {name!r} needs the feature matrix; got None")
    if len(features) != len(pairs):
        raise ValueError(f"features has {len(features)} rows but pairs has {len(pairs)}")
    return features


def fit_predict(
    name: str, settings: dict, inputs, y: np.ndarray, fold, fold_index: int, n_classes: int,
    *, pca_dim: int = 32, random_state: int | None = 0, n_threads: int | None = 1,
):
    """Fit ``name`` at ``settings`` on ``fold.train``, predict ``fold.test``.

    Returns ``(table, fit_seconds, predict_seconds, estimator)``, ``table`` as
    :func:`prediction_table`.
    """
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
    table = prediction_table(fold, fold_index, y, proba)
    return table, fitted - start, predicted - fitted, estimator


def fit_fold(
    name: str,
    settings: dict,
    features: pd.DataFrame | None,
    pairs: pd.DataFrame,
    fold,
    fold_index: int,
    n_classes: int,
    *,
    grid: dict | None = None,
    inner: list | None = None,
    extend: int = 0,
    pca_dim: int = 32,
    random_state: int | None = 0,
    n_threads: int | None = 1,
) -> FoldFit:
    """Fit model ``name`` on ``fold.train`` and predict ``fold.test``, tuned on ``inner``.

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
    grid : dict, optional
        ``{setting: [values]}`` (:func:`moe.tuning.resolve_grid`); its candidates
        override ``settings``. ``None`` or ``{}`` with ``inner``: one inner fit at
        ``settings`` (for the calibration set only).
    inner : list of Fold, optional
        Inner folds inside ``fold.train`` (:func:`moe.tuning.inner_folds`); needed
        for a non-empty grid.
    extend : int
        The most candidates :func:`moe.tuning.tune` may add beyond the grid's edge.
    pca_dim, random_state, n_threads
        As for :func:`moe.baselines.build_model`; ``n_threads`` also caps the
        BLAS and OpenMP pools during fit and predict
        (:func:`moe.threads.limit_threads`).

    Returns
    -------
    FoldFit
        With a one-point grid the test predictions equal those of an untuned fit at
        ``{**settings, **point}`` (same seed, same training part).
    """
    inputs = model_input_frame(name, features, pairs)
    y = pairs["label"].to_numpy()
    build = {"pca_dim": pca_dim, "random_state": random_state, "n_threads": n_threads}
    tuning = None
    if grid and not inner:
        raise ValueError(f"model {name!r}: a tuning grid needs inner folds")
    if inner:
        train = set(np.asarray(fold.train).tolist())
        if any(not set(np.asarray(f.train).tolist() + np.asarray(f.test).tolist()) <= train
               for f in inner):
            raise ValueError(
                f"model {name!r}: inner folds must lie inside the fold's training part"
            )
        from moe.tuning import tune  # moe.tuning builds on fit_predict of this module

        tuning = tune(name, settings, grid or {}, inputs, y, inner, fold_index, n_classes,
                      fit_predict=fit_predict, extend=extend, **build)
        settings = {**settings, **tuning.chosen}
    table, fit_seconds, predict_seconds, estimator = fit_predict(
        name, settings, inputs, y, fold, fold_index, n_classes, **build
    )
    return FoldFit(
        predictions=table,
        fit_seconds=fit_seconds,
        predict_seconds=predict_seconds,
        details=describe_fit(estimator),
        estimator=estimator,
        settings=dict(settings),
        inner_predictions=None if tuning is None else tuning.inner_predictions,
        tuning=tuning,
        tuning_seconds=0.0 if tuning is None else tuning.seconds,
    )
