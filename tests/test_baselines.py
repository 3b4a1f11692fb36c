"""moe.baselines: the registry, the preprocessing each model gets, and honest fitting."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.pipeline import Pipeline

from moe import CriterionSelector, DendrogramSelector, baselines
from moe.baselines import MODELS, build_model, build_preprocessing, describe_fit, model_inputs


def _blobs(n=240, d=6, seed=0):
    """Two overlapping Gaussian classes, features shifted far from zero."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    X = rng.normal(size=(n, d)) + 1.5 * y[:, None] + 100.0
    return pd.DataFrame(X, columns=[f"f{j}" for j in range(d)]), y


def test_every_model_builds_with_its_preprocessing():
    for name, spec in MODELS.items():
        if spec.calibration is not None:
            continue  # built by calibrating its base's predictions (moe.calibration)
        estimator = build_model(name, pca_dim=3)
        if spec.preprocessing == "none":
            assert not isinstance(estimator, Pipeline)
            continue
        steps = [step for step, _ in estimator.steps]
        expected = ["scale", "pca", "model"] if spec.preprocessing == "pca" else ["scale", "model"]
        assert steps == expected, name
        if spec.preprocessing == "pca":
            assert estimator["pca"].n_components == 3


def test_which_models_get_pca():
    pca = {name for name, spec in MODELS.items() if spec.preprocessing == "pca"}
    assert pca == {
        "moe_mm_dsc", "moe_em_bic", "logreg", "svm", "mlp", "mlp_temperature", "moe_mm_temperature"
    }
    assert MODELS["xgb_isotonic"].preprocessing == "scale"


def test_only_the_probe_takes_protein_ids():
    assert {n for n in MODELS if model_inputs(n) == "proteins"} == {"probe"}


def test_unknown_model_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="unknown model 'gbm'.*moe_mm_dsc"):
        build_model("gbm")


def test_unknown_setting_names_model_and_key():
    with pytest.raises(ValueError, match="'n_trees'.*'rf'.*n_estimators"):
        build_model("rf", {"n_trees": 10})
    with pytest.raises(ValueError, match="bad representation 'raw' for model 'svm'"):
        build_model("svm", {"representation": "raw"})
    with pytest.raises(ValueError, match="'probe' takes protein ids"):
        build_model("probe", {"representation": "pca"})


def test_bad_pca_dim_is_refused():
    with pytest.raises(ValueError, match="pca_dim"):
        build_model("logreg", pca_dim=0)


def test_calibrated_models_are_not_built_but_keep_base_and_method():
    for name, base, method in [
        ("xgb_isotonic", "xgb", "isotonic"), ("mlp_temperature", "mlp", "temperature"),
        ("moe_mm_temperature", "moe_mm_dsc", "temperature"), ("rf_isotonic", "rf", "isotonic"),
    ]:
        assert (MODELS[name].base, MODELS[name].calibration) == (base, method)
        with pytest.raises(ValueError, match=f"'{name}' is '{base}' with {method} calibration"):
            build_model(name)


def test_representation_setting_switches_pca_on_and_off():
    assert baselines.representation_of("logreg") == "pca"
    assert baselines.representation_of("xgb") == "all"
    assert baselines.representation_of("probe") == "proteins"
    assert [s for s, _ in build_model("logreg", {"representation": "all"}).steps] == [
        "scale", "model"
    ]
    pipeline = build_model("rf", {"representation": "pca", "n_estimators": 5}, pca_dim=2)
    assert [s for s, _ in pipeline.steps] == ["scale", "pca", "model"]
    assert "representation" in baselines.setting_names("rf")
    assert "alpha" in baselines.setting_names("moe_mm_dsc")  # SGMLMoE's, through **settings
    assert "representation" not in baselines.setting_names("probe")


def test_svm_is_platt_scaled():
    calibrated = build_model("svm")["model"]
    assert isinstance(calibrated, CalibratedClassifierCV)
    assert calibrated.method == "sigmoid"


def test_preprocessing_is_fitted_on_the_training_rows_only():
    X, y = _blobs()
    train = np.arange(120)
    X_shifted = X.copy()
    X_shifted.iloc[120:] += 1000.0  # test rows far away: a leak would move the scaler
    for name in ("logreg", "rf", "mlp"):
        estimator = build_model(name, pca_dim=2, random_state=0).fit(
            X_shifted.iloc[train], y[train]
        )
        np.testing.assert_allclose(estimator["scale"].mean_, X.iloc[train].mean().to_numpy())
        assert estimator["scale"].n_samples_seen_ == train.size


def test_build_preprocessing_matches_the_model_pipeline():
    assert build_preprocessing("probe") is None
    assert [s for s, _ in build_preprocessing("rf").steps] == ["scale"]
    assert [s for s, _ in build_preprocessing("moe_mm_dsc", pca_dim=4).steps] == ["scale", "pca"]


@pytest.mark.parametrize("name", ["logreg", "rf", "xgb", "mlp", "svm"])
def test_baselines_predict_probabilities_deterministically(name):
    X, y = _blobs()
    small = {"rf": {"n_estimators": 10}, "xgb": {"n_estimators": 10}}.get(name, {})
    first = build_model(name, small, pca_dim=3, random_state=1).fit(X, y).predict_proba(X)
    again = build_model(name, small, pca_dim=3, random_state=1).fit(X, y).predict_proba(X)
    np.testing.assert_allclose(first.sum(axis=1), 1.0)
    np.testing.assert_array_equal(first, again)


def test_probe_fits_on_protein_ids():
    P = pd.DataFrame({"protein_a": ["a", "a", "b", "c"], "protein_b": ["b", "c", "c", "d"]})
    y = np.array([1, 1, 0, 0])
    proba = build_model("probe", {"alpha": 1.0}).fit(P, y).predict_proba(P)
    assert proba.shape == (4, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_mm_moe_selects_k_by_the_dendrogram_and_describes_it():
    X, y = _blobs(n=300)
    estimator = build_model(
        "moe_mm_dsc", {"k_bar": 3, "n_init": 1, "max_iter": 50, "tol": 1e-5},
        pca_dim=3, random_state=0,
    ).fit(X, y)
    selector = estimator["model"]
    assert isinstance(selector, DendrogramSelector)
    overfit = selector.dendrogram_.model_
    # the factory's settings became the over-fitted SGMLMoE's parameters, nothing dropped
    assert {k: overfit.get_params()[k] for k in ("n_experts", "n_init", "max_iter", "tol",
                                                 "solver", "random_state", "n_threads")} == {
        "n_experts": 3, "n_init": 1, "max_iter": 50, "tol": 1e-5, "solver": "mm",
        "random_state": 0, "n_threads": 1}
    assert 1 <= selector.n_experts_ <= 3
    assert selector.best_estimator_.gate_coef_.shape[0] == selector.n_experts_
    np.testing.assert_allclose(estimator.predict_proba(X).sum(axis=1), 1.0)
    details = describe_fit(estimator)
    assert details["selected_k"] == selector.n_experts_ and details["k_bar"] == 3
    assert details["converged"] == overfit.converged_ and details["n_iter"] == overfit.n_iter_
    json.dumps(details, allow_nan=False)  # ready for the fold's JSON file


def test_em_moe_selects_k_by_bic_over_the_sweep():
    X, y = _blobs(n=300)
    estimator = build_model(
        "moe_em_bic", {"k_max": 3, "n_init": 1, "max_iter": 30, "tol": 1e-5},
        pca_dim=3, random_state=0,
    ).fit(X, y)
    selector = estimator["model"]
    assert isinstance(selector, CriterionSelector) and selector.estimator.solver == "em"
    table = selector.criteria_
    assert list(table["n_experts"]) == [1, 2, 3]
    assert selector.n_experts_ == int(table.loc[table["bic"].idxmin(), "n_experts"])
    assert selector.best_estimator_.gate_coef_.shape[0] == selector.n_experts_
    details = describe_fit(estimator)
    assert details["criterion"] == "bic"
    assert details["converged"] == all(m.converged_ for m in selector.estimators_)
    assert details["n_iter"] == max(m.n_iter_ for m in selector.estimators_)
    json.dumps(details, allow_nan=False)


def test_moe_settings_outside_the_estimator_are_refused():
    with pytest.raises(ValueError, match="'n_starts'.*'moe_mm_dsc'"):
        build_model("moe_mm_dsc", {"n_starts": 2})
    with pytest.raises(ValueError, match="'k_bar'.*'moe_em_bic'"):
        build_model("moe_em_bic", {"k_bar": 4})


def test_moe_settings_are_the_estimator_parameters_a_model_may_set():
    from moe.model import SGMLMoE

    own = {"n_experts", "random_state", "n_threads"}
    assert set(baselines.MOE_SETTINGS) == set(SGMLMoE().get_params()) - own
    assert set(baselines.MOE_SETTINGS) <= set(baselines.setting_names("moe_em_bic"))


def test_describe_fit_is_empty_for_models_without_selection():
    X, y = _blobs()
    assert describe_fit(build_model("logreg", pca_dim=2).fit(X, y)) == {}


def test_model_names_are_exported():
    assert baselines.MODEL_NAMES == tuple(MODELS)
