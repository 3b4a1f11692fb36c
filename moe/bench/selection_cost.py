"""Section "selection_cost": one over-fitted fit plus the dendrogram against the K = 1..K_bar sweep.

Both paths see the same data and fit every model with the same estimator and settings (the
estimator's starts, screening, then the best start to convergence); each path is timed end to
end, fits included, and reports the number of experts it picks. :func:`dendrogram_path` and
:func:`sweep_path` are also the synthetic study's ``selection_cost`` experiment.
"""

from __future__ import annotations

import logging
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from moe.simulate import synthetic_data
from moe.model import SGMLMoE

LOG = logging.getLogger(__name__)

DEFAULTS = {
    "n": 2000,
    "d": 10,
    "K0": 3,
    "M": 3,
    "k_bar": 8,  # experts of the over-fitted model, and the sweep's largest K
    "criteria": ["aic", "bic", "icl"],
    "repeats": 3,
    "threads": 1,
    "model": {"n_init": 2, "max_iter": 2000, "tol": 1e-8},  # SGMLMoE's parameters
    "dendrogram_variant": None,  # None: MixingDendrogram's default
}
QUICK = {"k_bar": 5, "repeats": 1, "criteria": ["bic"]}
COLUMNS = ["n", "d", "K0", "M", "k_bar", "method", "criterion", "repeat", "seconds",
           "selected_k", "threads"]


def dendrogram_path(X, y, estimator, k_bar, variant=None) -> tuple[float, int]:
    """Seconds and the K picked by ``DendrogramSelector`` over ``estimator`` at ``k_bar``."""
    from moe.selectors import DendrogramSelector

    options = {} if variant is None else {"variant": variant}
    start = time.perf_counter()
    selector = DendrogramSelector(clone(estimator).set_params(n_experts=k_bar), **options).fit(X, y)
    return time.perf_counter() - start, selector.n_experts_


def sweep_path(X, y, estimator, k_bar, criteria) -> tuple[float, dict]:
    """Seconds of the sweep K = 1..k_bar over ``estimator`` and the K each criterion picks."""
    from moe.selection import best_k, sweep

    start = time.perf_counter()
    table = sweep(X, y, k_bar, criteria=tuple(criteria), estimator=estimator)
    seconds = time.perf_counter() - start
    return seconds, {c: int(best_k(table, c)) for c in criteria}


def run(settings: dict, seed: int) -> pd.DataFrame:
    n, d, K0, M, k_bar = (int(settings[key]) for key in ("n", "d", "K0", "M", "k_bar"))
    X, y, _ = synthetic_data(n, d, K0, M, seed)
    base = {"n": n, "d": d, "K0": K0, "M": M, "k_bar": k_bar}
    rows = []
    for r in range(int(settings["repeats"])):
        estimator = SGMLMoE(**settings["model"], random_state=seed * 1000 + r,
                            n_threads=settings["threads"])
        LOG.info("selection cost: repeat %d", r)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            seconds, k = dendrogram_path(X, y, estimator, k_bar, settings["dendrogram_variant"])
            rows.append(base | {"method": "overfit + dendrogram", "criterion": "dsc", "repeat": r,
                                "seconds": seconds, "selected_k": k})
            seconds, picks = sweep_path(X, y, estimator, k_bar, settings["criteria"])
            rows += [base | {"method": f"sweep K=1..{k_bar}", "criterion": c, "repeat": r,
                             "seconds": seconds, "selected_k": k} for c, k in picks.items()]
    table = pd.DataFrame(rows)
    table["threads"] = settings["threads"]
    return table[COLUMNS]


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Median wall time and the K picked (most frequent over repeats) per method and criterion."""
    grouped = table.groupby(["method", "criterion"], sort=False)
    out = grouped.agg(median_seconds=("seconds", "median"), repeats=("repeat", "nunique"),
                      selected_k=("selected_k", lambda k: int(k.mode().iloc[0])),
                      K0=("K0", "first")).reset_index()
    dendro = out.loc[out["method"] == "overfit + dendrogram", "median_seconds"]
    out["time_vs_dendrogram"] = out["median_seconds"] / dendro.iloc[0] if len(dendro) else np.nan
    return out
