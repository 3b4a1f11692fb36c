"""Post-hoc calibrators fitted on held-out predictions: temperature scaling and isotonic.

A calibrator maps a probability table ``p`` (rows on the simplex, ``n x C``) to another.
It is fitted on a *calibration set* ``(y, p)`` that the model did not train on and then
applied to the model's test predictions. In the workflow the calibration set is the
inner-validation part of the tuning holdout (:mod:`moe.tuning`): the predictions of the
base model fitted on the inner-train part at its chosen settings.

Doubt, stated once: the calibrator is fitted on a model trained on about 3/4 of the
training part and applied to the model trained on all of it, as
``CalibratedClassifierCV(ensemble=False)`` does with ``cross_val_predict``. The model
refitted on more data is usually a little sharper than the one the calibrator saw.

- Temperature scaling: ``p_T ∝ exp(log p / T)``, one ``T > 0`` for all classes, chosen by
  1-D minimisation of the calibration-set negative log-likelihood over ``log T``
  (bounded Brent). ``T > 1`` softens over-confident predictions; ``T = 1`` is the identity.
  ``p`` is clipped to ``[eps, 1]`` before the log so that a zero probability stays finite.
- Isotonic: one non-decreasing map per class, fitted one-vs-rest on ``p_c`` against
  ``1[y = c]``, then rows renormalised (a row that maps to all zeros becomes uniform).
  Binary: one map on ``p_1`` only and ``p_0 = 1 - p_1``, as scikit-learn does.
"""

from __future__ import annotations

import numpy as np

# SciPy and scikit-learn are imported where a calibrator is fitted or applied: moe.tuning takes
# log_loss from here, and the Snakefile's parse imports moe.tuning (see moe.baselines).

__all__ = [
    "METHODS",
    "log_loss",
    "temperature_scale",
    "fit_temperature",
    "TemperatureScaling",
    "IsotonicCalibration",
    "make_calibrator",
    "calibrate_fold",
]

METHODS = ("temperature", "isotonic")
_EPS = np.finfo(np.float64).eps
# log T is searched in [log 1e-2, log 1e2]: a temperature outside means the calibration
# set is degenerate (all one class, or perfectly separated), not a useful correction.
_LOG_T_BOUNDS = (np.log(1e-2), np.log(1e2))


def _check(y, proba, name="proba"):
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] < 2 or proba.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty (n, C>=2) array; got shape {proba.shape}")
    if not np.all(np.isfinite(proba)) or np.any(proba < 0):
        raise ValueError(f"{name} must hold finite non-negative probabilities")
    if y is None:
        return None, proba
    y = np.asarray(y)
    if y.shape != (proba.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be {proba.shape[0]} integer labels; got {y.dtype} {y.shape}")
    if y.min() < 0 or y.max() >= proba.shape[1]:
        raise ValueError(f"y must hold labels in 0..{proba.shape[1] - 1}")
    return y, proba


def log_loss(y, proba) -> float:
    """Mean negative log-likelihood ``-(1/n) Σ_i log p_{i, y_i}``, ``p`` clipped to [eps, 1]."""
    y, proba = _check(y, proba)
    picked = proba[np.arange(y.size), y]
    return float(-np.mean(np.log(np.clip(picked, _EPS, 1.0))))


def _log_proba(proba):
    return np.log(np.clip(proba, _EPS, 1.0))


def temperature_scale(proba, temperature: float) -> np.ndarray:
    """``p_T = softmax(log p / T)`` row by row (log-space, ``p`` clipped to ``[eps, 1]``)."""
    if not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a positive number; got {temperature!r}")
    _, proba = _check(None, proba)
    from scipy.special import log_softmax

    return np.exp(log_softmax(_log_proba(proba) / temperature, axis=1))


def fit_temperature(y, proba) -> float:
    """``T̂ = argmin_T -(1/n) Σ_i log softmax(log p_i / T)_{y_i}``, searched over ``log T``."""
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax

    y, proba = _check(y, proba)
    logp = _log_proba(proba)
    rows = np.arange(y.size)

    def nll(log_t):
        return -np.mean(log_softmax(logp * np.exp(-log_t), axis=1)[rows, y])

    result = minimize_scalar(nll, bounds=_LOG_T_BOUNDS, method="bounded",
                             options={"xatol": 1e-6})
    # Brent may stop just off T = 1 when 1 is optimal; keep the identity when it is no worse
    return 1.0 if nll(0.0) <= result.fun else float(np.exp(result.x))


class TemperatureScaling:
    """Temperature scaling; ``temperature_`` is ``T̂`` after :meth:`fit`."""

    method = "temperature"

    def fit(self, y, proba):
        self.temperature_ = fit_temperature(y, proba)
        return self

    def transform(self, proba) -> np.ndarray:
        return temperature_scale(proba, self.temperature_)

    @property
    def parameter(self):
        """``("temperature", T̂)`` for the tuning table."""
        return "temperature", self.temperature_


class IsotonicCalibration:
    """One-vs-rest isotonic regression on ``p_c`` (binary: on ``p_1`` only), rows renormalised."""

    method = "isotonic"

    def fit(self, y, proba):
        from sklearn.isotonic import IsotonicRegression

        y, proba = _check(y, proba)
        self.n_classes_ = proba.shape[1]
        classes = [1] if self.n_classes_ == 2 else range(self.n_classes_)
        self.maps_ = {
            c: IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
                proba[:, c], (y == c).astype(np.float64)
            )
            for c in classes
        }
        return self

    def transform(self, proba) -> np.ndarray:
        _, proba = _check(None, proba)
        if proba.shape[1] != self.n_classes_:
            raise ValueError(f"proba has {proba.shape[1]} columns; fitted on {self.n_classes_}")
        if self.n_classes_ == 2:
            p1 = self.maps_[1].predict(proba[:, 1])
            return np.column_stack([1.0 - p1, p1])
        out = np.column_stack([self.maps_[c].predict(proba[:, c]) for c in range(self.n_classes_)])
        total = out.sum(axis=1, keepdims=True)
        uniform = np.full_like(out, 1.0 / self.n_classes_)
        return np.where(total > 0, out / np.where(total > 0, total, 1.0), uniform)

    @property
    def parameter(self):
        return "calibration", "isotonic"


def make_calibrator(method: str):
    """An unfitted calibrator: ``"temperature"`` or ``"isotonic"``."""
    if method == "temperature":
        return TemperatureScaling()
    if method == "isotonic":
        return IsotonicCalibration()
    raise ValueError(f"unknown calibration method {method!r}; known: {', '.join(METHODS)}")


def _proba(table, n_classes):
    return table[[f"proba_{c}" for c in range(n_classes)]].to_numpy(dtype=np.float64)


def calibrate_fold(method: str, inner, test, n_classes: int):
    """Fit a ``method`` calibrator on ``inner`` and apply it to ``test`` (prediction tables).

    ``inner`` holds the base model's inner-validation predictions (fitted on the
    inner-train part at its chosen settings), ``test`` the base model's test predictions.

    Returns
    -------
    table : DataFrame
        ``test`` with its ``proba_*`` columns replaced by the calibrated ones.
    facts : dict
        ``parameter`` and ``value`` (``"temperature"``, T̂; or ``"calibration"``,
        ``"isotonic"``), ``inner_score`` (calibrated log-loss on ``inner``),
        ``inner_score_before`` (uncalibrated) and ``n_calibration``.

    Raises
    ------
    ValueError
        If ``inner`` is empty (the base model made no inner fit).
    """
    if len(inner) == 0:
        raise ValueError(
            "the base model's inner-validation predictions are empty: it made no inner fit"
        )
    y_inner = inner["y"].to_numpy(dtype=np.int64)
    p_inner = _proba(inner, n_classes)
    calibrator = make_calibrator(method).fit(y_inner, p_inner)
    table = test.copy()
    table[[f"proba_{c}" for c in range(n_classes)]] = calibrator.transform(_proba(test, n_classes))
    parameter, value = calibrator.parameter
    return table, {
        "parameter": parameter,
        "value": value,
        "inner_score": log_loss(y_inner, calibrator.transform(p_inner)),
        "inner_score_before": log_loss(y_inner, p_inner),
        "n_calibration": int(len(inner)),
    }
