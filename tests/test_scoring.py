"""moe.scoring: per-fold, pooled, paired and per-component scores, and the summary table."""

import numpy as np
import pandas as pd
import pytest

from moe import metrics as M
from moe import scoring as S
from moe.folds import proba_columns

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


def test_pooled_evaluation_pools_in_pair_order_and_refuses_duplicates():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=60)
    proba = rng.dirichlet([1, 1], size=60)
    table = pd.concat([_predictions(y[30:], proba[30:], 1, 30), _predictions(y[:30], proba[:30], 0)])
    pooled, replicates = S.pooled_evaluation(table, ["a", "b"], n_resamples=20, seed=4)
    assert pooled.set_index("metric").loc["accuracy", "estimate"] == pytest.approx(
        M.all_metrics(y, proba, ["a", "b"])["accuracy"]
    )
    assert replicates.shape == (20, len(M.METRICS))
    with pytest.raises(ValueError, match="more than one fold"):
        S.pooled_evaluation(pd.concat([table, table]), ["a", "b"], n_resamples=5)


def test_paired_evaluation_checks_the_pairs_match():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, size=50)
    proba = rng.dirichlet([1, 1], size=50)
    ours = _predictions(y, proba)
    _, replicates = S.pooled_evaluation(ours, ["a", "b"], n_resamples=10)
    same = S.paired_evaluation(ours, ours, replicates, replicates, ["a", "b"])
    assert np.all(same[["difference", "lower", "upper"]].to_numpy() == 0)
    other = ours.copy()
    other["pair_index"] += 1
    with pytest.raises(ValueError, match="different pairs"):
        S.paired_evaluation(ours, other, replicates, replicates, ["a", "b"])


def test_component_metrics_reports_what_it_cannot_score():
    y = np.array([0, 1, 0, 1, 1, 1])
    proba = np.full((6, 2), 0.5)
    table = _predictions(y, proba)
    table["component"] = ["C1", "C1", "C1", "C1", "C3", "C3"]  # C3 holds one class only
    scores, unscored = S.component_metrics(table, ["a", "b"])
    assert set(scores["component"]) == {"C1"} and unscored == ["C3"]
    assert (scores["n_pairs"] == 4).all()


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
             "lower": 0.05, "upper": 0.17, "better": 0.99},
            {**KEYS, "model": "rival", "metric": "log_loss", "difference": 0.05,
             "lower": -0.02, "upper": 0.12, "better": 0.2},
        ]
    )
    return metrics, pooled, paired


def test_summarize_by_hand():
    summary = S.summarize(*_summary_inputs(), reference="ours")
    row = summary.set_index(["model", "metric"])
    assert row.loc[("rival", "accuracy"), "mean"] == pytest.approx(0.82)
    assert row.loc[("rival", "accuracy"), "sd"] == pytest.approx(np.std([0.80, 0.84], ddof=1))
    assert row.loc[("rival", "accuracy"), "verdict"] == "reference worse"
    assert row.loc[("rival", "log_loss"), "verdict"] == "no clear difference"
    assert row.loc[("ours", "accuracy"), "verdict"] == ""


def test_summarize_sees_a_lower_is_better_win():
    metrics, pooled, paired = _summary_inputs()
    paired.loc[1, ["difference", "lower", "upper"]] = [0.2, 0.1, 0.3]  # rival's log-loss higher
    row = S.summarize(metrics, pooled, paired, "ours").set_index(["model", "metric"])
    assert row.loc[("rival", "log_loss"), "verdict"] == "reference better"
