"""``SGMLMoE``: the softmax-gated multinomial-logistic mixture of experts as a scikit-learn classifier."""

from __future__ import annotations

import warnings
from contextlib import ExitStack
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, check_X_y, validate_data

from moe._ascent import AscentResult, ascend
from moe._em import EMMap
from moe._mm import Layout, MMMap, augment, canonical, e_step, log_softmax_with_zero, logsumexp0
from moe.threads import limit_threads

# The start: M-steps of the weighted-curvature MM with the starting responsibilities held fixed.
# Measured by how often the fits that follow reach the best optimum (SGMLMoE docstring, Notes,
# "Starts"): fewer steps lose part of the partition, more stop helping.
START_M_STEPS = 30
# A ridge for those steps only: a hard partition's cells are often linearly separable, and the
# gate of an unpenalised M-step would head for infinite slopes.
START_ALPHA = 1e-6
# The ConvergenceWarning names separable data when a slope times its feature's standard
# deviation exceeds this: a logit change of 10 per standard deviation (probabilities within 5e-5
# of 0 or 1), where the unpenalised likelihood keeps rising towards a supremum it never attains.
_DIVERGING_LOGIT = 10.0


def _finite_or(value: float, default: float = -np.inf) -> float:
    return value if np.isfinite(value) else default


def n_free_parameters(K: int, M: int, p: int) -> int:
    """(K - 1) p + K (M - 1) p: the free parameters (docs/method.md, section "Model")."""
    return (K - 1) * p + K * (M - 1) * p


class _Problem:
    """Training data in the engine's layout (X~^T, class indices, weights), with its maps.

    A map holds the Gram matrix S and its factor, so each (number of experts, solver settings)
    is built once per data set however many starts, merges or refits use it.
    """

    def __init__(self, X, y_idx, s, n_classes, dtype=np.float64):
        self.XT = augment(X, dtype=np.dtype(dtype))
        self.y, self.s, self.M = y_idx, s, n_classes
        self._maps = {}

    def layout(self, K: int) -> Layout:
        return Layout(K, self.M, self.XT.shape[0])

    def map(self, K, solver="mm", curvature="weighted", alpha=0.0, em_inner_iter=5, relaxation=1.0):
        key = (K, solver, curvature, alpha, em_inner_iter, relaxation)
        if key not in self._maps:
            layout = self.layout(K)
            self._maps[key] = (EMMap(self.XT, self.y, self.s, layout, alpha, em_inner_iter)
                               if solver == "em"
                               else MMMap(self.XT, self.y, self.s, layout, curvature, alpha, relaxation))
        return self._maps[key]


class SGMLMoE(ClassifierMixin, BaseEstimator):
    """Softmax-gated multinomial-logistic mixture of experts, fitted by monotone MM.

    p(y = m | x) = sum_k pi_k(x) p_k(m | x), with gate pi_k(x) = softmax_k(W x~) and experts
    p_k(m | x) = softmax_m(V_k x~), x~ = (1, x). The fixed zero rows W_K = 0 and V_kM = 0 remove
    the translation invariances.

    Parameters
    ----------
    n_experts : int
        K, the number of experts.
    curvature : {"weighted", "lazy", "fixed"}
        The expert block's bound. "weighted" (default): C_k = X~^T diag(s tau_k) X~, the
        tightest (K - 1 weighted Gram matrices and K factorisations per step). "lazy": those
        matrices kept from earlier responsibilities tau', with the rows whose tau moved far
        brought up to date and max_i (tau_ik - tau'_ik)^+ S added for the rest; almost as
        tight, at little more than a fixed step's cost near an optimum. "fixed": C_k = S (one
        factorisation per fit, cheaper steps, many more of them).
    accelerate : bool or {"squarem", "quasi_newton"}
        SQUAREM (scheme S3; ``True``, default) or the quasi-Newton extrapolation of Zhou,
        Alexander and Lange (2011) from the last ``QN_SECANTS`` secant pairs, each with the
        monotone safeguard; ``False`` for plain steps.
    relaxation : float in (0, 2)
        omega (default 1): each MM step moves omega times the bound's step (over-relaxation
        for omega > 1); every omega in (0, 2) keeps the ascent guaranteed. MM only.
        ``curvature="lazy", relaxation=1.8`` is the fastest MM on the benchmark's well-posed
        fits, but on over-fitted unpenalised fits it runs further along slopes that grow
        without bound within the same budget; docs/performance.md (section 2) says why it is
        not the default.
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
        Seconds spent on the best start's ascent when each trace entry was reached.
    eval_trace_ : ndarray
        Map evaluations spent on the best start when each trace entry was reached.
    n_iter_ : int
        Map evaluations spent on the best start.
    converged_ : bool
    fit_results_ : list of dict
        Per start: ``start``, ``screen_objective``, ``objective`` (final, best start only),
        ``n_iter``, ``converged``, ``failed``.
    n_parameters_ : int

    Notes
    -----
    Starts. Each of the ``n_init`` starts is a partition of X (k-means, or the Voronoi cells of
    K random data points) softened into responsibilities (0.9 on the cell, 0.1 / K
    everywhere), then turned into parameters by :func:`_m_step`, the one start routine:
    ``START_M_STEPS`` = 30 weighted-curvature MM steps from zero with those responsibilities
    held fixed (a ridge of at least ``START_ALPHA`` on the slopes: a partition's cells are
    linearly separable). ``m_step`` (public) and the dendrogram's responsibility merges use the
    same routine. The number was measured by the best optimum reached (within 1e-6 relative of
    the best of 8 long starts) over 20 seeds of the default fit (``n_init=4``) on the bench's
    n = 2000, d = 10, K = M = 3 data (``moe.simulate.synthetic_data(..., coef_sd=1.0)``): 16 of 20
    seeds with 3 steps (the old start), 17 with 10, 18 with 30, 18 with 100; with one start
    (``n_init=1``) 7, 7, 8, 8. On a guo_yeast fold (K = 8, alpha = 1, 32 PCA inputs, one start,
    two seeds) the start's log-likelihood is about -5111 after 3 steps, -4918 after 30 and
    -4904 after 100; the optima the fits then reach differ by start (-3863, -3806, -3803 and
    -3831, -3859, -3836) with no consistent order: 30 steps are where more steps stop helping.

    Convergence. A fit stops when one solver cycle (a plain step, or a SQUAREM cycle of two
    steps and the extrapolation) changes the objective by less than ``tol`` relative, or after
    ``max_iter`` map evaluations; ``converged_`` and ``n_iter_`` say which. Over-fitted fits
    (redundant experts) creep along flat directions: on guo_yeast folds (K = 8, alpha = 1)
    MM meets tol = 1e-5 after about 250-600 evaluations and 1e-6 only after 1300-1800, so the
    PPI benchmark uses tol = 1e-5 with max_iter = 1000. When a fit ends unconverged with a slope
    that moves its logit by more than 10 per standard deviation of its feature
    (:meth:`max_logit_per_sd`), the ConvergenceWarning says the data look separable (slopes
    growing without bound) and that a ridge (``alpha`` > 0) gives the likelihood a maximum.
    """

    _parameter_constraints = {
        "n_experts": [Interval(Integral, 1, None, closed="left")],
        "curvature": [StrOptions({"weighted", "lazy", "fixed"})],
        "accelerate": ["boolean", StrOptions({"squarem", "quasi_newton"})],
        "relaxation": [Interval(Real, 0, 2, closed="neither")],
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
        relaxation=1.0,
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
        self.relaxation = relaxation
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
        problem = _Problem(X, y_idx, s, len(self.classes_), self.dtype)
        with self._numerics():
            best, results = self._fit_starts(X, problem)
        self._set_fitted(best, results, problem, X)
        self._warn_unconverged(X)
        return self

    def _numerics(self):
        """The thread limit (BLAS, and OpenMP for k-means), and no warnings from exp overflow: the
        log-space code handles it."""
        stack = ExitStack()
        stack.enter_context(limit_threads(self.n_threads))
        stack.enter_context(np.errstate(over="ignore", invalid="ignore"))
        return stack

    def _solver_map(self, problem, K):
        return problem.map(K, self.solver, self.curvature, self.alpha, self.em_inner_iter,
                           self.relaxation if self.solver == "mm" else 1.0)

    def _fit_starts(self, X, problem):
        F = self._solver_map(problem, self.n_experts)
        starts = self._starts(X, problem, F.layout)
        screen = min(self.screen_iter, self.max_iter) if len(starts) > 1 else self.max_iter
        runs = [ascend(F, theta, screen, self.tol, self._accelerated()) for theta in starts]
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
            best = ascend(F, best.theta, remaining, self.tol, self._accelerated(), result=best)
        results[chosen].update(objective=best.objective, n_iter=best.n_iter,
                               converged=best.converged, failed=best.failed)
        return best, results

    def _starts(self, X, problem, layout):
        """theta of every start: ``init`` itself, or for each of the ``n_init`` partitions the
        M-step of its responsibilities (:func:`_m_step`, the one start routine)."""
        if isinstance(self.init, dict):
            return [layout.pack(*self._check_init_dict(layout))]
        rng = check_random_state(self.random_state)
        zero = np.zeros((layout.n_units, layout.p))
        return [_m_step(problem, zero, self._partition(X, problem.s, layout.K, rng.randint(2**31 - 1)),
                        self.alpha)
                for _ in range(self.n_init)]

    def initial_parameters(self, X, y, sample_weight=None):
        """The starts ``fit`` would screen, as a list of ``{"gate_coef", "expert_coef"}``
        (each a valid ``init``): what several solvers compared from one start begin from."""
        self._validate_params()
        X, y = check_X_y(X, y, dtype=np.float64, ensure_all_finite=True)  # no fitted state set
        classes, y_idx = np.unique(y, return_inverse=True)
        s = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        problem = _Problem(X, y_idx, s, len(classes), self.dtype)
        layout = problem.layout(self.n_experts)
        with self._numerics():
            starts = self._starts(X, problem, layout)
        return [dict(zip(("gate_coef", "expert_coef"), layout.unpack(theta))) for theta in starts]

    def _accelerated(self):
        """The extrapolation scheme, or False (EM's capped M-steps are not the MM map)."""
        if self.solver != "mm":
            return False
        if isinstance(self.accelerate, str):
            return self.accelerate
        return "squarem" if self.accelerate else False

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
        return canonical(W, V)

    def _partition(self, X, s, K, seed):
        """Starting responsibilities (K, n): a partition of X (k-means, or the Voronoi cells of
        K random data points), softened to 0.9 on the cell plus 0.1 / K everywhere (a symmetric
        start would be a saddle)."""
        if K == 1:
            labels = np.zeros(X.shape[0], dtype=int)
        elif self.init == "kmeans":
            labels = KMeans(K, n_init=1, random_state=seed).fit(X, sample_weight=s).labels_
        else:
            rng = np.random.RandomState(seed)
            centres = X[rng.choice(X.shape[0], size=K, replace=X.shape[0] < K)]
            labels = ((X[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
        tau = np.full((K, X.shape[0]), 0.1 / K)
        tau[labels, np.arange(X.shape[0])] += 0.9
        return tau

    def _set_fitted(self, best: AscentResult, results, problem, X):
        layout = problem.layout((best.theta.shape[0] + 1) // problem.M)  # U + 1 = K M
        self.gate_coef_, self.expert_coef_ = layout.unpack(best.theta)
        self.loglik_ = e_step(best.theta, augment(X), problem.y, problem.s, layout).loglik
        self.objective_ = best.objective
        self.loglik_trace_ = np.asarray(best.trace)
        self.time_trace_ = np.asarray(best.times)
        self.eval_trace_ = np.asarray(best.evals)
        self.n_iter_ = best.n_iter
        self.converged_ = best.converged
        self.fit_results_ = results
        self.n_parameters_ = n_free_parameters(layout.K, layout.M, layout.p)
        if not np.isfinite(self.loglik_):
            raise RuntimeError("SGMLMoE: the fitted log-likelihood is not finite")

    def _warn_unconverged(self, X):
        if self.converged_:
            return
        message = (f"SGMLMoE ({self.solver}) did not converge in max_iter={self.max_iter} map "
                   f"evaluations (tol={self.tol}); increase max_iter or tol.")
        logit = self.max_logit_per_sd(X)
        if logit > _DIVERGING_LOGIT:
            message += (
                f" A slope changes its logit by {logit:.3g} per standard deviation of its "
                "feature: an expert's classes or the gate's cells look separable, where the "
                "likelihood has no finite maximum and the slopes grow without bound"
                + ("; set alpha > 0 (a ridge) to give it one." if self.alpha == 0 else
                   f"; alpha={self.alpha:g} is too small to stop them.")
            )
        warnings.warn(message, ConvergenceWarning)

    def max_logit_per_sd(self, X) -> float:
        """The largest |slope| times its feature's standard deviation on X, over the gate and
        every expert: the logit change a one-standard-deviation move makes. Values far above
        10 mean near-deterministic gates or experts, i.e. separable data drifting towards
        infinite slopes."""
        check_is_fitted(self, "gate_coef_")
        sd = np.std(np.asarray(X, dtype=np.float64), axis=0)
        slopes = np.concatenate([self.gate_coef_[:, 1:], self.expert_coef_[:, :, 1:].reshape(-1, sd.size)])
        return float(np.max(np.abs(slopes) * sd, initial=0.0))

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
        model = cls(**{**params, "n_experts": W.shape[0]})
        model.gate_coef_, model.expert_coef_ = canonical(W, V)
        model.classes_ = classes
        model.n_features_in_ = W.shape[1] - 1
        model.n_parameters_ = n_free_parameters(W.shape[0], len(classes), W.shape[1])
        return model

    # ------------------------------------------- steps from the current parameters
    def _training_problem(self, X, y, sample_weight):
        """(X, problem) for data scored against the fitted classes (no refit of the encoding)."""
        check_is_fitted(self, "gate_coef_")
        X = validate_data(self, X, dtype=np.float64, reset=False, ensure_all_finite=True)
        y_idx = self._encode(y)
        if len(y_idx) != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {len(y_idx)}")
        s = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        return X, _Problem(X, y_idx, s, len(self.classes_), self.dtype)

    def m_step(self, X, y, responsibilities, sample_weight=None, n_steps=START_M_STEPS):
        """Move to the M-step of given responsibilities, from the current parameters.

        ``n_steps`` (default ``START_M_STEPS``) weighted-curvature MM steps with the
        responsibilities held at ``responsibilities`` (n, K): each ascends the Jensen minoriser sum_i s_i sum_k tau_ik
        [log pi_k(x_i) + log p_k(y_i | x_i)], concave in the parameters, so the steps approach
        its maximiser. The routine that turns a start's partition into parameters; a merge of two
        experts (their responsibility columns summed) uses it too. Sets ``gate_coef_``,
        ``expert_coef_`` and ``loglik_``; returns self.
        """
        X, problem = self._training_problem(X, y, sample_weight)
        layout = self._layout()
        tau = np.asarray(responsibilities, dtype=np.float64)
        if tau.shape != (X.shape[0], layout.K):
            raise ValueError(
                f"responsibilities must have shape (n_samples, n_experts) = "
                f"{(X.shape[0], layout.K)}; got {tau.shape}"
            )
        if not np.all(np.isfinite(tau)) or np.any(tau < 0):
            raise ValueError("responsibilities must be finite and non-negative")
        with self._numerics():
            theta = _m_step(problem, self._theta(), tau.T, self.alpha, n_steps)
        self.gate_coef_, self.expert_coef_ = layout.unpack(theta)
        self.loglik_ = e_step(theta, augment(X), problem.y, problem.s, layout).loglik
        return self

    def warm_fit(self, X, y, max_iter=None, sample_weight=None):
        """Continue the solver from the current parameters for at most ``max_iter`` map
        evaluations (default ``self.max_iter``), stopping at ``tol`` as ``fit`` does.

        A refit of a few steps is expected to stop at its budget, so no ConvergenceWarning;
        ``converged_`` and ``n_iter_`` describe this run. Returns self.
        """
        X, problem = self._training_problem(X, y, sample_weight)
        budget = self.max_iter if max_iter is None else int(max_iter)
        if budget < 1:
            raise ValueError(f"max_iter must be a positive integer; got {max_iter!r}")
        F = self._solver_map(problem, self._layout().K)
        with self._numerics():
            result = ascend(F, self._theta(), budget, self.tol, self._accelerated())
        if not np.isfinite(result.objective):
            raise RuntimeError(f"SGMLMoE.warm_fit: {result.failed}")
        results = [{"start": 0, "screen_objective": result.objective, "objective": result.objective,
                    "n_iter": result.n_iter, "converged": result.converged, "failed": result.failed}]
        self._set_fitted(result, results, problem, X)
        return self

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
        with limit_threads(self.n_threads):
            Z = self._theta() @ augment(X)
        log_pi = log_softmax_with_zero(Z[: K - 1], axis=0)
        log_P = log_softmax_with_zero(Z[K - 1 :].reshape(K, M - 1, -1), axis=1)
        return log_pi, log_P

    def log_probabilities(self, X):
        """log pi_k(x) (n, K) and log p_k(m | x) (n, K, M): the gate's and every expert's."""
        log_pi, log_P = self._log_parts(X)
        return log_pi.T, np.moveaxis(log_P, 2, 0)

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

    def loglik_samples(self, X, y):
        """log p(y_i | x_i) for every row, shape (n,)."""
        return logsumexp0(self._log_joint(X, y))

    def loglik(self, X, y, sample_weight=None):
        """sum_i s_i log p(y_i | x_i) at the current parameters."""
        ll = self.loglik_samples(X, y)
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


def _m_step(problem: _Problem, theta, tau, alpha, n_steps=START_M_STEPS):
    """The one start routine: ``n_steps`` weighted-curvature MM steps from ``theta`` with
    the responsibilities held at ``tau`` (K, n), under a ridge of at least ``START_ALPHA``."""
    F = problem.map(tau.shape[0], "mm", "weighted", max(alpha, START_ALPHA))
    for _ in range(n_steps):
        state = F.e_step(theta)
        state.tau = tau
        theta = F(theta, state)
    return theta
