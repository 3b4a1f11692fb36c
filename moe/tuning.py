"""Nested tuning: hyper-parameters chosen on the training part of an outer fold only.

For one outer fold, the training pairs are split again by the *same rule* as the outer
split (:func:`inner_folds`): ``random`` -> :func:`moe.ppi.splits.random_kfold`,
``protein_disjoint`` -> :func:`moe.ppi.splits.protein_disjoint`, so that tuning on a
protein-disjoint fold also scores on proteins unseen by the inner fit, as the test does.
The inner split is seeded from the config seed and the outer fold index. The test part of
the outer fold never enters: inner folds index into ``fold.train`` only.

- Scale ``default``: one inner holdout, fold 0 of ``n_inner`` (default 4), i.e. about 3/4
  of the training part fits and 1/4 scores.
- Scale ``paper``: all ``n_inner`` inner folds; a candidate's score is the mean of its
  per-fold scores, and the inner-validation parts together cover the training part.

Every candidate of a model's grid (the Cartesian product of its listed values, on top of
the model's fixed settings) is fitted on the inner-train part and scored by the inner
score ``L = -(1/n) Σ_i log p_{i, y_i}`` (log-loss, lower is better) on the inner-validation
part. The argmin (first in grid order on ties) is refitted on the whole training part by
:func:`moe.folds.fit_fold`. The inner-validation predictions of the chosen candidate are
kept: they are the calibration set of :mod:`moe.calibration`. A grid point of
``moe_mm_dsc`` is the whole :class:`moe.DendrogramSelector`, so K is chosen by the model's
own selector at each alpha. The grid points are independent fits,
each from the estimator's own starts (measured on fold 0, the alphas 1, 10 and 100 cost about
the same, within 30 %, on both datasets).

``moe_em_bic`` (the EM sweep, a variant of our method, not a baseline) is not tuned by
default: it takes the alpha chosen for ``moe_mm_dsc`` on the same outer fold
(:data:`BORROWED`). Tuning the sweep's alpha the same way would refit K = 1..k_max per
grid point, about three times the whole sweep's cost, and the two MoEs share the penalty's
meaning (ridge on expert and gate slopes), so one choice per fold compares them at the same
regularisation. A grid given for ``moe_em_bic`` in the config tunes it by itself instead.

Edges. A grid's best point at its edge says the optimum may lie beyond it. When a grid has
one setting with a known range (:data:`EXTENSIBLE`) and its best candidate is the smallest or
the largest value scored, :func:`tune` scores one more value beyond that edge, a step of the
same ratio as the edge's last one (30, 300 -> 3000), and repeats while the new value is best,
at most ``extend`` times (the plan's ``extend``, default :data:`DEFAULT_EXTEND`) and never past
the setting's range. Every model gets the same rule, so the budget follows the data: a model
pays for an extra point only on the folds that ask for one. Grids of several settings (the
paper scale's) are not extended.

The probe is never tuned. Equal budgets: every baseline is scored on the same inner
holdout and gets a grid of comparable size (:data:`DEFAULT_GRIDS`); the representation
(``pca`` or ``all``, :func:`moe.baselines.representation_of`) is recorded for every model
and tuned at paper scale for the cheap linear model.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from moe.baselines import MODELS, representation_of, setting_names
from moe.calibration import log_loss
from moe.ppi.splits import Fold, protein_disjoint, random_kfold

__all__ = [
    "SCALES",
    "DEFAULT_GRIDS",
    "BORROWED",
    "EXTENSIBLE",
    "DEFAULT_EXTEND",
    "TUNING_COLUMNS",
    "resolve_grid",
    "fit_plan",
    "borrowed_settings",
    "consensus_settings",
    "candidates",
    "extension",
    "inner_seed",
    "inner_folds",
    "TuningResult",
    "tune",
    "tuning_rows",
    "tuning_table",
]

SCALES = ("default", "paper")

# Default grids were sized on the real data (CPU time of the tuned fit on fold 0 of each
# dataset x split, one thread): two candidates for the costly models (moe_mm_dsc, xgb, rf,
# svm), three or four for the cheap ones (logreg, mlp), whose extra points can only favour
# the baselines. A first full run chose an edge of these grids in most folds (moe_mm_dsc
# alpha = 300 in 18 of 20, svm C = 10 in 18, xgb learning_rate = 0.1 in 15, logreg C =
# 0.001 in 9, mlp alpha = 10 in 12): the edge extension (``extend``, see "Edges" above)
# follows those folds beyond the grid instead of widening every grid on every fold. Paper
# grids are fuller. A config grid for a model replaces the model's grid here; {} turns its
# tuning off.
DEFAULT_GRIDS: dict[str, dict[str, dict[str, list]]] = {
    "default": {
        "moe_mm_dsc": {"alpha": [30.0, 300.0]},
        "logreg": {"C": [0.001, 0.01, 0.1, 1.0]},
        "svm": {"C": [1.0, 10.0]},
        "mlp": {"alpha": [1e-2, 1.0, 10.0]},
        "xgb": {"learning_rate": [0.1, 0.3]},
        "rf": {"min_samples_leaf": [1, 5]},
    },
    "paper": {
        "moe_mm_dsc": {"alpha": [0.1, 1.0, 10.0, 100.0, 1000.0]},
        "logreg": {"C": [1e-4, 0.001, 0.01, 0.1, 1.0], "representation": ["pca", "all"]},
        "svm": {"C": [0.3, 1.0, 3.0, 10.0], "gamma": ["scale", 0.01, 0.1]},
        "mlp": {"alpha": [1e-3, 1e-2, 0.1, 1.0, 10.0]},
        "xgb": {"max_depth": [2, 4, 6], "learning_rate": [0.05, 0.1, 0.3]},
        "rf": {"min_samples_leaf": [1, 2, 5, 10]},
    },
}

# setting -> (lowest allowed, highest allowed, type) of the values an edge extension may add;
# a float range excludes its lower end (a penalty or a learning rate of 0 is another model).
# The same name means the same kind of setting in every model that has it: alpha a ridge
# (MoE) or L2 penalty (MLP), C an inverse penalty (logreg, SVM).
EXTENSIBLE: dict[str, tuple[float, float, type]] = {
    "alpha": (0.0, np.inf, float),
    "C": (0.0, np.inf, float),
    "learning_rate": (0.0, 1.0, float),
    "min_samples_leaf": (1, np.inf, int),
}
DEFAULT_EXTEND = 2

# model -> (model whose chosen settings it takes on the same fold, the settings taken)
BORROWED: dict[str, tuple[str, tuple[str, ...]]] = {"moe_em_bic": ("moe_mm_dsc", ("alpha",))}

TUNING_COLUMNS = [
    "dataset", "split", "fold", "model", "candidate", "parameter", "value",
    "inner_score", "chosen", "n_inner", "note",
]


def resolve_grid(model: str, scale: str = "default", overrides: dict | None = None) -> dict:
    """The grid of ``model``: ``overrides[model]`` if given, else :data:`DEFAULT_GRIDS`.

    Returns ``{setting: [values]}`` (``{}``: not tuned).

    Raises
    ------
    ValueError
        For an unknown scale, a model that cannot be tuned with a grid, a grid key the
        model does not accept (naming model and key), or an empty value list.
    """
    if scale not in SCALES:
        raise ValueError(f"tuning scale must be one of {', '.join(SCALES)}; got {scale!r}")
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r} in the tuning grids")
    overrides = overrides or {}
    if model in overrides:
        grid = dict(overrides[model] or {})
    else:
        grid = dict(DEFAULT_GRIDS[scale].get(model, {}))
    if not grid:
        return {}
    spec = MODELS[model]
    if spec.calibration is not None or spec.inputs != "features":
        raise ValueError(
            f"model {model!r} cannot be tuned by a grid "
            + ("(a calibrated model: tune its base)" if spec.calibration else "(the probe)")
        )
    known = setting_names(model)
    for key, values in grid.items():
        if key not in known:
            raise ValueError(
                f"tuning grid of model {model!r}: unknown key {key!r}; known: {', '.join(known)}"
            )
        if not isinstance(values, (list, tuple)) or len(values) == 0:
            raise ValueError(
                f"tuning grid of model {model!r}: key {key!r} needs a non-empty list of values"
            )
        for value in values if key == "representation" else ():
            representation_of(model, {"representation": value})
    return {key: [_typed(value) for value in values] for key, values in grid.items()}


def _typed(value):
    """A grid value given as text, typed as YAML types it ("100.0" -> 100.0, "scale" stays):
    Snakemake's ``--config`` reads nested values with YAML's BaseLoader, as strings."""
    if not isinstance(value, str):
        return value
    import yaml  # the workflow's dependency, needed only for grids given on its command line

    return yaml.safe_load(value)


def fit_plan(model: str, tuning: dict | None, run: list) -> dict:
    """How the fit job of ``model`` tunes, as JSON-ready ``params`` (a change reruns the job).

    Parameters
    ----------
    model : str
    tuning : dict
        The config's ``tuning`` section: ``enabled``, ``scale``, ``n_inner``, ``grids``.
    run : list of str
        ``models.run``: a model is given an inner fit (its calibration set) when a
        calibrated model of it runs, even if it has no grid.

    Returns
    -------
    dict
        ``scale``, ``n_inner``, ``grid`` (``{}``: not tuned), ``extend`` (the most values
        :func:`tune` may add beyond the grid's edges), ``inner`` (whether to make the inner
        fits) and ``borrow`` (``{"model", "keys"}`` of :data:`BORROWED`, or None).
    """
    tuning = dict(tuning or {})
    enabled = tuning.get("enabled", True)
    scale = tuning.get("scale", "default")
    grids = tuning.get("grids") or {}
    unknown = sorted(set(grids) - set(MODELS))
    if unknown:
        raise ValueError(f"tuning.grids: unknown model(s) {', '.join(map(repr, unknown))}")
    grid = resolve_grid(model, scale, grids) if enabled else {}
    borrow = None
    if enabled and not grid and model in BORROWED:
        source, keys = BORROWED[model]
        source_grid = resolve_grid(source, scale, grids)
        taken = [key for key in keys if key in source_grid]
        if source in run and taken:
            borrow = {"model": source, "keys": taken}
    calibrated = any(MODELS[m].base == model for m in run)
    return {
        "scale": scale,
        "n_inner": int(tuning.get("n_inner", 4)),
        "grid": grid,
        "extend": int(tuning.get("extend", DEFAULT_EXTEND)),
        "inner": bool(grid) or calibrated,
        "borrow": borrow,
    }


def borrowed_settings(info: dict, keys) -> dict:
    """The settings ``keys`` of a fold json's final ``settings`` (see :data:`BORROWED`).

    Raises
    ------
    ValueError
        If the json lacks one of them.
    """
    settings = info.get("settings") or {}
    missing = [key for key in keys if key not in settings]
    if missing:
        raise ValueError(
            f"fold json of {info.get('model')!r} fold {info.get('fold')} has no chosen "
            f"setting(s) {', '.join(map(repr, missing))} to take"
        )
    return {key: settings[key] for key in keys}


def consensus_settings(infos, keys) -> dict:
    """The settings ``keys`` most often chosen over fold jsons (``settings`` of each), for a fit
    that stands for all the folds (the workflow's whole-dataset figures).

    Ties go to the middle value of those tied (the lower of the two middle ones).

    Raises
    ------
    ValueError
        If there are no fold jsons, or one lacks a key (:func:`borrowed_settings`).
    """
    infos = list(infos)
    if not infos:
        raise ValueError("consensus_settings needs at least one fold json")
    chosen = [borrowed_settings(info, keys) for info in infos]
    consensus = {}
    for key in keys:
        values = [c[key] for c in chosen]
        counts = {value: values.count(value) for value in values}
        tied = sorted(value for value, count in counts.items() if count == max(counts.values()))
        consensus[key] = tied[(len(tied) - 1) // 2]
    return consensus


def candidates(grid: dict) -> list[dict]:
    """The Cartesian product of ``grid``'s values, in grid order (``[{}]`` for ``{}``)."""
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def extension(grid: dict, tried: list[dict], scores: list[float]):
    """The candidate one step beyond the grid's edge, or None (see "Edges" above).

    ``tried`` are the candidates scored so far with their ``scores``. A value is proposed when
    ``grid`` has one setting in :data:`EXTENSIBLE`, every tried value is a positive number and
    the best (first minimum) is the smallest or the largest of them: the edge times the ratio
    of the edge to its neighbour (or divided by it, below), rounded for an integer setting.
    None when the best is inside, the step leaves the setting's range, or rounding repeats a
    tried value.
    """
    if len(grid) != 1:
        return None
    (key,) = grid
    if key not in EXTENSIBLE:
        return None
    values = [candidate[key] for candidate in tried]
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0 for v in values):
        return None
    ordered = sorted(set(values))
    if len(ordered) < 2:
        return None
    best = values[int(np.argmin(scores))]
    if best == ordered[-1]:
        value = best * best / ordered[-2]
    elif best == ordered[0]:
        value = best * best / ordered[1]
    else:
        return None
    low, high, kind = EXTENSIBLE[key]
    # ten significant digits: 0.1 * 0.1 / 1 is 0.01 in the table, not 0.010000000000000002
    value = kind(round(value)) if kind is int else float(f"{value:.10g}")
    inside = (low <= value if kind is int else low < value) and value <= high
    return {key: value} if inside and value not in ordered else None


def inner_seed(seed: int, fold_index: int) -> int:
    """The inner split's seed: a function of the config seed and the outer fold only."""
    return int(np.random.SeedSequence([int(seed), int(fold_index)]).generate_state(1)[0])


def inner_folds(
    pairs: pd.DataFrame, train: np.ndarray, split: str, *, n_inner: int = 4, seed: int = 0,
    fold_index: int = 0, scale: str = "default",
) -> list[Fold]:
    """The inner folds of one outer fold, indexing the pairs of ``train`` only.

    Parameters
    ----------
    pairs : DataFrame
        All pairs (``protein_a``, ``protein_b``, ``label``); only rows ``train`` are read.
    train : array of int
        The outer fold's training indices.
    split : {"random", "protein_disjoint"}
        The outer split's rule, applied again to the training pairs.
    n_inner, seed, fold_index, scale
        ``n_inner`` inner folds seeded by :func:`inner_seed`; scale ``default`` keeps
        fold 0 only, ``paper`` all of them.

    Returns
    -------
    list of Fold
        ``train`` and ``test`` (inner-train, inner-validation) are indices into ``pairs``,
        subsets of ``train``; ``component`` tags the inner-validation pairs (C1/C2/C3
        relative to the inner-train part).
    """
    if scale not in SCALES:
        raise ValueError(f"tuning scale must be one of {', '.join(SCALES)}; got {scale!r}")
    if isinstance(n_inner, bool) or not isinstance(n_inner, int) or n_inner < 2:
        raise ValueError(f"n_inner must be an integer >= 2; got {n_inner!r}")
    train = np.asarray(train, dtype=np.int64)
    sub = pairs.iloc[train].reset_index(drop=True)
    state = inner_seed(seed, fold_index)
    if split == "random":
        try:
            folds = random_kfold(sub["label"].to_numpy(), n_inner, state, pairs=sub)
        except ValueError as error:
            raise ValueError(
                f"tuning n_inner={n_inner}, training part of outer fold {fold_index}: {error}"
            ) from None
    elif split == "protein_disjoint":
        folds = protein_disjoint(sub, n_inner, state)
    else:
        raise ValueError(f"unknown split {split!r}; known: random, protein_disjoint")
    folds = folds[:1] if scale == "default" else folds
    return [Fold(train=train[f.train], test=train[f.test], component=f.component) for f in folds]


@dataclass
class TuningResult:
    """The outcome of :func:`tune`.

    Attributes
    ----------
    chosen : dict
        The chosen candidate (grid settings only).
    scores : list of float
        Inner score of every candidate, in :func:`candidates` order.
    candidates : list of dict
        The grid's candidates, then those added beyond its edge (:func:`extension`).
    n_grid : int
        How many of ``candidates`` are the grid's; the rest were added.
    inner_predictions : DataFrame
        The chosen candidate's inner-validation prediction table(s), concatenated.
    n_inner : int
        Inner folds scored.
    """

    chosen: dict
    scores: list
    candidates: list
    inner_predictions: pd.DataFrame
    n_inner: int
    seconds: float = 0.0
    n_grid: int = 0


def tune(
    name: str, settings: dict, grid: dict, inputs, y: np.ndarray, folds: list[Fold],
    fold_index: int, n_classes: int, *, fit_predict, extend: int = 0, **build,
) -> TuningResult:
    """Score every candidate of ``grid`` on ``folds`` (inner folds); argmin of log-loss.

    ``fit_predict(name, settings, inputs, y, fold, fold_index, n_classes, **build)`` is
    :func:`moe.folds.fit_predict` (passed in to keep this module free of the fit details);
    it returns ``(table, fit_seconds, predict_seconds, estimator)``. Up to ``extend``
    candidates are added beyond the grid's edge while its best lies there (:func:`extension`).
    """
    if not folds:
        raise ValueError("tune needs at least one inner fold")
    if isinstance(extend, bool) or not isinstance(extend, int) or extend < 0:
        raise ValueError(f"extend must be an integer >= 0; got {extend!r}")
    tried, scores, tables, seconds = [], [], [], 0.0

    def score(candidate):
        nonlocal seconds
        per_fold, fold_tables = [], []
        for inner in folds:
            table, fit_s, predict_s, _ = fit_predict(
                name, {**settings, **candidate}, inputs, y, inner, fold_index, n_classes, **build
            )
            seconds += fit_s + predict_s
            proba = table[[f"proba_{c}" for c in range(n_classes)]].to_numpy()
            per_fold.append(log_loss(table["y"].to_numpy(dtype=np.int64), proba))
            fold_tables.append(table)
        tried.append(candidate)
        scores.append(float(np.mean(per_fold)))
        tables.append(pd.concat(fold_tables, ignore_index=True))

    for candidate in candidates(grid):
        score(candidate)
    n_grid = len(tried)
    while len(tried) - n_grid < extend and (beyond := extension(grid, tried, scores)):
        score(beyond)
    best = int(np.argmin(scores))  # first minimum: grid order breaks ties
    return TuningResult(
        chosen=tried[best], scores=scores, candidates=tried,
        inner_predictions=tables[best], n_inner=len(folds), seconds=seconds, n_grid=n_grid,
    )


def _text(value) -> str:
    """A setting's value as table text (JSON, so lists and null round-trip)."""
    return value if isinstance(value, str) else json.dumps(value)


def tuning_rows(
    name: str, settings: dict, result: TuningResult | None = None, *,
    borrowed: dict | None = None, borrowed_from: str | None = None,
) -> list[dict]:
    """The ``ppi_tuning.csv`` rows of one model on one fold (without dataset/split/fold).

    One row per candidate and grid setting (``inner_score`` the candidate's mean inner
    log-loss, ``chosen`` true for the argmin; a candidate added beyond the grid's edge says so
    in ``note``), one row per borrowed setting, and a
    ``representation`` row for every model (inner score empty unless it was tuned).
    """
    rows = []
    grid_keys = list(result.candidates[0]) if result is not None else []
    if result is not None:
        for index, (candidate, score) in enumerate(zip(result.candidates, result.scores)):
            for key, value in candidate.items():
                rows.append({
                    "model": name, "candidate": index, "parameter": key, "value": _text(value),
                    "inner_score": score, "chosen": candidate == result.chosen,
                    "n_inner": result.n_inner,
                    "note": "" if index < result.n_grid else "added beyond the grid's edge",
                })
    for key, value in (borrowed or {}).items():
        rows.append({
            "model": name, "candidate": None, "parameter": key, "value": _text(value),
            "inner_score": None, "chosen": True, "n_inner": None,
            "note": f"taken from {borrowed_from}, chosen on the same fold (not tuned itself)",
        })
    if "representation" not in grid_keys:
        rows.append({
            "model": name, "candidate": None, "parameter": "representation",
            "value": representation_of(name, settings), "inner_score": None, "chosen": True,
            "n_inner": None, "note": "fixed (not tuned)",
        })
    return rows


def tuning_table(infos) -> pd.DataFrame:
    """``ppi_tuning.csv`` from fold jsons (dicts with dataset, split, fold and ``tuning``)."""
    rows = []
    for info in infos:
        if "tuning" not in info:
            raise ValueError(
                f"fold json of {info.get('dataset')}/{info.get('split')}/{info.get('model')} "
                f"fold {info.get('fold')} has no 'tuning' rows"
            )
        for row in info["tuning"]:
            rows.append({"dataset": info["dataset"], "split": info["split"],
                         "fold": info["fold"], **row})
    table = pd.DataFrame(rows, columns=TUNING_COLUMNS)
    table["candidate"] = table["candidate"].astype("Int64")
    table["n_inner"] = table["n_inner"].astype("Int64")
    table["inner_score"] = table["inner_score"].astype("float64")
    table["chosen"] = table["chosen"].astype(bool)
    return table
