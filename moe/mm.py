"""The SGMLMoE log-likelihood and its closed-form MM map (DESIGN.md sections 1 and 2).

Parameters live in one array ``theta`` of shape (U, p), U = (K - 1) + K (M - 1), holding
only the free rows: first the K - 1 gate rows W_1..W_{K-1} (W_K = 0), then for each expert
k the M - 1 class rows V_k1..V_k,M-1 (V_kM = 0). Logits are computed as one (U x p) @ (p x n)
product and stored as (units x n) arrays so every reduction runs along contiguous memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve


@dataclass(frozen=True)
class Layout:
    """Shapes of a model with ``K`` experts, ``M`` classes and ``p`` = d + 1 columns."""

    K: int
    M: int
    p: int

    @property
    def n_units(self) -> int:
        """U = (K - 1) + K (M - 1), the number of free coefficient rows."""
        return self.K - 1 + self.K * (self.M - 1)

    def pack(self, gate_coef: np.ndarray, expert_coef: np.ndarray) -> np.ndarray:
        """Free rows of W (K x p) and V (K x M x p) as one (U x p) array."""
        return np.concatenate(
            [gate_coef[: self.K - 1], expert_coef[:, : self.M - 1, :].reshape(-1, self.p)]
        )

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Full W (K x p, last row 0) and V (K x M x p, last class row 0) from ``theta``."""
        K, M, p = self.K, self.M, self.p
        W = np.zeros((K, p))
        W[: K - 1] = theta[: K - 1]
        V = np.zeros((K, M, p))
        V[:, : M - 1, :] = theta[K - 1 :].reshape(K, M - 1, p)
        return W, V


def augment(X: np.ndarray) -> np.ndarray:
    """X~^T = (1, x)^T for every row, as a C-contiguous (p x n) array."""
    n, d = X.shape
    XT = np.empty((d + 1, n))
    XT[0] = 1.0
    XT[1:] = X.T
    return XT


def log_softmax_with_zero(Z: np.ndarray, axis: int) -> np.ndarray:
    """log softmax over ``axis`` of Z with a category of logit 0 appended last along it.

    Max-subtracted: the largest logit (0 included) is removed before exponentiating.
    """
    m = Z.max(axis=axis, keepdims=True, initial=0.0)
    shifted = Z - m
    lse = np.log(np.exp(shifted).sum(axis=axis, keepdims=True) + np.exp(-m)) + m
    zero = -lse
    return np.concatenate([Z - lse, zero], axis=axis)


def logsumexp0(A: np.ndarray) -> np.ndarray:
    """log sum_k exp(A[k]) over axis 0, max-subtracted."""
    m = A.max(axis=0)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.log(np.exp(A - m).sum(axis=0)) + m


@dataclass
class EState:
    """Everything the E-step computes at one theta."""

    loglik: float  # sum_i s_i log p(y_i | x_i)
    log_pi: np.ndarray  # (K, n) log gate probabilities
    log_P: np.ndarray  # (K, M, n) log expert class probabilities
    log_lik_i: np.ndarray  # (n,) log p(y_i | x_i)
    tau: np.ndarray  # (K, n) responsibilities


def e_step(theta: np.ndarray, XT: np.ndarray, y: np.ndarray, s: np.ndarray, layout: Layout) -> EState:
    """Log-probabilities, responsibilities tau_ik and the log-likelihood at ``theta``."""
    K, M = layout.K, layout.M
    n = XT.shape[1]
    Z = theta @ XT
    log_pi = log_softmax_with_zero(Z[: K - 1], axis=0)
    log_P = log_softmax_with_zero(Z[K - 1 :].reshape(K, M - 1, n), axis=1)
    log_joint = log_pi + log_P[:, y, np.arange(n)]
    log_lik_i = logsumexp0(log_joint)
    tau = np.exp(log_joint - log_lik_i)
    return EState(float(s @ log_lik_i), log_pi, log_P, log_lik_i, tau)


def surrogate_gradient(state: EState, XT: np.ndarray, Y: np.ndarray, s: np.ndarray, layout: Layout):
    """Gradient of the Jensen minoriser at theta^t with respect to the free rows, (U x p).

    Gate rows: g_k = X~^T diag(s) (tau_k - pi_k); expert rows: h_km = X~^T diag(s tau_k)(Y_m - P_km).
    Both are one fused (U x n) @ (n x p) product.
    """
    K, M = layout.K, layout.M
    st = s * state.tau
    R = np.empty((layout.n_units, XT.shape[1]))
    R[: K - 1] = st[: K - 1] - s * np.exp(state.log_pi[: K - 1])
    resid = Y[: M - 1] - np.exp(state.log_P[:, : M - 1, :])
    np.multiply(resid, st[:, None, :], out=resid)
    R[K - 1 :] = resid.reshape(K * (M - 1), -1)
    return R @ XT.T


class BoundSolver:
    """Solves the quadratic-bound step for one softmax block of C categories.

    The surrogate's curvature on the C - 1 free rows is A_C (x) H + alpha (I (x) D), with
    A_C = 1/2 (I - 1 1^T / C) (Boehning) and D the identity on slopes (intercept unpenalised).
    A_C has eigenvalue 1/(2C) along 1 and 1/2 on its complement, so the step needs at most two
    Cholesky factors of p x p matrices. With alpha = 0 it reduces to 2 (G + 1 1^T G) H^{-1}.
    """

    def __init__(self, H: np.ndarray, C: int, alpha: float):
        self.C = C
        self.alpha = alpha
        if alpha == 0.0:
            self._factors = (cho_factor(H, check_finite=False),)
        else:
            D = np.eye(H.shape[0])
            D[0, 0] = 0.0
            self._factors = (
                cho_factor(H / (2 * C) + alpha * D, check_finite=False),
                cho_factor(H / 2 + alpha * D, check_finite=False),
            )

    def step(self, G: np.ndarray) -> np.ndarray:
        """The update Delta (rows x p) for free-row gradients ``G`` (rows x p), rows = C - 1."""
        if self.alpha == 0.0:
            rhs = 2.0 * (G + G.sum(axis=0))
            return cho_solve(self._factors[0], rhs.T, check_finite=False).T
        along_one = np.broadcast_to(G.mean(axis=0), G.shape)
        return (
            cho_solve(self._factors[0], along_one.T, check_finite=False).T
            + cho_solve(self._factors[1], (G - along_one).T, check_finite=False).T
        )


def slope_mask(p: int) -> np.ndarray:
    """D as a row mask: 0 on the intercept column, 1 on slopes."""
    mask = np.ones(p)
    mask[0] = 0.0
    return mask


def penalty(theta: np.ndarray, alpha: float) -> float:
    """alpha / 2 * |slopes|^2 over all free rows (the fixed zero rows add nothing)."""
    if alpha == 0.0:
        return 0.0
    return 0.5 * alpha * float(np.sum(theta[:, 1:] ** 2))


class MMMap:
    """The MM map theta^t -> theta^{t+1} for one data set (DESIGN.md section 2).

    ``curvature="fixed"`` uses C_k = S for every block, factored once here; ``"weighted"``
    uses C_k = X~^T diag(s tau_k) X~ + eps I, factored at every step.
    """

    def __init__(self, XT, y, s, layout: Layout, curvature: str = "weighted", alpha: float = 0.0):
        self.XT, self.y, self.s, self.layout = XT, y, s, layout
        self.curvature, self.alpha = curvature, alpha
        self.Y = np.zeros((layout.M, XT.shape[1]))
        self.Y[y, np.arange(XT.shape[1])] = 1.0
        B = XT * np.sqrt(s)
        self.S = B @ B.T
        # A relative ridge keeps S and C_k positive definite when X~ is rank deficient or an
        # expert holds almost no mass; any PSD addition keeps the bound valid, so ascent holds.
        self._eps = 1e-10 * max(float(np.trace(self.S)) / layout.p, 1e-300)
        self.S[np.diag_indices_from(self.S)] += self._eps
        self.gate_solver = BoundSolver(self.S, layout.K, alpha) if layout.K > 1 else None
        self.fixed_expert_solver = BoundSolver(self.S, layout.M, alpha) if curvature == "fixed" else None
        self._mask = slope_mask(layout.p)

    def objective(self, state: EState, theta: np.ndarray) -> float:
        """The penalised log-likelihood L(theta) - alpha/2 |slopes|^2, the quantity MM ascends."""
        return state.loglik - penalty(theta, self.alpha)

    def e_step(self, theta: np.ndarray) -> EState:
        return e_step(theta, self.XT, self.y, self.s, self.layout)

    def __call__(self, theta: np.ndarray, state: EState) -> np.ndarray:
        """One MM update from ``theta`` whose E-step ``state`` is already computed."""
        K, M, p = self.layout.K, self.layout.M, self.layout.p
        G = surrogate_gradient(state, self.XT, self.Y, self.s, self.layout)
        if self.alpha:
            G -= self.alpha * theta * self._mask
        delta = np.empty_like(theta)
        if K > 1:
            delta[: K - 1] = self.gate_solver.step(G[: K - 1])
        for k in range(K):
            rows = slice(K - 1 + k * (M - 1), K - 1 + (k + 1) * (M - 1))
            delta[rows] = self._expert_solver(k, state).step(G[rows])
        return theta + delta

    def _expert_solver(self, k: int, state: EState) -> BoundSolver:
        if self.fixed_expert_solver is not None:
            return self.fixed_expert_solver
        B = self.XT * np.sqrt(self.s * state.tau[k])
        Ck = B @ B.T  # a symmetric rank-n update (syrk): half the flops of a general product
        Ck[np.diag_indices_from(Ck)] += self._eps
        return BoundSolver(Ck, self.layout.M, self.alpha)
