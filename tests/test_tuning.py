"""moe.tuning: inner splits inside the training part, grids, the argmin, the tuning table."""

import numpy as np
import pandas as pd
import pytest

import moe.folds
from moe.calibration import log_loss
from moe.folds import fit_fold, fit_predict
from moe.ppi.splits import protein_disjoint, random_kfold
from moe.tuning import (
    TUNING_COLUMNS,
    candidates,
    consensus_settings,
    extension,
    fit_plan,
    inner_folds,
    resolve_grid,
    tune,
    tuning_rows,
    tuning_table,
)


def _data(n=400, n_proteins=120, seed=0):
    """Pairs among ``n_proteins`` proteins, two classes, 4 informative features."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    a = rng.integers(0, n_proteins, size=n)
    b = (a + 1 + rng.integers(0, n_proteins - 1, size=n)) % n_proteins
    pairs = pd.DataFrame({"protein_a": [f"p{i}" for i in a], "protein_b": [f"p{i}" for i in b],
                          "label": y})
    features = pd.DataFrame(rng.normal(size=(n, 4)) + 0.8 * y[:, None], columns=list("abcd"))
    return pairs, features


def test_protein_disjoint_inner_split_keeps_c3_proteins_out_of_inner_train():
    pairs, _ = _data()
    outer = protein_disjoint(pairs, 5, seed=0)[0]
    [inner] = inner_folds(pairs, outer.train, "protein_disjoint", n_inner=4, seed=0, fold_index=0)
    assert set(inner.train) | set(inner.test) <= set(outer.train)
    assert not set(inner.train) & set(inner.test)
    seen = set(pairs.loc[inner.train, "protein_a"]) | set(pairs.loc[inner.train, "protein_b"])
    c3 = inner.test[inner.component == "C3"]
    assert c3.size > 0
    assert not (set(pairs.loc[c3, "protein_a"]) | set(pairs.loc[c3, "protein_b"])) & seen
    # C1 pairs: both proteins were seen by the inner fit
    c1 = inner.test[inner.component == "C1"]
    assert set(pairs.loc[c1, "protein_a"]) <= seen and set(pairs.loc[c1, "protein_b"]) <= seen


def test_inner_folds_are_seeded_by_seed_and_fold_and_paper_scale_uses_all():
    pairs, _ = _data()
    train = random_kfold(pairs["label"], 5, seed=0)[2].train
    first = inner_folds(pairs, train, "random", seed=0, fold_index=2)
    again = inner_folds(pairs, train, "random", seed=0, fold_index=2)
    other = inner_folds(pairs, train, "random", seed=0, fold_index=3)
    np.testing.assert_array_equal(first[0].test, again[0].test)
    assert not np.array_equal(first[0].test, other[0].test)
    paper = inner_folds(pairs, train, "random", n_inner=4, seed=0, fold_index=2, scale="paper")
    assert len(first) == 1 and len(paper) == 4
    np.testing.assert_array_equal(np.sort(np.concatenate([f.test for f in paper])), train)
    with pytest.raises(ValueError, match="unknown split 'blocked'"):
        inner_folds(pairs, train, "blocked")


def test_test_part_indices_never_enter_tuning(monkeypatch):
    pairs, features = _data()
    outer = random_kfold(pairs["label"], 4, seed=1)[0]
    inner = inner_folds(pairs, outer.train, "random", seed=1, fold_index=0)
    seen = []

    def spy(name, settings, inputs, y, fold, *args, **kwargs):
        seen.append((np.asarray(fold.train), np.asarray(fold.test)))
        return fit_predict(name, settings, inputs, y, fold, *args, **kwargs)

    monkeypatch.setattr(moe.folds, "fit_predict", spy)
    fit_fold("logreg", {}, features, pairs, outer, 0, 2, grid={"C": [0.1, 1.0]}, inner=inner,
             pca_dim=2)
    *tuning_calls, final = seen
    assert len(tuning_calls) == 2
    for train, test in tuning_calls:
        assert not (set(train) | set(test)) & set(outer.test)
    np.testing.assert_array_equal(final[0], outer.train)
    np.testing.assert_array_equal(final[1], outer.test)


def test_the_chosen_candidate_is_the_argmin_of_hand_computed_inner_scores():
    pairs, features = _data(seed=3)
    outer = random_kfold(pairs["label"], 4, seed=0)[1]
    inner = inner_folds(pairs, outer.train, "random", seed=0, fold_index=1)
    grid = {"C": [1e-4, 1e-2, 1.0]}
    result = fit_fold("logreg", {}, features, pairs, outer, 1, 2, grid=grid, inner=inner,
                      pca_dim=3)
    by_hand = []
    for candidate in candidates(grid):
        table, *_ = fit_predict("logreg", candidate, features, pairs["label"].to_numpy(),
                                inner[0], 1, 2, pca_dim=3)
        by_hand.append(log_loss(table["y"].to_numpy(), table[["proba_0", "proba_1"]].to_numpy()))
    np.testing.assert_allclose(result.tuning.scores, by_hand)
    assert len(set(np.round(by_hand, 6))) == 3  # the grid matters here
    assert result.tuning.chosen == candidates(grid)[int(np.argmin(by_hand))]
    assert result.settings["C"] == result.tuning.chosen["C"]
    # the inner table: predictions of the chosen candidate on the inner-validation part
    np.testing.assert_array_equal(result.inner_predictions["pair_index"], inner[0].test)


def test_a_one_point_grid_equals_the_fixed_settings_fit():
    pairs, features = _data(seed=4)
    outer = protein_disjoint(pairs, 4, seed=0)[0]
    inner = inner_folds(pairs, outer.train, "protein_disjoint", seed=0, fold_index=0)
    settings = {"n_estimators": 5, "max_depth": 2}
    tuned = fit_fold("xgb", settings, features, pairs, outer, 0, 2,
                     grid={"learning_rate": [0.3]}, inner=inner)
    fixed = fit_fold("xgb", {**settings, "learning_rate": 0.3}, features, pairs, outer, 0, 2)
    pd.testing.assert_frame_equal(tuned.predictions, fixed.predictions, check_exact=True)
    assert fixed.inner_predictions is None and len(tuned.inner_predictions) == inner[0].test.size


def test_bad_grid_key_names_model_and_key():
    with pytest.raises(ValueError, match="tuning grid of model 'logreg': unknown key 'gamma'"):
        resolve_grid("logreg", overrides={"logreg": {"gamma": [1.0]}})
    with pytest.raises(ValueError, match="model 'svm': key 'C' needs a non-empty list"):
        resolve_grid("svm", overrides={"svm": {"C": []}})
    with pytest.raises(ValueError, match="bad representation 'raw' for model 'logreg'"):
        resolve_grid("logreg", overrides={"logreg": {"representation": ["raw"]}})
    with pytest.raises(ValueError, match="'xgb_isotonic' cannot be tuned"):
        resolve_grid("xgb_isotonic", overrides={"xgb_isotonic": {"C": [1]}})
    with pytest.raises(ValueError, match="tuning scale must be one of"):
        resolve_grid("logreg", "huge")
    with pytest.raises(ValueError, match="a tuning grid needs inner folds"):
        pairs, features = _data(n=40)
        fit_fold("logreg", {}, features, pairs, random_kfold(pairs["label"], 2)[0], 0, 2,
                 grid={"C": [1.0]})


def test_fit_plan_borrows_the_moe_alpha_and_gives_calibration_bases_an_inner_fit():
    run = ["moe_mm_dsc", "moe_em_bic", "xgb", "mlp_temperature", "probe"]
    tuning = {"scale": "default", "n_inner": 4, "grids": {"mlp": {}}}
    em = fit_plan("moe_em_bic", tuning, run)
    assert em["grid"] == {} and em["borrow"] == {"model": "moe_mm_dsc", "keys": ["alpha"]}
    assert not em["inner"]
    assert fit_plan("moe_em_bic", tuning, ["moe_em_bic"])["borrow"] is None
    mlp = fit_plan("mlp", tuning, run)  # not tuned, but mlp_temperature needs its inner fit
    assert mlp["grid"] == {} and mlp["inner"]
    assert fit_plan("probe", tuning, run) == {
        "scale": "default", "n_inner": 4, "grid": {}, "extend": 2, "inner": False, "borrow": None
    }
    assert fit_plan("xgb", {**tuning, "extend": 0}, run)["extend"] == 0
    assert fit_plan("xgb", {**tuning, "enabled": False}, run)["grid"] == {}
    with pytest.raises(ValueError, match="tuning.grids: unknown model"):
        fit_plan("xgb", {"grids": {"gbm": {}}}, run)


def test_tuning_rows_and_table():
    pairs, features = _data(n=200)
    outer = random_kfold(pairs["label"], 2, seed=0)[0]
    inner = inner_folds(pairs, outer.train, "random", fold_index=0)
    result = fit_fold("logreg", {}, features, pairs, outer, 0, 2,
                      grid={"C": [0.01, 1.0], "representation": ["pca", "all"]}, inner=inner,
                      pca_dim=2)
    rows = tuning_rows("logreg", result.settings, result.tuning)
    assert len(rows) == 8  # 4 candidates x 2 settings; representation tuned, no extra row
    borrowed = tuning_rows("moe_em_bic", {"alpha": 10.0}, None, borrowed={"alpha": 10.0},
                           borrowed_from="moe_mm_dsc")
    assert [(r["parameter"], r["value"]) for r in borrowed] == [
        ("alpha", "10.0"), ("representation", "pca")
    ]
    assert "moe_mm_dsc" in borrowed[0]["note"]
    infos = [{"dataset": "d", "split": "random", "fold": 0, "tuning": rows + borrowed}]
    table = tuning_table(infos)
    assert list(table.columns) == TUNING_COLUMNS
    chosen = table[(table["model"] == "logreg") & table["chosen"]]
    assert len(chosen) == 2 and chosen["inner_score"].iloc[0] == min(result.tuning.scores)
    assert table.loc[table["model"] == "moe_em_bic", "inner_score"].isna().all()
    with pytest.raises(ValueError, match="has no 'tuning' rows"):
        tuning_table([{"dataset": "d", "split": "random", "fold": 0, "model": "x"}])


def test_paper_scale_averages_every_inner_fold_and_covers_the_training_part():
    pairs, features = _data(n=240)
    outer = random_kfold(pairs["label"], 3, seed=0)[0]
    inner = inner_folds(pairs, outer.train, "random", n_inner=3, fold_index=0, scale="paper")
    grid = {"C": [0.01, 1.0]}
    result = fit_fold("logreg", {}, features, pairs, outer, 0, 2, grid=grid, inner=inner,
                      pca_dim=2)
    assert result.tuning.n_inner == 3
    np.testing.assert_array_equal(np.sort(result.inner_predictions["pair_index"]), outer.train)
    y = pairs["label"].to_numpy()
    for candidate, score in zip(candidates(grid), result.tuning.scores):
        per_fold = []
        for fold in inner:
            table, *_ = fit_predict("logreg", candidate, features, y, fold, 0, 2, pca_dim=2)
            proba = table[["proba_0", "proba_1"]].to_numpy()
            per_fold.append(log_loss(table["y"].to_numpy(), proba))
        assert score == pytest.approx(np.mean(per_fold))


def test_grid_values_from_the_command_line_are_typed():
    # snakemake --config "tuning={grids: {svm: {C: [1.0, 10]}}}" passes every value as text
    grid = resolve_grid("svm", overrides={"svm": {"C": ["1.0", "10"], "gamma": ["scale", "0.1"]}})
    assert grid == {"C": [1.0, 10], "gamma": ["scale", 0.1]}
    assert [type(v) for v in grid["C"]] == [float, int]


# ---------------------------------------------------------------------------- edge extension
def test_extension_steps_beyond_the_best_edge_by_the_edge_ratio():
    grid = {"alpha": [30.0, 300.0]}
    tried = [{"alpha": 30.0}, {"alpha": 300.0}]
    assert extension(grid, tried, [0.7, 0.6]) == {"alpha": 3000.0}  # 300 * 300 / 30
    assert extension(grid, tried, [0.6, 0.7]) == {"alpha": 3.0}  # 30 * 30 / 300
    tenth = [{"C": 0.1}, {"C": 1.0}]
    assert extension({"C": [0.1, 1.0]}, tenth, [0.5, 0.6]) == {"C": 0.01}  # exactly, not 0.01 + ulp
    assert extension(grid, tried, [0.6, 0.6]) == {"alpha": 3.0}  # tie: the first minimum
    inside = tried + [{"alpha": 3000.0}]
    assert extension(grid, inside, [0.7, 0.6, 0.65]) is None  # best inside: stop
    # the range of the setting: a learning rate stays <= 1, a leaf size integer >= 1
    assert extension({"learning_rate": [0.1, 0.3]},
                     [{"learning_rate": 0.1}, {"learning_rate": 0.3}], [0.5, 0.4]) == {
        "learning_rate": 0.9}
    assert extension({"learning_rate": [0.3, 0.9]},
                     [{"learning_rate": 0.3}, {"learning_rate": 0.9}], [0.5, 0.4]) is None
    leaf = [{"min_samples_leaf": 1}, {"min_samples_leaf": 5}]
    assert extension({"min_samples_leaf": [1, 5]}, leaf, [0.4, 0.5]) is None  # 1/5 < 1
    assert extension({"min_samples_leaf": [1, 5]}, leaf, [0.5, 0.4]) == {"min_samples_leaf": 25}
    assert type(extension({"min_samples_leaf": [2, 3]},
                          [{"min_samples_leaf": 2}, {"min_samples_leaf": 3}],
                          [0.5, 0.4])["min_samples_leaf"]) is int  # round(4.5) = 4
    # no extension: a setting of unknown range, two settings, text values, one value
    assert extension({"max_depth": [2, 4]}, [{"max_depth": 2}, {"max_depth": 4}], [1, 0]) is None
    two = {"C": [1.0, 10.0], "gamma": [0.1]}
    assert extension(two, [{"C": 1.0, "gamma": 0.1}, {"C": 10.0, "gamma": 0.1}], [1, 0]) is None
    assert extension({"C": [1.0]}, [{"C": 1.0}], [0.5]) is None


def _fake_fit_predict(best):
    """A fit_predict whose inner log-loss is |log10(C) - log10(best)| + log 2, by hand."""
    def fit_predict(name, settings, inputs, y, fold, fold_index, n_classes, **build):
        loss = abs(np.log10(settings["C"]) - np.log10(best)) + np.log(2)
        p = np.exp(-loss)  # the probability of the true class: log-loss = loss exactly
        proba = np.where(np.eye(2)[y[fold.test]] == 1, p, 1 - p)
        table = pd.DataFrame({"y": y[fold.test], "proba_0": proba[:, 0], "proba_1": proba[:, 1]})
        return table, 0.0, 0.0, None
    return fit_predict


@pytest.mark.parametrize("best, extend, tried", [
    (1e4, 2, [1.0, 10.0, 100.0, 1000.0]),  # best beyond reach: two steps, still at the edge
    (30.0, 2, [1.0, 10.0, 100.0]),  # one step shows the best inside (10 beats 100)
    (1e4, 0, [1.0, 10.0]),  # extend = 0: the grid only
    (1e-2, 1, [1.0, 10.0, 0.1]),  # below the grid
])
def test_tune_adds_points_beyond_the_edge_while_the_best_is_there(best, extend, tried):
    pairs, _ = _data(n=40)
    y = pairs["label"].to_numpy()
    inner = random_kfold(y, 2, seed=0)[:1]
    result = tune("logreg", {}, {"C": [1.0, 10.0]}, None, y, inner, 0, 2,
                  fit_predict=_fake_fit_predict(best), extend=extend)
    assert [c["C"] for c in result.candidates] == pytest.approx(tried)
    assert result.n_grid == 2 and result.chosen["C"] == pytest.approx(
        tried[int(np.argmin(result.scores))])
    notes = [row["note"] for row in tuning_rows("logreg", result.chosen, result)
             if row["parameter"] == "C"]
    assert notes == [""] * 2 + ["added beyond the grid's edge"] * (len(tried) - 2)
    with pytest.raises(ValueError, match="extend must be an integer >= 0"):
        tune("logreg", {}, {"C": [1.0]}, None, y, inner, 0, 2,
             fit_predict=_fake_fit_predict(best), extend=-1)


def test_consensus_settings_takes_the_most_chosen_value_and_the_middle_of_ties():
    infos = [{"settings": {"alpha": a, "k_bar": 8}} for a in (300.0, 3000.0, 300.0, 30.0)]
    assert consensus_settings(infos, ["alpha"]) == {"alpha": 300.0}
    tied = [{"settings": {"alpha": a}} for a in (3000.0, 30.0, 300.0)]
    assert consensus_settings(tied, ["alpha"]) == {"alpha": 300.0}
    assert consensus_settings(tied[:2], ["alpha"]) == {"alpha": 30.0}  # the lower middle
    with pytest.raises(ValueError, match="no chosen setting"):
        consensus_settings([{"model": "m", "fold": 0, "settings": {}}], ["alpha"])
    with pytest.raises(ValueError, match="at least one fold json"):
        consensus_settings([], ["alpha"])
