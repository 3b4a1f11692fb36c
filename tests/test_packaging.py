"""The dependency split: the estimator needs only the core dependencies, and the conda
environments state the same packages and bounds as pyproject.toml."""

import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW_ONLY = ("snakemake", "snakemake_executor_plugin_slurm", "xgboost", "Bio", "matplotlib")
# conda-forge names of PyPI packages, where they differ
CONDA_NAME = {"matplotlib": "matplotlib-base"}


def test_the_estimator_imports_and_fits_without_workflow_packages():
    """``import moe`` and a fit load none of the workflow's packages (installed here or not)."""
    code = (
        "import sys, numpy as np\n"
        "from moe import SGMLMoE\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.normal(size=(60, 2)); y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)\n"
        "SGMLMoE(n_experts=2, n_init=1, max_iter=5, random_state=0).fit(X, y).predict_proba(X)\n"
        f"loaded = [m for m in {WORKFLOW_ONLY!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def _pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = [Requirement(r) for r in project["dependencies"]]
    extras = {name: [Requirement(r) for r in reqs]
              for name, reqs in project["optional-dependencies"].items()}
    return core, extras


def _conda(path):
    """{name: specifier} of a conda environment file, pip entries included; python and pip out."""
    deps = yaml.safe_load((ROOT / path).read_text())["dependencies"]
    entries = [d for d in deps if isinstance(d, str)]
    entries += [p for d in deps if isinstance(d, dict) for p in d.get("pip", [])]
    specs = {}
    for entry in entries:
        if entry.startswith("python=") or entry == "pip":
            continue
        req = Requirement(entry)
        specs[req.name] = req.specifier
    return specs


def _as_conda(requirements):
    return {CONDA_NAME.get(r.name, r.name): r.specifier for r in requirements}


def test_rule_environment_is_the_core_plus_the_workflow_runtime():
    core, extras = _pyproject()
    runtime = [r for r in extras["workflow"] if not r.name.startswith("snakemake")]
    assert _conda("envs/moe.yaml") == _as_conda(core + runtime)


def test_bench_environment_adds_only_r_flexmix():
    bench = _conda("envs/bench.yaml")
    assert {name: spec for name, spec in bench.items() if not name.startswith("r-")} \
        == _conda("envs/moe.yaml")
    assert {"r-base", "r-flexmix"} <= set(bench)


def test_driver_environment_has_snakemake_its_plugins_and_snakefmt():
    _, extras = _pyproject()
    wanted = [r for r in extras["workflow"] if r.name.startswith("snakemake")]
    wanted += [r for r in extras["test"] if r.name == "snakefmt"]
    driver = _conda("envs/snakemake.yaml")
    assert {name: spec for name, spec in driver.items() if name != "pygments"} == _as_conda(wanted)
    # snakemake[reports] is snakemake plus pygments
    assert "reports" in next(r for r in wanted if r.name == "snakemake").extras
    assert "pygments" in driver


def test_the_test_extra_installs_the_workflow():
    _, extras = _pyproject()
    assert any(r.name == "moe" and r.extras == {"workflow"} for r in extras["test"])
