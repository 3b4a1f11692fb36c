"""Dendrogram of mixing measures and the dendrogram selection criterion (DSC), DESIGN.md section 3.

A fitted SGMLMoE is the mixing measure G = sum_k e^{b_k} delta_{theta_k}: atom k weighs e^{b_k}
(its gate intercept) and sits at theta_k = (gate slopes beta_1k, expert coefficients V_k).
:class:`MixingDendrogram` merges the closest pair of atoms K_bar - 1 times and scores every level
kappa = K_bar..1 by

    DSC(kappa) = -( h(kappa) + omega_n * mean_i log p_{G(kappa)}(y_i | x_i) ),   K_hat = argmin DSC,

where h(kappa) is the height of the merge that leads from level kappa to level kappa - 1.

The literal criterion (``variant="literal"``) does not recover the true number of experts on the
synthetic study (see the README section and ``moe.synthetic``), so the construction is
parameterised by a :class:`DSCVariant`: which dissimilarity picks and measures the merges, how
a merge is made, whether each level is refitted, and omega_n. ``VARIANTS`` holds the named ones
the study measured; ``DEFAULT_VARIANT`` is the one that recovered K0 best.

How kappa = 1 is scored: it has no next merge, so it gets the null height

    h(1) = tau_n = (1 + omega_n) * nu_1 * log(n) / (2 n),      nu_1 = M p,

nu_1 being the free parameters one more expert adds (p gate, (M - 1) p expert). With the
likelihood heights (``dissimilarity="loglik"`` and refitted levels) h(2) is the log-likelihood
gap Delta between levels 2 and 1, so DSC(2) < DSC(1) exactly when (1 + omega_n)(Delta - nu_1
log(n) / (2n)) > 0: the choice between one and two experts is BIC's. In other height units
tau_n is a negligible convention and kappa = 1 is in effect scored by its likelihood alone.
Ties go to the fewer experts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.special import log_softmax
from sklearn.utils.validation import _check_sample_weight, check_is_fitted
from threadpoolctl import threadpool_limits

from moe.ascent import ascend
from moe.mm import Layout, MMMap, augment, e_step
from moe.model import SGMLMoE

OMEGAS = {
    "log": np.log,
    "sqrt": np.sqrt,
    "n_over_log": lambda n: n / np.log(n),
}
DISSIMILARITIES = ("parameter", "predictive", "loglik")
MERGES = ("parameter", "responsibility")
MSTEP_ITER = 30  # MM steps with responsibilities held fixed: the M-step of a responsibility merge


@dataclass(frozen=True)
class DSCVariant:
    """How the tree is built and scored.

    Parameters
    ----------
    dissimilarity : {"parameter", "predictive", "loglik"}
        ``"parameter"``: the harmonic weight times the squared distance of DESIGN.md,
        e^{b_i} e^{b_j} / (e^{b_i} + e^{b_j}) * (|beta_1i - beta_1j|^2 + |V_i - V_j|_F^2).
        ``"predictive"``: on the training inputs, the gate-weighted Jensen-Shannon divergence of
        the two experts' class distributions, mean_i [pi_i KL(P_i || m) + pi_j KL(P_j || m)]
        with m = (pi_i P_i + pi_j P_j) / (pi_i + pi_j); nats per observation, free of parameter
        units. ``"loglik"``: the mean training log-likelihood lost by merging the pair (after
        ``probe_iter`` MM steps from the merged start); nats per observation.
    intercepts : {"raw", "normalised"}
        ``"parameter"`` only. Weights e^{b} as fitted (last gate row 0), or normalised to sum 1
        (a common translation of the gate, which rescales every height by the same factor).
    gate_slopes : bool
        ``"parameter"`` only: whether the gate slopes enter the distance.
    merge : {"parameter", "responsibility"}
        ``"parameter"``: b* = log(e^{b_i} + e^{b_j}) and every other parameter the convex
        combination with weights e^{b_i}, e^{b_j} (normalised). ``"responsibility"``: from that
        start, ``MSTEP_ITER`` MM steps with the responsibilities held at those of the parent
        level with columns i and j summed, i.e. the M-step of the merged latent class.
    probe_iter : int
        ``"loglik"`` only: MM steps run after each candidate merge before its loss is measured.
    probe_top : int
        ``"loglik"`` only: how many pairs are candidates, those whose plain merge (no steps)
        loses least; 0 makes every pair a candidate.
    refit_iter : int
        MM steps (the fitted model's solver settings) run after each chosen merge; 0 keeps the
        merged parameters as they are.
    omega : {"log", "sqrt", "n_over_log"}
        omega_n = log n, sqrt n or n / log n.
    """

    dissimilarity: str = "parameter"
    intercepts: str = "raw"
    gate_slopes: bool = True
    merge: str = "parameter"
    probe_iter: int = 0
    probe_top: int = 0
    refit_iter: int = 0
    omega: str = "log"

    def __post_init__(self):
        for field, value, options in [
            ("dissimilarity", self.dissimilarity, DISSIMILARITIES),
            ("intercepts", self.intercepts, ("raw", "normalised")),
            ("merge", self.merge, MERGES),
            ("omega", self.omega, tuple(OMEGAS)),
        ]:
            if value not in options:
                raise ValueError(f"DSCVariant.{field} must be one of {options}; got {value!r}")
        for field in ("probe_iter", "probe_top", "refit_iter"):
            if int(getattr(self, field)) != getattr(self, field) or getattr(self, field) < 0:
                raise ValueError(f"DSCVariant.{field} must be a non-negative integer")

    @property
    def needs_data(self) -> bool:
        """Whether building the tree needs the training data."""
        return self.dissimilarity != "parameter" or self.merge != "parameter" or self.refit_iter > 0

    def omega_n(self, n: float) -> float:
        return float(OMEGAS[self.omega](n))


_REFIT = 300
VARIANTS = {
    "literal": DSCVariant(),
    "normalised": DSCVariant(intercepts="normalised", gate_slopes=False),
    "refit": DSCVariant(refit_iter=_REFIT),
    "normalised_refit": DSCVariant(intercepts="normalised", gate_slopes=False, refit_iter=_REFIT),
    "predictive": DSCVariant(dissimilarity="predictive"),
    "predictive_refit": DSCVariant(dissimilarity="predictive", refit_iter=_REFIT),
    "loglik": DSCVariant(dissimilarity="loglik"),
    "loglik_refit": DSCVariant(dissimilarity="loglik", refit_iter=_REFIT),
    "probe_refit": DSCVariant(dissimilarity="loglik", probe_iter=20, refit_iter=_REFIT),
    "probe_resp_refit": DSCVariant(dissimilarity="loglik", probe_iter=20, merge="responsibility",
                                   refit_iter=_REFIT),
}
DEFAULT_VARIANT = "probe_resp_refit"


def resolve_variant(variant) -> DSCVariant:
    """A :class:`DSCVariant` from itself, a name in ``VARIANTS``, or ``"<name>@<omega>"``
    (the named variant scored with another omega, e.g. ``"literal@sqrt"``)."""
    if isinstance(variant, DSCVariant):
        return variant
    name, _, omega = str(variant).partition("@")
    if name not in VARIANTS or (omega and omega not in OMEGAS):
        raise ValueError(
            f"variant must be a DSCVariant, one of {sorted(VARIANTS)}, or '<name>@<omega>' with "
            f"omega in {sorted(OMEGAS)}; got {variant!r}"
        )
    return replace(VARIANTS[name], omega=omega) if omega else VARIANTS[name]


# ---------------------------------------------------------------------------- merge math
def merge_atoms(gate_coef, expert_coef, i, j):
    """Merge atoms i and j of the mixing measure (W, V); the merged atom takes i's place.

    b* = log(e^{b_i} + e^{b_j}); the gate slopes and V are convex combinations with weights
    e^{b_i} / (e^{b_i} + e^{b_j}) and e^{b_j} / (e^{b_i} + e^{b_j}), so sum_k e^{b_k} and the
    e^b-weighted mean of every other parameter are kept. A merged expert averages logits.

    Returns
    -------
    gate_coef : ndarray (K - 1, p)
    expert_coef : ndarray (K - 1, M, p)
    """
    K = gate_coef.shape[0]
    if not (0 <= i < K and 0 <= j < K and i != j):
        raise ValueError(f"merge_atoms needs two distinct atoms among {K}; got i={i}, j={j}")
    b_i, b_j = gate_coef[i, 0], gate_coef[j, 0]
    w_i = 1.0 / (1.0 + np.exp(b_j - b_i))
    W, V = gate_coef.copy(), expert_coef.copy()
    W[i] = w_i * gate_coef[i] + (1 - w_i) * gate_coef[j]
    W[i, 0] = np.logaddexp(b_i, b_j)
    V[i] = w_i * expert_coef[i] + (1 - w_i) * expert_coef[j]
    keep = np.arange(K) != j
    return W[keep], V[keep]


def parameter_dissimilarity(gate_coef, expert_coef, *, gate_slopes=True, normalise=False):
    """e^{b_i} e^{b_j} / (e^{b_i} + e^{b_j}) * (|beta_1i - beta_1j|^2 + |V_i - V_j|_F^2), (K, K).

    ``normalise`` divides the weights by their sum; ``gate_slopes=False`` drops the first term.
    """
    b = gate_coef[:, 0]
    w = np.exp(b - b.max())
    w = w / w.sum() if normalise else w * np.exp(b.max())
    K = len(b)
    location = expert_coef.reshape(K, -1)
    if gate_slopes:
        location = np.hstack([gate_coef[:, 1:], location])
    squared = ((location[:, None, :] - location[None, :, :]) ** 2).sum(-1)
    return np.outer(w, w) / (w[:, None] + w[None, :]) * squared


def predictive_dissimilarity(log_pi, log_P, s):
    """Gate-weighted Jensen-Shannon divergence of every pair of experts, nats per observation.

    log_pi (K, n) and log_P (K, M, n) are the log gate and expert probabilities on the training
    inputs, s (n,) the sample weights. D_ij = sum_x s [pi_i KL(P_i || m) + pi_j KL(P_j || m)] / sum s
    with m = (pi_i P_i + pi_j P_j) / (pi_i + pi_j): the information about y that the identity of
    the expert carries within the pair, zero exactly when the two experts predict alike
    wherever they have gate mass.
    """
    K = log_pi.shape[0]
    D = np.zeros((K, K))
    for i in range(K):
        for j in range(i + 1, K):
            log_mass = np.logaddexp(log_pi[i], log_pi[j])
            log_m = np.logaddexp(log_pi[i] + log_P[i], log_pi[j] + log_P[j]) - log_mass
            js = sum(
                np.exp(log_pi[k]) * (np.exp(log_P[k]) * (log_P[k] - log_m)).sum(axis=0)
                for k in (i, j)
            )
            D[i, j] = D[j, i] = float(s @ js) / s.sum()
    return D


def log_probabilities(gate_coef, expert_coef, XT):
    """log pi (K, n) and log P (K, M, n) of the measure (W, V) at the columns of X~^T (p, n)."""
    log_pi = log_softmax(gate_coef @ XT, axis=0)
    log_P = log_softmax(np.einsum("kmp,pn->kmn", expert_coef, XT), axis=1)
    return log_pi, log_P


# ---------------------------------------------------------------------------- the tree
class _Data:
    """Training data in the estimator's internal layout, with one MM map per number of experts."""

    def __init__(self, model: SGMLMoE, X, y, sample_weight):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != model.n_features_in_:
            raise ValueError(
                f"X must be a 2-D array with {model.n_features_in_} columns; got shape {X.shape}"
            )
        self.y_idx = model._encode(y)
        if len(self.y_idx) != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {len(self.y_idx)}")
        self.s = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        self.XT = augment(X)
        self.model = model
        self._maps = {}

    def map(self, K: int) -> MMMap:
        if K not in self._maps:
            m = self.model
            layout = Layout(K, len(m.classes_), self.XT.shape[0])
            self._maps[K] = MMMap(self.XT, self.y_idx, self.s, layout, m.curvature, m.alpha)
        return self._maps[K]

    def state(self, W, V):
        F = self.map(W.shape[0])
        return e_step(pack(F.layout, W, V), self.XT, self.y_idx, self.s, F.layout)

    def mean_loglik(self, W, V) -> float:
        return self.state(W, V).loglik / self.s.sum()

    def ascend(self, W, V, n_steps):
        """``n_steps`` MM map evaluations from (W, V) with the fitted model's solver settings."""
        F = self.map(W.shape[0])
        result = ascend(F, pack(F.layout, W, V), n_steps, self.model.tol, self.model.accelerate)
        return F.layout.unpack(result.theta)


def pack(layout: Layout, gate_coef, expert_coef):
    """The estimator's free rows of (W, V) after the translations that zero W_K and every V_kM
    (the model is unchanged by them)."""
    return layout.pack(gate_coef - gate_coef[-1], expert_coef - expert_coef[:, -1:, :])


def m_step(F: MMMap, theta, tau, n_steps):
    """``n_steps`` MM steps with the responsibilities held at ``tau`` (K, n).

    Each step ascends the Jensen minoriser sum_i s_i sum_k tau_ik [log pi_k + log p_k(y_i)],
    a concave function of theta, so the steps converge to the M-step for ``tau``.
    """
    for _ in range(n_steps):
        state = F.e_step(theta)
        state.tau = tau
        theta = F(theta, state)
    return theta


class MixingDendrogram:
    """Greedy merge tree of the mixing measure of an over-fitted SGMLMoE, and its DSC.

    Parameters
    ----------
    model : SGMLMoE
        A fitted model with K_bar experts (the over-fitted mixing measure).
    variant : str or DSCVariant
        A name in ``VARIANTS`` or a :class:`DSCVariant`. Default ``DEFAULT_VARIANT``.
    X, y, sample_weight : training data
        Needed when ``variant.needs_data`` (likelihood or predictive heights, responsibility
        merges, refits); ignored by the others' construction.

    Attributes
    ----------
    variant_ : DSCVariant
    heights_ : ndarray (K_bar - 1,)
        heights_[t] is the height of merge t, from K_bar - t experts to K_bar - t - 1.
    levels_ : dict {kappa: SGMLMoE}
        A fitted-like model for every kappa = K_bar..1 (levels_[K_bar] is ``model``), usable for
        ``predict_proba`` with no refit.
    measures_ : dict {kappa: (gate_coef, expert_coef)}
        The mixing measure of every level with the fitted model's gate intercepts carried along
        (not re-translated), so sum_k e^{b_k} is the same at every level.
    linkage_ : ndarray (K_bar - 1, 4)
        SciPy linkage matrix: leaves 0..K_bar-1 are the fitted experts, cluster K_bar + t is made
        by merge t; heights are max(h, 0) (a likelihood height can be slightly negative when a
        merge followed by a refit beats an unconverged parent level).
    """

    def __init__(self, model, variant=DEFAULT_VARIANT, *, X=None, y=None, sample_weight=None):
        check_is_fitted(model, "gate_coef_")
        self.model = model
        self.variant = variant
        self.variant_ = resolve_variant(variant)
        if self.variant_.needs_data and (X is None or y is None):
            raise ValueError(
                f"MixingDendrogram: variant {variant!r} builds its tree from the training data; "
                "pass X= and y="
            )
        data = _Data(model, X, y, sample_weight) if self.variant_.needs_data else None
        # the model's BLAS thread limit: on these small products extra threads only contend
        with threadpool_limits(limits=model.n_threads, user_api="blas"), np.errstate(over="ignore"):
            self._build(data)

    # ------------------------------------------------------------------ construction
    def _build(self, data):
        m = self.model
        W, V = m.gate_coef_.copy(), m.expert_coef_.copy()
        K_bar = W.shape[0]
        log_mass = np.logaddexp.reduce(W[:, 0])
        self.measures_ = {K_bar: (W, V)}
        self.levels_ = {K_bar: m}
        ids, heights, linkage = list(range(K_bar)), [], []
        size = {k: 1 for k in range(K_bar)}
        for t in range(K_bar - 1):
            (i, j), h, (W, V) = self._merge_step(W, V, data)
            if self.variant_.refit_iter:
                W, V = data.ascend(W, V, self.variant_.refit_iter)
                # keep the fitted model's total weight sum e^b (a common gate translation)
                W[:, 0] += log_mass - np.logaddexp.reduce(W[:, 0])
            new = K_bar + t
            size[new] = size[ids[i]] + size[ids[j]]
            linkage.append([ids[i], ids[j], max(h, 0.0), size[new]])
            heights.append(h)
            ids[i] = new
            del ids[j]
            self.measures_[W.shape[0]] = (W, V)
            self.levels_[W.shape[0]] = SGMLMoE.from_parameters(W, V, m.classes_, **self._params())
        self.heights_ = np.asarray(heights, dtype=float)
        self.linkage_ = np.asarray(linkage, dtype=float).reshape(-1, 4)

    def _params(self):
        params = self.model.get_params()
        del params["n_experts"], params["init"]
        return params

    def _merge_step(self, W, V, data):
        """The pair (i < j) to merge, its height and the merged measure."""
        v = self.variant_
        state = data.state(W, V) if data is not None else None
        tau = state.tau if state is not None else None
        if v.dissimilarity == "parameter":
            D = parameter_dissimilarity(
                W, V, gate_slopes=v.gate_slopes, normalise=v.intercepts == "normalised"
            )
            return self._closest(D, lambda i, j: self._merge(W, V, i, j, data, tau))
        if v.dissimilarity == "predictive":
            D = predictive_dissimilarity(*log_probabilities(W, V, data.XT), data.s)
            return self._closest(D, lambda i, j: self._merge(W, V, i, j, data, tau))
        base = state.loglik / data.s.sum()
        K = W.shape[0]
        pairs = [(i, j) for i in range(K) for j in range(i + 1, K)]
        if v.probe_top and len(pairs) > v.probe_top:
            # shortlist by the loss of the plain merge, which costs one E-step per pair
            plain = [base - data.mean_loglik(*merge_atoms(W, V, i, j)) for i, j in pairs]
            pairs = [pairs[t] for t in np.argsort(plain, kind="stable")[: v.probe_top]]
        candidates = {}
        D = np.full((K, K), np.inf)
        for i, j in pairs:
            merged = self._merge(W, V, i, j, data, tau)
            if v.probe_iter:
                merged = data.ascend(*merged, v.probe_iter)
            candidates[i, j] = merged
            D[i, j] = D[j, i] = base - data.mean_loglik(*merged)
        return self._closest(D, lambda i, j: candidates[i, j])

    @staticmethod
    def _closest(D, merged):
        D = D.copy()
        np.fill_diagonal(D, np.inf)
        i, j = sorted(np.unravel_index(np.argmin(D), D.shape))
        return (int(i), int(j)), float(D[i, j]), merged(i, j)

    def _merge(self, W, V, i, j, data, tau=None):
        """Merge atoms i < j: the convex-combination merge, then for ``merge="responsibility"``
        the M-step of the parent's responsibilities ``tau`` with rows i and j summed."""
        Wm, Vm = merge_atoms(W, V, i, j)
        if self.variant_.merge == "parameter":
            return Wm, Vm
        tau_merged = np.delete(tau, j, axis=0)
        tau_merged[i] = tau[i] + tau[j]
        F = data.map(W.shape[0] - 1)
        Wm2, Vm2 = F.layout.unpack(m_step(F, pack(F.layout, Wm, Vm), tau_merged, MSTEP_ITER))
        Wm2[:, 0] += np.logaddexp.reduce(Wm[:, 0]) - np.logaddexp.reduce(Wm2[:, 0])
        return Wm2, Vm2

    # ------------------------------------------------------------------ scoring
    def null_height(self, n: float) -> float:
        """tau_n = (1 + omega_n) nu_1 log(n) / (2n), the height that scores kappa = 1."""
        M, p = self.model.expert_coef_.shape[1:]
        return (1 + self.variant_.omega_n(n)) * M * p * np.log(n) / (2 * n)

    def dsc(self, X, y):
        """The DSC of every level on (X, y), one row per number of experts, K_bar first.

        Columns: ``n_experts`` (kappa), ``height`` (h(kappa), the next merge's; tau_n for
        kappa = 1), ``mean_loglik`` (mean_i log p_{G(kappa)}(y_i | x_i)), ``dsc``
        (-(height + omega_n mean_loglik), n = len(X); smaller is better).
        """
        n = len(X)
        if n < 2:
            raise ValueError(f"dsc needs at least 2 observations; got {n}")
        omega = self.variant_.omega_n(n)
        K_bar = len(self.heights_) + 1
        rows = []
        for kappa in range(K_bar, 0, -1):
            h = self.heights_[K_bar - kappa] if kappa > 1 else self.null_height(n)
            ll = self.levels_[kappa].loglik(X, y) / n
            rows.append((kappa, h, ll, -(h + omega * ll)))
        return pd.DataFrame(rows, columns=["n_experts", "height", "mean_loglik", "dsc"])

    def select(self, X, y, refit=False):
        """The level with the smallest DSC on (X, y) (ties: fewer experts).

        Sets ``dsc_table_``, ``selected_k_`` and ``merged_model_`` (the level itself). With
        ``refit=True`` MM continues from the merged parameters with the fitted model's settings
        and ``refitted_model_`` is set too; ``selection_`` reports the log-likelihood of both.

        Returns
        -------
        SGMLMoE
            ``refitted_model_`` if ``refit`` else ``merged_model_``.
        """
        table = self.dsc(X, y)
        self.dsc_table_ = table
        # ties go to fewer experts, as in moe.selection.best_k
        self.selected_k_ = int(table.loc[table["dsc"] == table["dsc"].min(), "n_experts"].min())
        self.merged_model_ = self.levels_[self.selected_k_]
        report = {"n_experts": self.selected_k_, "merged_loglik": self.merged_model_.loglik(X, y)}
        chosen = self.merged_model_
        if refit:
            W, V = self.merged_model_.gate_coef_, self.merged_model_.expert_coef_
            params = {**self._params(), "init": {"gate_coef": W, "expert_coef": V}}
            chosen = SGMLMoE(self.selected_k_, **params).fit(X, y)
            self.refitted_model_ = chosen
            report["refitted_loglik"] = chosen.loglik_
        self.selection_ = report
        return chosen

    def with_variant(self, variant) -> "MixingDendrogram":
        """The same tree scored with another omega (the tree is shared, not rebuilt).

        Only ``omega`` may differ: every other field changes the tree itself.
        """
        new = resolve_variant(variant)
        if replace(new, omega=self.variant_.omega) != self.variant_:
            raise ValueError(
                f"with_variant can only change omega; {new} builds a different tree than {self.variant_}"
            )
        other = object.__new__(MixingDendrogram)
        other.__dict__.update(self.__dict__)
        other.variant, other.variant_ = variant, new
        for attribute in ("dsc_table_", "selected_k_", "merged_model_", "refitted_model_", "selection_"):
            other.__dict__.pop(attribute, None)
        return other
