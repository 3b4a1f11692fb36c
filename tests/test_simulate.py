"""moe.simulate: the sampler, the true parameters and the Voronoi loss."""

import numpy as np
import pandas as pd
import pytest

from moe import SGMLMoE
from moe.simulate import (
    loglog_slope,
    mixing_measure,
    sample,
    simplex_parameters,
    split_copies,
    synthetic_data,
    true_model,
    voronoi_loss,
    well_separated_parameters,
)


@pytest.fixture(scope="module")
def truth():
    return true_model(*well_separated_parameters(3, 2, 4, random_state=0))


def test_parameters_fix_the_reference_rows_and_follow_the_seed():
    W, V = well_separated_parameters(3, 2, 4, random_state=5)
    assert W.shape == (3, 3) and V.shape == (3, 4, 3)
    np.testing.assert_array_equal(W[-1], 0.0)
    np.testing.assert_array_equal(V[:, -1, :], 0.0)
    W2, V2 = well_separated_parameters(3, 2, 4, random_state=5)
    np.testing.assert_array_equal(W, W2)
    np.testing.assert_array_equal(V, V2)
    # gate slopes of norm gate_scale, evenly spread: all pairwise distances equal for K = 3
    slopes = W[:, 1:] - W[:, 1:].mean(axis=0)
    dist = np.linalg.norm(slopes[:, None] - slopes[None], axis=-1)[np.triu_indices(3, 1)]
    np.testing.assert_allclose(dist, dist[0])


@pytest.mark.parametrize("bad", [{"n_experts": 0}, {"n_features": 1.5}, {"n_classes": 1}])
def test_parameters_reject_bad_sizes(bad):
    sizes = {"n_experts": 2, "n_features": 2, "n_classes": 3, **bad}
    with pytest.raises(ValueError, match=next(iter(bad)) if "n_classes" not in bad else "n_classes"):
        well_separated_parameters(**sizes)


def test_sample_follows_the_model(truth):
    X, y = sample(truth, 20000, random_state=1)
    assert X.shape == (20000, 2) and set(np.unique(y)) <= set(truth.classes_)
    P = truth.predict_proba(X)
    observed = np.bincount(y, minlength=4) / len(y)
    se = np.sqrt(P.mean(0) * (1 - P.mean(0)) / len(y))
    assert np.all(np.abs(observed - P.mean(0)) < 4 * se)
    X2, y2 = sample(truth, 20000, random_state=1)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_contamination_replaces_the_labels(truth):
    X, y = sample(truth, 5000, random_state=2)
    Xc, yc = sample(truth, 5000, epsilon=1.0, random_state=2)
    np.testing.assert_array_equal(X, Xc)  # inputs are drawn first: same x, other labels
    assert truth.loglik(Xc, yc) / 5000 < truth.loglik(X, y) / 5000 - 0.1
    with pytest.raises(ValueError, match="epsilon"):
        sample(truth, 10, epsilon=1.5)


def _model(b, slopes, V):
    return SGMLMoE.from_parameters(np.column_stack([b, slopes]), V, np.arange(V.shape[1]))


def test_voronoi_loss_by_hand():
    # truth: two atoms, weights 1/2, centred gate slopes +-1/2, experts +-1 on class 0's intercept
    V0 = np.zeros((2, 2, 2))
    V0[0, 0, 0], V0[1, 0, 0] = 1.0, -1.0
    truth = _model(np.zeros(2), np.array([[1.0], [0.0]]), V0)
    # fit: atom 0 split in two (0.1 off in V), atom 1 once (0.2 off), weights 0.3, 0.3, 0.4
    V = np.zeros((3, 2, 2))
    V[0, 0, 0], V[1, 0, 0], V[2, 0, 0], V[2, 0, 1] = 1.1, 0.9, -1.0, 0.2
    model = _model(np.log([0.3, 0.3, 0.4]), np.array([[0.5], [0.5], [-0.5]]), V)
    # centred slopes: 0.5 - (0.3*0.5 + 0.3*0.5 - 0.4*0.5) = 0.4 for atoms 0, 1 and -0.6 for atom 2
    d_01 = np.sqrt(0.1**2 + 0.1**2)  # slope 0.4 vs 0.5, V 1.1 (or 0.9) vs 1
    d_2 = np.sqrt(0.1**2 + 0.2**2)  # slope -0.6 vs -0.5, V_2[0, 1] = 0.2 vs 0
    expected = abs(0.6 - 0.5) + abs(0.4 - 0.5) + 2 * 0.3 * d_01**2 + 0.4 * d_2
    assert voronoi_loss(model, truth) == pytest.approx(expected, rel=1e-12)


def test_voronoi_loss_zero_at_truth_and_invariant(truth):
    assert voronoi_loss(truth, truth) == 0.0
    W, V = truth.gate_coef_, truth.expert_coef_
    X, _ = sample(truth, 200, random_state=3)
    fitted = _model(W[:, 0] + [0.1, -0.2, 0.0], W[:, 1:] * 1.05, V + 0.05)
    loss = voronoi_loss(fitted, truth)
    assert loss > 0
    order = [2, 0, 1]
    permuted = _model(fitted.gate_coef_[order, 0], fitted.gate_coef_[order, 1:],
                      fitted.expert_coef_[order])
    np.testing.assert_allclose(permuted.predict_proba(X), fitted.predict_proba(X), atol=1e-12)
    assert voronoi_loss(permuted, truth) == pytest.approx(loss, rel=1e-12)
    # a common translation of the gate rows (kept raw, not re-normalised) leaves the loss unchanged
    translated = (fitted.gate_coef_ + np.array([1.5, -2.0, 0.7]), fitted.expert_coef_)
    assert voronoi_loss(translated, truth) == pytest.approx(loss, rel=1e-12)
    assert voronoi_loss(truth, translated) == pytest.approx(voronoi_loss(truth, fitted), rel=1e-12)
    same = SGMLMoE.from_parameters(*translated, truth.classes_)  # and the model is the same
    np.testing.assert_allclose(same.predict_proba(X), fitted.predict_proba(X), atol=1e-12)


def test_mixing_measure_normalises_weights_and_centres_slopes(truth):
    p, theta = mixing_measure(truth.gate_coef_, truth.expert_coef_)
    assert p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(p @ theta[:, :2], 0.0, atol=1e-12)


def test_voronoi_loss_rejects_other_shapes(truth):
    other = true_model(*well_separated_parameters(3, 2, 3, random_state=0))
    with pytest.raises(ValueError, match="same number of classes"):
        voronoi_loss(other, truth)


def test_loglog_slope_recovers_a_power_law():
    n = np.array([1e3, 1e4, 1e5, 1e3, 1e4, 1e5])
    table = pd.DataFrame({"fit": ["a"] * 3 + ["b"] * 3, "n": n,
                          "loss": np.r_[2 * n[:3] ** -0.5, 3 * n[3:] ** -0.25]})
    slopes = loglog_slope(table)
    assert slopes["a"] == pytest.approx(-0.5) and slopes["b"] == pytest.approx(-0.25)


def test_synthetic_data_follows_the_seed_and_refuses_a_missing_class():
    X, y, truth = synthetic_data(300, 3, 2, 3, seed=1, coef_sd=1.0)
    again = synthetic_data(300, 3, 2, 3, seed=1, coef_sd=1.0)
    np.testing.assert_array_equal(X, again[0])
    np.testing.assert_array_equal(y, again[1])
    assert X.shape == (300, 3) and set(y) == {0, 1, 2} and truth.gate_coef_.shape == (2, 4)
    _, _, separated = synthetic_data(300, 3, 2, 3, seed=1)  # the well-separated truth
    np.testing.assert_array_equal(separated.gate_coef_[:, 0], 0.0)
    with pytest.raises(ValueError, match=r"n=3, M=7 \(seed 0\) lack classes"):
        synthetic_data(3, 2, 2, 7, seed=0, coef_sd=1.0)



def test_simplex_parameters_by_hand():
    W, V = simplex_parameters(2, n_classes=3, gate_scale=3.0, expert_scale=6.0)
    np.testing.assert_array_equal(W, [[0.0, 3.0, 0.0], [0.0, 0.0, 3.0]])
    expected = np.zeros((2, 3, 3))
    expected[0, 0, 1] = expected[1, 1, 2] = 6.0  # expert k: class k mod (M - 1), input k
    np.testing.assert_array_equal(V, expected)
    # with M = 2 every expert favours class 0; the last class row stays 0
    _, V2 = simplex_parameters(3, n_classes=2)
    assert V2.shape == (3, 2, 4) and np.all(V2[:, 1] == 0) and np.all(V2[:, 0, 1:].sum(1) == 6.0)
    with pytest.raises(ValueError, match="n_classes"):
        simplex_parameters(2, n_classes=1)


def test_split_copies_by_hand_and_the_model_is_unchanged():
    W, V = simplex_parameters(2)
    Ws, Vs = split_copies(W, V, [2, 1], np.random.default_rng(0))
    assert Ws.shape == (3, 3) and Vs.shape == (3, 3, 3)
    # rows, whatever the order: expert 0 twice with intercept -log 2, expert 1 once with 0
    source = [int(np.argmax(Ws[r, 1:])) for r in range(3)]
    assert sorted(source) == [0, 0, 1]
    for r, k in enumerate(source):
        assert Ws[r, 0] == (-np.log(2.0) if k == 0 else 0.0)
        np.testing.assert_array_equal(Ws[r, 1:], W[k, 1:])
        np.testing.assert_array_equal(Vs[r], V[k])
    # the order follows the seed; a seed, a Generator and a RandomState are all accepted
    again = split_copies(W, V, [2, 1], np.random.default_rng(0))
    np.testing.assert_array_equal(Ws, again[0])
    np.testing.assert_array_equal(Vs, again[1])
    split_copies(W, V, [2, 1], 3)
    split_copies(W, V, [2, 1], np.random.RandomState(3))
    # the split model predicts as the original, on the study's construction too
    for K0 in (2, 3, 4):
        W, V = simplex_parameters(K0)
        truth = true_model(W, V)
        X, _ = sample(truth, 500, random_state=K0)
        split = true_model(*split_copies(W, V, [2, 1, 2, 1][:K0], np.random.default_rng(K0)))
        assert split.gate_coef_.shape == (K0 + 1 + (K0 > 2), K0 + 1)
        np.testing.assert_allclose(split.predict_proba(X), truth.predict_proba(X), atol=1e-12)
    with pytest.raises(ValueError, match="one count per expert"):
        split_copies(W, V, [2, 1], 0)
    with pytest.raises(ValueError, match="positive integer"):
        split_copies(W, V, [2, 0, 1, 1], 0)
