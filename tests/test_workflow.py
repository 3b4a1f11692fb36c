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
from moe.metrics import METRICS

pytestmark = pytest.mark.workflow

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "config" / "config.yaml"
TEST_CONFIG = REPO / "config" / "test.yaml"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
SLURM_PROFILE = REPO / "workflow" / "profiles" / "slurm"


def snakemake(workdir, *args, configfiles=(CONFIG,), env=None, timeout=600, cwd=None):
    """Run Snakemake on the repository's Snakefile in ``workdir``, started from
    ``cwd`` (default: the directory pytest runs in)."""
    command = [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir),
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
    counts = job_counts(result.output)
    assert counts["fit"] == n_datasets * n_splits * n_models  # each job fits every fold
    assert counts["evaluate"] == n_datasets * n_splits * n_models
    assert counts["download"] == n_datasets and counts["features"] == n_datasets
    assert counts["aggregate"] == 1
    assert "bench_run" not in counts  # behind bench.enabled


def test_bench_target_exists(tmp_path):
    result = snakemake(tmp_path, "--dry-run", "bench")
    assert result.returncode == 0, result.output
    sections = yaml.safe_load(CONFIG.read_text())["bench"]["sections"]
    assert job_counts(result.output)["bench_run"] == len(sections)


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
            r"    resources: .*runtime=(\d+), mem_mb=(\d+),",
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
    assert list(selection.columns) == ["dataset", "k_bar", "dsc", "aic", "bic", "icl"]
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
    assert "fold 1: fit" in log and "done" in log
    bench = pd.read_csv(work / "benchmarks/fit/guo_yeast/random/logreg.tsv", sep="\t")
    assert bench["s"].iloc[0] > 0
    runtimes = pd.read_csv(work / "results/tables/workflow_runtimes.csv").set_index("rule")
    config = yaml.safe_load(TEST_CONFIG.read_text())
    n = len(config["datasets"]) * len(config["splits"]) * len(config["models"]["run"])
    assert runtimes.loc["fit", "jobs"] == n
    assert runtimes.loc["evaluate", "jobs"] == n


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
