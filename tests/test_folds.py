"""moe.folds: fit a model fold by fold, the prediction tables."""

import numpy as np
import pandas as pd
import pytest

from moe.folds import fit_fold
from moe.predictions import align_proba, prediction_arrays, read_predictions
from moe.ppi.splits import Fold


def _pairs_and_features(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    features = pd.DataFrame(rng.normal(size=(n, 5)) + y[:, None], columns=list("abcde"))
    pairs = pd.DataFrame(
        {
            "protein_a": [f"p{i % 40}" for i in range(n)],
            "protein_b": [f"p{(i * 7) % 40}" for i in range(n)],
            "label": y,
        }
    )
    return pairs, features


def _fold(n, test_from):
    test = np.arange(test_from, n)
    return Fold(train=np.arange(test_from), test=test, component=np.full(test.size, "C1"))


def test_align_proba_places_columns_at_their_labels():
    out = align_proba(np.array([[0.3, 0.7]]), np.array([0, 2]), 3)
    np.testing.assert_array_equal(out, [[0.3, 0.0, 0.7]])
    with pytest.raises(ValueError, match="not labels in 0..1"):
        align_proba(np.array([[0.3, 0.7]]), np.array([0, 2]), 2)


def test_fit_fold_predicts_the_test_part_with_training_only_preprocessing():
    pairs, features = _pairs_and_features()
    features.iloc[150:] += 50.0  # a scaler fitted on all rows would move
    result = fit_fold("logreg", {}, features, pairs, _fold(200, 150), 0, 2, pca_dim=2)
    table = result.predictions
    assert list(table.columns) == ["pair_index", "fold", "component", "y", "proba_0", "proba_1"]
    np.testing.assert_array_equal(table["pair_index"], np.arange(150, 200))
    np.testing.assert_array_equal(table["y"], pairs["label"].iloc[150:])
    np.testing.assert_allclose(table[["proba_0", "proba_1"]].sum(axis=1), 1.0)
    np.testing.assert_allclose(
        result.estimator["scale"].mean_, features.iloc[:150].mean().to_numpy()
    )
    assert result.fit_seconds > 0 and result.details == {}


def test_fit_fold_gives_the_probe_protein_ids_and_needs_features_otherwise():
    pairs, features = _pairs_and_features()
    result = fit_fold("probe", {}, None, pairs, _fold(200, 150), 3, 2)
    assert (result.predictions["fold"] == 3).all()
    with pytest.raises(ValueError, match="needs the feature matrix"):
        fit_fold("logreg", {}, None, pairs, _fold(200, 150), 0, 2)


def test_fit_fold_fills_a_class_missing_from_training_with_zero():
    pairs, features = _pairs_and_features()
    pairs.loc[:149, "label"] = np.where(pairs.loc[:149, "label"] == 1, 2, 0)  # labels 0 and 2
    pairs.loc[150:, "label"] = 1
    result = fit_fold("logreg", {}, features, pairs, _fold(200, 150), 0, 3, pca_dim=2)
    assert (result.predictions["proba_1"] == 0).all()


def test_read_predictions_gives_back_the_prediction_table(tmp_path):
    pairs, features = _pairs_and_features()
    table = fit_fold("logreg", {}, features, pairs, _fold(200, 150), 0, 2, pca_dim=2).predictions
    table["component"] = ""  # a split without components
    table.iloc[:20].to_csv(tmp_path / "a.csv", index=False)
    table.iloc[20:].to_csv(tmp_path / "b.csv", index=False)
    back = read_predictions([tmp_path / "a.csv", tmp_path / "b.csv"])
    assert back["component"].tolist() == [""] * 50 and back.index.tolist() == list(range(50))
    y, proba = prediction_arrays(back, 2)
    np.testing.assert_array_equal(y, pairs["label"].iloc[150:])
    np.testing.assert_allclose(proba, table[["proba_0", "proba_1"]], rtol=1e-15)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-15)
