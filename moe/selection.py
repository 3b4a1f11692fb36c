"""Sweep baselines for the number of experts: fit K = 1..K_bar and score AIC, BIC and ICL.

All criteria are on the -2 log L scale, smaller is better, with L the maximised likelihood,
nu = (K - 1) p + K (M - 1) p the free parameters (``moe.model.n_free_parameters``) and n the
number of observations:

    AIC = -2 log L + 2 nu
    BIC = -2 log L + nu log n
    ICL = BIC + 2 E,   E = -sum_i sum_k tau_ik log tau_ik >= 0  (0 log 0 = 0),

E being the entropy of the responsibilities tau_ik at the fitted parameters, so ICL penalises
experts whose assignment is ambiguous (Biernacki, Celeux and Govaert 2000).

Also here: :func:`partition_start` and :func:`fit_sgmlmoe`, the fitting routine the synthetic
study uses for every model, sweep and over-fit alike (see its docstring for why).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

from moe.dendrogram import m_step
from moe.mm import Layout, MMMap, augment
from moe.model import SGMLMoE

CRITERIA = ("aic", "bic", "icl")
PARTITION_STEPS = 30  # M-step iterations that turn a starting partition into parameters


def entropy(tau) -> float:
    """E = -sum_i sum_k tau_ik log tau_ik, with 0 log 0 = 0."""
    tau = np.asarray(tau, dtype=float)
    positive = tau > 0
    return float(-(tau[positive] * np.log(tau[positive])).sum())


def information_criteria(model: SGMLMoE, X, y) -> dict:
    """loglik, n_parameters, entropy, aic, bic and icl of a fitted ``model`` on (X, y)."""
    n = len(X)
    loglik = model.loglik(X, y)
    nu = model.n_parameters_
    E = entropy(model.responsibilities(X, y))
    bic = -2 * loglik + nu * np.log(n)
    return {"loglik": loglik, "n_parameters": nu, "entropy": E,
            "aic": -2 * loglik + 2 * nu, "bic": bic, "icl": bic + 2 * E}


def partition_start(X, y, n_experts, *, random_state=None, curvature="weighted", alpha=0.0,
                    n_threads=None):
    """Starting parameters (W, V) from a k-means partition of X, by an M-step.

    The partition is softened to tau = 0.9 on the cluster plus 0.1 / K everywhere, then
    ``PARTITION_STEPS`` MM steps with tau held fixed turn it into parameters. The estimator's own
    k-means start takes only 3 such steps (``moe.model.INIT_STEPS``); on the synthetic settings
    those 3 steps barely move from zero, the partition is lost, and a K = K0 fit ends in a worse
    optimum than the fit started at the truth in 7 of 9 replicates (30 steps: 0 of 9). This
    function is the workaround until that constant is raised.

    Returns
    -------
    dict with ``gate_coef`` (K, p) and ``expert_coef`` (K, M, p), for ``SGMLMoE(init=...)``.
    """
    X = np.asarray(X, dtype=np.float64)
    classes, y_idx = np.unique(y, return_inverse=True)
    K = int(n_experts)
    layout = Layout(K, len(classes), X.shape[1] + 1)
    labels = (np.zeros(len(X), dtype=int) if K == 1
              else KMeans(K, n_init=1, random_state=random_state).fit(X).labels_)
    tau = np.full((K, len(X)), 0.1 / K)
    tau[labels, np.arange(len(X))] += 0.9
    # a tiny ridge keeps the gate finite: the partition's cells are linearly separable
    F = MMMap(augment(X), y_idx, np.ones(len(X)), layout, curvature, max(alpha, 1e-6))
    with threadpool_limits(limits=n_threads, user_api="blas"), np.errstate(over="ignore"):
        theta = m_step(F, np.zeros((layout.n_units, layout.p)), tau, PARTITION_STEPS)
    W, V = layout.unpack(theta)
    return {"gate_coef": W, "expert_coef": V}


def fit_sgmlmoe(X, y, n_experts, *, n_starts=2, screen_iter=50, random_state=None, **params):
    """Fit an SGMLMoE from ``n_starts`` :func:`partition_start` starts and keep the best.

    Every start runs ``screen_iter`` MM evaluations; the best is continued for the rest of
    ``max_iter`` (as the estimator screens its own starts). ``params`` go to ``SGMLMoE``
    (``init`` and ``n_init`` are set here).
    """
    rng = check_random_state(random_state)
    max_iter = params.pop("max_iter", SGMLMoE().max_iter)
    shared = {key: params[key] for key in ("curvature", "alpha", "n_threads") if key in params}
    seeds = [rng.randint(2**31 - 1) for _ in range(n_starts)]
    starts = [partition_start(X, y, n_experts, random_state=s, **shared) for s in seeds]
    if n_starts > 1:
        screened = [_fit_quietly(X, y, n_experts, start, min(screen_iter, max_iter), params)
                    for start in starts]
        best = max(screened, key=lambda m: m.objective_)
        budget = max_iter - best.n_iter_
        if best.converged_ or budget < 1:
            return best
        start = {"gate_coef": best.gate_coef_, "expert_coef": best.expert_coef_}
        return SGMLMoE(n_experts, init=start, max_iter=budget, **params).fit(X, y)
    return SGMLMoE(n_experts, init=starts[0], max_iter=max_iter, **params).fit(X, y)


def _fit_quietly(X, y, n_experts, start, max_iter, params):
    """A screening fit: stopping at the budget is expected, so no ConvergenceWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SGMLMoE(n_experts, init=start, max_iter=max_iter, **params).fit(X, y)


def sweep(X, y, k_max, criteria=CRITERIA, *, fit=None, **model_params):
    """Fit K = 1..k_max experts separately and score each.

    Parameters
    ----------
    X, y : training data
    k_max : int
        K_bar, the largest number of experts fitted.
    criteria : iterable of {"aic", "bic", "icl"}
        The criterion columns returned.
    fit : callable or None
        ``fit(X, y, K, **model_params) -> fitted SGMLMoE``; None fits
        ``SGMLMoE(n_experts=K, **model_params)`` (any solver the estimator has).
    **model_params
        Passed to every fit.

    Returns
    -------
    DataFrame, one row per K = 1..k_max: ``n_experts``, ``loglik``, ``mean_loglik``,
    ``n_parameters``, ``entropy``, the criteria (smaller is better), ``fit_seconds``.
    """
    criteria = tuple(criteria)
    unknown = set(criteria) - set(CRITERIA)
    if unknown:
        raise ValueError(f"criteria must be among {CRITERIA}; got {sorted(unknown)}")
    if int(k_max) != k_max or k_max < 1:
        raise ValueError(f"k_max must be a positive integer; got {k_max!r}")
    rows = []
    for K in range(1, int(k_max) + 1):
        start = time.perf_counter()
        model = (fit(X, y, K, **model_params) if fit is not None
                 else SGMLMoE(n_experts=K, **model_params).fit(X, y))
        seconds = time.perf_counter() - start
        scores = information_criteria(model, X, y)
        rows.append({"n_experts": K, "loglik": scores["loglik"],
                     "mean_loglik": scores["loglik"] / len(X),
                     "n_parameters": scores["n_parameters"], "entropy": scores["entropy"],
                     **{c: scores[c] for c in criteria}, "fit_seconds": seconds})
    return pd.DataFrame(rows)


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
