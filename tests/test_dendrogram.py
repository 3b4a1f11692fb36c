"""moe.dendrogram: merge math, dissimilarities, the tree, the DSC and selection."""

import warnings

import numpy as np
import pytest
from scipy.cluster.hierarchy import is_valid_linkage

from moe import SGMLMoE
from moe.dendrogram import (
    DEFAULT_VARIANT,
    OMEGAS,
    VARIANTS,
    DSCVariant,
    MixingDendrogram,
    merge_atoms,
    parameter_dissimilarity,
    predictive_dissimilarity,
)
from moe.selection import fit_sgmlmoe
from moe.simulate import sample, true_model, well_separated_parameters


@pytest.fixture(scope="module")
def overfit():
    """A K_bar = 4 fit to data from a K0 = 2 model."""
    truth = true_model(*well_separated_parameters(2, 2, 3, random_state=2))
    X, y = sample(truth, 1500, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SGMLMoE(4, random_state=0, max_iter=300, n_threads=1).fit(X, y)
    return model, X, y


# ---------------------------------------------------------------------------- merge math
def test_merge_keeps_total_weight_and_weighted_means():
    rng = np.random.default_rng(0)
    W, V = rng.normal(size=(4, 3)), rng.normal(size=(4, 3, 3))
    Wm, Vm = merge_atoms(W, V, 1, 3)
    assert Wm.shape == (3, 3) and Vm.shape == (3, 3, 3)
    w = np.exp(W[:, 0])
    assert np.exp(Wm[:, 0]).sum() == pytest.approx(w.sum(), rel=1e-14)
    a = w[1] / (w[1] + w[3])
    np.testing.assert_allclose(Wm[1, 1:], a * W[1, 1:] + (1 - a) * W[3, 1:])
    np.testing.assert_allclose(Vm[1], a * V[1] + (1 - a) * V[3])
    np.testing.assert_array_equal(Wm[[0, 2]], W[[0, 2]])
    # the e^b-weighted mean of every parameter is kept
    np.testing.assert_allclose(np.exp(Wm[:, 0]) @ Wm[:, 1:], w @ W[:, 1:])
    with pytest.raises(ValueError, match="two distinct atoms"):
        merge_atoms(W, V, 2, 2)


def test_parameter_dissimilarity_by_hand():
    W = np.array([[np.log(2.0), 1.0, 0.0], [0.0, 0.0, 0.0]])
    V = np.zeros((2, 2, 3))
    V[0, 0, 0] = 2.0
    # harmonic weight 2 * 1 / (2 + 1); squared distance 1 (gate slope) + 4 (V)
    D = parameter_dissimilarity(W, V)
    assert D[0, 1] == pytest.approx(2 / 3 * 5) and D[1, 0] == D[0, 1]
    assert parameter_dissimilarity(W, V, gate_slopes=False)[0, 1] == pytest.approx(2 / 3 * 4)
    # normalised weights 2/3, 1/3: harmonic weight 2/9
    assert parameter_dissimilarity(W, V, normalise=True)[0, 1] == pytest.approx(2 / 9 * 5)


def test_predictive_dissimilarity_by_hand():
    pi = np.array([[0.3], [0.2], [0.5]])
    P = np.array([[[0.9], [0.1]], [[0.5], [0.5]], [[0.9], [0.1]]])
    D = predictive_dissimilarity(np.log(pi), np.log(P), np.ones(1))
    m = (0.3 * P[0, :, 0] + 0.2 * P[1, :, 0]) / 0.5
    kl = lambda p, q: float(np.sum(p * np.log(p / q)))  # noqa: E731
    assert D[0, 1] == pytest.approx(0.3 * kl(P[0, :, 0], m) + 0.2 * kl(P[1, :, 0], m))
    assert D[0, 2] == pytest.approx(0.0, abs=1e-15)  # experts that predict alike
    np.testing.assert_allclose(D, D.T)


# ---------------------------------------------------------------------------- the tree
@pytest.mark.parametrize("variant", ["literal", "normalised_refit", "predictive", "probe_resp_refit"])
def test_every_level_is_a_valid_model_and_the_top_is_the_fit(overfit, variant):
    model, X, y = overfit
    tree = MixingDendrogram(model, variant, X=X, y=y)
    assert sorted(tree.levels_) == [1, 2, 3, 4] and tree.heights_.shape == (3,)
    assert tree.levels_[4] is model
    top = SGMLMoE.from_parameters(*tree.measures_[4], model.classes_)
    np.testing.assert_array_equal(top.predict_proba(X), model.predict_proba(X))
    mass = np.exp(model.gate_coef_[:, 0]).sum()
    for kappa, level in tree.levels_.items():
        P = level.predict_proba(X)
        assert P.shape == (len(X), 3) and np.all(P >= 0)
        np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-12)
        assert np.exp(tree.measures_[kappa][0][:, 0]).sum() == pytest.approx(mass, rel=1e-10)
    assert is_valid_linkage(tree.linkage_)
    assert tree.linkage_[-1, 3] == 4  # the root holds every fitted expert


def test_without_refit_each_level_is_the_merge_of_the_previous(overfit):
    model, X, y = overfit
    tree = MixingDendrogram(model, "literal")
    for t, kappa in enumerate(range(4, 1, -1)):
        W, V = tree.measures_[kappa]
        D = parameter_dissimilarity(W, V)
        np.fill_diagonal(D, np.inf)
        i, j = sorted(np.unravel_index(np.argmin(D), D.shape))
        assert tree.heights_[t] == pytest.approx(D[i, j])
        Wm, Vm = merge_atoms(W, V, i, j)
        np.testing.assert_array_equal(tree.measures_[kappa - 1][0], Wm)
        np.testing.assert_array_equal(tree.measures_[kappa - 1][1], Vm)


def test_dsc_table_and_the_score_of_one_expert(overfit):
    model, X, y = overfit
    tree = MixingDendrogram(model, "loglik_refit", X=X, y=y)
    table = tree.dsc(X, y)
    assert list(table.columns) == ["n_experts", "height", "mean_loglik", "dsc"]
    assert list(table["n_experts"]) == [4, 3, 2, 1]
    n, M, p = len(X), 3, 3
    omega = np.log(n)
    tau_n = (1 + omega) * M * p * np.log(n) / (2 * n)
    assert table["height"].iloc[-1] == pytest.approx(tau_n)
    np.testing.assert_allclose(table["height"].iloc[:3], tree.heights_)
    np.testing.assert_allclose(table["mean_loglik"], [tree.levels_[k].loglik(X, y) / n for k in (4, 3, 2, 1)])
    np.testing.assert_allclose(table["dsc"], -(table["height"] + omega * table["mean_loglik"]))
    sqrt = tree.with_variant("loglik_refit@sqrt").dsc(X, y)
    np.testing.assert_allclose(sqrt["dsc"], -(sqrt["height"] + np.sqrt(n) * sqrt["mean_loglik"]))
    with pytest.raises(ValueError, match="only change omega"):
        tree.with_variant("literal")


def test_select_with_and_without_refit(overfit):
    model, X, y = overfit
    tree = MixingDendrogram(model, "loglik_refit", X=X, y=y)
    merged = tree.select(X, y)
    k = tree.selected_k_
    assert merged is tree.levels_[k] and tree.dsc_table_["dsc"].min() == pytest.approx(
        tree.dsc_table_.set_index("n_experts").loc[k, "dsc"])
    refitted = tree.select(X, y, refit=True)
    assert refitted.gate_coef_.shape[0] == k
    assert tree.selection_["refitted_loglik"] >= tree.selection_["merged_loglik"] - 1e-8
    assert tree.merged_model_ is merged and tree.refitted_model_ is refitted


def test_bad_variants_and_missing_data(overfit):
    model, X, y = overfit
    with pytest.raises(ValueError, match="dissimilarity"):
        DSCVariant(dissimilarity="wasserstein")
    with pytest.raises(ValueError, match="refit_iter"):
        DSCVariant(refit_iter=-1)
    with pytest.raises(ValueError, match="one of"):
        MixingDendrogram(model, "nonexistent")
    with pytest.raises(ValueError, match="omega"):
        MixingDendrogram(model, "literal@cube")
    with pytest.raises(ValueError, match="pass X= and y="):
        MixingDendrogram(model, "predictive")
    with pytest.raises(ValueError, match="columns"):
        MixingDendrogram(model, "predictive", X=X[:, :1], y=y)


# ---------------------------------------------------------------------------- split copies
def _simplex_truth(K0, M=3, g=3.0, c=6.0):
    """K0 well-separated experts whose atoms are the vertices of a regular simplex, equal weights.

    Gate slope g e_k and one expert slope c on input k: every pair of atoms is at the same
    distance, so every true merge of the parameter tree has the same height (Ward's heights of
    a regular simplex are equal) and the literal DSC is not biased towards fewer experts.
    """
    p = K0 + 1
    W = np.zeros((K0, p))
    V = np.zeros((K0, M, p))
    for k in range(K0):
        W[k, 1 + k] = g
        V[k, k % (M - 1), 1 + k] = c
    return W, V


def _split(W, V, copies, rng):
    """Each expert k in copies[k] copies with intercept b - log c: the same model."""
    rows = np.repeat(np.arange(len(W)), copies)
    W_split = W[rows].copy()
    W_split[:, 0] -= np.log(np.asarray(copies)[rows])
    order = rng.permutation(len(rows))
    return W_split[order], V[rows][order]


@pytest.mark.parametrize("K0", [2, 3, 4])
def test_split_copies_every_variant_returns_k0(K0):
    """Experts 0 and 2 split in two copies each (intercept b - log 2), atoms shuffled.

    The first merges join copies at height 0 and give back the true model exactly. The split
    model refits with plain MM (``accelerate=False``): its steps keep exact copies exact, while
    SQUAREM's extrapolation amplifies last-bit differences between them until they drift apart
    into a genuinely over-fitted model, which would make this check statistical.
    """
    rng = np.random.default_rng(K0)
    W, V = _simplex_truth(K0)
    truth = true_model(W, V)
    X, y = sample(truth, 3000, random_state=K0)
    split = SGMLMoE.from_parameters(*_split(W, V, [2, 1, 2, 1][:K0], rng), truth.classes_,
                                    n_threads=1, tol=1e-8, accelerate=False)
    np.testing.assert_allclose(split.predict_proba(X), truth.predict_proba(X), atol=1e-12)
    for name in VARIANTS:
        tree = MixingDendrogram(split, name, X=X, y=y)
        for omega in OMEGAS:  # every variant, scored with every omega
            scored = tree.with_variant(f"{name}@{omega}")
            assert scored.select(X, y).gate_coef_.shape[0] == K0, (name, omega, scored.dsc_table_)


# ---------------------------------------------------------------------------- end to end
END_TO_END = {"K0": 3, "d": 2, "M": 4, "n": 20000, "replicates": 5}


def test_end_to_end_default_variant_recovers_k0():
    """Setting: K0 = 3, d = 2, M = 4 from ``well_separated_parameters(3, 2, 4, random_state=0)``
    (inputs N(0, I), so standardised), n = 20000, five seeded replicates, one fit at
    K_bar = K0 + 3 = 6 each. The default variant must return 3 in at least 4 of 5; selectors
    returning the smallest level scored (1), or the smallest above one (2), return 3 in none."""
    s = END_TO_END
    truth = true_model(*well_separated_parameters(s["K0"], s["d"], s["M"], random_state=0))
    chosen, smallest, smallest_above_one = [], [], []
    for rep in range(s["replicates"]):
        X, y = sample(truth, s["n"], random_state=100 + rep)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = fit_sgmlmoe(X, y, s["K0"] + 3, random_state=rep, max_iter=500, tol=1e-6,
                                n_threads=1)
        tree = MixingDendrogram(model, X=X, y=y)
        assert tree.variant == DEFAULT_VARIANT
        chosen.append(tree.select(X, y).gate_coef_.shape[0])
        scored = tree.dsc_table_["n_experts"]
        smallest.append(scored.min())
        smallest_above_one.append(scored[scored > 1].min())
    assert sum(k == s["K0"] for k in chosen) >= 4, chosen
    assert sum(k == s["K0"] for k in smallest) < 4
    assert sum(k == s["K0"] for k in smallest_above_one) < 4


def test_plots_label_the_experts_and_mark_the_choice(overfit, tmp_path):
    from moe.plots_selection import plot_dendrogram, plot_dsc, plot_selection_summary

    model, X, y = overfit
    tree = MixingDendrogram(model, "literal")
    ax = plot_dendrogram(tree)
    assert sorted(t.get_text() for t in ax.get_xticklabels()) == [f"expert {k}" for k in range(4)]
    tree.select(X, y)
    ax = plot_dsc(tree.dsc_table_, tree.selected_k_)
    assert ax.get_legend().get_texts()[0].get_text() == f"selected K = {tree.selected_k_}"
    path = tmp_path / "selection.png"
    plot_selection_summary(tree, X, y, path)
    assert path.stat().st_size > 10_000 and not (tmp_path / "selection.png.tmp").exists()
