"""Synthetic benchmark data drawn from a known SGMLMoE (sampler of moe.simulate), with a seed."""

from __future__ import annotations

import numpy as np

from moe.model import SGMLMoE
from moe.simulate import sample, true_model, well_separated_parameters


def synthetic(n: int, d: int, K: int, M: int, seed: int, *,
              coef_sd: float | None = None) -> tuple[np.ndarray, np.ndarray, SGMLMoE]:
    """(X, y, truth): n rows, d standard-normal inputs, labels from a true SGMLMoE.

    With ``coef_sd`` None the truth is moe.simulate's well-separated model (experts own distinct
    sectors). With a number, every gate and expert coefficient is N(0, coef_sd^2): overlapping
    experts, for which the unpenalised likelihood has a finite best optimum that several random
    starts reach (the well-separated truth makes many starts drift towards infinite slopes).
    Every class must be present (flexmix and the estimator both need it); a draw that misses one
    is an error rather than silently different data.
    """
    rng = np.random.RandomState(seed)
    if coef_sd is None:
        W, V = well_separated_parameters(K, d, M, random_state=rng)
    else:
        W, V = coef_sd * rng.standard_normal((K, d + 1)), coef_sd * rng.standard_normal((K, M, d + 1))
    truth = true_model(W, V)
    X, y = sample(truth, n, random_state=rng)
    missing = np.setdiff1d(np.arange(M), y)
    if missing.size:
        raise ValueError(f"synthetic data with n={n}, M={M} (seed {seed}) lack classes {missing.tolist()}")
    return X, np.asarray(y, dtype=np.intp), truth
