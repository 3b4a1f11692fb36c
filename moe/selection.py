"""Sweep baselines for the number of experts: fit K = 1..K_bar and score AIC, BIC, HQC and ICL.

All criteria are on the -2 log L scale, smaller is better, with L the maximised likelihood,
nu = (K - 1) p + K (M - 1) p the free parameters (``moe.model.n_free_parameters``) and n the
number of observations:

    AIC = -2 log L + 2 nu
    BIC = -2 log L + nu log n
    HQC = -2 log L + 2 nu log log n
    ICL = BIC + 2 E,   E = -sum_i sum_k tau_ik log tau_ik >= 0  (0 log 0 = 0),

E being the entropy of the responsibilities tau_ik at the fitted parameters, so ICL penalises
experts whose assignment is ambiguous (Biernacki, Celeux and Govaert 2000), and HQC (Hannan and
Quinn 1979) is consistent like BIC with a smaller charge per parameter. A ridge fit
(``alpha > 0``) has fewer degrees of freedom than free parameters: nu is then the effective
count tr[(J + alpha D)^+ J] (``moe.dendrogram.effective_df``), as in the dendrogram's BIC, so
the sweep and the tree charge a ridge fit alike.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.base import clone

from moe.model import SGMLMoE

CRITERIA = ("aic", "bic", "hqc", "icl")


def charge(criterion: str, n: float) -> float:
    """The charge per (effective) parameter on the -2 log L scale: 2 for ``"aic"``, log n for
    ``"bic"`` (and ICL), 2 log log n for ``"hqc"``; the dendrogram's scores use the same."""
    return {"aic": 2.0, "bic": np.log(n), "hqc": 2 * np.log(np.log(n))}[criterion]


def entropy(tau) -> float:
    """E = -sum_i sum_k tau_ik log tau_ik, with 0 log 0 = 0."""
    tau = np.asarray(tau, dtype=float)
    positive = tau > 0
    return float(-(tau[positive] * np.log(tau[positive])).sum())


def information_criteria(model: SGMLMoE, X, y) -> dict:
    """loglik, n_parameters, df (nu: the free parameters, or a ridge fit's effective degrees
    of freedom), entropy, aic, bic, hqc and icl of a fitted ``model`` on (X, y)."""
    from moe.dendrogram import effective_df  # the tree's module builds on this one's model

    n = len(X)
    loglik = model.loglik(X, y)
    nu = model.n_parameters_ if model.alpha == 0 else effective_df(model, X, y)
    E = entropy(model.responsibilities(X, y))
    aic, bic, hqc = (-2 * loglik + nu * charge(c, n) for c in ("aic", "bic", "hqc"))
    return {"loglik": loglik, "n_parameters": model.n_parameters_, "df": nu, "entropy": E,
            "aic": aic, "bic": bic, "hqc": hqc, "icl": bic + 2 * E}


def sweep(X, y, k_max, criteria=CRITERIA, *, estimator=None, return_estimators=False):
    """Fit K = 1..k_max experts separately and score each.

    Parameters
    ----------
    X, y : training data
    k_max : int
        The largest number of experts fitted.
    criteria : iterable of {"aic", "bic", "hqc", "icl"}
        The criterion columns returned.
    estimator : SGMLMoE or None
        The settings of every fit: ``clone(estimator).set_params(n_experts=K)`` is fitted for
        each K (None: ``SGMLMoE()``).
    return_estimators : bool
        Also return the fitted models, one per K.

    Returns
    -------
    DataFrame, one row per K = 1..k_max: ``n_experts``, ``loglik``, ``mean_loglik``,
    ``n_parameters``, ``df`` (nu of the criteria), ``entropy``, the criteria (smaller is
    better), ``converged``, ``n_iter`` and ``fit_seconds``; with ``return_estimators`` also
    the list of fitted models.
    """
    criteria = tuple(criteria)
    unknown = set(criteria) - set(CRITERIA)
    if unknown:
        raise ValueError(f"criteria must be among {CRITERIA}; got {sorted(unknown)}")
    if isinstance(k_max, bool) or int(k_max) != k_max or k_max < 1:
        raise ValueError(f"k_max must be a positive integer; got {k_max!r}")
    template = SGMLMoE() if estimator is None else estimator
    rows, models = [], []
    for K in range(1, int(k_max) + 1):
        start = time.perf_counter()
        model = clone(template).set_params(n_experts=K).fit(X, y)
        seconds = time.perf_counter() - start
        scores = information_criteria(model, X, y)
        rows.append({"n_experts": K, "loglik": scores["loglik"],
                     "mean_loglik": scores["loglik"] / len(X),
                     "n_parameters": scores["n_parameters"], "df": scores["df"],
                     "entropy": scores["entropy"],
                     **{c: scores[c] for c in criteria}, "converged": bool(model.converged_),
                     "n_iter": int(model.n_iter_), "fit_seconds": seconds})
        models.append(model)
    table = pd.DataFrame(rows)
    return (table, models) if return_estimators else table


def best_k(table, criterion) -> int:
    """The number of experts minimising ``table[criterion]`` (ties: fewer experts).

    Works on a :func:`sweep` table and on a ``MixingDendrogram.dsc`` table (criterion "dsc").
    """
    if criterion not in table.columns:
        raise ValueError(f"criterion {criterion!r} is not a column of the table: {list(table.columns)}")
    values = table[criterion].to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"column {criterion!r} holds non-finite values")
    return int(table["n_experts"][values == values.min()].min())
