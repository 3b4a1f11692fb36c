"""Small synthetic data sets shared by the estimator tests."""

import numpy as np


def sample_sgmlmoe(n, d, K, M, seed, scale=2.0):
    """Draw (X, y, W, V) from a random SGMLMoE with K experts and M classes."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = scale * rng.standard_normal((K, d + 1))
    W[-1] = 0.0
    V = scale * rng.standard_normal((K, M, d + 1))
    V[:, -1] = 0.0
    Xt = np.c_[np.ones(n), X]
    gate = np.exp(Xt @ W.T - (Xt @ W.T).max(1, keepdims=True))
    gate /= gate.sum(1, keepdims=True)
    z = (rng.random(n)[:, None] > np.cumsum(gate, 1)).sum(1)
    logits = np.einsum("np,nmp->nm", Xt, V[z])
    P = np.exp(logits - logits.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    y = (rng.random(n)[:, None] > np.cumsum(P, 1)).sum(1)
    return X, np.minimum(y, M - 1), W, V
