"""Data from a known SGMLMoE, a misspecified variant, and the Voronoi loss (docs/method.md, section "Synthetic study").

The sampler draws standardised inputs x ~ N(0, I_d), then a label from the true model
p(y | x) = sum_k pi_k(x) p_k(y | x). With ``epsilon > 0`` a share epsilon of the rows is
contaminated: their label comes from a multinomial logit on the squares of the inputs, which no
finite set of linear experts represents exactly, so criteria that trade likelihood against a
parameter count keep adding experts as n grows.

Two truths: :func:`well_separated_parameters` (experts owning sectors of the input space), and
:func:`simplex_parameters`, whose atoms form a regular simplex; :func:`split_copies` splits the
latter's experts into exact copies, an over-fitted model equal to the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from moe.model import SGMLMoE


def well_separated_parameters(n_experts, n_features, n_classes, *, gate_scale=3.0,
                              expert_scale=3.0, slope_scale=0.5, random_state=None):
    """Seeded true parameters (W, V) whose experts own distinct regions and favour distinct classes.

    Gate: intercepts 0 (equal mixing weights at x = 0) and slopes of norm ``gate_scale`` whose
    directions are spread evenly on the circle of the first two inputs (on the line when d = 1),
    so each expert dominates its own sector of the input space. Expert k: intercepts
    ``expert_scale`` on class k mod M and 0 elsewhere, plus N(0, slope_scale^2) slopes, so
    neighbouring experts differ in both their favoured class and their slopes.

    Returns
    -------
    gate_coef : ndarray (K0, p), last row 0
    expert_coef : ndarray (K0, M, p), last class row 0
    """
    K, d, M = _check_positive(n_experts=n_experts, n_features=n_features, n_classes=n_classes)
    if M < 2:
        raise ValueError(f"n_classes must be at least 2; got {M}")
    rng = check_random_state(random_state)
    W = np.zeros((K, d + 1))
    if d == 1:
        W[:, 1] = gate_scale * np.linspace(-1.0, 1.0, K) if K > 1 else 0.0
    else:
        angle = 2 * np.pi * np.arange(K) / K + rng.uniform(0, 2 * np.pi)
        W[:, 1], W[:, 2] = gate_scale * np.cos(angle), gate_scale * np.sin(angle)
    V = np.zeros((K, M, d + 1))
    V[np.arange(K), np.arange(K) % M, 0] = expert_scale
    V[:, :, 1:] = rng.normal(scale=slope_scale, size=(K, M, d))
    return W - W[-1], V - V[:, -1:, :]


def simplex_parameters(n_experts, n_classes=3, gate_scale=3.0, expert_scale=6.0):
    """True parameters (W, V) whose K0 = ``n_experts`` atoms are the vertices of a regular simplex.

    The inputs are d = K0 (so p = K0 + 1 with the intercept). Gate: intercepts b = 0 (equal
    mixing weights at x = 0) and row k of W the slope ``gate_scale`` e_k (input k). Expert k:
    one slope ``expert_scale`` on input k, for class k mod (M - 1), every other coefficient 0.
    Every pair of atoms is then at the same distance, so every true merge of the parameter tree
    has the same height (Ward's heights of a regular simplex are equal) and the literal DSC is
    not biased towards fewer experts. The truth of the split-copies construction
    (:func:`split_copies`; the ``split_copies`` experiment of ``moe.synthetic``).

    Returns
    -------
    gate_coef : ndarray (K0, K0 + 1)
        W, as constructed: its last row is not translated to 0
        (``SGMLMoE.from_parameters`` does that; the model is the same).
    expert_coef : ndarray (K0, M, K0 + 1)
        V, last class row 0.
    """
    K, M = _check_positive(n_experts=n_experts, n_classes=n_classes)
    if M < 2:
        raise ValueError(f"n_classes must be at least 2; got {M}")
    p = K + 1
    W = np.zeros((K, p))
    V = np.zeros((K, M, p))
    for k in range(K):
        W[k, 1 + k] = gate_scale
        V[k, k % (M - 1), 1 + k] = expert_scale
    return W, V


def split_copies(gate_coef, expert_coef, copies, random_state=None):
    """The same model with expert k split into ``copies[k]`` exact copies, atoms shuffled.

    Each copy of expert k keeps its gate slopes and its expert coefficients V_k and takes the
    gate intercept b_k - log c_k, c_k = ``copies[k]``: the c_k copies carry together the weight
    e^{b_k} of the original, so p(y | x) is unchanged (an over-fitted measure with K0 true atoms
    and sum_k c_k fitted ones, whose true merges all have height 0). The rows are returned in an
    order drawn from ``random_state`` (a seed, ``numpy.random.Generator`` or ``RandomState``),
    so that copies are not neighbours.

    Returns
    -------
    gate_coef : ndarray (sum c, p)
    expert_coef : ndarray (sum c, M, p)
    """
    W = np.asarray(gate_coef, dtype=float)
    V = np.asarray(expert_coef, dtype=float)
    copies = np.asarray(copies)
    if W.ndim != 2 or V.ndim != 3 or V.shape[0] != W.shape[0] or V.shape[2] != W.shape[1]:
        raise ValueError(
            f"gate_coef must be (K, p) and expert_coef (K, M, p); got {W.shape} and {V.shape}"
        )
    if copies.shape != (len(W),):
        raise ValueError(f"copies must give one count per expert ({len(W)}); got {copies.tolist()}")
    _check_positive(**{f"copies[{k}]": c for k, c in enumerate(copies.tolist())})
    rows = np.repeat(np.arange(len(W)), copies.astype(int))
    W_split = W[rows].copy()
    W_split[:, 0] -= np.log(copies[rows].astype(float))
    if isinstance(random_state, np.random.RandomState):
        order = random_state.permutation(len(rows))
    else:
        order = np.random.default_rng(random_state).permutation(len(rows))
    return W_split[order], V[rows][order]


def true_model(gate_coef, expert_coef) -> SGMLMoE:
    """The fitted-like SGMLMoE with classes 0..M-1 for true parameters (W, V)."""
    return SGMLMoE.from_parameters(gate_coef, expert_coef, np.arange(np.shape(expert_coef)[1]))


def sample(model: SGMLMoE, n_samples, *, epsilon=0.0, contamination_scale=2.0, random_state=None):
    """Draw (X, y) from ``model``, optionally epsilon-contaminated.

    x ~ N(0, I_d). Each label is drawn from p(y | x) of ``model``; with probability ``epsilon``
    it is drawn instead from the contaminating law p_c(y = m | x) = softmax_m(c_m . x^2), with
    x^2 the squared inputs and c_m ~ N(0, contamination_scale^2) (c_M = 0), a quadratic logit
    no mixture of linear experts reproduces.

    Returns
    -------
    X : ndarray (n, d)
    y : ndarray (n,) labels in ``model.classes_``
    """
    (n,) = _check_positive(n_samples=n_samples)
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be in [0, 1]; got {epsilon}")
    rng = check_random_state(random_state)
    d, M = model.n_features_in_, len(model.classes_)
    X = rng.standard_normal((n, d))
    P = model.predict_proba(X)
    C = rng.normal(scale=contamination_scale, size=(M, d))
    C[-1] = 0.0
    contaminated = rng.uniform(size=n) < epsilon
    if epsilon > 0:
        logits = (X**2) @ C.T
        Pc = np.exp(logits - logits.max(axis=1, keepdims=True))
        P[contaminated] = (Pc / Pc.sum(axis=1, keepdims=True))[contaminated]
    u = rng.uniform(size=(n, 1))
    y_idx = np.minimum((np.cumsum(P, axis=1) < u).sum(axis=1), M - 1)
    return X, model.classes_[y_idx]


def synthetic_data(n: int, d: int, K: int, M: int, seed: int, *,
                   coef_sd: float | None = None) -> tuple[np.ndarray, np.ndarray, SGMLMoE]:
    """(X, y, truth): n rows, d standard-normal inputs, labels 0..M-1 from a seeded true SGMLMoE.

    With ``coef_sd`` None the truth is :func:`well_separated_parameters` (experts own distinct
    sectors). With a number, every gate and expert coefficient is N(0, coef_sd^2): overlapping
    experts, for which the unpenalised likelihood has a finite best optimum that several random
    starts reach (the well-separated truth makes many starts drift towards infinite slopes).
    Every class must be present (flexmix and the estimator both need it); a draw that misses one
    is an error rather than silently different data. The benchmark's data (``moe.bench``).
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


def mixing_measure(gate_coef, expert_coef):
    """The atoms of the measure (W, V) in the coordinates of the Voronoi loss.

    Returns weights p_k = softmax_k(b) (the gate intercepts b normalised so sum_k p_k = 1) and
    locations theta_k = (beta_1k - sum_l p_l beta_1l, vec V_k): the gate slopes centred at their
    p-weighted mean, then the expert's coefficients. Both are unchanged by a common translation
    of the gate rows (W_k -> W_k + t), which leaves the model unchanged; merging two atoms keeps
    sum p and the p-weighted mean of the slopes.
    """
    W = np.asarray(gate_coef, dtype=float)
    V = np.asarray(expert_coef, dtype=float)
    b = W[:, 0]
    p = np.exp(b - b.max())
    p /= p.sum()
    slopes = W[:, 1:] - p @ W[:, 1:]
    return p, np.hstack([slopes, V.reshape(len(p), -1)])


def voronoi_loss(model, truth) -> float:
    """Voronoi loss D(G, G0) between the mixing measure of ``model`` and that of ``truth``.

    ``model`` and ``truth`` are fitted SGMLMoE or (gate_coef, expert_coef) pairs. With
    (p_k, theta_k) and (p0_j, theta0_j) from :func:`mixing_measure`, the Voronoi cell of true
    atom j is A_j = {k : j = argmin_l |theta_k - theta0_l|} (Euclidean; ties to the lowest l), and

        D(G, G0) = sum_j | sum_{k in A_j} p_k - p0_j |
                 + sum_{j : |A_j| = 1} sum_{k in A_j} p_k |theta_k - theta0_j|
                 + sum_{j : |A_j| > 1} sum_{k in A_j} p_k |theta_k - theta0_j|^2

    An exactly fitted true atom is charged the distance, an over-fitted one (several fitted atoms
    in its cell) the squared distance, as in the Voronoi losses of the softmax-gating literature;
    a true atom with an empty cell is charged its weight. D = 0 at the truth; it is invariant to
    permutations of either measure's atoms and to a common translation of either gate.
    Expert coefficients are compared as given (both with the last class row 0).
    """
    W, V = _measure(model)
    W0, V0 = _measure(truth)
    if V.shape[1:] != V0.shape[1:]:
        raise ValueError(
            "voronoi_loss: model and truth must have the same number of classes and features; got "
            f"expert_coef of shape {V.shape} and {V0.shape}"
        )
    p, theta = mixing_measure(W, V)
    p0, theta0 = mixing_measure(W0, V0)
    dist = np.sqrt(((theta[:, None, :] - theta0[None, :, :]) ** 2).sum(-1))
    cell = dist.argmin(axis=1)
    loss = 0.0
    for j in range(len(p0)):
        members = np.flatnonzero(cell == j)
        loss += abs(p[members].sum() - p0[j])
        power = 1 if len(members) == 1 else 2
        loss += float(p[members] @ dist[members, j] ** power)
    return loss


def loglog_slope(table) -> pd.Series:
    """Least-squares slope of log(loss) on log(n) for every ``fit`` of a table with columns
    ``fit``, ``n`` and ``loss`` (the ``voronoi`` experiment's); n^slope is the loss's rate."""
    return table.groupby("fit").apply(
        lambda g: np.polyfit(np.log(g["n"]), np.log(g["loss"]), 1)[0], include_groups=False
    )


def _measure(model):
    if isinstance(model, SGMLMoE):
        return model.gate_coef_, model.expert_coef_
    gate_coef, expert_coef = model
    return np.asarray(gate_coef, dtype=float), np.asarray(expert_coef, dtype=float)


def _check_positive(**values):
    out = []
    for name, value in values.items():
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
        out.append(int(value))
    return out
