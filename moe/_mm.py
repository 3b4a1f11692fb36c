"""The SGMLMoE log-likelihood and its closed-form MM map (docs/method.md, sections "Model" and "The MM iteration").

Parameters live in one array ``theta`` of shape (U, p), U = (K - 1) + K (M - 1), holding
only the free rows: first the K - 1 gate rows W_1..W_{K-1} (W_K = 0), then for each expert
k the M - 1 class rows V_k1..V_k,M-1 (V_kM = 0). The data are held as X~^T (p x n) and
every pass over them runs in blocks of ``CHUNK`` columns: per block one (U x p) @ (p x b)
product for the logits and one (U x b) @ (b x p) product for the gradient, so memory beyond the
data and the responsibilities stays O(CHUNK (K M + p)) whatever n is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg.lapack import dpotrf, dpotrs


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


def canonical(gate_coef: np.ndarray, expert_coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(W, V) translated so that W_K = 0 and every V_kM = 0; the model is unchanged."""
    W = np.asarray(gate_coef, dtype=np.float64)
    V = np.asarray(expert_coef, dtype=np.float64)
    return W - W[-1], V - V[:, -1:, :]


CHUNK = 8192  # columns per block: the passes over X~ keep O(CHUNK (K M + p)) temporaries


def augment(X: np.ndarray, dtype=np.float64) -> np.ndarray:
    """X~^T = (1, x)^T for every row, as a C-contiguous (p x n) array of ``dtype``."""
    n, d = X.shape
    XT = np.empty((d + 1, n), dtype=dtype)
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


def weighted_gram(XT: np.ndarray, w: np.ndarray) -> np.ndarray:
    """X~^T diag(w) X~ (p x p) for w >= 0, one symmetric rank-b update per block of columns.

    Each block's product runs in the dtype of X~; the blocks are summed in float64.
    """
    p, n = XT.shape
    gram = np.zeros((p, p))
    block = np.empty((p, min(CHUNK, n)), dtype=XT.dtype)
    for lo in range(0, n, CHUNK):
        hi = min(lo + CHUNK, n)
        root = np.sqrt(w[lo:hi]).astype(XT.dtype, copy=False)
        B = np.multiply(XT[:, lo:hi], root, out=block[:, : hi - lo])
        gram += B @ B.T  # numpy calls syrk for B @ B.T: half the flops of a general product
    return gram


class EState:
    """What the E-step computes at one theta.

    ``gradient`` is the gradient of the Jensen minoriser at theta^t (equal to that of L there),
    fused into the E-step's pass over the data. It belongs to the E-step's own responsibilities:
    assigning other ``tau`` (as a start from given responsibilities does) clears it, and the MM
    map then recomputes it for the new ``tau``.
    """

    def __init__(self, theta, loglik, log_lik_i, tau, gradient):
        self.theta = theta  # the point this state was computed at
        self.loglik = loglik  # sum_i s_i log p(y_i | x_i), float
        self.log_lik_i = log_lik_i  # (n,) log p(y_i | x_i)
        self._tau = tau  # (K, n) responsibilities
        self.gradient = gradient  # (U, p) float64, or None after tau was replaced

    @property
    def tau(self) -> np.ndarray:
        return self._tau

    @tau.setter
    def tau(self, value: np.ndarray) -> None:
        self._tau = value
        self.gradient = None


def _block(th, Xb, yb, sb, layout: Layout, tau_b=None):
    """The E-step and the gradient on one block of columns.

    Returns log p(y_i | x_i) (b,), tau (K x b) and the block's gradient (U x p). The softmaxes
    are max-subtracted and each exponential is taken once: the free-class probabilities come
    from the same exponentials as the log-normalisers, and tau from those of log p(y_i | x_i).
    """
    K, M = layout.K, layout.M
    b = Xb.shape[1]
    Z = th @ Xb
    R = np.empty_like(Z)  # the residuals; first it holds the exponentials
    # gate: pi_k = softmax over (Z_1..Z_{K-1}, 0)
    Zg, Eg = Z[: K - 1], R[: K - 1]
    m = Zg.max(axis=0, initial=0.0)
    np.exp(np.subtract(Zg, m, out=Eg), out=Eg)
    norm = Eg.sum(axis=0) + np.exp(-m)
    log_norm_g = np.log(norm) + m
    Eg /= norm  # pi_1..pi_{K-1}
    # experts: P_km = softmax over (Z_k1..Z_k,M-1, 0)
    Ze, Ee = Z[K - 1 :].reshape(K, M - 1, b), R[K - 1 :].reshape(K, M - 1, b)
    m = Ze.max(axis=1, initial=0.0)
    np.exp(np.subtract(Ze, m[:, None, :], out=Ee), out=Ee)
    norm = Ee.sum(axis=1) + np.exp(-m)
    Ee /= norm[:, None, :]  # P_k1..P_k,M-1
    log_joint = np.log(norm, out=norm)
    log_joint += m
    # log pi_k + log p_k(y_i): the chosen class's logit (0 for the last class) minus the norms;
    # the one-hot product picks the logit without fancy indexing, which costs more
    Yb = np.equal.outer(np.arange(M - 1), yb).astype(Z.dtype)
    np.subtract(np.einsum("kmb,mb->kb", Ze, Yb), log_joint, out=log_joint)
    log_joint[: K - 1] += Zg
    log_joint -= log_norm_g
    # log p(y_i | x_i) = logsumexp_k, max-subtracted; tau from the same exponentials
    m = log_joint.max(axis=0)
    m[~np.isfinite(m)] = 0.0
    tau = np.exp(np.subtract(log_joint, m, out=log_joint), out=log_joint)
    total = tau.sum(axis=0)
    tau /= total
    ll = np.log(total) + m
    st = sb * (tau if tau_b is None else tau_b)
    # residuals: gate s (tau_k - pi_k), experts s tau_k (Y_m - P_km)
    np.subtract(st[: K - 1], np.multiply(Eg, sb, out=Eg), out=Eg)
    np.subtract(Yb, Ee, out=Ee)
    Ee *= st[:, None, :]
    return ll, tau, R @ Xb.T


def _pass(theta, XT, y, s, layout: Layout, tau=None) -> EState:
    """One blocked pass over the data: log-likelihood, responsibilities and the fused gradient.

    With ``tau`` given, those responsibilities are used for the gradient instead of the
    E-step's own (the log-likelihood is still that of ``theta``).
    """
    dtype = XT.dtype
    n = XT.shape[1]
    th = theta.astype(dtype, copy=False)
    own_tau = np.empty((layout.K, n), dtype=dtype)
    log_lik_i = np.empty(n, dtype=dtype)
    gradient = np.zeros(theta.shape)
    for lo in range(0, n, CHUNK):
        hi = min(lo + CHUNK, n)
        sb = s[lo:hi].astype(dtype, copy=False)
        tau_b = None if tau is None else tau[:, lo:hi].astype(dtype, copy=False)
        log_lik_i[lo:hi], own_tau[:, lo:hi], g = _block(th, XT[:, lo:hi], y[lo:hi], sb, layout, tau_b)
        gradient += g
    loglik = float(np.dot(s, log_lik_i.astype(np.float64, copy=False)))
    return EState(theta, loglik, log_lik_i, own_tau if tau is None else tau, gradient)


def e_step(theta: np.ndarray, XT: np.ndarray, y: np.ndarray, s: np.ndarray, layout: Layout) -> EState:
    """Responsibilities tau_ik, the log-likelihood and the minoriser's gradient at ``theta``.

    One pass over X~ in blocks of ``CHUNK`` columns; arithmetic in the dtype of ``XT``
    (float64 by default), sums and the gradient accumulated in float64.
    """
    return _pass(theta, XT, y, s, layout)


def surrogate_gradient(state: EState, XT: np.ndarray, Y: np.ndarray, s: np.ndarray, layout: Layout):
    """Gradient of the Jensen minoriser at ``state.theta`` with respect to the free rows, (U x p).

    Gate rows: g_k = X~^T diag(s) (tau_k - pi_k); expert rows: h_km = X~^T diag(s tau_k)(Y_m - P_km).
    The E-step already fused it into its pass; it is recomputed only for replaced ``tau``.
    """
    if state.gradient is None:
        y = np.argmax(Y, axis=0)
        state.gradient = _pass(state.theta, XT, y, s, layout, tau=state.tau).gradient
    return state.gradient


def _cholesky(A: np.ndarray) -> np.ndarray:
    """The upper Cholesky factor of A by LAPACK's potrf, called directly: scipy's cho_factor
    and cho_solve wrap the same routines at several microseconds each, which at small p is a
    tenth of an MM step."""
    factor, info = dpotrf(A, lower=0, clean=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"the bound's curvature matrix is not positive definite (potrf info {info})")
    return factor


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
            self._factors = (_cholesky(H),)
        else:
            D = np.eye(H.shape[0])
            D[0, 0] = 0.0
            self._factors = (_cholesky(H / (2 * C) + alpha * D), _cholesky(H / 2 + alpha * D))

    def step(self, G: np.ndarray) -> np.ndarray:
        """The update Delta (rows x p) for free-row gradients ``G`` (rows x p), rows = C - 1."""
        if self.alpha == 0.0:
            rhs = 2.0 * (G + G.sum(axis=0))
            return dpotrs(self._factors[0], rhs.T)[0].T
        along_one = np.broadcast_to(G.mean(axis=0), G.shape)
        return dpotrs(self._factors[0], along_one.T)[0].T + dpotrs(self._factors[1], (G - along_one).T)[0].T


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


class MapBase:
    """What the MM and EM maps share: the data in the engine's layout, the penalised objective
    both ascend, and the E-step."""

    def __init__(self, XT, y, s, layout: Layout, alpha: float):
        self.XT, self.y, self.s, self.layout, self.alpha = XT, y, s, layout, alpha
        self.Y = np.zeros((layout.M, XT.shape[1]))
        self.Y[y, np.arange(XT.shape[1])] = 1.0
        self._mask = slope_mask(layout.p)

    def objective(self, state: EState, theta: np.ndarray) -> float:
        """The penalised log-likelihood L(theta) - alpha/2 |slopes|^2."""
        return state.loglik - penalty(theta, self.alpha)

    def e_step(self, theta: np.ndarray) -> EState:
        return e_step(theta, self.XT, self.y, self.s, self.layout)

    def reset(self) -> None:
        """Forget whatever an earlier run left (nothing, unless a map keeps state)."""


class MMMap(MapBase):
    """The MM map theta^t -> theta^{t+1} for one data set (docs/method.md, section "The MM iteration").

    ``curvature="fixed"`` uses C_k = S for every block, factored once here; ``"weighted"``
    uses C_k = X~^T diag(s tau_k) X~ + eps I, formed at every step; ``"lazy"`` keeps the
    weighted G_k formed at earlier responsibilities tau' and uses C_k = G_k + delta_k S + eps I,
    delta_k = max_i (tau_ik - tau'_ik)^+, a valid bound (X~^T diag(s (tau_k - tau'_k)) X~ <=
    delta_k S), updating exactly the rows that moved far (:meth:`_lazy_grams`).
    ``relaxation`` omega in (0, 2) moves theta + omega Delta along the bound's step
    Delta: the bound at theta + omega Delta is (omega - omega^2 / 2) g^T A^{-1} g >= 0 above
    L(theta), so each step still ascends.
    """

    REFRESH = 0.01  # a row moves from the delta_k S slack into G_k beyond this share of w_k

    def __init__(self, XT, y, s, layout: Layout, curvature: str = "weighted", alpha: float = 0.0,
                 relaxation: float = 1.0):
        super().__init__(XT, y, s, layout, alpha)
        self.curvature = curvature
        self.relaxation = relaxation
        self.S = weighted_gram(XT, s)
        # A relative ridge keeps S and C_k positive definite when X~ is rank deficient or an
        # expert holds almost no mass; any PSD addition keeps the bound valid, so ascent holds.
        # In float32 it also covers the rounding of the Gram blocks (~1e-7 sqrt(CHUNK) relative).
        scale = max(float(np.trace(self.S)), 1e-300)
        self._eps = 1e-10 * scale / layout.p if XT.dtype == np.float64 else 1e-5 * scale
        self.S[np.diag_indices_from(self.S)] += self._eps
        self.gate_solver = BoundSolver(self.S, layout.K, alpha) if layout.K > 1 else None
        self.fixed_expert_solver = BoundSolver(self.S, layout.M, alpha) if curvature == "fixed" else None
        self._weighted = s > 0
        self.reset()

    def reset(self) -> None:
        """Forget the kept Gram matrices, so that a run's steps do not depend on earlier runs."""
        self._kept = None  # (tau', [G_k]) of the lazy curvature

    def __call__(self, theta: np.ndarray, state: EState) -> np.ndarray:
        """One MM update from ``theta`` whose E-step ``state`` is already computed."""
        K, M = self.layout.K, self.layout.M
        G = surrogate_gradient(state, self.XT, self.Y, self.s, self.layout)
        if self.alpha:
            G = G - self.alpha * theta * self._mask
        delta = np.empty_like(theta)
        if K > 1:
            delta[: K - 1] = self.gate_solver.step(G[: K - 1])
        solvers = self._expert_solvers(state.tau)
        for k in range(K):
            rows = slice(K - 1 + k * (M - 1), K - 1 + (k + 1) * (M - 1))
            delta[rows] = solvers[k].step(G[rows])
        if self.relaxation != 1.0:
            delta *= self.relaxation
        return theta + delta

    def _expert_solvers(self, tau: np.ndarray) -> list[BoundSolver]:
        if self.fixed_expert_solver is not None:
            return [self.fixed_expert_solver] * self.layout.K
        if self.curvature == "weighted":
            C = self._grams(tau)
        else:
            C = self._lazy_grams(tau)
        solvers = []
        for Ck in C:
            Ck[np.diag_indices_from(Ck)] += self._eps
            solvers.append(BoundSolver(Ck, self.layout.M, self.alpha))
        return solvers

    def _lazy_grams(self, tau: np.ndarray) -> list[np.ndarray]:
        """Bounds C_k >= X~^T diag(s tau_k) X~ from the kept G_k = X~^T diag(s tau'_k) X~.

        Rows whose tau_ik moved by more than ``REFRESH`` times expert k's weight share w_k are
        brought up to date exactly (G_k += X~_B^T diag(s (tau - tau')_B) X~_B, tau'_B = tau_B);
        the rest add at most delta_k S, delta_k = their largest increase (<= REFRESH w_k).
        When rows holding more than a quarter of the weight moved, all G_k are formed again.
        Rows of weight 0 are left out of every rule, so that weights and repeated rows give the
        same bounds.
        """
        if self._kept is not None:
            kept_tau, kept = self._kept
            moved = (tau - kept_tau) * self._weighted
            total = max(float(self.s.sum()), np.finfo(float).tiny)
            cut = self.REFRESH * (kept_tau @ self.s) / total
            rows = [np.flatnonzero(np.abs(moved[k]) > cut[k]) for k in range(self.layout.K)]
            if sum(float(self.s[B].sum()) for B in rows) <= total / 4:
                C = []
                for k, (G, B) in enumerate(zip(kept, rows)):
                    if len(B):
                        XB = self.XT[:, B]
                        G += (XB * (self.s[B] * moved[k, B]).astype(XB.dtype)) @ XB.T
                        kept_tau[k, B] = tau[k, B]
                        moved[k, B] = 0.0
                    C.append(G + max(float(moved[k].max()), 0.0) * self.S)
                return C
        C = self._grams(tau)
        self._kept = (tau.copy(), [c.copy() for c in C])
        return C

    def _grams(self, tau: np.ndarray) -> list[np.ndarray]:
        """X~^T diag(s tau_k) X~ for every expert k."""
        K = self.layout.K
        # The tau rows sum to one, so the C_k sum to S: the heaviest expert's C_k is S minus the
        # others, one weighted Gram matrix fewer per step. Its rounding error is ~1e-16 |S|, far
        # below the eps ridge every C_k gets, so the bound stays valid.
        # In float32 the rows sum to one only to ~1e-7, too coarse for that: all K are computed.
        heaviest = int(np.argmax(tau.sum(axis=1))) if tau.dtype == np.float64 else -1
        C = [None] * K
        for k in range(K):
            if k != heaviest:
                C[k] = weighted_gram(self.XT, self.s * tau[k])
        if heaviest >= 0:
            C[heaviest] = self.S - self._eps * np.eye(self.layout.p) - sum(c for c in C if c is not None)
        return C
