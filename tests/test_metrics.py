"""moe.metrics against values computed by hand and against a per-resample reference."""

import warnings
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, f1_score, log_loss, roc_auc_score

from moe import metrics

# Four binary predictions; top-label confidence, prediction, truth:
#   0.90 -> 0, y=1 (wrong) | 0.82 -> 1, y=1 (right) | 0.55 -> 0, y=0 (right) | 0.70 -> 1, y=0 (wrong)
Y4 = np.array([1, 1, 0, 0])
P4 = np.array([[0.9, 0.1], [0.18, 0.82], [0.55, 0.45], [0.3, 0.7]])

# Three 3-class predictions; class 1 never occurs in y.
Y3 = np.array([0, 2, 2])
P3 = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])


def test_ece_equal_width_four_predictions():
    # 15 bins: the confidences fall in bins 13, 12, 8 and 10, one each, so
    # ECE = (|0 - .9| + |1 - .82| + |1 - .55| + |0 - .7|) / 4.
    expected = (0.9 + 0.18 + 0.45 + 0.7) / 4
    assert metrics.expected_calibration_error(Y4, P4, 15, "width") == pytest.approx(expected)
    assert metrics.maximum_calibration_error(Y4, P4, 15, "width") == pytest.approx(0.9)


def test_ece_equal_mass_four_predictions():
    # 2 equal-mass bins: {.55 right, .70 wrong} and {.82 right, .90 wrong}.
    low = abs(0.5 - (0.55 + 0.7) / 2)
    high = abs(0.5 - (0.82 + 0.9) / 2)
    assert metrics.expected_calibration_error(Y4, P4, 2, "mass") == pytest.approx(
        (low + high) / 2
    )
    assert metrics.maximum_calibration_error(Y4, P4, 2, "mass") == pytest.approx(high)


def test_equal_width_bin_edges_are_left_closed():
    # 0.5 opens bin 1 of 2 and 1.0 stays in the last bin.
    y = np.array([0, 0])
    proba = np.array([[0.5, 0.5], [1.0, 0.0]])
    table = metrics.calibration_bins(y, proba, 2, "width")
    assert table["bin"].tolist() == [1]
    assert table["count"].tolist() == [2]
    assert table["confidence"].iloc[0] == pytest.approx(0.75)


def test_calibration_bins_table():
    table = metrics.calibration_bins(Y4, P4, 2, "mass")
    assert table["count"].tolist() == [2, 2]
    assert table["lower"].tolist() == pytest.approx([0.55, 0.82])
    assert table["upper"].tolist() == pytest.approx([0.7, 0.9])
    assert table["accuracy"].tolist() == pytest.approx([0.5, 0.5])


def test_classwise_ece_three_classes():
    # Per class, every probability sits alone in its 15-bin:
    # class 0: |1-.6| + |0-.2| + |0-.1| = .7; class 1: .3 + .5 + .1 = .9;
    # class 2: |0-.1| + |1-.3| + |1-.8| = 1.0; each over n = 3, then averaged.
    assert metrics.classwise_ece(Y3, P3, 15) == pytest.approx((0.7 + 0.9 + 1.0) / 9)


def test_all_metrics_three_classes_by_hand():
    values = metrics.all_metrics(Y3, P3, ["a", "b", "c"])
    assert list(values) == list(metrics.METRICS)
    assert values["accuracy"] == pytest.approx(2 / 3)
    # F1: class a 1, class b 0 (one false positive), class c 2/3.
    assert values["macro_f1"] == pytest.approx((1 + 0 + 2 / 3) / 3)
    # one-vs-rest over the present classes a and c: both perfectly ranked.
    assert values["roc_auc"] == pytest.approx(1.0)
    assert values["log_loss"] == pytest.approx(-(np.log(0.6) + np.log(0.3) + np.log(0.8)) / 3)
    # squared error of the one-hot, summed over classes, averaged over rows
    assert values["brier"] == pytest.approx((0.26 + 0.78 + 0.06) / 3)


def test_binary_brier_and_auc():
    values = metrics.all_metrics(Y4, P4, ["neg", "pos"])
    assert values["brier"] == pytest.approx((0.81 + 0.0324 + 0.2025 + 0.49) / 4)
    # positives score .1 and .82, negatives .45 and .7: 2 of 4 pairs ordered
    assert values["roc_auc"] == pytest.approx(0.5)
    assert values["accuracy"] == pytest.approx(0.5)


def test_roc_auc_matches_sklearn_ovr_when_all_classes_present():
    rng = np.random.default_rng(1)
    proba = rng.dirichlet(np.ones(4), size=200)
    y = rng.integers(0, 4, size=200)
    assert metrics.roc_auc(y, proba) == pytest.approx(
        roc_auc_score(y, proba, multi_class="ovr", average="macro")
    )


def test_roc_auc_needs_two_classes():
    with pytest.raises(ValueError, match="two classes"):
        metrics.roc_auc(np.array([1, 1]), P4[:2])


@pytest.mark.parametrize(
    ("y", "proba", "message"),
    [
        (Y4, P4[:, :1], "1 columns but there are 2 classes"),
        (Y4[:3], P4, "shape"),
        (Y4 + 1, P4, "labels in 0..1"),
        (Y4.astype(float), P4, "integer"),
        (Y4, P4 * 0.9, "sum to 1"),
        (Y4, np.where(P4 == 0.9, np.nan, P4), "NaN"),
    ],
)
def test_bad_predictions_are_refused(y, proba, message):
    with pytest.raises(ValueError, match=message):
        metrics.all_metrics(y, proba, ["neg", "pos"])


def test_bootstrap_indices_are_stratified_and_deterministic():
    y = np.array([0] * 7 + [1] * 3)
    first = metrics.bootstrap_indices(y, 50, seed=3)
    assert first.shape == (50, 10)
    np.testing.assert_array_equal(first, metrics.bootstrap_indices(y, 50, seed=3))
    assert not np.array_equal(first, metrics.bootstrap_indices(y, 50, seed=4))
    assert np.all((y[first] == 0).sum(axis=1) == 7)


def test_estimate_interval_is_centred_on_the_estimate_and_clipped_to_the_range():
    # replicates 0, 0.1, 0.2 (sd 0.1), z(0.95) = 1.959964: accuracy 0.95 -> [0.754, 1];
    # ece 0.01 -> [0, 0.206]; log-loss 0.1 with sd 1 -> [0, 2.06]
    replicates = pd.DataFrame({"accuracy": [0.0, 0.1, 0.2], "ece_width": [0.0, 0.1, 0.2],
                               "log_loss": [0.0, 1.0, 2.0]})
    table = metrics.estimate_interval(
        {"accuracy": 0.95, "ece_width": 0.01, "log_loss": 0.1}, replicates, 0.95
    ).set_index("metric")
    z = 1.959963984540054
    np.testing.assert_allclose(table["lower"], [0.95 - 0.1 * z, 0.0, 0.0])
    np.testing.assert_allclose(table["upper"], [1.0, 0.01 + 0.1 * z, 0.1 + z])
    with pytest.raises(ValueError, match="level"):
        metrics.estimate_interval({"accuracy": 0.5}, replicates[["accuracy"]], 1.5)


def _paired(y, proba, reference_proba, classes, n_resamples):
    """Paired differences on the same resamples, as moe.scoring.paired_evaluation takes them."""
    return metrics.paired_difference(
        metrics.bootstrap_replicates(y, proba, classes, n_resamples),
        metrics.bootstrap_replicates(y, reference_proba, classes, n_resamples),
        metrics.all_metrics(y, proba, classes),
        metrics.all_metrics(y, reference_proba, classes),
    )


def test_paired_difference_against_itself_is_zero():
    table = _paired(Y4, P4, P4, ["neg", "pos"], n_resamples=20)
    assert np.all(table[["difference", "lower", "upper"]].to_numpy() == 0)
    assert np.all(table["better"] == 0.5)


def test_paired_difference_sees_the_better_model():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, size=300)
    sharp = np.where(y[:, None] == np.arange(2), 0.8, 0.2)  # right with 0.8
    flat = np.full((300, 2), 0.5)
    row = _paired(y, sharp, flat, ["neg", "pos"], n_resamples=30).set_index("metric")
    # log-loss: ln 2 against -ln 0.8, the same on every resample
    assert row.loc["log_loss", "difference"] == pytest.approx(-np.log(0.8) - np.log(2))
    assert row.loc["log_loss", "better"] == 1.0
    assert row.loc["accuracy", "lower"] > 0


def test_paired_difference_refuses_different_resamples():
    a = pd.DataFrame({"accuracy": [0.5, 0.6]})
    b = pd.DataFrame({"accuracy": [0.5, 0.6, 0.7]})
    with pytest.raises(ValueError, match="same resamples"):
        metrics.paired_difference(a, b, {"accuracy": 0.5}, {"accuracy": 0.5})


# --------------------------------------------------------------------------- the bootstrap
def _reference_metrics(y, proba, n_bins):
    """One resample scored the straightforward way: scikit-learn's metrics and one bincount
    per bin set. This is what bootstrap_replicates computed resample by resample before it
    scored blocks of resamples at once."""
    n, C = proba.shape
    labels = np.arange(C)
    prediction = np.argmax(proba, axis=1)
    confidence = proba[np.arange(n), prediction]
    correct = (prediction == y).astype(np.float64)

    def gaps(values, outcome, strategy):
        if strategy == "width":
            ids = np.minimum((values * n_bins).astype(np.int64), n_bins - 1)
        else:
            ids = np.empty(n, dtype=np.int64)
            for b, chunk in enumerate(np.array_split(np.argsort(values, kind="stable"), n_bins)):
                ids[chunk] = b
        count = np.bincount(ids, minlength=n_bins)
        keep = count > 0
        mean_value = np.bincount(ids, weights=values, minlength=n_bins)[keep] / count[keep]
        mean_outcome = np.bincount(ids, weights=outcome, minlength=n_bins)[keep] / count[keep]
        gap = np.abs(mean_outcome - mean_value)
        return np.sum(count[keep] * gap) / n, np.max(gap)

    present = np.unique(y)
    if C == 2:
        auc = roc_auc_score(y, proba[:, 1])
    else:
        indicator = (y[:, None] == present[None, :]).astype(np.int64)
        auc = roc_auc_score(indicator, proba[:, present], average="macro")
    with warnings.catch_warnings():  # scikit-learn 1.9 renames log_loss's second argument
        warnings.simplefilter("ignore", FutureWarning)
        loss = log_loss(y, proba, labels=labels)
    ece_width, mce = gaps(confidence, correct, "width")
    return {
        "accuracy": np.mean(prediction == y),
        "macro_f1": f1_score(y, prediction, average="macro", zero_division=0),
        "roc_auc": auc,
        "log_loss": loss,
        "brier": brier_score_loss(y, proba, labels=labels),
        "ece_width": ece_width,
        "ece_mass": gaps(confidence, correct, "mass")[0],
        "mce": mce,
        "classwise_ece": np.mean(
            [gaps(proba[:, c], (y == c).astype(np.float64), "width")[0] for c in range(C)]
        ),
    }


def _predictions(n, C, seed, decimals, absent=False):
    """Random predictions; rounding to few decimals makes tied confidences and scores.
    ``absent``: the last class never occurs in y (it is only predicted, now and then)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, C - 1 if absent else C, size=n)
    proba = np.round(rng.dirichlet(np.full(C, 0.7), size=n), decimals)
    return y, proba / proba.sum(axis=1, keepdims=True)


# (n, C, n_bins, decimals, absent): binary and multiclass, with and without ties, more bins
# than rows of a class, labels predicted in some resamples and not others, a class absent
# from y, 8 or more non-empty bins (where numpy's pairwise sums regroup the terms)
BOOTSTRAP_CASES = [
    (80, 2, 15, 8, False),
    (150, 3, 10, 2, False),
    (120, 7, 15, 8, False),
    (60, 4, 40, 1, True),
]


@pytest.mark.parametrize(("n", "C", "n_bins", "decimals", "absent"), BOOTSTRAP_CASES)
def test_bootstrap_replicates_equal_the_per_resample_reference(n, C, n_bins, decimals, absent):
    y, proba = _predictions(n, C, seed=n + C, decimals=decimals, absent=absent)
    classes = [str(c) for c in range(C)]
    replicates = metrics.bootstrap_replicates(y, proba, classes, 25, seed=7, n_bins=n_bins)
    reference = pd.DataFrame(
        [_reference_metrics(y[idx], proba[idx], n_bins)
         for idx in metrics.bootstrap_indices(y, 25, seed=7)]
    )[list(metrics.METRICS)]
    exact = [m for m in metrics.METRICS if m != "roc_auc"]
    pd.testing.assert_frame_equal(replicates[exact], reference[exact], check_exact=True)
    # ROC-AUC: scikit-learn sums trapezoids over up to n points (pairwise), each term rounded
    # a few times, so it sits within (4 + log2 n) units in the last place of the exact
    # value ours rounds once: relative 1e-14 covers n up to 2**40.
    np.testing.assert_allclose(replicates["roc_auc"], reference["roc_auc"], rtol=1e-14, atol=0)
    # the point estimate is the same computation on the identity resample
    estimate = metrics.all_metrics(y, proba, classes, n_bins)
    expected = _reference_metrics(y, proba, n_bins)
    assert {m: estimate[m] for m in exact} == {m: float(expected[m]) for m in exact}


def test_each_replicate_is_all_metrics_of_its_resample_and_blocks_do_not_matter(monkeypatch):
    y, proba = _predictions(90, 3, seed=1, decimals=2)
    classes = ["a", "b", "c"]
    replicates = metrics.bootstrap_replicates(y, proba, classes, 12, seed=3)
    for r, idx in enumerate(metrics.bootstrap_indices(y, 12, seed=3)):
        assert replicates.iloc[r].to_dict() == metrics.all_metrics(y[idx], proba[idx], classes)
    monkeypatch.setattr(metrics, "_BLOCK_VALUES", 1)  # one resample per block
    pd.testing.assert_frame_equal(
        metrics.bootstrap_replicates(y, proba, classes, 12, seed=3), replicates, check_exact=True
    )


def test_roc_auc_is_the_exact_mann_whitney_share_rounded_once():
    y, proba = _predictions(70, 3, seed=5, decimals=1)  # many tied scores
    exact = []
    for c in range(3):
        score, positive = proba[:, c], y == c
        wins = sum(
            Fraction(1) if s > t else Fraction(1, 2) if s == t else Fraction(0)
            for s in score[positive]
            for t in score[~positive]
        )
        exact.append(float(wins / (positive.sum() * (~positive).sum())))
    parts = metrics._Rows(y, proba, 15).auc_parts
    identity = np.arange(y.size)[None, :]
    assert [float(metrics._auc(identity, *part)[0]) for part in parts] == exact
    assert metrics.roc_auc(y, proba) == float(np.mean(exact))


def test_macro_f1_averages_over_the_labels_each_resample_predicts():
    # Label 2 never occurs in y and only row 0 predicts it: resamples without row 0 average
    # the F1 over two labels, the others over three (scoring label 2 as zero).
    y, two = _predictions(40, 2, seed=2, decimals=8)
    proba = np.column_stack([two, np.zeros(40)])
    proba[0] = [0.1, 0.1, 0.8]
    replicates = metrics.bootstrap_replicates(y, proba, ["a", "b", "c"], 30, seed=1)
    resamples = metrics.bootstrap_indices(y, 30, seed=1)
    expected = [
        f1_score(y[idx], np.argmax(proba[idx], axis=1), average="macro", zero_division=0)
        for idx in resamples
    ]
    assert replicates["macro_f1"].tolist() == expected
    assert 0 < sum(0 in idx for idx in resamples) < 30  # both kinds of resample occur


# --------------------------------------------------------------------------- the protein bootstrap
def test_pair_multiplicity_is_the_product_of_draw_counts_by_hand():
    # proteins A, B, C, D drawn A, A, C, D (B never): counts 2, 0, 1, 1
    a = np.array([0, 0, 1, 2, 3])  # pairs (A,B), (A,C), (B,D), (C,C), (D,A)
    b = np.array([1, 2, 3, 2, 0])
    w = metrics.pair_multiplicity([2, 0, 1, 1], a, b)
    assert w.tolist() == [0, 2, 0, 1, 2]  # the self-pair (C,C) counts c_C once


def test_protein_bootstrap_replays_its_draws_and_is_deterministic():
    a = np.array(["A", "A", "B", "C", "D"])
    b = np.array(["B", "C", "D", "C", "A"])
    y = np.zeros(5, dtype=int)  # one class: any non-empty resample is accepted
    weights, redrawn = metrics.protein_bootstrap_weights(a, b, y, n_resamples=50, seed=5)
    # replay: blocks of min(128, missing resamples) x (4 protein draws), empty ones redrawn
    rng = np.random.default_rng(5)
    replay, rejected = [], 0
    while len(replay) < 50:
        block = rng.integers(0, 4, size=(min(128, 50 - len(replay)), 4))
        for draws in block:
            w = metrics.pair_multiplicity(np.bincount(draws, minlength=4),
                                          [0, 0, 1, 2, 3], [1, 2, 3, 2, 0])
            if w.sum() > 0:
                replay.append(w)
            else:
                rejected += 1
    np.testing.assert_array_equal(weights, np.array(replay))
    assert redrawn == rejected
    again, _ = metrics.protein_bootstrap_weights(a, b, y, n_resamples=50, seed=5)
    np.testing.assert_array_equal(weights, again)
    other, _ = metrics.protein_bootstrap_weights(a, b, y, n_resamples=50, seed=6)
    assert not np.array_equal(weights, other)


def test_protein_bootstrap_without_shared_proteins():
    """Each protein in one pair: E[size] = n (1 - 1/P) = n - 1/2, and every pair-level term
    is counted Var(c_a c_b) ~ 3 times, so intervals are about sqrt(3) wider than the pair
    bootstrap's (the documented conservative extreme)."""
    n = 2000
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    proba = rng.uniform(0.05, 0.95, n)
    proba = np.column_stack([1 - proba, proba])
    a, b = np.arange(n).astype(str), (np.arange(n) + n).astype(str)
    weights, _ = metrics.protein_bootstrap_weights(a, b, y, n_resamples=400, seed=1)
    sizes = weights.sum(axis=1)
    assert abs(sizes.mean() - (n - 0.5)) < 4 * sizes.std() / np.sqrt(sizes.size)
    protein = metrics.bootstrap_replicates(y, proba, ["n", "p"], 400, seed=1, unit="protein",
                                           proteins=(a, b))
    pair = metrics.bootstrap_replicates(y, proba, ["n", "p"], 400, seed=1)
    ratio = protein.std() / pair.std()
    for metric in ("accuracy", "log_loss", "brier"):
        assert 1.45 < ratio[metric] < 2.05, (metric, ratio[metric])
    estimate = metrics.all_metrics(y, proba, ["n", "p"])["log_loss"]
    for replicates in (protein, pair):  # both centred on the estimate (4 Monte Carlo SEs)
        assert abs(replicates["log_loss"].mean() - estimate) < 0.2 * replicates["log_loss"].std()


@pytest.mark.parametrize("C, n_bins, decimals", [(2, 15, 1), (3, 5, 2), (2, 15, None), (4, 30, 1)])
def test_weighted_replicates_equal_all_metrics_of_the_expanded_resample(C, n_bins, decimals):
    rng = np.random.default_rng(C + n_bins)
    n = 60
    y = rng.integers(0, C, n)
    proba = rng.dirichlet(np.ones(C), n)
    if decimals:  # ties in confidence and in scores
        proba = np.round(proba, decimals)
        proba[:, -1] = 1 - proba[:, :-1].sum(axis=1)
        proba = np.clip(proba, 0, 1)
        proba /= proba.sum(axis=1, keepdims=True)
    weights = rng.integers(0, 4, (6, n))
    classes = list(range(C))
    table = metrics.weighted_replicates(y, proba, classes, weights, n_bins)
    for r, w in enumerate(weights):
        idx = np.repeat(np.arange(n), w)
        expected = metrics.all_metrics(y[idx], proba[idx], classes, n_bins)
        for name, value in expected.items():
            assert table[name].iloc[r] == pytest.approx(value, rel=1e-12, abs=1e-14), name


def test_protein_bootstrap_redraws_resamples_missing_a_class():
    a = np.array(["p0", "p1", "p2", "p3", "p4", "p5"])
    b = np.array(["q0", "q1", "q2", "q3", "q4", "q5"])
    y = np.array([0, 0, 0, 0, 0, 1])  # class 1 rests on one pair: often absent
    weights, redrawn = metrics.protein_bootstrap_weights(a, b, y, n_resamples=100, seed=2)
    assert redrawn > 0 and (weights[:, 5] > 0).all()
    table = metrics.weighted_replicates(y, np.full((6, 2), 0.5), ["a", "b"], weights)
    assert np.isfinite(table.to_numpy()).all()
    with pytest.raises(ValueError, match="held every class"):
        metrics.protein_bootstrap_weights(a, b, y, n_resamples=100, seed=2, max_draws=50)


def test_paired_protein_resamples_are_shared_by_model_and_reference():
    rng = np.random.default_rng(4)
    n = 80
    y = rng.integers(0, 2, n)
    a, b = rng.integers(0, 15, n).astype(str), rng.integers(0, 15, n).astype(str)
    model, reference = rng.dirichlet([1, 1], n), rng.dirichlet([2, 2], n)
    weights, _ = metrics.protein_bootstrap_weights(a, b, y, 30, seed=9)
    for proba in (model, reference):  # scored separately, as two evaluate jobs do
        replicates = metrics.bootstrap_replicates(y, proba, ["n", "p"], 30, seed=9,
                                                  unit="protein", proteins=(a, b))
        pd.testing.assert_frame_equal(
            replicates, metrics.weighted_replicates(y, proba, ["n", "p"], weights)
        )


def test_bootstrap_p_value_by_hand():
    # replicates [-1, 0, 1, 2, 3]: sd (ddof 1) = sqrt(2.5); d = 1 -> z = 0.632..., p = 0.527...
    # column 2: sd 1.5811, d = 3 -> z = 1.897..., p = 0.0578...; constant column, d = 0 -> p = 1
    delta = np.array([[-1, 1, 0], [0, 2, 0], [1, 3, 0], [2, 4, 0], [3, 5, 0]], dtype=float)
    p = metrics.bootstrap_p_value([1.0, 3.0, 0.0], delta)
    np.testing.assert_allclose(p, [0.5270892568655381, 0.05777957112359733, 1.0], rtol=1e-12)
    # a constant, non-zero difference is certain: p = 0
    assert metrics.bootstrap_p_value(0.5, np.zeros(4))[0] == 0.0


def test_normal_interval_excludes_zero_exactly_when_p_is_below_the_level():
    rng = np.random.default_rng(0)
    delta = rng.normal(size=(500, 40)) * rng.uniform(0.1, 1, 40)
    difference = rng.normal(scale=1.0, size=40)
    lower, upper = metrics.normal_interval(difference, delta, 0.95)
    p = metrics.bootstrap_p_value(difference, delta)
    assert ((lower > 0) | (upper < 0)).tolist() == (p < 0.05).tolist()
    np.testing.assert_allclose((lower + upper) / 2, difference)

