"""moe.selection and the selectors: AIC, BIC and ICL of the sweep, best_k, CriterionSelector and
DendrogramSelector as meta-estimators, and the synthetic study's experiments."""

import numpy as np
import pandas as pd
import pytest
from scipy.special import log_softmax

from sklearn.base import clone

from moe import CriterionSelector, DendrogramSelector, SGMLMoE
from moe.selection import best_k, entropy, sweep
from moe.simulate import sample, true_model, well_separated_parameters


@pytest.fixture(scope="module")
def data():
    truth = true_model(*well_separated_parameters(2, 2, 3, random_state=1))
    return sample(truth, 600, random_state=4)


def _by_hand(model, X, y):
    """loglik and responsibility entropy from the coefficients, without the estimator's code."""
    Xt = np.column_stack([np.ones(len(X)), X])
    log_pi = log_softmax(Xt @ model.gate_coef_.T, axis=1)  # (n, K)
    log_P = log_softmax(np.einsum("np,kmp->nkm", Xt, model.expert_coef_), axis=2)  # (n, K, M)
    joint = np.exp(log_pi + log_P[np.arange(len(y)), :, y])
    lik = joint.sum(axis=1)
    tau = joint / lik[:, None]
    return np.log(lik).sum(), -(tau * np.log(tau)).sum()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_criteria_agree_with_hand_computation(data):
    X, y = data
    # any point serves a check of the formulas: a short fit
    params = {"random_state": 0, "n_threads": 1, "max_iter": 100, "n_init": 1}
    table = sweep(X, y, 2, estimator=SGMLMoE(**params))
    model = SGMLMoE(2, **params).fit(X, y)
    assert list(table["n_experts"]) == [1, 2]
    ll, E = _by_hand(model, X, y)
    n, p, M = 600, 3, 3
    nu = (2 - 1) * p + 2 * (M - 1) * p  # 3 + 12 = 15 free parameters
    row = table.iloc[1]
    assert row["n_parameters"] == nu == 15
    assert row["loglik"] == pytest.approx(ll, rel=1e-10)
    assert row["entropy"] == pytest.approx(E, rel=1e-8)
    assert row["aic"] == pytest.approx(-2 * ll + 2 * 15, rel=1e-10)
    assert row["bic"] == pytest.approx(-2 * ll + 15 * np.log(n), rel=1e-10)
    assert row["icl"] == pytest.approx(-2 * ll + 15 * np.log(n) + 2 * E, rel=1e-8)
    assert row["hqc"] == pytest.approx(-2 * ll + 2 * 15 * np.log(np.log(n)), rel=1e-10)
    # one expert: multinomial logistic regression, nu = (M - 1) p = 6, zero entropy
    one = table.iloc[0]
    assert one["n_parameters"] == 6 and one["entropy"] == 0.0
    assert one["icl"] == pytest.approx(one["bic"])
    assert list(table["df"]) == [6, 15]  # no ridge: the free parameters


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_ridge_sweep_charges_the_effective_degrees_of_freedom(data):
    from moe.dendrogram import effective_df

    X, y = data
    params = {"random_state": 0, "n_threads": 1, "max_iter": 100, "n_init": 1, "alpha": 10.0}
    table, models = sweep(X, y, 2, estimator=SGMLMoE(**params), return_estimators=True)
    for row, model in zip(table.itertuples(), models):
        df = effective_df(model, X, y)
        assert row.df == pytest.approx(df) and 0 < df < row.n_parameters
        assert row.bic == pytest.approx(-2 * row.loglik + df * np.log(len(X)))
        assert row.aic == pytest.approx(-2 * row.loglik + 2 * df)


def test_sweep_returns_the_requested_criteria_and_checks_them(data):
    X, y = data
    table = sweep(X, y, 1, ("bic",), estimator=SGMLMoE(random_state=0))
    assert {"n_experts", "loglik", "mean_loglik", "n_parameters", "bic", "converged",
            "n_iter"} <= set(table.columns)
    assert "aic" not in table.columns
    with pytest.raises(ValueError, match="criteria"):
        sweep(X, y, 2, ("aic", "caic"))
    with pytest.raises(ValueError, match="k_max"):
        sweep(X, y, 0)


def test_best_k_takes_the_minimum_and_breaks_ties_to_fewer_experts():
    table = pd.DataFrame({"n_experts": [1, 2, 3, 4], "bic": [5.0, 3.0, 3.0, 4.0],
                          "dsc": [1.0, 2.0, 0.5, 0.5]})
    assert best_k(table, "bic") == 2
    assert best_k(table, "dsc") == 3
    with pytest.raises(ValueError, match="'aic' is not a column"):
        best_k(table, "aic")
    with pytest.raises(ValueError, match="non-finite"):
        best_k(table.assign(bic=[np.nan, 1, 2, 3]), "bic")


def test_entropy_by_hand():
    tau = np.array([[1.0, 0.0], [0.5, 0.5], [0.25, 0.75]])
    expected = 2 * 0.5 * np.log(2) - 0.25 * np.log(0.25) - 0.75 * np.log(0.75)
    assert entropy(tau) == pytest.approx(expected)


def test_one_start_reaches_the_optimum_of_the_truth_started_fit():
    """The setting where the old 3-step start lost the partition (d=2, M=4, K0=3): one k-means
    start, turned into parameters by the start routine, ends where the truth-started fit ends."""
    W, V = well_separated_parameters(3, 2, 4, random_state=0)
    X, y = sample(true_model(W, V), 4000, random_state=100)
    (start,) = SGMLMoE(3, n_init=1, random_state=0).initial_parameters(X, y)
    assert start["gate_coef"].shape == (3, 3) and start["expert_coef"].shape == (3, 4, 3)
    reference = SGMLMoE(3, init={"gate_coef": W, "expert_coef": V}, tol=1e-9, max_iter=3000).fit(X, y)
    fitted = SGMLMoE(3, n_init=1, random_state=0, tol=1e-9, max_iter=3000, n_threads=1).fit(X, y)
    assert fitted.converged_ and fitted.loglik_ >= reference.loglik_ - 1e-3


# ---------------------------------------------------------------------------- the selectors
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_criterion_selector_keeps_the_sweep_fit_the_criterion_picks(data):
    X, y = data
    estimator = SGMLMoE(random_state=0, max_iter=100, n_init=1, n_threads=1)
    selector = CriterionSelector(estimator, k_max=3, criterion="aic").fit(X, y)
    again = sweep(X, y, 3, estimator=estimator)
    pd.testing.assert_frame_equal(selector.criteria_.drop(columns="fit_seconds"),
                                  again.drop(columns="fit_seconds"))
    k = best_k(again, "aic")
    assert selector.n_experts_ == k and selector.best_estimator_ is selector.estimators_[k - 1]
    np.testing.assert_array_equal(selector.predict_proba(X), selector.estimators_[k - 1].predict_proba(X))
    assert estimator.n_experts == 3 and not hasattr(estimator, "gate_coef_")  # not touched
    # parameters of the fits pass through set_params and clone, not copies
    other = clone(selector).set_params(estimator__alpha=2.0, criterion="bic")
    assert other.estimator.alpha == 2.0 and selector.estimator.alpha == 0.0
    assert other.fit(X, y).best_estimator_.alpha == 2.0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_dendrogram_selector_predicts_with_the_selected_level(data):
    X, y = data
    selector = DendrogramSelector(SGMLMoE(4, random_state=0, max_iter=100, n_threads=1),
                                  variant="literal").fit(X, y)
    tree = selector.dendrogram_
    assert tree.model_.gate_coef_.shape[0] == 4 and tree.variant == "literal"
    assert selector.best_estimator_ is tree.levels_[tree.selected_k_]
    assert selector.n_experts_ == tree.selected_k_ == best_k(tree.dsc_table_, "dsc")
    np.testing.assert_array_equal(selector.predict(X), tree.levels_[tree.selected_k_].predict(X))
    refitted = clone(selector).set_params(refit=True).fit(X, y)
    assert refitted.best_estimator_ is refitted.dendrogram_.refitted_model_
    with pytest.raises(ValueError, match="variant"):
        DendrogramSelector(variant="nonexistent").fit(X, y)


# ---------------------------------------------------------------------------- synthetic study
def test_selection_experiment_table_is_tidy_and_consistent():
    from moe.synthetic import run_experiment

    settings = {"settings": [{"name": "tiny", "K0": 2, "d": 2, "M": 3, "gate_scale": 3.0,
                              "expert_scale": 3.0, "slope_scale": 0.5, "truth_seed": 0,
                              "epsilon": 0.0}],
                "n_grid": [400], "replicates": 1, "k_extra": 1, "variants": ["literal"],
                "omegas": ["log", "sqrt"], "fit": {"max_iter": 30, "tol": 1e-4, "n_threads": 1,
                                                   "n_init": 1}}
    table = run_experiment("selection", settings, seed=0)
    assert set(table["method"]) == {"dsc:literal", "dsc:literal@sqrt", "aic", "bic", "hqc", "icl"}
    assert (table["correct"] == (table["selected_k"] == 2)).all()
    assert table["selected_k"].between(1, 3).all()
    again = run_experiment("selection", settings, seed=0)
    pd.testing.assert_frame_equal(table.drop(columns="seconds"), again.drop(columns="seconds"))


def test_optimisation_experiment_traces_are_monotone():
    from moe.synthetic import run_experiment

    table = run_experiment("optimisation", {"n": 500, "max_iter": 15}, seed=1)
    assert set(table["solver"]) == {"mm_lazy_squarem_relaxed", "mm_weighted_squarem", "mm_weighted",
                                    "mm_fixed_squarem", "mm_fixed", "em"}
    for solver, g in table.groupby("solver"):
        assert g["iteration"].iloc[0] == 0
        assert np.all(np.diff(g["mean_loglik"]) >= -1e-12), solver
    # every solver starts from the same point
    assert table[table["iteration"] == 0]["mean_loglik"].nunique() == 1


def test_split_copies_experiment_table(tmp_path):
    from moe.dendrogram import DEFAULT_VARIANT
    from moe.synthetic import plot_experiment, run_experiment, summarize

    settings = {"n_grid": [300], "replicates": 1, "K0_grid": [2], "variants": [DEFAULT_VARIANT]}
    table = run_experiment("split_copies", settings, seed=0)
    assert list(table.columns) == ["K0", "n", "replicate", "method", "selected_k", "correct",
                                   "seconds"]
    assert len(table) == 1 and table["method"].tolist() == [f"dsc:{DEFAULT_VARIANT}"]
    assert table[["K0", "n", "replicate"]].values.tolist() == [[2, 300, 0]]
    assert (table["correct"] == (table["selected_k"] == table["K0"])).all()
    assert table["selected_k"].between(1, 3).all()  # K0 = 2 split into 3 experts
    assert (table["seconds"] > 0).all()
    text = summarize("split_copies", table)
    hits = int(table["correct"].sum())
    assert f"| dsc:{DEFAULT_VARIANT} | {hits}/1 ({table['selected_k'].iloc[0]:.1f}) |" in text
    assert "K0=2 n=300" in text
    plot_experiment("split_copies", table, tmp_path / "split_copies.png")
    assert (tmp_path / "split_copies.png").stat().st_size > 10_000


def test_split_copies_experiment_rejects_bad_settings():
    from moe.synthetic import run_experiment

    with pytest.raises(ValueError, match="unknown settings"):
        run_experiment("split_copies", {"K0": [2]}, 0)
    with pytest.raises(ValueError, match="fewer than K0 = 3"):
        run_experiment("split_copies", {"K0_grid": [3], "copies": [2, 1], "n_grid": [100]}, 0)


def test_run_experiment_rejects_unknown_names():
    from moe.synthetic import run_experiment

    with pytest.raises(ValueError, match="experiment must be one of"):
        run_experiment("speed", {}, 0)
    with pytest.raises(ValueError, match="unknown settings"):
        run_experiment("voronoi", {"n_gird": [10]}, 0)
    with pytest.raises(ValueError, match="scale must be one of"):
        run_experiment("voronoi", {}, 0, scale="huge")


def test_summarize_counts_the_replicates_that_select_k0():
    from moe.synthetic import summarize

    table = pd.DataFrame({
        "setting": "s", "epsilon": 0.0, "K0": 3, "n": [100, 100, 100, 100],
        "replicate": [0, 1, 0, 1], "method": ["bic", "bic", "dsc:literal", "dsc:literal"],
        "alpha": 0.0, "selected_k": [3, 3, 2, 5], "correct": [True, True, False, False],
        "seconds": 0.1,
    })
    text = summarize("selection", table)
    assert "| bic | 2/2 |" in text and "| dsc:literal | 0/2 |" in text
    assert "| dsc:literal | 3.5 |" in text  # mean selected K of 2 and 5


def test_the_study_command_runs_only_the_variants_asked_for(tmp_path, capsys):
    """``python -m moe.synthetic ... --variants``: the rows of just those dendrogram variants
    (each setting's own list replaced too), and a clear error where the option does not apply."""
    from moe.synthetic import main

    main(["split_copies", "--variants", "literal", "--out", str(tmp_path)])
    table = pd.read_csv(tmp_path / "split_copies.csv")
    assert set(table["method"]) == {"dsc:literal"} and set(table["K0"]) == {2, 3, 4}
    with pytest.raises(SystemExit):
        main(["voronoi", "--variants", "literal", "--out", str(tmp_path)])
    assert "--variants applies to the selection and split_copies" in capsys.readouterr().err
