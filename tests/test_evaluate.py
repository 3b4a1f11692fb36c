"""moe.evaluate (fold fits, scoring, summaries), moe.io and moe.plots."""

import numpy as np
import pandas as pd
import pytest

from moe import evaluate as E
from moe import metrics as M
from moe import plots
from moe.io import atomic_path, atomic_write_text, load_matrix, save_matrix
from moe.model import SGMLMoE
from moe.ppi.splits import Fold

KEYS = {"dataset": "d", "split": "s"}


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


def _predictions(y, proba, fold=0, start=0):
    table = pd.DataFrame(
        {"pair_index": np.arange(start, start + len(y)), "fold": fold, "component": "C1", "y": y}
    )
    table[E.proba_columns(proba.shape[1])] = proba
    return table


def test_align_proba_places_columns_at_their_labels():
    out = E.align_proba(np.array([[0.3, 0.7]]), np.array([0, 2]), 3)
    np.testing.assert_array_equal(out, [[0.3, 0.0, 0.7]])
    with pytest.raises(ValueError, match="not labels in 0..1"):
        E.align_proba(np.array([[0.3, 0.7]]), np.array([0, 2]), 2)


def test_fit_fold_predicts_the_test_part_with_training_only_preprocessing():
    pairs, features = _pairs_and_features()
    features.iloc[150:] += 50.0  # a scaler fitted on all rows would move
    result = E.fit_fold("logreg", {}, features, pairs, _fold(200, 150), 0, 2, pca_dim=2)
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
    result = E.fit_fold("probe", {}, None, pairs, _fold(200, 150), 3, 2)
    assert (result.predictions["fold"] == 3).all()
    with pytest.raises(ValueError, match="needs the feature matrix"):
        E.fit_fold("logreg", {}, None, pairs, _fold(200, 150), 0, 2)


def test_fit_fold_fills_a_class_missing_from_training_with_zero():
    pairs, features = _pairs_and_features()
    pairs.loc[:149, "label"] = np.where(pairs.loc[:149, "label"] == 1, 2, 0)  # labels 0 and 2
    pairs.loc[150:, "label"] = 1
    result = E.fit_fold("logreg", {}, features, pairs, _fold(200, 150), 0, 3, pca_dim=2)
    assert (result.predictions["proba_1"] == 0).all()


def test_fold_metrics_score_each_fold():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=40)
    proba = rng.dirichlet([1, 1], size=40)
    table = pd.concat([_predictions(y[:20], proba[:20], 0), _predictions(y[20:], proba[20:], 1, 20)])
    scores = E.fold_metrics(table, ["a", "b"])
    assert len(scores) == 2 * len(M.METRICS)
    first = scores[scores["fold"] == 1].set_index("metric")["value"]
    assert first["log_loss"] == pytest.approx(M.all_metrics(y[20:], proba[20:], ["a", "b"])["log_loss"])


def test_pooled_evaluation_pools_in_pair_order_and_refuses_duplicates():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=60)
    proba = rng.dirichlet([1, 1], size=60)
    table = pd.concat([_predictions(y[30:], proba[30:], 1, 30), _predictions(y[:30], proba[:30], 0)])
    pooled, replicates = E.pooled_evaluation(table, ["a", "b"], n_resamples=20, seed=4)
    assert pooled.set_index("metric").loc["accuracy", "estimate"] == pytest.approx(
        M.all_metrics(y, proba, ["a", "b"])["accuracy"]
    )
    assert replicates.shape == (20, len(M.METRICS))
    with pytest.raises(ValueError, match="more than one fold"):
        E.pooled_evaluation(pd.concat([table, table]), ["a", "b"], n_resamples=5)


def test_paired_evaluation_checks_the_pairs_match():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, size=50)
    proba = rng.dirichlet([1, 1], size=50)
    ours = _predictions(y, proba)
    _, replicates = E.pooled_evaluation(ours, ["a", "b"], n_resamples=10)
    same = E.paired_evaluation(ours, ours, replicates, replicates, ["a", "b"])
    assert np.all(same[["difference", "lower", "upper"]].to_numpy() == 0)
    other = ours.copy()
    other["pair_index"] += 1
    with pytest.raises(ValueError, match="different pairs"):
        E.paired_evaluation(ours, other, replicates, replicates, ["a", "b"])


def test_component_metrics_reports_what_it_cannot_score():
    y = np.array([0, 1, 0, 1, 1, 1])
    proba = np.full((6, 2), 0.5)
    table = _predictions(y, proba)
    table["component"] = ["C1", "C1", "C1", "C1", "C3", "C3"]  # C3 holds one class only
    scores, unscored = E.component_metrics(table, ["a", "b"])
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
    summary = E.summarize(*_summary_inputs(), reference="ours")
    row = summary.set_index(["model", "metric"])
    assert row.loc[("rival", "accuracy"), "mean"] == pytest.approx(0.82)
    assert row.loc[("rival", "accuracy"), "sd"] == pytest.approx(np.std([0.80, 0.84], ddof=1))
    assert row.loc[("rival", "accuracy"), "verdict"] == "reference worse"
    assert row.loc[("rival", "log_loss"), "verdict"] == "no clear difference"
    assert row.loc[("ours", "accuracy"), "verdict"] == ""
    assert list(E.losses(summary)["model"]) == ["rival"]


def test_summarize_sees_a_lower_is_better_win():
    metrics, pooled, paired = _summary_inputs()
    paired.loc[1, ["difference", "lower", "upper"]] = [0.2, 0.1, 0.3]  # rival's log-loss higher
    row = E.summarize(metrics, pooled, paired, "ours").set_index(["model", "metric"])
    assert row.loc[("rival", "log_loss"), "verdict"] == "reference better"


def test_markdown_says_plainly_where_the_reference_loses():
    summary = E.summarize(*_summary_inputs(), reference="ours")
    text = E.summary_markdown(summary, "ours")
    assert "| **ours** |" in text
    assert "0.710 ± 0.014 [0.660, 0.760]" in text
    assert "ours loses to another model in 1 of 2 paired comparisons" in text
    assert "- d, s: ours loses to rival on Accuracy +0.110 (95% CI +0.050 to +0.170)." in text
    assert "ours beats another model in 0 of 2 paired comparisons" in text


def test_latex_table_marks_wins_over_the_reference():
    summary = E.summarize(*_summary_inputs(), reference="ours")
    summary["model"] = summary["model"].replace("rival", "rival_x")
    tex = E.summary_latex(summary, "ours", metrics_shown=("accuracy", "log_loss"))
    assert r"\toprule" in tex and r"\textbf{ours}" in tex
    assert r"rival\_x & 0.820 $\pm$ 0.028$^\dagger$ & 0.600 $\pm$ 0.141 \\" in tex


def test_expert_structure_by_hand():
    # Two experts with equal gates; slopes zero, so each expert predicts its
    # intercept softmax everywhere: expert 1 [e/(1+e), 1/(1+e)], expert 2 [1/2, 1/2].
    gate = np.zeros((2, 3))
    experts = np.zeros((2, 2, 3))
    experts[0, 0, 0] = 1.0
    model = SGMLMoE.from_parameters(gate, experts, np.array([0, 1]))
    X = np.random.default_rng(0).normal(size=(10, 2))
    table = E.expert_structure(model, X, ["neg", "pos"])
    assert table["gate_mass"].tolist() == pytest.approx([0.5] * 4)
    first = table[table["expert"] == 1].set_index("class")["probability"]
    assert first["neg"] == pytest.approx(np.e / (1 + np.e))


def test_solver_traces_start_together_and_mm_ascends():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    traces = E.solver_traces(X, y, 2, max_iter=20, random_state=0)
    assert set(traces["solver"]) == {"mm", "em"}
    mm = traces[traces["solver"] == "mm"]["loglik"].to_numpy()
    em = traces[traces["solver"] == "em"]["loglik"].to_numpy()
    assert mm[0] == pytest.approx(em[0])  # one common start
    assert np.all(np.diff(mm) >= -1e-9)
    np.testing.assert_allclose(traces["mean_loglik"], traces["loglik"] / 300)


def test_stratified_subset_keeps_proportions_and_is_seeded():
    labels = np.array([0] * 80 + [1] * 20)
    keep = E.stratified_subset(labels, 10, seed=1)
    assert keep.size == 10 and np.all(np.diff(keep) > 0)
    assert (labels[keep] == 1).sum() == 2
    np.testing.assert_array_equal(keep, E.stratified_subset(labels, 10, seed=1))
    np.testing.assert_array_equal(E.stratified_subset(labels, 500), np.arange(100))


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    atomic_write_text(target, "done")
    assert target.read_text() == "done" and list(tmp_path.iterdir()) == [target]


def test_matrix_round_trip_keeps_index_and_columns(tmp_path):
    frame = pd.DataFrame(np.arange(6.0).reshape(3, 2), index=["p1", "p2", "p3"], columns=["x", "y"])
    save_matrix(frame, tmp_path / "m.npz")
    pd.testing.assert_frame_equal(load_matrix(tmp_path / "m.npz"), frame, check_index_type=False)


def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plots_write_png_files(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=90)
    proba = rng.dirichlet([1, 1, 1], size=90)
    plots.reliability_diagrams({"a": (y, proba), "b": (y, proba)}, tmp_path / "r.png", reference="a")
    pooled = pd.DataFrame(
        [
            {**KEYS, "model": m, "metric": metric, "estimate": 0.5, "lower": 0.4, "upper": 0.6}
            for m in ("a", "b")
            for metric in ("accuracy", "ece_width")
        ]
    )
    plots.accuracy_vs_ece(pooled, tmp_path / "a.png", reference="a")
    times = pd.DataFrame({**KEYS, "model": ["a", "b"], "fold": 0, "fit_seconds": [0.1, 2.0]})
    plots.fit_times(times.rename(columns={"d": "dataset"}), tmp_path / "t.png")
    linkage = np.array([[0, 1, 0.5, 2], [2, 3, 1.0, 3]])
    dsc = pd.DataFrame({"n_experts": [3, 2], "dsc": [1.0, 0.5]})
    sweep = pd.DataFrame({"n_experts": [1, 2, 3], "bic": [3.0, 2.0, 2.5]})
    plots.dendrogram_dsc(linkage, dsc, 2, tmp_path / "d.png", sweep=sweep)
    traces = pd.DataFrame(
        {"dataset": "d", "solver": ["mm", "mm", "em", "em"], "iteration": [0, 1, 0, 1],
         "seconds": [0, 0.1, 0, 0.2], "mean_loglik": [-0.7, -0.6, -0.7, -0.65]}
    )
    plots.solver_traces(traces, tmp_path / "s.png")
    experts = pd.DataFrame(
        {"dataset": "d", "expert": [1, 1, 2, 2], "gate_mass": [0.6, 0.6, 0.4, 0.4],
         "class": ["x", "y", "x", "y"], "probability": [0.3, 0.7, 0.9, 0.1]}
    )
    plots.expert_structure(experts, tmp_path / "e.png")
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["a.png", "d.png", "e.png", "r.png", "s.png", "t.png"]
    assert all(_is_png(tmp_path / name) for name in written)


def test_runtime_summary_adds_up_benchmark_files(tmp_path):
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    for path, (s, rss, cpu) in {
        "fit/a/fold0.tsv": (2.0, 100.0, 1.5),
        "fit/a/fold1.tsv": (3.0, 300.0, 2.5),
        "plot_summary.tsv": (1.0, 50.0, 0.5),
    }.items():
        target = tmp_path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(header + f"{s}\t0:00:0{s:.0f}\t{rss}\t-\t-\t-\t-\t-\t-\t{cpu}\n")
    table = E.runtime_summary(tmp_path).set_index("rule")
    assert list(table.index) == ["fit", "plot_summary"]
    assert table.loc["fit", "jobs"] == 2 and table.loc["fit", "wall_seconds"] == 5.0
    assert table.loc["fit", "max_wall_seconds"] == 3.0 and table.loc["fit", "cpu_seconds"] == 4.0
    assert table.loc["fit", "max_rss_mb"] == 300.0
    with pytest.raises(ValueError, match="no benchmark files"):
        E.runtime_summary(tmp_path / "fit" / "a" / "none")
