"""The SGMLMoE estimator: MM ascent, equivalences, numerics, validation."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from moe import SGMLMoE
from moe.traces import solver_traces
from moe._ascent import QuasiNewton
from moe._mm import BoundSolver, Layout, augment, e_step, surrogate_gradient
from moe.model import _Problem
from tests.helpers import sample_sgmlmoe


def assert_monotone(trace, rtol=1e-9, n=0):
    """No drop beyond rtol |objective| plus, for n observations, 4 n eps: each log-likelihood
    term is a log-sum-exp of O(1) values, exact to a few eps in absolute terms, so as the
    objective nears 0 (separable data) the relative rule alone asks more than float64 holds
    (hypothesis found a drop of 2.2e-16 at an objective of -9.2e-8, n = 15)."""
    trace = np.asarray(trace)
    drops = trace[:-1] - trace[1:]
    allowed = rtol * np.abs(trace[:-1]) + 4 * n * np.finfo(float).eps
    assert np.all(drops <= allowed), f"objective fell by {drops.max():.3g} (allowed {allowed.max():.3g})"


# ------------------------------------------------------------------ ascent
@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(15, 120),
    d=st.integers(1, 4),
    K=st.integers(1, 4),
    M=st.integers(2, 4),
    seed=st.integers(0, 2**16),
    curvature=st.sampled_from(["fixed", "weighted", "lazy"]),
    accelerate=st.sampled_from([False, True, "quasi_newton"]),
    relaxation=st.sampled_from([1.0, 1.9]),
    separable=st.booleans(),
    alpha=st.sampled_from([0.0, 0.5]),
)
@example(n=15, d=2, K=1, M=2, seed=1, curvature="fixed", accelerate="quasi_newton",
         relaxation=1.0, separable=False, alpha=0.0)  # objective -> 0: the absolute floor
def test_every_accepted_step_ascends(n, d, K, M, seed, curvature, accelerate, relaxation, separable,
                                     alpha):
    X, y, _, _ = sample_sgmlmoe(n, d, K, M, seed)
    if separable:  # the label is a function of x_1 alone: every expert's data are separable
        y = np.digitize(X[:, 0], np.quantile(X[:, 0], np.linspace(0, 1, M + 1)[1:-1]))
    if len(np.unique(y)) < 2:
        y[0], y[1] = 0, 1
    model = SGMLMoE(K, curvature=curvature, accelerate=accelerate, relaxation=relaxation,
                    alpha=alpha, max_iter=60, n_init=2, screen_iter=10, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert_monotone(model.loglik_trace_, n=n)
    assert np.isfinite(model.loglik_)
    assert np.all(np.isfinite(model.gate_coef_)) and np.all(np.isfinite(model.expert_coef_))


def test_em_and_every_mm_variant_ascend_the_same_objective():
    X, y, _, _ = sample_sgmlmoe(400, 3, 3, 3, seed=1)
    for solver, curvature, accelerate in [("em", "weighted", False)] + [
        ("mm", c, a) for c, a in itertools.product(["fixed", "weighted", "lazy"],
                                                   [False, True, "quasi_newton"])
    ]:
        model = SGMLMoE(3, solver=solver, curvature=curvature, accelerate=accelerate,
                        max_iter=200, n_init=1, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        assert model.loglik_trace_[-1] > model.loglik_trace_[0]
        assert model.loglik_ == pytest.approx(model.loglik(X, y), rel=1e-12)


# ------------------------------------------------------------ equivalences
@pytest.mark.parametrize("M", [2, 4])
def test_one_expert_is_unpenalised_logistic_regression(M):
    X, y, _, _ = sample_sgmlmoe(600, 4, 2, M, seed=3, scale=0.7)
    model = SGMLMoE(1, max_iter=5000, tol=1e-14).fit(X, y)
    lr = LogisticRegression(C=np.inf, max_iter=10_000, tol=1e-12).fit(X, y)
    ll_lr = -len(y) * log_loss(y, lr.predict_proba(X))
    assert model.loglik_ == pytest.approx(ll_lr, rel=1e-6)


def test_gradient_matches_finite_differences():
    """At theta^t the minoriser touches L, so its gradient is the gradient of L."""
    X, y, _, _ = sample_sgmlmoe(80, 3, 3, 3, seed=4)
    layout = Layout(3, 3, 4)
    XT, s = augment(X), np.random.default_rng(0).uniform(0.5, 2.0, 80)
    Y = np.eye(3)[:, y]
    theta = np.random.default_rng(1).normal(size=(layout.n_units, layout.p))
    grad = surrogate_gradient(e_step(theta, XT, y, s, layout), XT, Y, s, layout)
    h = 1e-6
    numeric = np.zeros_like(theta)
    for idx in np.ndindex(theta.shape):
        up, down = theta.copy(), theta.copy()
        up[idx] += h
        down[idx] -= h
        numeric[idx] = (e_step(up, XT, y, s, layout).loglik - e_step(down, XT, y, s, layout).loglik) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("C", [2, 3, 5])
def test_bound_step_solves_the_kronecker_system(C, alpha):
    """Delta solves (A_C (x) H + alpha I (x) D) vec(Delta) = vec(G), A_C = (I - 11^T/C)/2."""
    rng = np.random.default_rng(C)
    p = 4
    B = rng.normal(size=(p, 3 * p))
    H = B @ B.T
    G = rng.normal(size=(C - 1, p))
    A = 0.5 * (np.eye(C - 1) - np.ones((C - 1, C - 1)) / C)
    D = np.diag([0.0] + [1.0] * (p - 1))
    full = np.kron(A, H) + alpha * np.kron(np.eye(C - 1), D)
    expected = np.linalg.solve(full, G.ravel()).reshape(C - 1, p)
    np.testing.assert_allclose(BoundSolver(H, C, alpha).step(G), expected, rtol=1e-9, atol=1e-12)


def test_boehning_bound_dominates_the_softmax_hessian():
    """diag(p) - p p^T <= A_C on the free coordinates, for random p (the MM's only inequality)."""
    rng = np.random.default_rng(0)
    for C in (2, 3, 7):
        A = 0.5 * (np.eye(C - 1) - np.ones((C - 1, C - 1)) / C)
        for _ in range(200):
            p = rng.dirichlet(np.full(C, 0.3))[: C - 1]
            gap = A - (np.diag(p) - np.outer(p, p))
            assert np.linalg.eigvalsh(gap).min() >= -1e-12


def test_predict_proba_matches_the_formula_by_hand():
    W = np.array([[0.5, 1.0], [0.0, 0.0]])  # K = 2, p = 2
    V = np.array([[[1.0, -1.0], [0.0, 0.0]], [[-2.0, 0.5], [0.0, 0.0]]])  # M = 2
    model = SGMLMoE.from_parameters(W, V, classes=["a", "b"])
    x = 0.7
    pi1 = np.exp(0.5 + x) / (np.exp(0.5 + x) + 1.0)
    pa1 = np.exp(1.0 - x) / (np.exp(1.0 - x) + 1.0)
    pa2 = np.exp(-2.0 + 0.5 * x) / (np.exp(-2.0 + 0.5 * x) + 1.0)
    expected_a = pi1 * pa1 + (1 - pi1) * pa2
    np.testing.assert_allclose(model.predict_proba([[x]]), [[expected_a, 1 - expected_a]], rtol=1e-14)
    tau1 = pi1 * pa1 / expected_a
    np.testing.assert_allclose(model.responsibilities([[x]], ["a"]), [[tau1, 1 - tau1]], rtol=1e-14)
    assert model.loglik([[x]], ["a"]) == pytest.approx(np.log(expected_a), rel=1e-14)


def test_from_parameters_removes_translations_without_changing_the_model():
    rng = np.random.default_rng(0)
    W, V = rng.normal(size=(3, 3)), rng.normal(size=(3, 4, 3))
    X = rng.normal(size=(50, 2))
    model = SGMLMoE.from_parameters(W, V, classes=[0, 1, 2, 3])
    assert np.all(model.gate_coef_[-1] == 0) and np.all(model.expert_coef_[:, -1] == 0)
    Xt = np.c_[np.ones(50), X]
    expected = np.einsum("nk,nkm->nm", softmax(Xt @ W.T, axis=1), softmax(np.einsum("np,kmp->nkm", Xt, V), axis=2))
    np.testing.assert_allclose(model.predict_proba(X), expected, rtol=1e-12)


# ------------------------------------------------------------------ optimum
def _match(V_a, V_b):
    """The permutation of experts of b that best matches a."""
    K = V_a.shape[0]
    return min(itertools.permutations(range(K)), key=lambda perm: np.sum((V_a - V_b[list(perm)]) ** 2))


def test_em_and_mm_reach_the_same_optimum_from_the_same_start():
    X, y, _, _ = sample_sgmlmoe(3000, 2, 2, 3, seed=7, scale=1.5)
    start = SGMLMoE(2, max_iter=5, n_init=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start.fit(X, y)
    init = {"gate_coef": start.gate_coef_, "expert_coef": start.expert_coef_}
    mm = SGMLMoE(2, init=init, max_iter=5000, tol=1e-13).fit(X, y)
    em = SGMLMoE(2, init=init, solver="em", em_inner_iter=20, max_iter=3000, tol=1e-13).fit(X, y)
    assert mm.loglik_ == pytest.approx(em.loglik_, rel=1e-7)
    perm = list(_match(mm.expert_coef_, em.expert_coef_))
    np.testing.assert_allclose(em.expert_coef_[perm], mm.expert_coef_, atol=2e-3)
    np.testing.assert_allclose(em.gate_coef_[perm] - em.gate_coef_[perm][-1], mm.gate_coef_, atol=2e-3)


@pytest.mark.parametrize("spec", [{"curvature": "lazy"}, {"relaxation": 1.8},
                                  {"curvature": "lazy", "relaxation": 1.8},
                                  {"curvature": "fixed"}, {"accelerate": "quasi_newton"}])
def test_every_scheme_reaches_the_default_optimum_from_the_same_start(spec):
    X, y, _, _ = sample_sgmlmoe(3000, 2, 2, 3, seed=7, scale=1.5)
    init = SGMLMoE(2, random_state=0).initial_parameters(X, y)[0]
    default = SGMLMoE(2, init=init, max_iter=5000, tol=1e-13).fit(X, y)
    other = SGMLMoE(2, init=init, max_iter=5000, tol=1e-13, **spec).fit(X, y)
    assert other.converged_
    assert other.loglik_ == pytest.approx(default.loglik_, rel=1e-9)
    np.testing.assert_allclose(other.predict_proba(X), default.predict_proba(X), atol=1e-4)


def test_lazy_curvature_bounds_the_weighted_one_at_new_responsibilities():
    """C_k = G_k(tau') + max_i (tau_ik - tau'_ik)^+ S dominates X~^T diag(s tau_k) X~ (PSD gap),
    with the rows that moved far brought into G_k exactly."""
    X, y, _, _ = sample_sgmlmoe(500, 3, 3, 2, seed=2)
    problem = _Problem(X, y, np.random.default_rng(0).uniform(0.5, 2.0, 500), 2)
    lazy, exact = problem.map(3, curvature="lazy"), problem.map(3, curvature="weighted")
    rng = np.random.default_rng(1)
    old = rng.dirichlet(np.ones(3), 500).T
    lazy._lazy_grams(old)  # kept: G_k at tau'
    kept_tau = lazy._kept[0]
    new = old.copy()
    new[:, :20] = rng.dirichlet(np.ones(3), 20).T  # 20 rows move far
    new[:, 20:] = np.clip(new[:, 20:] + rng.normal(0, 1e-4, (3, 480)), 0, None)  # the rest barely
    new /= new.sum(axis=0)
    bounds, grams = lazy._lazy_grams(new), exact._grams(new)
    assert lazy._kept[0] is kept_tau, "a few moved rows must update the kept matrices, not re-form them"
    np.testing.assert_array_equal(kept_tau[:, :20], new[:, :20])
    for C, G in zip(bounds, grams):
        gap = np.linalg.eigvalsh(C - G)
        assert gap.min() >= -1e-9 * np.trace(G)
        assert gap.max() <= 1e-2 * np.trace(G)  # and tight: the slack is at most REFRESH w_k S
    far = np.roll(old, 1, axis=0)  # every row changes expert: the kept matrices are re-formed
    for C, G in zip(lazy._lazy_grams(far), exact._grams(far)):
        np.testing.assert_allclose(C, G, rtol=1e-12, atol=1e-9)


def test_quasi_newton_extrapolation_solves_an_affine_map_exactly():
    """With as many secants as dimensions, F(x) = A x + b has dF = A exactly: one step lands on
    the fixed point (I - A)^{-1} b (Zhou, Alexander and Lange 2011)."""
    A, b = np.array([[0.9, 0.05], [-0.02, 0.7]]), np.array([1.0, -2.0])
    fixed = np.linalg.solve(np.eye(2) - A, b)
    qn = QuasiNewton(secants=2)
    x = np.array([3.0, 4.0])
    qn(x, A @ x + b, A @ (A @ x + b) + b)  # first secant pair
    x = np.array([-1.0, 0.5])
    x1 = A @ x + b
    np.testing.assert_allclose(qn(x, x1, A @ x1 + b), fixed, rtol=1e-12)


@pytest.mark.parametrize("curvature", ["fixed", "weighted"])
def test_float32_passes_follow_the_float64_path(curvature):
    X, y, _, _ = sample_sgmlmoe(3000, 4, 3, 3, seed=14, scale=1.5)
    # plain MM steps (SQUAREM's extrapolation would amplify the rounding into another path)
    fits = {
        dtype: SGMLMoE(3, curvature=curvature, dtype=dtype, accelerate=False, n_init=1,
                       random_state=0, max_iter=200, tol=0).fit(X, y)
        for dtype in ("float64", "float32")
    }
    single, double = fits["float32"], fits["float64"]
    assert single.loglik_ == pytest.approx(double.loglik_, rel=2e-5)
    np.testing.assert_allclose(single.predict_proba(X), double.predict_proba(X), atol=2e-3)
    assert single.gate_coef_.dtype == np.float64 and single.predict_proba(X).dtype == np.float64
    assert single.loglik_ == pytest.approx(single.loglik(X, y), rel=1e-12)  # recomputed in float64


def test_same_random_state_gives_bit_identical_parameters():
    X, y, _, _ = sample_sgmlmoe(300, 3, 3, 3, seed=8)
    fits = [SGMLMoE(3, random_state=42, max_iter=300).fit(X, y) for _ in range(2)]
    assert np.array_equal(fits[0].gate_coef_, fits[1].gate_coef_)
    assert np.array_equal(fits[0].expert_coef_, fits[1].expert_coef_)
    assert np.array_equal(fits[0].loglik_trace_, fits[1].loglik_trace_)


def test_integer_sample_weights_equal_repeated_rows():
    X, y, _, _ = sample_sgmlmoe(200, 2, 2, 3, seed=9)
    w = np.random.default_rng(0).integers(0, 3, 200)
    init = {"gate_coef": np.zeros((2, 3)) + [[0.3, 0.1, -0.2], [0, 0, 0]],
            "expert_coef": np.random.default_rng(1).normal(size=(2, 3, 3))}
    weighted = SGMLMoE(2, init=init, max_iter=50, tol=0).fit(X, y, sample_weight=w)
    repeated = SGMLMoE(2, init=init, max_iter=50, tol=0).fit(np.repeat(X, w, 0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.expert_coef_, repeated.expert_coef_, rtol=1e-8, atol=1e-10)
    assert weighted.loglik_ == pytest.approx(repeated.loglik_, rel=1e-10)


# ----------------------------------------------------------------- numerics
def test_large_feature_scale_stays_finite():
    X, y, _, _ = sample_sgmlmoe(300, 3, 3, 3, seed=10)
    model = SGMLMoE(3, max_iter=200, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(1e3 * X, y)
    proba = model.predict_proba(1e3 * X)
    assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(1), 1.0)
    assert np.isfinite(model.loglik_)
    assert_monotone(model.loglik_trace_)


def test_separable_data_give_finite_fits_and_warn_when_not_converged():
    X = np.linspace(-3, 3, 60)[:, None]
    y = (X[:, 0] > 0).astype(int)
    model = SGMLMoE(2, max_iter=30, random_state=0)
    # the warning names the cause: slopes heading for infinity, and the cure
    with pytest.warns(ConvergenceWarning, match="did not converge.*separable.*set alpha > 0"):
        model.fit(X, y)
    assert np.isfinite(model.loglik_) and model.loglik_ < 0
    assert model.score(X, y) == 1.0
    assert model.max_logit_per_sd(X) > 10
    # a ridge gives the likelihood a finite maximum: the fit converges, slopes stay moderate
    ridge = SGMLMoE(2, max_iter=500, alpha=1.0, random_state=0).fit(X, y)
    assert ridge.converged_ and ridge.max_logit_per_sd(X) < 10


def test_max_logit_per_sd_by_hand():
    W = np.array([[0.0, 2.0, -1.0], [0.0, 0.0, 0.0]])
    V = np.zeros((2, 2, 3))
    V[1, 0, 2] = 3.0
    model = SGMLMoE.from_parameters(W, V, classes=[0, 1])
    X = np.array([[0.0, 0.0], [2.0, 1.0], [4.0, 2.0]])  # standard deviations 1.633 and 0.816
    sd = X.std(axis=0)
    assert model.max_logit_per_sd(X) == pytest.approx(max(2 * sd[0], 3 * sd[1]))


# ------------------------------------------------------------------ the estimator's own steps
def test_log_probabilities_and_per_sample_loglik_by_hand():
    rng = np.random.default_rng(3)
    W, V = rng.normal(size=(3, 3)), rng.normal(size=(3, 2, 3))
    model = SGMLMoE.from_parameters(W, V, classes=["a", "b"])
    X = rng.normal(size=(7, 2))
    y = np.array(list("abbabab"))
    Xt = np.c_[np.ones(7), X]
    log_pi = Xt @ W.T - logsumexp(Xt @ W.T, axis=1, keepdims=True)
    logits = np.einsum("np,kmp->nkm", Xt, V)
    log_P = logits - logsumexp(logits, axis=2, keepdims=True)
    got_pi, got_P = model.log_probabilities(X)
    np.testing.assert_allclose(got_pi, log_pi, atol=1e-12)
    np.testing.assert_allclose(got_P, log_P, atol=1e-12)
    idx = (y == "b").astype(int)
    joint = log_pi + log_P[np.arange(7), :, idx]
    np.testing.assert_allclose(model.loglik_samples(X, y), logsumexp(joint, axis=1), atol=1e-12)
    assert model.loglik(X, y) == pytest.approx(logsumexp(joint, axis=1).sum(), rel=1e-12)
    np.testing.assert_allclose(model.responsibilities(X, y), softmax(joint, axis=1), atol=1e-12)


def test_m_step_maximises_the_minoriser_of_given_responsibilities():
    """At the M-step of tau the gradient of sum_i sum_k tau_ik [log pi_k + log p_k(y_i)] is 0:
    the gate matches the responsibilities' column sums where X~ spans the intercept, and an
    expert whose responsibilities are one on every row is the logistic fit of all the data."""
    X, y, W, V = sample_sgmlmoe(400, 2, 2, 3, seed=1)
    model = SGMLMoE.from_parameters(W, V, classes=[0, 1, 2], alpha=0.0)
    tau = np.zeros((400, 2))
    tau[:, 0] = 1.0  # expert 0 owns every row
    model.m_step(X, y, tau)
    # expert 0 heads for the multinomial logistic regression of all the data: START_M_STEPS
    # steps from far away (coefficients of scale 2) leave it within 1e-2 in probability
    reference = LogisticRegression(C=1e6, max_iter=5000, tol=1e-10).fit(X, y).predict_proba(X)
    before = np.abs(np.exp(SGMLMoE.from_parameters(W, V, [0, 1, 2]).log_probabilities(X)[1][:, 0])
                    - reference).max()
    after = np.abs(np.exp(model.log_probabilities(X)[1][:, 0]) - reference).max()
    assert after < 1e-2 < before
    # and the gate sends (almost) all weight to it
    assert model.gate_proba(X)[:, 0].min() > 0.95
    assert model.loglik_ == pytest.approx(model.loglik(X, y))
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_experts\) = \(400, 2\)"):
        model.m_step(X, y, tau[:, :1])
    with pytest.raises(ValueError, match="non-negative"):
        model.m_step(X, y, -tau)


def test_warm_fit_continues_the_solver_from_the_current_parameters():
    X, y, W, V = sample_sgmlmoe(500, 2, 2, 2, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        short = SGMLMoE(2, n_init=1, max_iter=10, random_state=0, tol=0.0).fit(X, y)
    start = short.objective_
    trace = short.warm_fit(X, y, max_iter=10).loglik_trace_
    assert trace[0] == pytest.approx(start, rel=1e-12) and short.n_iter_ == 10
    assert_monotone(trace)
    # ten more steps from the same point are the steps 11..20 of one longer fit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        longer = SGMLMoE(2, n_init=1, max_iter=20, random_state=0, tol=0.0).fit(X, y)
    assert short.objective_ == pytest.approx(longer.objective_, rel=1e-10)


def test_initial_parameters_are_the_starts_fit_screens():
    X, y, W, V = sample_sgmlmoe(300, 2, 3, 2, seed=5)
    starts = SGMLMoE(3, n_init=3, random_state=7).initial_parameters(X, y)
    assert len(starts) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = SGMLMoE(3, n_init=3, random_state=7, max_iter=3).fit(X, y)
        for start, result in zip(starts, fit.fit_results_):  # each screened 3 steps
            again = SGMLMoE(3, init=start, max_iter=3).fit(X, y)
            assert again.objective_ == result["screen_objective"]


def test_log_proba_is_log_space_exact_for_extreme_logits():
    W = np.array([[800.0, 0.0], [0.0, 0.0]])
    V = np.array([[[-900.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    model = SGMLMoE.from_parameters(W, V, classes=[0, 1])
    logp = model.predict_log_proba([[0.0]])
    # gate puts mass 1 - e^-800 on expert 1, whose class-0 probability is e^-900
    expected = logsumexp([-900.0, -800.0 + np.log(0.5)])
    assert logp[0, 0] == pytest.approx(expected, rel=1e-12)
    assert np.all(np.isfinite(logp))


def test_string_and_noncontiguous_labels():
    X, y, _, _ = sample_sgmlmoe(300, 2, 2, 3, seed=11)
    names = np.array(["zeta", "alpha", "mu"])[y]
    codes = np.array([7, -2, 40])[y]
    a = SGMLMoE(2, random_state=0, max_iter=200).fit(X, names)
    b = SGMLMoE(2, random_state=0, max_iter=200).fit(X, codes)
    assert list(a.classes_) == ["alpha", "mu", "zeta"] and list(b.classes_) == [-2, 7, 40]
    assert set(a.predict(X)) <= set(names) and set(b.predict(X)) <= set(codes)
    np.testing.assert_allclose(a.predict_proba(X).sum(1), 1.0)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X), y), "NaN"),
        (lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X), y), "infinity"),
        (lambda X, y: (X, y[:-1]), "inconsistent numbers of samples"),
        (lambda X, y: (X, np.zeros_like(y)), "at least two classes"),
    ],
)
def test_bad_training_data_raise_clear_errors(mutate, message):
    X, y, _, _ = sample_sgmlmoe(50, 2, 2, 3, seed=12)
    X, y = mutate(X, y)
    with pytest.raises(ValueError, match=message):
        SGMLMoE(2).fit(X, y)


def test_bad_arguments_raise_clear_errors():
    X, y, _, _ = sample_sgmlmoe(50, 2, 2, 3, seed=13)
    with pytest.raises(ValueError, match="n_experts"):
        SGMLMoE(0).fit(X, y)
    with pytest.raises(ValueError, match="[Nn]egative"):
        SGMLMoE(2).fit(X, y, sample_weight=np.r_[-1.0, np.ones(49)])
    with pytest.raises(ValueError, match="curvature"):
        SGMLMoE(2, curvature="tight").fit(X, y)
    with pytest.raises(ValueError, match="relaxation"):
        SGMLMoE(2, relaxation=2.0).fit(X, y)
    with pytest.raises(ValueError, match="accelerate"):
        SGMLMoE(2, accelerate="anderson").fit(X, y)
    with pytest.raises(ValueError, match="expert_coef"):
        SGMLMoE(2, init={"gate_coef": np.zeros((2, 3)), "expert_coef": np.zeros((3, 3, 3))}).fit(X, y)
    model = SGMLMoE(2, max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict_proba(np.zeros((3, 5)))
    with pytest.raises(ValueError, match="NaN"):
        model.predict_proba(np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="not seen in fit"):
        model.loglik(X[:2], [0, 99])


def test_solver_traces_start_together_and_mm_ascends():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    traces = solver_traces(X, y, 2, max_iter=20, random_state=0)
    assert set(traces["solver"]) == {"mm", "em"}
    mm = traces[traces["solver"] == "mm"]["loglik"].to_numpy()
    em = traces[traces["solver"] == "em"]["loglik"].to_numpy()
    assert mm[0] == pytest.approx(em[0])  # one common start
    assert np.all(np.diff(mm) >= -1e-9)
    np.testing.assert_allclose(traces["mean_loglik"], traces["loglik"] / 300)
