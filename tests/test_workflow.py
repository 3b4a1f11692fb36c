"""The Snakemake workflow: dry-runs, lint, schema errors, one end-to-end run (SLURM: test_slurm.py).

Every run works in a temporary directory (``--directory``), so nothing lands
in the repository's results/. Snakemake is started from pytest's own working
directory, as a user would start it, so a relative mirror (``MOE_DATA_MIRROR``)
is passed on unchanged and resolved by the workflow itself.
"""

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from moe.baselines import MODELS
from moe.bench import summarize_section
from moe.metrics import METRICS

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "config" / "config.yaml"
TEST_CONFIG = REPO / "config" / "test.yaml"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
SLURM_PROFILE = REPO / "workflow" / "profiles" / "slurm"


def snakemake(workdir, *args, configfiles=(CONFIG,), env=None, timeout=600, cwd=None):
    """Run Snakemake on the repository's Snakefile in ``workdir``, started from
    ``cwd`` (default: the directory pytest runs in), with Snakemake's own scheduling
    timespan: with the profile's (one minute) a run whose job fails exits up to a minute
    after it."""
    command = [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir),
        "--max-jobs-per-timespan", "100/1s",
        "--configfile", *map(str, configfiles),
        *args,
    ]
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout
    )
    result.output = result.stdout + result.stderr
    return result


def job_counts(output: str) -> dict:
    """The 'Job stats' table of a Snakemake run or dry-run."""
    block = output.split("Job stats:")[1].split("\n\n")[0]
    counts = {}
    for line in block.splitlines()[3:]:
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    return counts


def write_yaml(path, data):
    path.write_text(yaml.safe_dump(data))
    return path


# -- static checks ------------------------------------------------------------


def test_default_config_dry_run_plans_the_full_benchmark(tmp_path):
    result = snakemake(tmp_path, "--dry-run")
    assert result.returncode == 0, result.output
    config = yaml.safe_load(CONFIG.read_text())
    n_datasets, n_splits = len(config["datasets"]), len(config["splits"])
    n_models = len(config["models"]["run"])
    n_calibrated = sum(MODELS[m].calibration is not None for m in config["models"]["run"])
    counts = job_counts(result.output)
    # each job fits every fold; calibrated models reuse their base's fit
    assert counts["fit"] == n_datasets * n_splits * (n_models - n_calibrated)
    assert counts["calibrate"] == n_datasets * n_splits * n_calibrated
    assert counts["evaluate"] == n_datasets * n_splits * n_models
    assert counts["download"] == n_datasets and counts["features"] == n_datasets
    assert counts["aggregate"] == 1
    assert "bench_run" not in counts  # behind bench.enabled
    blocks = re.split(r"\n(?=(?:local)?rule \w+:)", result.output)
    # the EM sweep takes the MM MoE's alpha: the MM fits start first, so it does not run last
    fits = [b for b in blocks if b.startswith("rule fit:")]
    first = {re.search(r"model=(\w+)", b).group(1) for b in fits if "priority: 1" in b}
    assert first == {"moe_mm_dsc"}
    # the whole-dataset fits wait for the alpha the MM MoE's folds chose
    for rule in ("select_dsc", "select_sweep", "solver_traces"):
        (block, *_) = [b for b in blocks if b.startswith(f"rule {rule}:")]
        assert "/moe_mm_dsc/fold0.json" in re.search(r"input: (.*)", block).group(1)


def test_parsing_the_workflow_imports_no_scikit_learn(tmp_path):
    """Every snakemake command parses the Snakefile, and so does every cluster job, twice: the
    parse's imports (model registry, tuning plans, the anchor's tables) leave scikit-learn,
    XGBoost and SciPy's optimisers to the jobs that fit. With them a dry run took 4.4 s of CPU
    instead of 2.5 s (docs/performance.md)."""
    command = [
        sys.executable, "-X", "importtime", "-m", "snakemake", "--dry-run",
        "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
        "--configfile", str(CONFIG),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    imported = {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert {"pandas", "moe.baselines", "moe.tuning", "moe.ppi.anchor"} <= imported
    assert not imported & {"sklearn", "xgboost", "scipy.optimize"}


def test_bench_target_exists(tmp_path):
    result = snakemake(tmp_path, "--dry-run", "bench")
    assert result.returncode == 0, result.output
    sections = yaml.safe_load(CONFIG.read_text())["bench"]["sections"]
    counts = job_counts(result.output)
    assert counts["bench_run"] == counts["bench_summary"] == len(sections)


def test_bench_writes_the_summary_it_quotes(tmp_path):
    # one small section run for real: the summary is the library's summary of the run's table
    settings = {"datasets": [{"n": 300, "d": 2, "K": 2, "M": 2, "n_init": 2}],
                "methods": ["mm_weighted_squarem", "em"], "mm_max_iter": 300,
                "em_max_iter": 30, "tol": 1e-9, "repeats": 1}
    override = write_yaml(tmp_path / "bench.yaml",
                          {"bench": {"sections": ["time_to_optimum"],
                                     "settings": {"time_to_optimum": settings}}})
    result = snakemake(tmp_path, "--cores", "1", "results/bench/summary/time_to_optimum.csv",
                       configfiles=(CONFIG, override))
    assert result.returncode == 0, result.output
    table = pd.read_csv(tmp_path / "results/bench/time_to_optimum.csv")
    summary = pd.read_csv(tmp_path / "results/bench/summary/time_to_optimum.csv")
    expected = summarize_section("time_to_optimum", table)
    pd.testing.assert_frame_equal(summary, expected, check_dtype=False)
    assert set(summary["method"]) == {"mm_weighted_squarem", "em"}
    assert (summary["starts"] > 0).all()


def test_slurm_profile_dry_run(tmp_path):
    result = snakemake(
        tmp_path, "--dry-run", "--executor", "slurm", "--workflow-profile", str(SLURM_PROFILE)
    )
    assert result.returncode == 0, result.output
    # the profile's per-rule requests replace the local ones (config: 4000 MB, 60 min)
    fits = re.findall(r"rule fit:\n(?:    .*\n)*?    resources: (.*)", result.output)
    assert fits and all("mem_mb=6000," in r and "runtime=60" in r for r in fits)
    features = re.findall(r"rule features:\n(?:    .*\n)*?    resources: (.*)", result.output)
    assert features and all("mem_mb=3000," in r and "runtime=15" in r for r in features)


def test_lint_is_clean(tmp_path):
    result = snakemake(tmp_path, "--lint")
    assert result.returncode == 0, result.output
    assert "Congratulations" in result.output


def test_snakefmt_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow"],
        cwd=REPO, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_model_names_match_the_registry():
    schema = yaml.safe_load(SCHEMA.read_text())
    assert tuple(schema["$defs"]["model_name"]["enum"]) == tuple(MODELS)
    assert set(schema["properties"]["models"]["properties"]["settings"]["properties"]) == set(MODELS)


def _schema_keys(node, out):
    for key, sub in (node.get("properties") or {}).items():
        out.add(key)
        _schema_keys(sub, out)
    return out


def test_config_readme_documents_every_key():
    readme = (REPO / "config" / "README.md").read_text()
    schema = yaml.safe_load(SCHEMA.read_text())
    keys = _schema_keys(schema, set())
    for definition in schema["$defs"].values():
        _schema_keys(definition, keys)
    for model_settings in schema["properties"]["models"]["properties"]["settings"]["properties"].values():
        keys |= set((model_settings.get("properties") or {}))
    missing = sorted(k for k in keys if f"`{k}`" not in readme)
    assert not missing, f"config/README.md does not document {missing}"


# -- bad configuration --------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"models": {"run": ["moe_mm_dsc", "gbm"]}}, "'gbm' is not one of"),
        ({"datasets": ["yeast"]}, "'yeast' is not one of"),
        ({"n_folds": "five"}, "'five' is not of type 'integer'"),
        ({"pca_dim": -3}, "-3 is less than the minimum of 1"),
        ({"evaluation": {"n_resamples": 0}}, "0 is less than the minimum of 1"),
        ({"pca_dims": 8}, "('pca_dims' was unexpected)"),
        ({"models": {"run": ["logreg"], "reference": "moe_mm_dsc"}},
         "models.reference='moe_mm_dsc' must be one of models.run"),
        # pass the schema, cannot work: stopped before any job, naming the key
        ({"pca_dim": 100000}, "config: pca_dim=100000 is more than the 334 features"),
        ({"n_folds": 200}, "config: data.guo_yeast.max_pairs=300 leaves fewer than two pairs"
                           " per fold for n_folds=200"),
        ({"cache_dir": str(REPO / "Snakefile")},
         f"config: cache_dir={str(REPO / 'Snakefile')!r} exists and is not a directory"),
    ],
)
def test_invalid_config_fails_before_any_job(tmp_path, override, message):
    bad = write_yaml(tmp_path / "bad.yaml", override)
    result = snakemake(tmp_path, "--cores", "1", configfiles=(TEST_CONFIG, bad))
    assert result.returncode != 0
    assert message in result.output
    assert not any((tmp_path / d).exists() for d in ("resources", "results", "logs"))


def test_missing_mirror_is_named_before_any_job(tmp_path):
    # relative to the directory snakemake is started from, not to --directory
    start = tmp_path / "start"
    start.mkdir()
    result = snakemake(
        tmp_path / "work", "--cores", "1", "--config", "mirror=../missing",
        configfiles=(TEST_CONFIG,), cwd=start,
    )
    assert result.returncode != 0
    assert f"config: mirror={str(tmp_path / 'missing')!r} is not a directory" in result.output
    assert not (tmp_path / "work" / "resources").exists()


def _copy_of_the_repository(dest):
    """The files a user's clone needs to run the workflow (the package is installed)."""
    dest.mkdir()
    for name in ("Snakefile", "workflow", "config", "profiles"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dest / name)
        else:
            shutil.copy2(source, dest / name)
    return dest


def _planned_fits(output):
    """(wildcards, runtime, mem_mb) of every planned fit job of a dry-run."""
    return sorted(
        re.findall(
            r"rule fit:\n(?:    .*\n)*?    wildcards: (.*)\n"
            r"(?:    priority: .*\n)?    resources: .*runtime=(\d+), mem_mb=(\d+),",
            output,
        )
    )


def test_configfile_alone_gives_the_schema_defaults_from_any_directory(tmp_path):
    from snakemake.utils import validate

    defaults = {}
    validate(defaults, str(SCHEMA))  # fills every default
    fit_resources = defaults["resources"]["default"]
    # the check can fail: the full run asks more for its fits than the default
    full = yaml.safe_load(CONFIG.read_text())
    assert full["resources"]["fit"] != fit_resources and "fit" not in defaults["resources"]
    expected = sorted(
        (f"dataset=guo_yeast, split={split}, model={model}",
         str(fit_resources["runtime"]), str(fit_resources["mem_mb"]))
        for split in defaults["splits"] for model in defaults["models"]["run"]
        if MODELS[model].calibration is None  # calibrated models: a calibrate job, no fit
    )
    clone = _copy_of_the_repository(tmp_path / "clone")
    mine = write_yaml(tmp_path / "mine.yaml", {"datasets": ["guo_yeast"]})
    # from the repository's root, without --snakefile or --directory
    root = subprocess.run(
        [sys.executable, "-m", "snakemake", "--dry-run", "--configfile", str(mine)],
        cwd=clone, capture_output=True, text=True, timeout=600,
    )
    assert root.returncode == 0, root.stdout + root.stderr
    assert _planned_fits(root.stdout + root.stderr) == expected
    # from elsewhere, the same plan
    elsewhere = snakemake(tmp_path / "work", "--dry-run", configfiles=(mine,), cwd=tmp_path)
    assert elsewhere.returncode == 0, elsewhere.output
    assert _planned_fits(elsewhere.output) == expected


# -- runs on the real data ------------------------------------------------------

@pytest.mark.data
def test_relative_mirror_and_cache_resolve_against_the_start_directory(tmp_path, data_mirror):
    start = tmp_path / "start"
    start.mkdir()
    mirror = os.path.relpath(data_mirror.resolve(), start)
    target = "resources/guo_yeast/dataset.json"
    result = snakemake(
        tmp_path / "work", "--cores", "1", "--config", f"mirror={mirror}", "cache_dir=cache",
        "--", target, configfiles=(TEST_CONFIG,), cwd=start,
    )
    assert result.returncode == 0, result.output[-3000:]
    assert (tmp_path / "work" / target).is_file()
    assert (start / "cache" / "guo_yeast_core" / "raw").is_dir()
    assert not (tmp_path / "work" / "cache").exists()


@pytest.fixture(scope="module")
def e2e(tmp_path_factory, data_mirror):
    """One run of config/test.yaml on the real data, and its report."""
    work = tmp_path_factory.mktemp("e2e")
    mirror = f"mirror={data_mirror}"
    run = snakemake(work, "--cores", "2", "--config", mirror, configfiles=(TEST_CONFIG,))
    assert run.returncode == 0, run.output[-5000:]
    report = snakemake(
        work, "--report", "results/report.zip", "--config", mirror, configfiles=(TEST_CONFIG,)
    )
    assert report.returncode == 0, report.output[-3000:]
    return work, mirror


@pytest.mark.data
def test_e2e_metrics_table(e2e):
    work, _ = e2e
    config = yaml.safe_load(TEST_CONFIG.read_text())
    table = pd.read_csv(work / "results/tables/ppi_metrics.csv")
    assert list(table.columns) == ["dataset", "split", "model", "fold", "metric", "value"]
    assert set(table["dataset"]) == set(config["datasets"])
    assert set(table["split"]) == set(config["splits"])
    assert set(table["model"]) == set(config["models"]["run"])
    assert set(table["fold"]) == set(range(config["n_folds"]))
    assert set(table["metric"]) == set(METRICS)
    assert np.all(np.isfinite(table["value"]))
    n = len(config["datasets"]) * len(config["splits"]) * len(config["models"]["run"])
    assert len(table) == n * config["n_folds"] * len(METRICS)


@pytest.mark.data
def test_e2e_summary_tables(e2e):
    work, _ = e2e
    summary = pd.read_csv(work / "results/tables/ppi_summary.csv")
    assert np.all(np.isfinite(summary[["mean", "pooled", "lower", "upper"]].to_numpy()))
    others = summary[summary["model"] != "moe_mm_dsc"]
    assert np.all(np.isfinite(others[["diff", "diff_lower", "diff_upper"]].to_numpy()))
    assert (others["verdict"] != "").all()
    text = (work / "results/tables/ppi_summary.md").read_text()
    assert "## Where moe_mm_dsc loses" in text
    assert r"\begin{tabular}" in (work / "results/tables/ppi_summary.tex").read_text()
    times = pd.read_csv(work / "results/tables/ppi_fit_times.csv")
    assert (times["fit_seconds"] > 0).all()
    assert times.loc[times["model"] == "moe_mm_dsc", "selected_k"].between(1, 4).all()
    selection = pd.read_csv(work / "results/tables/ppi_selection.csv")
    assert list(selection.columns) == ["dataset", "k_bar", "dsc", "aic", "bic", "hqc", "icl"]
    experts = pd.read_csv(work / "results/tables/ppi_experts.csv")
    assert np.allclose(experts.groupby(["dataset", "expert"])["probability"].sum(), 1.0)


def _png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.data
def test_e2e_figures(e2e):
    work, _ = e2e
    figures = sorted(p.name for p in (work / "results/figures").iterdir())
    assert figures == sorted(
        [
            "accuracy_vs_ece.png", "fit_times.png", "solver_traces.png", "expert_structure.png",
            "dendrogram_guo_yeast.png", "dendrogram_shs27k.png",
            *(f"reliability_{d}_{s}.png" for d in ("guo_yeast", "shs27k")
              for s in ("random", "protein_disjoint")),
        ]
    )
    assert all(_png(work / "results/figures" / name) for name in figures)


@pytest.mark.data
def test_e2e_synthetic_study(e2e):
    work, _ = e2e
    for name in yaml.safe_load(TEST_CONFIG.read_text())["synthetic"]["experiments"]:
        table = pd.read_csv(work / f"results/synthetic/{name}.csv")
        assert len(table) > 0, name
        assert _png(work / f"results/synthetic/{name}.png"), name
        summary = (work / f"results/synthetic/{name}.md").read_text()
        assert summary.startswith(("Replicates", "Median", "|")) and "---|" in summary, name


@pytest.mark.data
def test_e2e_report_holds_every_table_and_figure(e2e):
    work, _ = e2e
    with zipfile.ZipFile(work / "results/report.zip") as archive:
        names = {Path(name).name for name in archive.namelist()}
    expected = {p.name for p in (work / "results/figures").iterdir()}
    expected |= {p.name for p in (work / "results/synthetic").iterdir()}
    expected |= {p.name for p in (work / "results/tables").iterdir()}
    assert expected <= names, sorted(expected - names)


@pytest.mark.data
def test_e2e_logs_and_benchmarks(e2e):
    work, _ = e2e
    log = (work / "logs/fit/guo_yeast/random/logreg.log").read_text()
    assert "fold 1: tuning" in log and ", fit " in log and "done" in log
    bench = pd.read_csv(work / "benchmarks/fit/guo_yeast/random/logreg.tsv", sep="\t")
    assert bench["s"].iloc[0] > 0
    runtimes = pd.read_csv(work / "results/tables/workflow_runtimes.csv").set_index("rule")
    config = yaml.safe_load(TEST_CONFIG.read_text())
    n = len(config["datasets"]) * len(config["splits"]) * len(config["models"]["run"])
    n_calibrated = len(config["datasets"]) * len(config["splits"]) * sum(
        MODELS[m].calibration is not None for m in config["models"]["run"]
    )
    assert runtimes.loc["fit", "jobs"] == n - n_calibrated
    assert runtimes.loc["evaluate", "jobs"] == n
    # every job measured itself; Snakemake's samples can exceed that only by the interpreter's
    # exit after the usage line (a few tenths of a second a job, 0.52 s once under the suite's load)
    assert runtimes["cpu_seconds"].notna().all() and runtimes["max_rss_mb"].notna().all()
    slack = 1.0 * runtimes["jobs"]
    assert (runtimes["sampled_cpu_seconds"] <= runtimes["cpu_seconds"] + slack).all()


@pytest.mark.data
def test_e2e_rerun_is_a_no_op_and_a_setting_reruns_only_its_model(e2e, tmp_path):
    work, mirror = e2e
    again = snakemake(work, "--dry-run", "--config", mirror, configfiles=(TEST_CONFIG,))
    assert again.returncode == 0 and "Nothing to be done" in again.output, again.output[-3000:]
    changed = write_yaml(tmp_path / "c.yaml", {"models": {"settings": {"logreg": {"C": 0.5}}}})
    plan = snakemake(work, "--dry-run", "--config", mirror, configfiles=(TEST_CONFIG, changed))
    assert plan.returncode == 0, plan.output[-3000:]
    fits = re.findall(r"rule fit:\n(?:    .*\n)*?    wildcards: .*model=(\w+)", plan.output)
    assert sorted(fits) == ["logreg"] * 4  # two datasets x two splits
    assert job_counts(plan.output)["fit"] == 4


@pytest.mark.data
def test_e2e_n_folds_is_checked_against_prepared_data_before_any_job(e2e, tmp_path):
    work, mirror = e2e
    labels = pd.read_csv(work / "resources/shs27k/pairs.tsv", sep="\t")["label"]
    smallest = int(labels.value_counts().min())
    assert 2 * (smallest + 1) <= 300  # the static check (two pairs per fold) passes
    bad = write_yaml(tmp_path / "bad.yaml", {"n_folds": smallest + 1})
    before = sorted(p.stat().st_mtime_ns for p in (work / "resources").rglob("*"))
    result = snakemake(work, "--cores", "1", "--config", mirror, configfiles=(TEST_CONFIG, bad))
    assert result.returncode != 0
    assert f"config: n_folds={smallest + 1} is more than the {smallest} pairs of class" in result.output
    assert sorted(p.stat().st_mtime_ns for p in (work / "resources").rglob("*")) == before


@pytest.mark.data
def test_e2e_tuning_table_records_every_fold_and_model(e2e):
    work, _ = e2e
    config = yaml.safe_load(TEST_CONFIG.read_text())
    table = pd.read_csv(work / "results/tables/ppi_tuning.csv", keep_default_na=False,
                        na_values=[""])
    assert list(table.columns) == [
        "dataset", "split", "fold", "model", "candidate", "parameter", "value",
        "inner_score", "chosen", "n_inner", "note",
    ]
    keys = ["dataset", "split", "fold"]
    n_folds = len(config["datasets"]) * len(config["splits"]) * config["n_folds"]
    for model, grid in config["tuning"]["grids"].items():
        rows = table[table["model"] == model]
        (parameter,) = grid
        scored = rows[rows["parameter"] == parameter]
        values = sorted(grid[parameter])
        for _, fold in scored.groupby(keys):
            # the grid, then at most `extend` values beyond the edge where the grid's best was
            on_grid = fold[fold["candidate"] < len(values)]
            added = fold[fold["candidate"] >= len(values)]
            assert sorted(on_grid["value"].astype(float)) == values and on_grid["note"].isna().all()
            assert len(added) <= config["tuning"]["extend"]
            assert (added["note"] == "added beyond the grid's edge").all()
            if len(added):
                edge = float(on_grid.loc[on_grid["inner_score"].idxmin(), "value"])
                assert edge in (values[0], values[-1])
                beyond = added["value"].astype(float)
                assert (beyond > values[-1]).all() if edge == values[-1] else (beyond < values[0]).all()
        assert np.isfinite(scored["inner_score"]).all()
        assert (scored["n_inner"] == 1).all()  # default scale: one inner holdout
        # exactly one chosen candidate per fold, the one with the least inner log-loss
        chosen = scored[scored["chosen"]].set_index(keys)
        assert len(chosen) == n_folds
        best = scored.groupby(keys)["inner_score"].min()
        np.testing.assert_allclose(chosen["inner_score"].sort_index(), best.sort_index())
    # moe_em_bic takes moe_mm_dsc's chosen alpha, fold by fold
    em = table[(table["model"] == "moe_em_bic") & (table["parameter"] == "alpha")]
    mm = table[(table["model"] == "moe_mm_dsc") & (table["parameter"] == "alpha") & table["chosen"]]
    merged = em.merge(mm, on=keys, suffixes=("_em", "_mm"))
    assert len(merged) == n_folds and (merged["value_em"] == merged["value_mm"]).all()
    assert merged["note_em"].str.contains("moe_mm_dsc").all()
    # every model that is not calibrated records its representation
    representation = table[table["parameter"] == "representation"]
    fitted = [m for m in config["models"]["run"] if MODELS[m].calibration is None]
    assert set(representation["model"]) == set(fitted)
    assert set(representation.loc[representation["model"] == "probe", "value"]) == {"proteins"}
    # the calibrated model: its temperature and inner log-loss, its base named, no base rows
    calibrated = table[table["model"] == "moe_mm_temperature"]
    assert len(calibrated) == n_folds and set(calibrated["parameter"]) == {"temperature"}
    assert (calibrated["value"].astype(float) > 0).all()
    assert calibrated["note"].str.contains("base moe_mm_dsc").all()


@pytest.mark.data
def test_e2e_calibrated_moe_rescales_its_base_predictions(e2e):
    work, _ = e2e
    from scipy.special import log_softmax

    from moe.io import read_json

    table = pd.read_csv(work / "results/tables/ppi_tuning.csv")
    for dataset, split, fold in [("guo_yeast", "random", 0), ("shs27k", "protein_disjoint", 1)]:
        folder = work / "results/ppi/predictions" / dataset / split
        base = pd.read_csv(folder / f"moe_mm_dsc/fold{fold}.csv", keep_default_na=False)
        inner = pd.read_csv(folder / f"moe_mm_dsc/fold{fold}_inner.csv", keep_default_na=False)
        calibrated = pd.read_csv(folder / f"moe_mm_temperature/fold{fold}.csv",
                                 keep_default_na=False)
        columns = [c for c in base.columns if c.startswith("proba_")]
        assert len(inner) > 0 and not set(inner["pair_index"]) & set(base["pair_index"])
        pd.testing.assert_frame_equal(calibrated.drop(columns=columns), base.drop(columns=columns))
        info = read_json(folder / f"moe_mm_temperature/fold{fold}.json")
        T = info["calibrator"]["value"]
        row = table[(table["model"] == "moe_mm_temperature") & (table["dataset"] == dataset)
                    & (table["split"] == split) & (table["fold"] == fold)]
        assert float(row["value"].iloc[0]) == pytest.approx(T)
        logp = np.log(np.clip(base[columns].to_numpy(), np.finfo(float).eps, 1))
        expected = np.exp(log_softmax(logp / T, axis=1))
        np.testing.assert_allclose(calibrated[columns].to_numpy(), expected, atol=1e-12)
        assert info["details"]["selected_k"] == read_json(
            folder / f"moe_mm_dsc/fold{fold}.json")["details"]["selected_k"]


@pytest.mark.data
def test_e2e_a_tuning_grid_reruns_exactly_the_models_it_affects(e2e, tmp_path):
    work, mirror = e2e

    def planned(grids):
        changed = write_yaml(tmp_path / "g.yaml", {"tuning": {"grids": grids}})
        plan = snakemake(work, "--dry-run", "--config", mirror, configfiles=(TEST_CONFIG, changed))
        assert plan.returncode == 0, plan.output[-3000:]
        pattern = r"rule (fit|calibrate):\n(?:    .*\n)*?    wildcards: .*model=(\w+)"
        return sorted(re.findall(pattern, plan.output))

    assert planned({"logreg": {"C": [0.1, 2.0]}}) == [("fit", "logreg")] * 4
    # moe_em_bic takes moe_mm_dsc's chosen alpha; moe_mm_temperature calibrates moe_mm_dsc
    assert planned({"moe_mm_dsc": {"alpha": [1.0, 3.0]}}) == sorted(
        [("calibrate", "moe_mm_temperature")] * 4 + [("fit", "moe_em_bic")] * 4
        + [("fit", "moe_mm_dsc")] * 4
    )


def _png_size(path):
    """(width, height) from a PNG's IHDR chunk."""
    header = path.read_bytes()[:24]
    return int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")


@pytest.mark.data
def test_e2e_literature_anchor_table(e2e):
    work, _ = e2e
    table = pd.read_csv(work / "results/tables/literature_anchors.csv")
    assert list(table.columns) == [
        "dataset", "protocol", "representation", "model", "metric", "ours", "ours_sd", "published",
        "published_sd", "n_pairs", "n_folds", "chosen_C", "chosen_gamma", "source",
    ]
    anchor = yaml.safe_load(TEST_CONFIG.read_text())["anchor"]
    assert list(table["dataset"]) == ["guo_yeast"] * len(anchor["representations"])
    assert table["ours"].between(0, 1).all() and np.isfinite(table["ours_sd"]).all()
    assert (table["n_pairs"] == 300).all() and (table["n_folds"] == anchor["n_folds"]).all()
    assert list(table["representation"]) == anchor["representations"]
    guo = table.iloc[0]
    assert (guo["published"], guo["published_sd"]) == (0.8736, 0.0138)
    assert "doi:10.1093/nar/gkn159" in guo["source"]
    chosen = {float(c) for row in table["chosen_C"] for c in row.split(";")}
    assert chosen <= set(anchor["grid"]["C"])


@pytest.mark.data
def test_e2e_c3_panels(e2e):
    work, _ = e2e
    figures = work / "results/figures"
    for dataset in ("guo_yeast", "shs27k"):
        # the protein-disjoint figure has the C3 rows below the rows of all test pairs
        random = _png_size(figures / f"reliability_{dataset}_random.png")
        disjoint = _png_size(figures / f"reliability_{dataset}_protein_disjoint.png")
        assert abs(disjoint[0] - random[0]) < 0.05 * random[0]  # same columns, tight bbox
        assert disjoint[1] > 1.7 * random[1]
    # one row per dataset: random, protein_disjoint, protein_disjoint C3 (two panels: 1.2)
    width, height = _png_size(figures / "accuracy_vs_ece.png")
    assert width > 1.6 * height


@pytest.mark.data
def test_e2e_protein_bootstrap_components_and_holm(e2e):
    work, _ = e2e
    tables = work / "results/tables"
    components = pd.read_csv(tables / "ppi_components.csv", keep_default_na=True)
    for column in ["dataset", "split", "model", "component", "n_pairs", "metric", "value",
                   "lower", "upper", "diff", "diff_lower", "diff_upper", "p_value", "p_holm",
                   "verdict"]:
        assert column in components.columns, column
    disjoint = components[components["split"] == "protein_disjoint"]
    assert {"C2", "C3"} <= set(disjoint["component"])  # 300 pairs: C1 may be absent
    scored = components[components["value"].notna()]
    assert np.all(np.isfinite(scored[["lower", "upper"]].to_numpy()))
    assert (scored["lower"] <= scored["upper"]).all()
    means = scored[scored["metric"].isin(["accuracy", "log_loss", "brier"])]
    assert ((means["lower"] <= means["value"]) & (means["value"] <= means["upper"])).all()
    others = scored[(scored["model"] != "moe_mm_dsc")]
    assert others["p_value"].between(0, 1).all()
    primary = others[others["primary"]]
    assert primary["p_holm"].ge(primary["p_value"]).all()
    assert not components.loc[~components["value"].notna(), "verdict"].eq("").any()
    summary = pd.read_csv(tables / "ppi_summary.csv")
    assert set(summary.loc[summary["primary"], "metric"]) == {"log_loss", "brier", "ece_width"}
    secondary = summary[~summary["primary"] & (summary["model"] != "moe_mm_dsc")]
    assert secondary["verdict"].str.endswith("(uncorrected)").all()
    text = (tables / "ppi_summary.md").read_text()
    assert text.index("## C3 pairs") < text.index("## C2 pairs") < text.index("## Pooled")
    assert "Only the Holm-corrected tests of the primary metrics" in text
    tex = (tables / "ppi_summary.tex").read_text()
    assert tex.index("C3 pairs") < tex.index("C2 pairs") < tex.index("pooled")
    log = (work / "logs/evaluate/guo_yeast/protein_disjoint/logreg.log").read_text()
    assert "the job failed" not in log


# Last: it deletes the outputs of one logreg job, which later dry runs would plan again.
@pytest.mark.data
def test_e2e_failing_job_keeps_its_log_and_leaves_no_output(e2e, tmp_path):
    work, mirror = e2e
    target = "results/ppi/predictions/shs27k/random/logreg/fold0.csv"
    # at most the 334 features, so it passes the checks made before any job, but
    # more than the 150 training pairs of a fold
    bad = write_yaml(tmp_path / "bad.yaml", {"pca_dim": 300})
    result = snakemake(work, "--cores", "1", "--config", mirror, "--", target,
                       configfiles=(TEST_CONFIG, bad))
    assert result.returncode != 0
    assert not (work / target).exists()
    assert not (work / target.replace(".csv", ".json")).exists()
    log = (work / "logs/fit/shs27k/random/logreg.log").read_text()
    assert "the job failed" in log and "n_components" in log
