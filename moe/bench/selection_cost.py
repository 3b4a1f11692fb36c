"""Section "selection_cost": one over-fitted fit plus the dendrogram against the K = 1..K_bar sweep.

Both paths see the same data and fit every model with the same routine and settings
(moe.selection.fit_sgmlmoe, the synthetic study's: partition starts, screening, then the best
start to convergence); each path is timed end to end, fits included, and reports the number of
experts it picks.
"""

from __future__ import annotations

import logging
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from moe.bench.data import synthetic

LOG = logging.getLogger(__name__)

DEFAULTS = {
    "n": 2000,
    "d": 10,
    "true_k": 3,
    "M": 3,
    "k_max": 8,
    "criteria": ["aic", "bic", "icl"],
    "repeats": 3,
    "threads": 1,
    "model": {"n_starts": 2, "max_iter": 2000, "tol": 1e-8},
    "dendrogram_variant": None,  # None: MixingDendrogram's default
}
QUICK = {"k_max": 5, "repeats": 1, "criteria": ["bic"]}
COLUMNS = ["n", "d", "true_k", "M", "k_max", "method", "criterion", "repeat", "seconds",
           "selected_k", "threads"]


def _fit(X, y, K, params):
    from moe.selection import fit_sgmlmoe

    return fit_sgmlmoe(X, y, K, **params)


def _dendrogram_path(X, y, k_max, params, variant) -> tuple[float, int]:
    from moe.dendrogram import MixingDendrogram

    start = time.perf_counter()
    model = _fit(X, y, k_max, params)
    options = {} if variant is None else {"variant": variant}
    dendrogram = MixingDendrogram(model, X=X, y=y, **options)
    dendrogram.select(X, y)
    return time.perf_counter() - start, int(dendrogram.selected_k_)


def _sweep_path(X, y, k_max, criteria, params) -> tuple[float, dict]:
    from moe.selection import best_k, sweep

    start = time.perf_counter()
    table = sweep(X, y, k_max, criteria=tuple(criteria), fit=_fit_with_params(params))
    seconds = time.perf_counter() - start
    return seconds, {c: int(best_k(table, c)) for c in criteria}


def _fit_with_params(params):
    return lambda X, y, K: _fit(X, y, K, params)


def run(settings: dict, seed: int) -> pd.DataFrame:
    n, d, K0, M, k_max = (int(settings[key]) for key in ("n", "d", "true_k", "M", "k_max"))
    X, y, _ = synthetic(n, d, K0, M, seed)
    base = {"n": n, "d": d, "true_k": K0, "M": M, "k_max": k_max}
    rows = []
    for r in range(int(settings["repeats"])):
        params = dict(settings["model"], random_state=seed * 1000 + r, n_threads=settings["threads"])
        LOG.info("selection cost: repeat %d", r)
        with warnings.catch_warnings(), np.errstate(over="ignore", invalid="ignore"):
            warnings.simplefilter("ignore", ConvergenceWarning)
            seconds, k = _dendrogram_path(X, y, k_max, params, settings["dendrogram_variant"])
            rows.append(base | {"method": "overfit + dendrogram", "criterion": "dsc", "repeat": r,
                                "seconds": seconds, "selected_k": k})
            seconds, picks = _sweep_path(X, y, k_max, settings["criteria"], params)
            rows += [base | {"method": f"sweep K=1..{k_max}", "criterion": c, "repeat": r,
                             "seconds": seconds, "selected_k": k} for c, k in picks.items()]
    table = pd.DataFrame(rows)
    table["threads"] = settings["threads"]
    return table[COLUMNS]


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Median wall time and the K picked (most frequent over repeats) per method and criterion."""
    grouped = table.groupby(["method", "criterion"], sort=False)
    out = grouped.agg(median_seconds=("seconds", "median"), repeats=("repeat", "nunique"),
                      selected_k=("selected_k", lambda k: int(k.mode().iloc[0])),
                      true_k=("true_k", "first")).reset_index()
    dendro = out.loc[out["method"] == "overfit + dendrogram", "median_seconds"]
    out["time_vs_dendrogram"] = out["median_seconds"] / dendro.iloc[0] if len(dendro) else np.nan
    return out
