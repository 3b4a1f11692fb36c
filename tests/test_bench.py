"""The performance benchmark's plumbing: tables, the flexmix bridge, machine info, figures, CLI.

Correctness only; the timings themselves are measured by ``python -m moe.bench`` and the
workflow, never here.
"""

import os
import stat
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from moe import SGMLMoE
from moe.bench import (SECTIONS, machine_info, machine_summary, plot_section, resolve_settings,
                       run_section, summarize_section)
from moe.bench.__main__ import main
from moe.bench.flexmix import flexmix_loglik, flexmix_parameters, run_flexmix
from moe.bench.optimum import COLUMNS as OPTIMUM_COLUMNS
from moe.bench.optimum import DEFAULT_METHOD, METHODS
from moe.bench.scale import COLUMNS as SCALE_COLUMNS
from moe.bench.step_cost import COLUMNS as STEP_COLUMNS
from tests.helpers import sample_sgmlmoe

TINY_STEP = {"n": [300], "d": [3], "K": [2], "M": [2], "min_repeats": 2, "max_repeats": 2,
             "target_seconds": 0.0}
TINY_OPTIMUM = {"datasets": [{"n": 300, "d": 2, "K": 2, "M": 2, "n_init": 2}],
                "methods": ["mm_fixed", "mm_weighted_squarem", "em", "flexmix"],
                "mm_max_iter": 300, "em_max_iter": 30, "tol": 1e-9, "repeats": 2}
MACHINE_COLUMNS = ["machine", "load_before", "load_after"]


@pytest.fixture
def no_rscript(monkeypatch, tmp_path):
    """A PATH on which there is no Rscript, as on a machine without R."""
    monkeypatch.setenv("PATH", str(tmp_path))


def to_flexmix_layout(W, V):
    """Our (W, V) as flexmix's coefficient table: gate component 1 and expert class 1 at zero."""
    Wf, Vf = W - W[0], V - V[:, :1, :]
    K, M, p = V.shape
    rows = [("gate", k + 1, 0, j, Wf[k, j]) for k in range(K) for j in range(p)]
    rows += [("expert", k + 1, m + 1, j, Vf[k, m, j])
             for k in range(K) for m in range(1, M) for j in range(p)]
    return pd.DataFrame(rows, columns=["block", "component", "class", "column", "value"])


# ------------------------------------------------------------------ machine and settings
def test_machine_info_names_cpu_cores_blas_and_versions():
    info = machine_info()
    for key in ("cpu_model", "cores", "memory_gb", "blas", "blas_version", "blas_architecture",
                "blas_threads", "numpy", "scipy", "sklearn", "python", "moe", "flexmix"):
        assert key in info, key
    assert info["cores"] >= 1 and info["memory_gb"] > 0
    assert info["numpy"] == np.__version__
    summary = machine_summary(info, threads=1)
    assert info["cpu_model"] in summary and "1 BLAS thread" in summary


def test_settings_reject_unknown_keys_and_sections():
    assert resolve_settings("step_cost", {"n": [10]})["n"] == [10]
    assert resolve_settings("step_cost", {})["d"] == [10, 50, 200]
    with pytest.raises(ValueError, match="unknown settings \\['n_rows'\\]"):
        resolve_settings("step_cost", {"n_rows": 10})
    with pytest.raises(ValueError, match="unknown benchmark section 'speed'"):
        run_section("speed", {}, 0)


# ------------------------------------------------------------------ flexmix bridge
def test_flexmix_loglik_is_our_loglik_at_the_same_model():
    """flexmix's layout (first rows zero) and ours (last rows zero) are one model."""
    X, y, W, V = sample_sgmlmoe(150, 3, 3, 4, seed=2)
    coef = to_flexmix_layout(W, V)
    ours = SGMLMoE.from_parameters(W, V, np.arange(4)).loglik(X, y)
    assert flexmix_loglik(coef, X, y) == pytest.approx(ours, rel=1e-12)
    Wf, Vf = flexmix_parameters(coef)
    assert np.all(Wf[0] == 0) and np.all(Vf[:, 0] == 0)
    np.testing.assert_allclose(Wf - Wf[-1], W - W[-1], atol=1e-12)


def test_flexmix_loglik_by_hand_for_one_point():
    """K = 2, M = 2, p = 2 (intercept and one input), flexmix layout, computed by hand."""
    coef = pd.DataFrame(
        [("gate", 1, 0, 0, 0.0), ("gate", 1, 0, 1, 0.0), ("gate", 2, 0, 0, 0.5), ("gate", 2, 0, 1, -1.0),
         ("expert", 1, 2, 0, 1.0), ("expert", 1, 2, 1, 2.0), ("expert", 2, 2, 0, -1.0), ("expert", 2, 2, 1, 0.0)],
        columns=["block", "component", "class", "column", "value"])
    x, label = 0.3, 1  # label 1 is flexmix's class 2
    pi2 = np.exp(0.5 - x) / (1 + np.exp(0.5 - x))
    p1 = np.exp(1 + 2 * x) / (1 + np.exp(1 + 2 * x))
    p2 = np.exp(-1.0) / (1 + np.exp(-1.0))
    expected = np.log((1 - pi2) * p1 + pi2 * p2)
    assert flexmix_loglik(coef, np.array([[x]]), np.array([label])) == pytest.approx(expected, rel=1e-12)


def test_flexmix_is_marked_not_run_without_rscript(no_rscript):
    X, y, _, _ = sample_sgmlmoe(50, 2, 2, 2, seed=0)
    fit = run_flexmix(X, y, np.full((50, 2), 0.5), iter_max=5, tolerance=1e-6)
    assert fit.status == "not run" and "r-cran-flexmix" in fit.message
    assert fit.coef is None and np.isnan(fit.seconds)


def _fake_rscript(folder, body):
    """An executable ``Rscript`` that answers the version query and runs ``body`` (bash) for a fit;
    $6 is the output prefix the bridge passes."""
    path = folder / "Rscript"
    path.write_text("#!/bin/bash\n"
                    'if [ "$1" = "-e" ]; then printf 2.3.18; exit 0; fi\n' + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_a_flexmix_failure_is_reported_as_failed(monkeypatch, tmp_path):
    _fake_rscript(tmp_path, "\n".join([
        'printf \'"iter","loglik","seconds"\\n1,-40.5,0.1\\n2,-39.0,0.2\\n\' > "$6_trace.csv"',
        'printf \'"status","message","iter","converged","loglik","seconds"\\n'
        '"failed","   3 Log-likelihood: NA",2,FALSE,NA,0.25\\n\' > "$6_status.csv"',
    ]))
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    X, y, _, _ = sample_sgmlmoe(40, 2, 2, 2, seed=1)
    fit = run_flexmix(X, y, np.full((40, 2), 0.5), iter_max=5, tolerance=1e-6)
    assert fit.status == "failed" and fit.message == "3 Log-likelihood: NA"
    assert fit.coef is None and fit.n_iter == 2 and fit.seconds == 0.25
    assert fit.trace["loglik"].tolist() == [-40.5, -39.0]


def test_a_crashing_rscript_is_an_error_not_a_row(monkeypatch, tmp_path):
    _fake_rscript(tmp_path, 'echo "Error: object x not found" >&2; exit 1\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/usr/bin:/bin")
    X, y, _, _ = sample_sgmlmoe(40, 2, 2, 2, seed=1)
    with pytest.raises(RuntimeError, match="object x not found"):
        run_flexmix(X, y, np.full((40, 2), 0.5), iter_max=5, tolerance=1e-6)


# ------------------------------------------------------------------ sections
def test_step_cost_table_has_the_documented_columns():
    table = run_section("step_cost", TINY_STEP, seed=0)
    assert list(table.columns) == STEP_COLUMNS + MACHINE_COLUMNS
    assert sorted(table["curvature"]) == ["fixed", "weighted"]
    assert (table["step_seconds"] > 0).all() and (table["floor_seconds"] > 0).all()
    np.testing.assert_allclose(table["ratio"], table["step_seconds"] / table["floor_seconds"])
    np.testing.assert_array_equal(
        table["floor_seconds"], np.minimum(table["floor_whole_seconds"], table["floor_blocked_seconds"]))
    assert (table["threads"] == 1).all() and (table["repeats"] == 2).all()


@pytest.fixture(scope="module")
def optimum_without_r():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", "/nonexistent")
        return run_section("time_to_optimum", TINY_OPTIMUM, seed=3)


def test_time_to_optimum_targets_the_best_recomputed_loglik(optimum_without_r):
    table = optimum_without_r
    assert list(table.columns) == OPTIMUM_COLUMNS + MACHINE_COLUMNS
    runs = table.drop_duplicates(["method", "start"])
    ours = runs[runs["method"] != "flexmix"]
    assert len(runs) == 8 and (ours["status"] == "ok").all()
    best = runs["final_loglik"].max()
    assert (table["best_objective"] == best).all()  # no ridge: the objective is the log-likelihood
    np.testing.assert_array_equal(ours["final_objective"], ours["final_loglik"])
    # our traces end at the returned parameters, whose log-likelihood was recomputed
    np.testing.assert_allclose(ours["final_loglik"], ours["reported_loglik"], rtol=1e-12)
    threshold = best - 1e-6 * abs(best)
    for (method, start), run in table[table["method"] != "flexmix"].groupby(["method", "start"]):
        outcome = run["outcome"].iloc[0]
        assert (outcome == "reached") == (run["loglik"].max() >= threshold), (method, start)
        # the start's own target: the best objective any method reached from this start
        start_best = ours.loc[ours["start"] == start, "final_objective"].max()
        start_threshold = start_best - 1e-6 * abs(start_best)
        assert run["start_target_objective"].iloc[0] == pytest.approx(start_threshold, rel=1e-15)
        assert (run["start_outcome"].iloc[0] == "reached") == (run["loglik"].max() >= start_threshold)
        if outcome == "reached":
            assert run["start_outcome"].iloc[0] == "reached"
        assert np.all(np.diff(run["iter"]) >= 0) and np.all(np.diff(run["loglik"]) >= -1e-9 * abs(best))
        if outcome == "reached":
            # an accepted extrapolation shares its evaluation count with the step before it
            hit = run[(run["iter"] == run["iter_to_target"].iloc[0])
                      & (run["seconds"] == run["seconds_to_target"].iloc[0])]
            assert len(hit) == 1 and hit["loglik"].iloc[0] >= threshold
            assert run.loc[run["iter"] < hit["iter"].iloc[0], "loglik"].lt(threshold).all()


def test_time_to_optimum_marks_flexmix_not_run_and_counts_it(optimum_without_r):
    flexmix = optimum_without_r[optimum_without_r["method"] == "flexmix"]
    assert (flexmix["outcome"] == "not run").all() and flexmix["seconds_to_target"].isna().all()
    summary = summarize_section("time_to_optimum", optimum_without_r)
    row = summary[summary["method"] == "flexmix"].iloc[0]
    assert row["not run"] == 2 and row["reached"] == 0 and np.isnan(row["speedup_vs_flexmix"])
    counted = summary[["reached", "worse", "budget", "failed", "not run"]].sum(axis=1)
    assert (counted == summary["starts"]).all()


def test_the_bench_default_is_the_estimators_default():
    spec = METHODS[DEFAULT_METHOD]
    defaults = SGMLMoE().get_params()
    assert all(defaults[key] == value for key, value in spec.items())


def test_time_to_optimum_fits_more_experts_than_the_truth_with_a_ridge():
    settings = TINY_OPTIMUM | {"datasets": [{"n": 300, "d": 2, "K": 2, "M": 2, "n_init": 1,
                                              "n_experts": 3, "alpha": 0.5}]}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", "/nonexistent")
        table = run_section("time_to_optimum", settings, seed=3)
    assert (table["K"] == 3).all() and table["dataset"].str.endswith("(K0=2, alpha=0.5)").all()
    flexmix = table[table["method"] == "flexmix"]
    assert (flexmix["message"] == "flexmix fits no ridge").all()
    ours = table[table["method"] != "flexmix"].drop_duplicates("method")
    assert (ours["status"] == "ok").all()
    # the traces are the penalised objective, which the recomputed log-likelihood exceeds
    assert (ours["final_loglik"] > ours["reported_loglik"]).all()
    # the target is the best penalised objective, recomputed: L - alpha/2 |slopes|^2 at the
    # returned parameters (the traces' last value), so the run that ends highest reaches it
    np.testing.assert_allclose(ours["final_objective"], ours["reported_loglik"], rtol=1e-12)
    assert (table["best_objective"] == ours["final_objective"].max()).all()
    assert (ours.loc[ours["final_objective"].idxmax(), "outcome"] == "reached")


def test_speedups_are_paired_medians_per_data_set_and_over_all():
    rows = [  # seconds to L* and to the start's own best L*_j; None = did not reach it
        ("a", 0, "em", 1.0, 1.0), ("a", 0, "mm", 0.25, 0.25), ("a", 1, "em", 3.0, 3.0),
        ("a", 1, "mm", 1.0, 1.0), ("a", 2, "em", 2.0, 2.0), ("a", 2, "mm", None, None),
        ("b", 0, "em", 10.0, 10.0), ("b", 0, "mm", 1.0, 1.0), ("b", 1, "em", None, 4.0),
        ("b", 1, "mm", 0.1, 0.1), ("b", 2, "em", None, 3.0), ("b", 2, "mm", None, 1.5),
    ]
    table = pd.DataFrame([{"dataset": d, "start": j, "method": m, "seconds_to_target": t,
                           "iter_to_target": None if t is None else 1, "outcome":
                           "budget" if t is None else "reached", "status": "ok",
                           "seconds_to_start_target": tj,
                           "start_outcome": "worse" if tj is None else "reached",
                           "total_seconds": 1.0, "total_iter": 1, "best_objective": -1.0}
                          for d, j, m, t, tj in rows])
    summary = summarize_section("time_to_optimum", table).set_index(["dataset", "method"])
    assert summary.loc[("a", "mm"), "speedup_vs_em"] == 3.5  # median of 4 and 3
    assert summary.loc[("b", "mm"), "speedup_vs_em"] == 10.0  # start 1: EM did not reach it
    assert summary.loc[("all", "mm"), "speedup_vs_em"] == 4.0  # median of 4, 3 and 10
    assert summary.loc[("all", "mm"), "reached"] == 4 and summary.loc[("all", "mm"), "starts"] == 6
    # to each start's own best: b's starts 1 and 2 count too (ratios 40 and 2)
    assert summary.loc[("b", "mm"), "speedup_vs_em_start_best"] == 10.0  # median of 10, 40, 2
    assert summary.loc[("all", "mm"), "speedup_vs_em_start_best"] == 4.0  # of 4, 3, 10, 40, 2
    assert summary.loc[("all", "mm"), "reached_start_best"] == 5
    assert summary.loc[("all", "em"), "reached_start_best"] == 6


def test_scale_runs_from_an_unguarded_script(tmp_path):
    # a Snakemake script has no `if __name__ == "__main__"`: the fresh fit process must not
    # re-run it (multiprocessing's spawn did, and the parent then waited forever)
    script = tmp_path / "job.py"
    script.write_text(
        "from moe.bench import run_section\n"
        "table = run_section('scale', {'n': 200, 'd': 2, 'K': 2, 'M': 2, 'threads': 1,\n"
        "                    'dtypes': ['float64'], 'model': {'n_init': 1, 'max_iter': 5}}, 0)\n"
        "print('rows', len(table), table['status'].tolist())\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "rows 1 ['ok']" in done.stdout


def test_scale_reports_the_fit_process_own_peak_memory():
    """The fit process is started after this one has held 512 MiB: its peak is its own (a
    small fit's, about 0.15 GiB), not this process's (ru_maxrss carries it across exec)."""
    ballast = np.ones(2**26)  # 512 MiB, touched
    del ballast
    settings = {"n": 400, "d": 3, "K": 2, "M": 2, "threads": 1, "dtypes": ["float64"],
                "model": {"n_init": 1, "max_iter": 5, "tol": 1e-6}}
    row = run_section("scale", settings, seed=5).iloc[0]
    assert 0 < row["data_rss_gb"] <= row["peak_rss_gb"] < 0.4, row["peak_rss_gb"]


def test_scale_fit_in_a_fresh_process_reproduces_the_in_process_fit():
    settings = {"n": 400, "d": 3, "K": 2, "M": 2, "threads": 1, "dtypes": ["float64", "float32"],
                "model": {"n_init": 1, "max_iter": 20, "tol": 1e-6}}
    table = run_section("scale", settings, seed=5)
    assert list(table.columns) == SCALE_COLUMNS + MACHINE_COLUMNS
    row = table.iloc[0]
    assert row["status"] == "ok" and row["peak_rss_gb"] >= row["data_rss_gb"] > 0
    from moe.simulate import synthetic_data

    X, y, _ = synthetic_data(400, 3, 2, 2, seed=5)
    model = SGMLMoE(2, n_threads=1, random_state=5, n_init=1, max_iter=20, tol=1e-6).fit(X, y)
    assert row["loglik"] == model.loglik_ and row["n_iter"] == model.n_iter_
    single = table.iloc[1]
    assert single["dtype"] == "float32" and single["status"] == "ok"
    assert abs(single["loglik_minus_float64"]) < 1e-3 * abs(row["loglik"])


def test_every_section_draws_its_figure(optimum_without_r, tmp_path):
    tables = {
        "step_cost": pd.DataFrame({"n": [100, 1000] * 2, "d": 5, "K": 2, "M": 2,
                                   "curvature": ["fixed"] * 2 + ["weighted"] * 2,
                                   "step_seconds": [1e-4, 1e-3, 2e-4, 2e-3],
                                   "floor_seconds": [5e-5, 5e-4] * 2, "threads": 1}),
        "time_to_optimum": optimum_without_r,
        "selection_cost": pd.DataFrame({
            "n": 100, "d": 2, "K0": 2, "M": 2, "k_bar": 4, "repeat": [0, 0, 1, 1],
            "method": ["overfit + dendrogram", "sweep K=1..4"] * 2, "criterion": ["dsc", "bic"] * 2,
            "seconds": [1.0, 3.0, 1.2, 2.8], "selected_k": [2, 2, 2, 3]}),
        "scale": pd.DataFrame({"n": 10, "d": 2, "K": 2, "M": 2, "threads": 2,
                               "dtype": ["float64", "float32"], "status": ["ok", "not available"],
                               "seconds": [60.0, np.nan], "data_rss_gb": [0.5, np.nan],
                               "peak_rss_gb": [2.0, np.nan]}),
    }
    assert set(tables) == set(SECTIONS)
    for name, table in tables.items():
        path = tmp_path / f"{name}.png"
        plot_section(name, table, path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_the_command_line_prints_and_saves_a_section(tmp_path, capsys):
    import json

    assert main(["step_cost", "--settings", json.dumps({"step_cost": TINY_STEP}),
                 "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "== step_cost" in printed and "floor_ms" in printed
    saved = pd.read_csv(tmp_path / "step_cost.csv")
    assert list(saved.columns) == STEP_COLUMNS + MACHINE_COLUMNS
    assert json.loads((tmp_path / "machine.json").read_text())["cores"] >= 1
    assert (tmp_path / "step_cost.png").stat().st_size > 0
    with pytest.raises(SystemExit, match="unknown sections \\['speed'\\]"):
        main(["speed"])


def test_selection_cost_times_both_paths_on_the_same_data():
    from moe.simulate import synthetic_data
    from moe.bench.selection_cost import COLUMNS as SELECTION_COLUMNS
    from moe.selection import best_k, sweep

    model = {"n_init": 1, "max_iter": 40, "tol": 1e-6}
    settings = {"n": 300, "d": 2, "K0": 2, "M": 2, "k_bar": 3, "repeats": 1,
                "criteria": ["bic", "aic"], "model": model}
    table = run_section("selection_cost", settings, seed=4)
    assert list(table.columns) == SELECTION_COLUMNS + MACHINE_COLUMNS
    assert table["method"].tolist() == ["overfit + dendrogram", "sweep K=1..3", "sweep K=1..3"]
    assert table["selected_k"].between(1, 3).all() and (table["seconds"] > 0).all()
    sweeps = table[table["criterion"] != "dsc"]
    assert sweeps["seconds"].nunique() == 1  # one sweep serves every criterion
    X, y, _ = synthetic_data(300, 2, 2, 2, seed=4)
    estimator = SGMLMoE(**model, random_state=4000, n_threads=1)
    again = sweep(X, y, 3, criteria=("bic", "aic"), estimator=estimator)
    for criterion in ("bic", "aic"):
        picked = sweeps.loc[sweeps["criterion"] == criterion, "selected_k"].iloc[0]
        assert picked == best_k(again, criterion)
    summary = summarize_section("selection_cost", table)
    assert summary.loc[summary["criterion"] == "dsc", "time_vs_dendrogram"].iloc[0] == 1.0
