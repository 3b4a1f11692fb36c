"""moe.metrics against values computed by hand."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

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


def test_bootstrap_interval_is_deterministic_and_brackets_the_estimate():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(3), size=120)
    y = rng.integers(0, 3, size=120)
    a = metrics.bootstrap_interval(y, proba, ["a", "b", "c"], n_resamples=40, seed=5)
    b = metrics.bootstrap_interval(y, proba, ["a", "b", "c"], n_resamples=40, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert list(a["metric"]) == list(metrics.METRICS)
    assert np.all(a["lower"] <= a["upper"])
    assert np.all(np.isfinite(a[["estimate", "lower", "upper"]].to_numpy()))


def test_percentile_interval_by_hand():
    replicates = pd.DataFrame({"accuracy": np.arange(101.0)})
    table = metrics.percentile_interval(replicates, 0.95)
    assert table["lower"].iloc[0] == pytest.approx(2.5)
    assert table["upper"].iloc[0] == pytest.approx(97.5)
    with pytest.raises(ValueError, match="level"):
        metrics.percentile_interval(replicates, 1.5)


def test_paired_bootstrap_against_itself_is_zero():
    table = metrics.paired_bootstrap(Y4, P4, P4, ["neg", "pos"], n_resamples=20)
    assert np.all(table[["difference", "lower", "upper"]].to_numpy() == 0)
    assert np.all(table["better"] == 0.5)


def test_paired_bootstrap_sees_the_better_model():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, size=300)
    sharp = np.where(y[:, None] == np.arange(2), 0.8, 0.2)  # right with 0.8
    flat = np.full((300, 2), 0.5)
    table = metrics.paired_bootstrap(y, sharp, flat, ["neg", "pos"], n_resamples=30)
    row = table.set_index("metric")
    # log-loss: ln 2 against -ln 0.8, the same on every resample
    assert row.loc["log_loss", "difference"] == pytest.approx(-np.log(0.8) - np.log(2))
    assert row.loc["log_loss", "better"] == 1.0
    assert row.loc["accuracy", "lower"] > 0


def test_paired_difference_refuses_different_resamples():
    a = pd.DataFrame({"accuracy": [0.5, 0.6]})
    b = pd.DataFrame({"accuracy": [0.5, 0.6, 0.7]})
    with pytest.raises(ValueError, match="same resamples"):
        metrics.paired_difference(a, b, {"accuracy": 0.5}, {"accuracy": 0.5})
