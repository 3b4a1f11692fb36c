"""moe.scoring: per-fold, pooled, paired and per-component scores, and the summary table."""

import numpy as np
import pandas as pd
import pytest

from moe import metrics as M
from moe import scoring as S
from moe.predictions import proba_columns

KEYS = {"dataset": "d", "split": "s"}


def _predictions(y, proba, fold=0, start=0):
    table = pd.DataFrame(
        {"pair_index": np.arange(start, start + len(y)), "fold": fold, "component": "C1", "y": y}
    )
    table[proba_columns(proba.shape[1])] = proba
    return table


def test_fold_metrics_score_each_fold():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=40)
    proba = rng.dirichlet([1, 1], size=40)
    table = pd.concat([_predictions(y[:20], proba[:20], 0), _predictions(y[20:], proba[20:], 1, 20)])
    scores = S.fold_metrics(table, ["a", "b"])
    assert len(scores) == 2 * len(M.METRICS)
    first = scores[scores["fold"] == 1].set_index("metric")["value"]
    assert first["log_loss"] == pytest.approx(M.all_metrics(y[20:], proba[20:], ["a", "b"])["log_loss"])


def _summary_inputs():
    """Two models, one metric each way; 'rival' beats 'ours' on accuracy only."""
    metrics = pd.DataFrame(
        [
            {**KEYS, "model": m, "fold": f, "metric": metric, "value": v}
            for m, acc, ll in (("ours", (0.70, 0.72), (0.5, 0.6)), ("rival", (0.80, 0.84), (0.5, 0.7)))
            for metric, values in (("accuracy", acc), ("log_loss", ll))
            for f, v in enumerate(values)
        ]
    )
    pooled = pd.DataFrame(
        [
            {**KEYS, "model": m, "metric": metric, "estimate": e, "lower": e - 0.05, "upper": e + 0.05}
            for m, values in (("ours", {"accuracy": 0.71, "log_loss": 0.55}),
                              ("rival", {"accuracy": 0.82, "log_loss": 0.60}))
            for metric, e in values.items()
        ]
    )
    paired = pd.DataFrame(
        [
            {**KEYS, "model": "rival", "metric": "accuracy", "difference": 0.11,
             "lower": 0.05, "upper": 0.17, "better": 0.99, "p_value": 0.002},
            {**KEYS, "model": "rival", "metric": "log_loss", "difference": 0.05,
             "lower": -0.02, "upper": 0.12, "better": 0.2, "p_value": 0.3},
        ]
    )
    return metrics, pooled, paired


def test_summarize_by_hand():
    summary = S.summarize(*_summary_inputs(), reference="ours")
    row = summary.set_index(["model", "metric"])
    assert row.loc[("rival", "accuracy"), "mean"] == pytest.approx(0.82)
    assert row.loc[("rival", "accuracy"), "sd"] == pytest.approx(np.std([0.80, 0.84], ddof=1))
    # accuracy is secondary: its interval verdict is shown, marked uncorrected, not tested
    assert row.loc[("rival", "accuracy"), "verdict"] == "reference worse (uncorrected)"
    assert not row.loc[("rival", "accuracy"), "primary"]
    assert np.isnan(row.loc[("rival", "accuracy"), "p_holm"])
    assert row.loc[("rival", "log_loss"), "primary"]
    assert row.loc[("rival", "log_loss"), "p_holm"] == pytest.approx(0.3)  # a family of one
    assert row.loc[("rival", "log_loss"), "verdict"] == "no clear difference"
    assert row.loc[("ours", "accuracy"), "verdict"] == ""


def test_summarize_sees_a_lower_is_better_win():
    metrics, pooled, paired = _summary_inputs()
    paired.loc[1, ["difference", "lower", "upper", "p_value"]] = [0.2, 0.1, 0.3, 0.01]
    row = S.summarize(metrics, pooled, paired, "ours").set_index(["model", "metric"])
    assert row.loc[("rival", "log_loss"), "verdict"] == "reference better"


def test_holm_by_hand():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max
    adjusted = S.holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])
    assert (adjusted < 0.05).tolist() == [True, False, False, True]
    np.testing.assert_allclose(S.holm([0.2, np.nan, 0.01]), [0.2, np.nan, 0.02])  # m = 2
    with pytest.raises(ValueError, match="p_values"):
        S.holm([1.5])


def _primary_family(p_values):
    """Rival beats ours on every primary metric with these uncorrected p-values."""
    metrics = pd.DataFrame(
        [{**KEYS, "model": m, "fold": 0, "metric": metric, "value": 0.5}
         for m in ("ours", "rival") for metric in S.PRIMARY]
    )
    pooled = metrics.drop(columns=["fold"]).rename(columns={"value": "estimate"})
    pooled["lower"], pooled["upper"] = 0.4, 0.6
    paired = pd.DataFrame(
        [{**KEYS, "model": "rival", "metric": metric, "difference": -0.05, "lower": -0.09,
          "upper": -0.01, "better": 0.99, "p_value": p}
         for metric, p in zip(S.PRIMARY, p_values)]
    )
    return S.summarize(metrics, pooled, paired, "ours").set_index(["model", "metric"])


def test_summarize_corrects_the_primary_metrics_with_holm():
    # each below 0.05 alone; Holm: 0.02 * 3 = 0.06 > 0.05, so none is a corrected win
    row = _primary_family([0.02, 0.045, 0.03])
    assert (row.loc["rival", "verdict"] == "no clear difference").all()
    np.testing.assert_allclose(row.loc["rival", "p_holm"], [0.06, 0.06, 0.06])
    # 0.01 * 3, 0.02 * 2, 0.04: all below 0.05 -> the reference loses on all three
    row = _primary_family([0.02, 0.04, 0.01])
    assert (row.loc["rival", "verdict"] == "reference worse").all()


def _protein_predictions(n=240, seed=0):
    """Pairs over 40 proteins, components by hand; C3 holds one class (unscorable)."""
    rng = np.random.default_rng(seed)
    pairs = pd.DataFrame({"protein_a": rng.integers(0, 40, n).astype(str),
                          "protein_b": rng.integers(0, 40, n).astype(str)})
    y = rng.integers(0, 2, n)
    component = np.array(["C1", "C2", "C3"])[np.arange(n) % 3]
    y[component == "C3"] = 1
    positive = np.clip(0.5 + 0.3 * (2 * y - 1) + rng.normal(0, 0.15, n), 0.02, 0.98)
    proba = np.column_stack([1 - positive, positive])
    table = _predictions(y, proba)
    table["component"] = component
    order = rng.permutation(n)  # pair order must not matter
    return table.iloc[order].reset_index(drop=True), pairs, proba


def test_protein_evaluation_scores_all_and_each_component():
    table, pairs, proba = _protein_predictions()
    scores, replicates = S.protein_evaluation(table, pairs, ["a", "b"], n_resamples=40, seed=3)
    assert list(dict.fromkeys(scores["component"])) == ["all", "C1", "C2", "C3"]
    assert scores.groupby("component")["n_pairs"].first().to_dict() == {
        "all": 240, "C1": 80, "C2": 80, "C3": 80}
    c3 = scores[scores["component"] == "C3"]
    assert c3["estimate"].isna().all()  # one class: reported, not dropped
    scored = scores[scores["component"] != "C3"]
    assert np.isfinite(scored[["estimate", "lower", "upper"]].to_numpy()).all()
    assert (scored["lower"] <= scored["upper"]).all()
    # a percentile interval need not hold the estimate of a biased statistic (a resample's
    # ECE is biased upwards); it does hold that of the means
    means = scored[scored["metric"].isin(["accuracy", "log_loss", "brier"])]
    assert (means["lower"] <= means["estimate"]).all()
    assert (means["estimate"] <= means["upper"]).all()
    assert sorted(set(replicates["component"])) == ["C1", "C2", "all"]
    c1 = table[table["component"] == "C1"]
    assert scores.set_index(["component", "metric"]).loc[("C1", "log_loss"), "estimate"] == (
        pytest.approx(M.all_metrics(c1["y"], c1[["proba_0", "proba_1"]], ["a", "b"])["log_loss"])
    )
    again = S.protein_evaluation(table.iloc[::-1], pairs, ["a", "b"], n_resamples=40, seed=3)[1]
    pd.testing.assert_frame_equal(replicates, again)
    with pytest.raises(ValueError, match="pair_index"):
        S.protein_evaluation(table, pairs.iloc[:10], ["a", "b"], n_resamples=5)


def test_paired_protein_evaluation_and_corrected_components():
    table, pairs, _ = _protein_predictions()
    rival = table.copy()
    rival[["proba_0", "proba_1"]] = 0.5
    # 200 resamples: the smallest p is 2 / 201, times 3 primary tests stays below 0.05
    ours_scores, ours_rep = S.protein_evaluation(table, pairs, ["a", "b"], n_resamples=200)
    _, rival_rep = S.protein_evaluation(rival, pairs, ["a", "b"], n_resamples=200)
    itself = S.paired_protein_evaluation(table, table, ours_rep, ours_rep, ["a", "b"])
    scored = itself[itself["component"] != "C3"]
    assert (scored["difference"] == 0).all() and (scored["p_value"] == 1).all()
    paired = S.paired_protein_evaluation(rival, table, rival_rep, ours_rep, ["a", "b"])
    assert paired.loc[paired["component"] == "C3", "p_value"].isna().all()
    with pytest.raises(ValueError, match="same resamples"):
        S.paired_protein_evaluation(rival, table, rival_rep, ours_rep.iloc[:-1], ["a", "b"])
    _, other_seed = S.protein_evaluation(rival, pairs, ["a", "b"], n_resamples=200, seed=1)
    with pytest.raises(ValueError, match="same resamples"):
        S.paired_protein_evaluation(rival, table, other_seed, ours_rep, ["a", "b"])
    pooled, paired_all, components = S.evaluation_outputs(ours_scores, paired)
    assert pooled["metric"].tolist() == list(M.METRICS)
    assert paired_all["difference"].tolist() == paired.loc[
        paired["component"] == "all", "difference"].tolist()
    assert sorted(set(components["component"])) == ["C1", "C2", "C3"]
    c1_loss = components.set_index(["component", "metric"]).loc[("C1", "log_loss")]
    pair_loss = paired.set_index(["component", "metric"]).loc[("C1", "log_loss")]
    assert (c1_loss["diff"], c1_loss["p_value"]) == (pair_loss["difference"], pair_loss["p_value"])
    # the reference itself: its estimates, no differences
    _, own_paired, own = S.evaluation_outputs(ours_scores)
    assert own_paired["difference"].isna().all() and own["diff"].isna().all()
    np.testing.assert_array_equal(  # C3 holds one class: NaN in both
        own["value"], ours_scores.loc[ours_scores["component"] != "all", "estimate"])
    components = components.assign(dataset="d", split="s", model="rival")
    corrected = S.correct_components(components, "ours")
    row = corrected.set_index(["component", "metric"])
    assert (row.loc["C3", "verdict"] == "not scorable").all()
    c1 = row.loc["C1"]
    assert c1.loc[list(S.PRIMARY), "p_holm"].tolist() == pytest.approx(
        S.holm(c1.loc[list(S.PRIMARY), "p_value"]).tolist())
    assert c1.loc["accuracy", "verdict"].endswith("(uncorrected)")
    # the flat rival is worse than ours on C1 log-loss: a corrected win of the reference
    assert c1.loc["log_loss", "verdict"] == "reference better"


def test_a_component_whose_rare_classes_rarely_survive_is_reported_unscored():
    # C3: 30 pairs of class 0 and one pair each of classes 1..6 over distinct proteins: a
    # resample keeps all seven classes with probability about 0.4 ** 6 < 1 / 100;
    # C1: ten pairs of every class, so all pairs together resample fine
    y = np.r_[np.zeros(30, int), np.arange(1, 7), np.repeat(np.arange(7), 10)]
    n = y.size
    pairs = pd.DataFrame({"protein_a": [f"a{i}" for i in range(n)],
                          "protein_b": [f"b{i}" for i in range(n)]})
    table = _predictions(y, np.full((n, 7), 1 / 7))
    table["component"] = ["C3"] * 36 + ["C1"] * 70
    with pytest.warns(UserWarning, match="component C3 not scored"):
        scores, replicates = S.protein_evaluation(table, pairs, list("abcdefg"), n_resamples=20)
    assert scores.loc[scores["component"] == "C3", "estimate"].isna().all()
    assert scores.loc[scores["component"] == "all", "estimate"].notna().all()
    assert set(replicates["component"]) == {"all", "C1"}
