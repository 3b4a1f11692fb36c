"""``SGMLMoE``: the softmax-gated multinomial-logistic mixture of experts as a scikit-learn classifier."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from moe.ascent import AscentResult, ascend
from moe.em import EMMap
from moe.mm import Layout, MMMap, augment, e_step, log_softmax_with_zero, logsumexp0

INIT_STEPS = 3  # MM steps with the starting responsibilities held fixed, to turn them into theta
INIT_ALPHA = 1e-6  # a ridge for those steps: a hard partition often makes an expert's data separable


def _finite_or(value: float, default: float = -np.inf) -> float:
    return value if np.isfinite(value) else default


def n_free_parameters(K: int, M: int, p: int) -> int:
    """(K - 1) p + K (M - 1) p: the free parameters of section 1 of the design notes."""
    return (K - 1) * p + K * (M - 1) * p


class SGMLMoE(ClassifierMixin, BaseEstimator):
    """Softmax-gated multinomial-logistic mixture of experts, fitted by monotone MM.

    p(y = m | x) = sum_k pi_k(x) p_k(m | x), with gate pi_k(x) = softmax_k(W x~) and experts
    p_k(m | x) = softmax_m(V_k x~), x~ = (1, x). The fixed zero rows W_K = 0 and V_kM = 0 remove
    the translation invariances.

    Parameters
    ----------
    n_experts : int
        K, the number of experts.
    curvature : {"weighted", "fixed"}
        The expert block's bound: C_k = X~^T diag(s tau_k) X~ (tighter, K factorisations per
        step) or C_k = S (one factorisation per fit, cheaper steps, many more of them).
    accelerate : bool
        SQUAREM (scheme S3) with the monotone safeguard.
    alpha : float
        Ridge alpha / 2 |slopes|^2 on gate and expert slopes (intercepts unpenalised). The
        ascended objective is the penalised log-likelihood.
    max_iter : int
        Budget of MM (or EM) map evaluations for the best start, screening included.
    tol : float
        Stop when one cycle changes the objective by less than ``tol`` relative.
    n_init : int
        Number of starts. All are screened for ``screen_iter`` map evaluations; only the best
        is run to convergence.
    init : {"kmeans", "random"} or dict
        Starting responsibilities from k-means on X, or from a random Voronoi partition of X
        (K random data points as centres); or a dict with ``gate_coef`` and ``expert_coef`` to
        start from given parameters (then ``n_init`` is ignored).
    random_state : int, RandomState or None
    solver : {"mm", "em"}
        The closed-form MM of the paper, or the classical EM with capped L-BFGS M-steps.
    em_inner_iter : int
        L-BFGS iterations per M-step sub-problem for ``solver="em"``.
    n_threads : int or None
        Limit BLAS threads inside fit and predict (None leaves them alone).
    screen_iter : int
        Map evaluations per start before the best start is chosen.
    dtype : {"float64", "float32"}
        Precision of the passes over the data (the products with X~ and the E-step). float32
        halves the memory of X~ and speeds up the passes at large n; the gradient, the bounds and
        every sum stay in float64, and ``loglik_`` is recomputed in float64 at the end.

    Attributes
    ----------
    classes_ : ndarray (M,)
    gate_coef_ : ndarray (K, p)
        W; last row 0; column 0 is the intercept.
    expert_coef_ : ndarray (K, M, p)
        V; last class row of each expert 0; column 0 is the intercept.
    loglik_ : float
        Training log-likelihood sum_i s_i log p(y_i | x_i), recomputed at the returned parameters.
    objective_ : float
        loglik_ minus the ridge penalty: the quantity the solver ascended.
    loglik_trace_ : ndarray
        The objective after every accepted step of the best start (its first entry is the start).
    time_trace_ : ndarray
        Seconds spent on the best start when each trace entry was reached.
    n_iter_ : int
        Map evaluations spent on the best start.
    converged_ : bool
    fit_results_ : list of dict
        Per start: ``start``, ``screen_objective``, ``objective`` (final, best start only),
        ``n_iter``, ``converged``, ``failed``.
    n_parameters_ : int
    """

    _parameter_constraints = {
        "n_experts": [Interval(Integral, 1, None, closed="left")],
        "curvature": [StrOptions({"weighted", "fixed"})],
        "accelerate": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"kmeans", "random"}), dict],
        "random_state": ["random_state"],
        "solver": [StrOptions({"mm", "em"})],
        "em_inner_iter": [Interval(Integral, 1, None, closed="left")],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "screen_iter": [Interval(Integral, 1, None, closed="left")],
        "dtype": [StrOptions({"float64", "float32"})],
    }

    def __init__(
        self,
        n_experts=3,
        *,
        curvature="weighted",
        accelerate=True,
        alpha=0.0,
        max_iter=2000,
        tol=1e-8,
        n_init=4,
        init="kmeans",
        random_state=None,
        solver="mm",
        em_inner_iter=5,
        n_threads=None,
        screen_iter=50,
        dtype="float64",
    ):
        self.n_experts = n_experts
        self.curvature = curvature
        self.accelerate = accelerate
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.init = init
        self.random_state = random_state
        self.solver = solver
        self.em_inner_iter = em_inner_iter
        self.n_threads = n_threads
        self.screen_iter = screen_iter
        self.dtype = dtype

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y, sample_weight=None):
        """Fit by MM (or EM) from ``n_init`` starts and keep the best objective."""
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite=True)
        check_classification_targets(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        s = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        weighted_classes = np.unique(y_idx[s > 0])
        if len(weighted_classes) < 2:
            raise ValueError(
                "SGMLMoE needs at least two classes in y with positive sample weight; got "
                f"{len(weighted_classes)} class(es): {self.classes_[weighted_classes].tolist()}"
            )
        layout = Layout(self.n_experts, len(self.classes_), X.shape[1] + 1)
        with threadpool_limits(limits=self.n_threads, user_api="blas"), np.errstate(over="ignore", invalid="ignore"):
            best, results = self._fit_starts(X, y_idx, s, layout)
        self._set_fitted(best, results, layout, X, y_idx, s)
        return self

    def _make_map(self, XT, y_idx, s, layout):
        if self.solver == "em":
            return EMMap(XT, y_idx, s, layout, self.alpha, self.em_inner_iter)
        return MMMap(XT, y_idx, s, layout, self.curvature, self.alpha)

    def _fit_starts(self, X, y_idx, s, layout):
        XT = augment(X, dtype=np.dtype(self.dtype))
        F = self._make_map(XT, y_idx, s, layout)
        rng = check_random_state(self.random_state)
        accelerate = self.accelerate and self.solver == "mm"
        if isinstance(self.init, dict):
            starts = [layout.pack(*self._check_init_dict(layout))]
        else:
            init_map = MMMap(XT, y_idx, s, layout, "fixed", max(self.alpha, INIT_ALPHA))
            starts = [
                self._start_from_partition(X, s, layout, init_map, rng.randint(2**31 - 1))
                for _ in range(self.n_init)
            ]
        screen = min(self.screen_iter, self.max_iter) if len(starts) > 1 else self.max_iter
        runs = [ascend(F, theta, screen, self.tol, accelerate) for theta in starts]
        if not any(np.isfinite(r.objective) for r in runs):
            raise RuntimeError(
                "SGMLMoE: every start failed (" + "; ".join(r.failed or "" for r in runs) + ")"
            )
        chosen = max(range(len(runs)), key=lambda i: _finite_or(runs[i].objective))
        best = runs[chosen]
        results = [
            {"start": i, "screen_objective": r.objective, "n_iter": r.n_iter,
             "converged": r.converged, "failed": r.failed}
            for i, r in enumerate(runs)
        ]
        remaining = self.max_iter - best.n_iter
        if not best.converged and best.failed is None and remaining > 0:
            best = ascend(F, best.theta, remaining, self.tol, accelerate, result=best)
        results[chosen].update(objective=best.objective, n_iter=best.n_iter,
                               converged=best.converged, failed=best.failed)
        return best, results

    def _check_init_dict(self, layout):
        try:
            W = np.asarray(self.init["gate_coef"], dtype=np.float64)
            V = np.asarray(self.init["expert_coef"], dtype=np.float64)
        except KeyError as err:
            raise ValueError(f"init dict needs keys 'gate_coef' and 'expert_coef'; missing {err}") from None
        want_W, want_V = (layout.K, layout.p), (layout.K, layout.M, layout.p)
        if W.shape != want_W or V.shape != want_V:
            raise ValueError(
                f"init: gate_coef must have shape {want_W} and expert_coef {want_V}; "
                f"got {W.shape} and {V.shape}"
            )
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(V))):
            raise ValueError("init: gate_coef and expert_coef must be finite")
        # Remove the translations so the fixed rows are zero without changing the model.
        return W - W[-1], V - V[:, -1:, :]

    def _start_from_partition(self, X, s, layout, init_map, seed):
        """theta from starting responsibilities: a partition of X, softened, then INIT_STEPS MM
        steps with those responsibilities held fixed (a symmetric start is a saddle)."""
        K = layout.K
        if K == 1:
            labels = np.zeros(X.shape[0], dtype=int)
        elif self.init == "kmeans":
            labels = KMeans(K, n_init=1, random_state=seed).fit(X, sample_weight=s).labels_
        else:
            rng = np.random.RandomState(seed)
            centres = X[rng.choice(X.shape[0], size=K, replace=X.shape[0] < K)]
            labels = ((X[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
        tau0 = np.full((K, X.shape[0]), 0.1 / K)
        tau0[labels, np.arange(X.shape[0])] += 0.9
        theta = np.zeros((layout.n_units, layout.p))
        for _ in range(INIT_STEPS):
            state = init_map.e_step(theta)
            state.tau = tau0
            theta = init_map(theta, state)
        return theta

    def _set_fitted(self, best: AscentResult, results, layout, X, y_idx, s):
        self.gate_coef_, self.expert_coef_ = layout.unpack(best.theta)
        state = e_step(best.theta, augment(X), y_idx, s, layout)
        self.loglik_ = state.loglik
        self.objective_ = best.objective
        self.loglik_trace_ = np.asarray(best.trace)
        self.time_trace_ = np.asarray(best.times)
        self.n_iter_ = best.n_iter
        self.converged_ = best.converged
        self.fit_results_ = results
        self.n_parameters_ = n_free_parameters(layout.K, layout.M, layout.p)
        if not np.isfinite(self.loglik_):
            raise RuntimeError("SGMLMoE: the fitted log-likelihood is not finite")
        if not self.converged_:
            warnings.warn(
                f"SGMLMoE ({self.solver}) did not converge in max_iter={self.max_iter} "
                f"map evaluations (tol={self.tol}); increase max_iter or tol.",
                ConvergenceWarning,
            )

    @classmethod
    def from_parameters(cls, gate_coef, expert_coef, classes, **params):
        """A fitted-like model from W (K x p) and V (K x M x p), no fit needed.

        Rows are translated so that W_K = 0 and V_kM = 0; the model is unchanged.
        """
        W = np.asarray(gate_coef, dtype=np.float64)
        V = np.asarray(expert_coef, dtype=np.float64)
        classes = np.asarray(classes)
        if W.ndim != 2 or V.ndim != 3 or V.shape[0] != W.shape[0] or V.shape[2] != W.shape[1]:
            raise ValueError(
                f"gate_coef must be (K, p) and expert_coef (K, M, p); got {W.shape} and {V.shape}"
            )
        if V.shape[1] != len(classes):
            raise ValueError(f"expert_coef has {V.shape[1]} classes but classes has {len(classes)}")
        model = cls(n_experts=W.shape[0], **params)
        model.gate_coef_ = W - W[-1]
        model.expert_coef_ = V - V[:, -1:, :]
        model.classes_ = classes
        model.n_features_in_ = W.shape[1] - 1
        model.n_parameters_ = n_free_parameters(W.shape[0], len(classes), W.shape[1])
        return model

    # --------------------------------------------------------------- prediction
    def _layout(self):
        return Layout(self.gate_coef_.shape[0], self.expert_coef_.shape[1], self.gate_coef_.shape[1])

    def _theta(self):
        return self._layout().pack(self.gate_coef_, self.expert_coef_)

    def _log_parts(self, X):
        """log pi (K x n) and log P (K x M x n) for validated X."""
        check_is_fitted(self, "gate_coef_")
        X = validate_data(self, X, dtype=np.float64, reset=False, ensure_all_finite=True)
        layout = self._layout()
        K, M = layout.K, layout.M
        with threadpool_limits(limits=self.n_threads, user_api="blas"):
            Z = self._theta() @ augment(X)
        log_pi = log_softmax_with_zero(Z[: K - 1], axis=0)
        log_P = log_softmax_with_zero(Z[K - 1 :].reshape(K, M - 1, -1), axis=1)
        return log_pi, log_P

    def predict_log_proba(self, X):
        """log p(y = m | x) = logsumexp_k (log pi_k(x) + log p_k(m | x)), shape (n, M)."""
        log_pi, log_P = self._log_parts(X)
        return logsumexp0(log_pi[:, None, :] + log_P).T

    def predict_proba(self, X):
        """p(y = m | x), shape (n, M); rows sum to one."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X):
        log_proba = self.predict_log_proba(X)
        return self.classes_[np.argmax(log_proba, axis=1)]

    def gate_proba(self, X):
        """pi_k(x), shape (n, K)."""
        return np.exp(self._log_parts(X)[0]).T

    def _encode(self, y):
        y = np.asarray(y)
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, len(self.classes_) - 1)
        unknown = self.classes_[idx] != y
        if np.any(unknown):
            raise ValueError(f"y has labels not seen in fit: {np.unique(y[unknown])[:5].tolist()}")
        return idx

    def _log_joint(self, X, y):
        log_pi, log_P = self._log_parts(X)
        y_idx = self._encode(y)
        if len(y_idx) != log_pi.shape[1]:
            raise ValueError(f"X has {log_pi.shape[1]} rows but y has {len(y_idx)}")
        return log_pi + log_P[:, y_idx, np.arange(len(y_idx))]

    def loglik(self, X, y, sample_weight=None):
        """sum_i s_i log p(y_i | x_i) at the current parameters."""
        ll = logsumexp0(self._log_joint(X, y))
        s = _check_sample_weight(sample_weight, ll[:, None], dtype=np.float64, ensure_non_negative=True)
        return float(s @ ll)

    def responsibilities(self, X, y):
        """tau_ik = pi_k p_k(y_i) / sum_l pi_l p_l(y_i), shape (n, K)."""
        lj = self._log_joint(X, y)
        return np.exp(lj - logsumexp0(lj)).T

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags
