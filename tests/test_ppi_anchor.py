"""moe.ppi.anchor: Guo et al. (2008)'s pair features, the tuned protocol, the table row.

The auto covariance itself is checked by hand in
tests/test_ppi_encodings.py::test_auto_covariance_at_lag_one_by_hand; here it is
checked again through the pair features of the anchor.
"""

import numpy as np
import pandas as pd
import pytest

from moe.ppi import anchor, protein_features, splits

PAIRS = pd.DataFrame({"protein_a": ["p", "q"], "protein_b": ["q", "q"], "label": [1, 0]})
SEQUENCES = {"p": "ACD", "q": "WWGWA"}


def test_concatenation_puts_protein_a_first_and_has_14_lag_columns():
    X = anchor.anchor_features(PAIRS, SEQUENCES, "concat", max_lag=30)
    assert X.shape == (2, 420)
    proteins = protein_features(SEQUENCES, encodings=["ac"], max_lag=30).to_numpy()
    np.testing.assert_array_equal(X[0], np.concatenate([proteins[0], proteins[1]]))
    np.testing.assert_array_equal(X[1], np.concatenate([proteins[1], proteins[1]]))
    # swapping the proteins swaps the halves: the representation is ordered
    swapped = anchor.anchor_features(
        PAIRS.rename(columns={"protein_a": "protein_b", "protein_b": "protein_a"}),
        SEQUENCES, "concat", max_lag=30,
    )
    np.testing.assert_array_equal(swapped[0], np.concatenate([proteins[1], proteins[0]]))


def test_pair_features_hold_the_hand_computed_auto_covariance():
    # ACD: H1 = 0.62, 0.29, -0.90, standardised by the population sd sqrt(0.94957)
    # of the 20 residues (mean 0); centred by the sequence mean; 1 / (L - lag).
    m = 0.01 / 3
    lag1 = ((0.62 - m) * (0.29 - m) + (0.29 - m) * (-0.90 - m)) / 2 / 0.94957
    lag2 = (0.62 - m) * (-0.90 - m) / 0.94957
    table = anchor.concat_pair_features(
        PAIRS, protein_features(SEQUENCES, encodings=["ac"], max_lag=3)
    )
    assert table.loc[0, "a_ac_H1_1"] == pytest.approx(lag1, rel=1e-9)
    assert table.loc[0, "a_ac_H1_2"] == pytest.approx(lag2, rel=1e-9)
    assert table.loc[0, "a_ac_H1_3"] == 0.0
    assert list(table.columns[:2]) == ["a_ac_H1_1", "a_ac_H1_2"]
    assert table.shape == (2, 42)


def test_symmetric_representation_is_sum_then_product_and_order_free():
    X = anchor.anchor_features(PAIRS, SEQUENCES, "symmetric", max_lag=4)
    proteins = protein_features(SEQUENCES, encodings=["ac"], max_lag=4).to_numpy()
    np.testing.assert_allclose(
        X[0], np.concatenate([proteins[0] + proteins[1], proteins[0] * proteins[1]])
    )
    swapped = PAIRS.rename(columns={"protein_a": "protein_b", "protein_b": "protein_a"})
    np.testing.assert_array_equal(anchor.anchor_features(swapped, SEQUENCES, "symmetric", 4), X)


def test_shuffled_concatenation_swaps_some_pairs_reproducibly():
    pairs = pd.DataFrame({"protein_a": ["p"] * 40, "protein_b": ["q"] * 40, "label": 0})
    proteins = protein_features(SEQUENCES, encodings=["ac"], max_lag=2).to_numpy()
    pq, qp = np.concatenate(proteins), np.concatenate(proteins[::-1])
    X = anchor.anchor_features(pairs, SEQUENCES, "concat_shuffled", max_lag=2, seed=5)
    is_pq = (X == pq).all(axis=1)
    assert (is_pq | (X == qp).all(axis=1)).all()
    assert 5 < is_pq.sum() < 35  # about half of the 40 pairs swapped
    again = anchor.anchor_features(pairs, SEQUENCES, "concat_shuffled", max_lag=2, seed=5)
    np.testing.assert_array_equal(again, X)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="representation must be one of"):
        anchor.anchor_features(PAIRS, SEQUENCES, "sum")
    with pytest.raises(ValueError, match="have no sequence: q"):
        anchor.anchor_features(PAIRS, {"p": "ACD"})
    with pytest.raises(ValueError, match="grid must have exactly the keys C and gamma"):
        anchor.select_parameters(np.zeros((4, 1)), np.array([0, 1, 0, 1]), {"C": [1]})
    with pytest.raises(ValueError, match="positive numbers"):
        anchor.select_parameters(np.zeros((4, 1)), np.array([0, 1, 0, 1]), {"C": [0], "gamma": [1]})


def _separable(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    X = rng.normal(size=(n, 3))
    X[:, 0] += 6.0 * y  # classes 6 sd apart along the first axis
    return X, y


def test_protocol_on_separable_data_is_near_perfect_and_picks_grid_values():
    X, y = _separable()
    grid = {"C": [0.5, 4.0], "gamma": [0.1, 1.0]}
    folds = splits.random_kfold(y, 4, 0)
    per_fold = anchor.cross_validate(X, y, folds, grid, holdout=0.25, seed=0)
    assert list(per_fold["fold"]) == [0, 1, 2, 3]
    assert per_fold["accuracy"].min() >= 0.95
    assert set(per_fold["C"]) <= set(grid["C"]) and set(per_fold["gamma"]) <= set(grid["gamma"])
    assert (per_fold["n_train"] + per_fold["n_test"] == len(y)).all()


def test_ties_take_the_first_grid_point_and_one_point_needs_no_inner_fit():
    X, y = _separable()
    # every point scores the same on the holdout: the first (C outer, gamma inner) wins
    C, gamma, scores = anchor.select_parameters(X, y, {"C": [2.0, 1.0], "gamma": [0.3, 0.1]})
    assert len(scores) == 4 and scores["inner_accuracy"].nunique() == 1
    assert (C, gamma) == (2.0, 0.3)
    C, gamma, scores = anchor.select_parameters(X, y, {"C": [3.0], "gamma": [0.2]})
    assert (C, gamma) == (3.0, 0.2) and scores.empty


def test_tuning_never_sees_the_test_pairs(monkeypatch):
    X, y = _separable(80)
    X = np.column_stack([np.arange(len(y)), X])  # column 0 names the row
    fitted = []

    class Recording:
        def __init__(self, model):
            self.model = model

        def fit(self, X_fit, y_fit):
            fitted.append(X_fit[:, 0].astype(int))
            self.model.fit(X_fit[:, 1:], y_fit)
            return self

        def predict(self, X_new):
            return self.model.predict(X_new[:, 1:])

    real = anchor._model
    monkeypatch.setattr(anchor, "_model", lambda C, gamma: Recording(real(C, gamma)))
    folds = splits.random_kfold(y, 2, 0)
    anchor.cross_validate(X, y, folds, {"C": [1.0, 2.0], "gamma": [0.5]}, seed=0)
    # per fold: two inner fits on part of the training pairs, then the refit on all of them
    assert len(fitted) == 6
    for number, fold in enumerate(folds):
        inner_a, inner_b, refit = fitted[3 * number : 3 * number + 3]
        assert set(inner_a) < set(fold.train) and set(inner_b) == set(inner_a)
        assert len(inner_a) == 30  # 40 training pairs less the 25 % holdout
        assert set(refit) == set(fold.train)
        assert not set(fold.test) & (set(inner_a) | set(refit))


def test_table_row_carries_the_published_value_and_source():
    per_fold = pd.DataFrame({"C": [8.0, 32.0], "gamma": [2.0**-9, 2.0**-9], "accuracy": [0.9, 0.8]})
    grid = anchor.GRIDS["default"]
    row = anchor.anchor_row(
        "guo_yeast", "concat", per_fold, n_pairs=11180, max_lag=30, grid=grid, holdout=0.25
    )
    assert row["published"] == 0.8736 and row["published_sd"] == 0.0138
    assert "87.36 % (sd 1.38)" in row["source"] and "10.1093/nar/gkn159" in row["source"]
    assert row["ours"] == pytest.approx(0.85)
    assert row["ours_sd"] == pytest.approx(np.std([0.9, 0.8], ddof=1))
    assert row["chosen_C"] == "8;32" and row["chosen_gamma"] == "0.00195312;0.00195312"
    assert row["metric"] == "accuracy" and row["n_pairs"] == 11180 and row["n_folds"] == 2
    assert "[AC(a), AC(b)] (420 values" in row["protocol"]
    assert list(row) == anchor.TABLE_COLUMNS
    symmetric = anchor.anchor_row(
        "guo_yeast", "symmetric", per_fold, n_pairs=11180, max_lag=30, grid=grid, holdout=0.25
    )
    assert np.isnan(symmetric["published"]) and "no published value" in symmetric["source"]
    assert "symmetric" in symmetric["source"]


def test_run_anchor_uses_the_random_split_folds_and_writes_one_row_per_representation():
    rng = np.random.default_rng(1)
    letters = np.array(list("ACDEFGHIKLMNPQRSTVWY"))
    sequences = {f"p{i}": "".join(rng.choice(letters, 40)) for i in range(12)}
    ids = list(sequences)
    pairs = pd.DataFrame(
        {"protein_a": rng.choice(ids, 40), "protein_b": rng.choice(ids, 40),
         "label": np.repeat([0, 1], 20)}
    )
    table, per_fold = anchor.run_anchor(
        "guo_yeast", pairs, sequences, representations=("concat", "symmetric"),
        n_folds=4, max_lag=5, grid={"C": [1.0], "gamma": [0.05]}, seed=3,
    )
    assert list(table.columns) == anchor.TABLE_COLUMNS and len(table) == 2
    assert np.isfinite(table["ours"]).all() and (table["n_pairs"] == 40).all()
    expected = [len(f.test) for f in splits.random_kfold(pairs["label"], 4, 3)]
    assert list(per_fold.loc[per_fold["representation"] == "concat", "n_test"]) == expected
