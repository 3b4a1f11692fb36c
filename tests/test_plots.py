"""moe.plots and moe.plots_selection: figure files, and no backend switch at import."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd

from moe import plots, plots_selection

KEYS = {"dataset": "d", "split": "s"}


def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plots_write_png_files(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=90)
    proba = rng.dirichlet([1, 1, 1], size=90)
    plots.plot_reliability({"a": (y, proba), "b": (y, proba)}, tmp_path / "r.png", reference="a")
    pooled = pd.DataFrame(
        [
            {**KEYS, "model": m, "metric": metric, "estimate": 0.5, "lower": 0.4, "upper": 0.6}
            for m in ("a", "b")
            for metric in ("accuracy", "ece_width")
        ]
    )
    plots.plot_accuracy_vs_ece(pooled, tmp_path / "a.png", reference="a")
    times = pd.DataFrame({**KEYS, "model": ["a", "b"], "fold": 0, "fit_seconds": [0.1, 2.0]})
    plots.plot_fit_times(times.rename(columns={"d": "dataset"}), tmp_path / "t.png")
    linkage = np.array([[0, 1, 0.5, 2], [2, 3, 1.0, 3]])
    dsc = pd.DataFrame({"n_experts": [3, 2], "dsc": [1.0, 0.5]})
    sweep = pd.DataFrame({"n_experts": [1, 2, 3], "bic": [3.0, 2.0, 2.5]})
    plots_selection.plot_dendrogram_dsc(linkage, dsc, 2, tmp_path / "d.png", sweep=sweep, title="t")
    traces = pd.DataFrame(
        {"dataset": "d", "solver": ["mm", "mm", "em", "em"], "iteration": [0, 1, 0, 1],
         "seconds": [0, 0.1, 0, 0.2], "mean_loglik": [-0.7, -0.6, -0.7, -0.65]}
    )
    plots.plot_solver_traces(traces, tmp_path / "s.png")
    experts = pd.DataFrame(
        {"dataset": "d", "expert": [1, 1, 2, 2], "gate_mass": [0.6, 0.6, 0.4, 0.4],
         "class": ["x", "y", "x", "y"], "probability": [0.3, 0.7, 0.9, 0.1]}
    )
    plots.plot_expert_structure(experts, tmp_path / "e.png")
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["a.png", "d.png", "e.png", "r.png", "s.png", "t.png"]
    assert all(_is_png(tmp_path / name) for name in written)


def test_the_dendrogram_figure_labels_experts_and_draws_the_sweep_beside_the_dsc():
    linkage = np.array([[0, 1, 0.5, 2], [2, 3, 1.0, 3]])
    left = plots_selection.plot_dendrogram(linkage)
    labels = sorted(t.get_text() for t in left.get_xticklabels())
    assert labels == ["0", "1", "2"]
    dsc = pd.DataFrame({"n_experts": [3, 2, 1], "dsc": [1.0, 0.5, 0.7]})
    sweep = pd.DataFrame({"n_experts": [1, 2, 3], "bic": [3.0, 2.0, 2.5]})
    right = plots_selection.plot_dsc(dsc, 2, sweep=sweep)
    texts = [t.get_text() for t in right.get_legend().get_texts()]
    assert texts == ["DSC", "selected K = 2", "BIC sweep"]


def test_importing_the_plot_modules_keeps_the_users_backend():
    code = (
        "import matplotlib, moe.plots, moe.plots_selection, moe.bench.plots; "
        "print(matplotlib.get_backend())"
    )
    env = {**os.environ, "MPLBACKEND": "svg"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "svg"


def _binary(n, seed):
    rng = np.random.default_rng(seed)
    p1 = rng.uniform(size=n)
    return (rng.uniform(size=n) < p1).astype(int), np.column_stack([1 - p1, p1])


def test_reliability_adds_c3_panels_on_their_own_rows_only_when_c3_pairs_exist(tmp_path):
    models = {m: _binary(60, i) for i, m in enumerate("abcde")}
    c3 = {"a": _binary(20, 7), "b": _binary(0, 8), "c": _binary(15, 9)}
    fig = plots.plot_reliability(models, tmp_path / "r.png", c3=c3, reference="a")
    titles = [ax.get_title().split("\n")[0] for ax in fig.axes]
    # 5 models on rows 1-2 (4 columns), then the C3 panels from row 3; b has no C3 pair
    assert titles == ["a", "b", "c", "d", "e", "a, C3 (n = 20)", "c, C3 (n = 15)"]
    starts = [ax.get_subplotspec().rowspan.start for ax in fig.axes]
    assert starts == [0, 0, 0, 0, 1, 2, 2]
    assert _is_png(tmp_path / "r.png")
    # the random split: no components, no C3 panel and no empty axes
    fig = plots.plot_reliability(models, tmp_path / "s.png", c3={"a": _binary(0, 1)})
    assert [ax.get_title().split("\n")[0] for ax in fig.axes] == list("abcde")


def _pooled_rows(dataset, split, models):
    return [
        {"dataset": dataset, "split": split, "model": m, "metric": metric,
         "estimate": 0.6, "lower": 0.5, "upper": 0.7}
        for m in models for metric in ("accuracy", "ece_width")
    ]


def _component_rows(dataset, split, component, models):
    return [
        {"dataset": dataset, "split": split, "model": m, "component": component,
         "n_pairs": 10, "metric": metric, "value": value}
        for m in models
        for metric, value in (("accuracy", 0.55), ("ece_width", 0.1), ("brier", 0.2))
    ]


def test_accuracy_vs_ece_gets_a_c3_panel_per_dataset_with_components(tmp_path):
    pooled = pd.DataFrame(
        _pooled_rows("d", "random", "ab") + _pooled_rows("d", "protein_disjoint", "ab")
        + _pooled_rows("e", "random", "ab")
    )
    components = pd.DataFrame(
        _component_rows("d", "protein_disjoint", "C1", "ab")
        + _component_rows("d", "protein_disjoint", "C3", "ab")
        + _component_rows("e", "random", "", "ab")
        + _component_rows("d", "random", "C3", "ab")  # a random split's few C3 pairs: no panel
    )
    fig = plots.plot_accuracy_vs_ece(pooled, tmp_path / "a.png", components=components)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["d, random", "d, protein_disjoint", "d, protein_disjoint: C3 pairs only",
                      "e, random"]
    c3_panel = fig.axes[2]
    # one point per model at the C3 values (ECE 0.1, accuracy 0.55), not the pooled ones
    points = [line.get_xydata()[0].tolist() for line in c3_panel.get_lines()]
    assert points == [[0.1, 0.55], [0.1, 0.55]]
    assert _is_png(tmp_path / "a.png")
    without = plots.plot_accuracy_vs_ece(pooled, tmp_path / "b.png", components=components[:0])
    titles = [ax.get_title() for ax in without.axes]
    assert titles == ["d, random", "d, protein_disjoint", "e, random"]
