"""moe.calibration: temperature scaling and isotonic calibration of probability tables."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import softmax

from moe.calibration import (
    IsotonicCalibration,
    TemperatureScaling,
    calibrate_fold,
    fit_temperature,
    log_loss,
    make_calibrator,
    temperature_scale,
)


def _calibrated_logits(n=4000, n_classes=3, seed=0):
    """Logits z and labels drawn from softmax(z): softmax(z) is calibrated."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(n, n_classes))
    proba = softmax(logits, axis=1)
    y = np.array([rng.choice(n_classes, p=row) for row in proba])
    return logits, y


def test_log_loss_is_the_mean_negative_log_of_the_true_class():
    proba = np.array([[0.5, 0.5], [0.2, 0.8], [1.0, 0.0]])
    y = np.array([0, 1, 1])  # the last row's p = 0 is clipped to eps
    expected = -(np.log(0.5) + np.log(0.8) + np.log(np.finfo(float).eps)) / 3
    assert log_loss(y, proba) == pytest.approx(expected)


def test_temperature_one_is_the_identity_and_t_softens():
    proba = np.array([[0.7, 0.2, 0.1], [0.05, 0.05, 0.9]])
    np.testing.assert_allclose(temperature_scale(proba, 1.0), proba, rtol=1e-12)
    soft = temperature_scale(proba, 2.0)
    # p_T ∝ p^(1/2), by hand for the first row
    root = np.sqrt([0.7, 0.2, 0.1])
    np.testing.assert_allclose(soft[0], root / root.sum())
    with pytest.raises(ValueError, match="temperature must be a positive number"):
        temperature_scale(proba, 0.0)


def test_fitted_temperature_undoes_logits_scaled_by_three():
    logits, y = _calibrated_logits()
    sharpened = softmax(3.0 * logits, axis=1)  # log p = 3 z - c: over-confident by T = 3
    assert fit_temperature(y, sharpened) == pytest.approx(3.0, rel=0.1)
    assert fit_temperature(y, softmax(logits, axis=1)) == pytest.approx(1.0, rel=0.1)


@pytest.mark.parametrize("method", ["temperature", "isotonic"])
def test_calibrated_nll_on_the_calibration_set_is_no_worse(method):
    logits, y = _calibrated_logits(n=1500, seed=1)
    proba = softmax(2.5 * logits, axis=1)
    calibrator = make_calibrator(method).fit(y, proba)
    assert log_loss(y, calibrator.transform(proba)) <= log_loss(y, proba)


def test_isotonic_binary_rows_sum_to_one_and_are_monotone_in_p1():
    rng = np.random.default_rng(2)
    p1 = rng.uniform(size=500)
    y = (rng.uniform(size=500) < p1**2).astype(np.int64)  # miscalibrated on purpose
    proba = np.column_stack([1 - p1, p1])
    out = IsotonicCalibration().fit(y, proba).transform(proba)
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    order = np.argsort(p1)
    assert np.all(np.diff(out[order, 1]) >= -1e-12)


def test_isotonic_multiclass_rows_sum_to_one():
    logits, y = _calibrated_logits(n=600, n_classes=4, seed=3)
    proba = softmax(logits, axis=1)
    calibrator = IsotonicCalibration().fit(y, proba)
    out = calibrator.transform(proba)
    np.testing.assert_allclose(out.sum(axis=1), 1.0)
    assert np.all(out >= 0)
    assert calibrator.parameter == ("calibration", "isotonic")


def test_calibrate_fold_replaces_only_the_probabilities():
    logits, y = _calibrated_logits(n=400, n_classes=2, seed=4)
    proba = softmax(3.0 * logits, axis=1)

    def table(rows):
        out = pd.DataFrame({"pair_index": rows, "fold": 1, "component": "", "y": y[rows]})
        out[["proba_0", "proba_1"]] = proba[rows]
        return out

    inner, test = table(np.arange(300)), table(np.arange(300, 400))
    calibrated, facts = calibrate_fold("temperature", inner, test, 2)
    pd.testing.assert_frame_equal(calibrated[["pair_index", "fold", "component", "y"]],
                                  test[["pair_index", "fold", "component", "y"]])
    expected = TemperatureScaling().fit(y[:300], proba[:300]).transform(proba[300:])
    np.testing.assert_allclose(calibrated[["proba_0", "proba_1"]], expected)
    assert facts["parameter"] == "temperature" and facts["value"] > 1
    assert facts["inner_score"] <= facts["inner_score_before"]
    with pytest.raises(ValueError, match="made no inner fit"):
        calibrate_fold("temperature", inner.iloc[:0], test, 2)
    with pytest.raises(ValueError, match="unknown calibration method 'platt'"):
        make_calibrator("platt")
