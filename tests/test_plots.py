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
