# Shared settings, paths and helpers of the workflow.

import os
import shutil
import sys
from pathlib import Path

import pandas as pd
import psutil

import moe.io
import moe.ppi
import moe.tuning
from moe.baselines import MODELS as MODEL_SPECS

ENV = "../../envs/moe.yaml"

DATASETS = config["datasets"]
SPLITS = config["splits"]
FOLDS = list(range(config["n_folds"]))
MODELS = config["models"]["run"]
REFERENCE = config["models"]["reference"]
if REFERENCE not in MODELS:
    raise ValueError(
        f"config: models.reference={REFERENCE!r} must be one of models.run {MODELS}"
    )

# the schema's default, inside the working directory
DEFAULT_CACHE_DIR = "resources/data"


class ConfigError(ValueError):
    """A setting that passes the schema but cannot work; raised before any job."""


def invocation_dir():
    """The directory Snakemake was started from.

    ``--directory`` changes into the working directory before this file is read
    and Snakemake keeps the directory it left only in the API object that reads
    this file, which is therefore on the call stack.
    """
    if workflow.overwrite_workdir is None:
        return Path.cwd()
    frame = sys._getframe()
    while frame is not None:
        handler = getattr(frame.f_locals.get("self"), "_workdir_handler", None)
        if getattr(handler, "olddir", None) is not None:
            return Path(handler.olddir)
        frame = frame.f_back
    raise ConfigError(
        "cannot tell which directory snakemake was started from (--directory); "
        "give mirror and cache_dir as absolute paths"
    )


def resolve_paths():
    """Resolve the path settings a user gives against the directory they ran the
    command from (not the working directory), once, before any job; a mirror that
    is not a directory is reported here, before any download or network attempt.
    The default ``cache_dir`` stays inside the working directory."""
    for key in ("mirror", "cache_dir"):
        value = config[key]
        if value is None or (key == "cache_dir" and value == DEFAULT_CACHE_DIR):
            continue
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = invocation_dir() / path
        config[key] = os.path.normpath(path)
    mirror = config["mirror"]
    if mirror is not None and not Path(mirror).is_dir():
        raise ConfigError(f"config: mirror={mirror!r} is not a directory")
    cache = Path(config["cache_dir"])
    if cache.exists() and not cache.is_dir():
        raise ConfigError(
            f"config: cache_dir={str(cache)!r} exists and is not a directory"
        )


def n_features():
    """Columns of the feature matrix the settings give (the encodings of one
    dummy pair), known before any data is read."""
    features = config["features"]
    dummy = "ACDEFGHIKLMNPQRSTVWY" * (features["max_lag"] // 20 + 2)
    proteins = moe.ppi.protein_features(
        {"a": dummy, "b": dummy},
        encodings=features["encodings"],
        max_lag=features["max_lag"],
    )
    pair = pd.DataFrame({"protein_a": ["a"], "protein_b": ["b"]})
    combined = moe.ppi.pair_features(pair, proteins, combine=features["combine"])
    return combined.shape[1]


def check_settings():
    """Settings the schema accepts but the data cannot satisfy, before any job.

    ``n_folds`` is checked against the smallest class of each dataset already
    prepared with the same ``max_pairs`` and ``label_rule`` (a resumed or
    repeated run); a first run checks it in the splits job.
    """
    uses_pca = config["selection"]["enabled"] or any(
        MODEL_SPECS[m].preprocessing == "pca" for m in MODELS
    )
    width = n_features()
    if uses_pca and config["pca_dim"] > width:
        raise ConfigError(
            f"config: pca_dim={config['pca_dim']} is more than the {width} features "
            f"that features.encodings, features.max_lag and features.combine give"
        )
    for dataset in DATASETS:
        max_pairs = dataset_option(dataset, "max_pairs")
        if max_pairs is not None and max_pairs < 2 * config["n_folds"]:
            raise ConfigError(
                f"config: data.{dataset}.max_pairs={max_pairs} leaves fewer than two "
                f"pairs per fold for n_folds={config['n_folds']}"
            )
        smallest = smallest_class(dataset)
        if smallest is not None and smallest[1] < config["n_folds"]:
            raise ConfigError(
                f"config: n_folds={config['n_folds']} is more than the {smallest[1]} "
                f"pairs of class {smallest[0]!r} in {dataset}"
            )


def smallest_class(dataset):
    """(class, pairs) of the smallest class of a dataset already prepared with
    the current settings, else None."""
    folder = Path(DATA.format(dataset=dataset))
    try:
        info = moe.io.read_json(folder / "dataset.json")
        labels = pd.read_csv(folder / "pairs.tsv", sep="\t", usecols=["label"])["label"]
    except (OSError, ValueError, KeyError):
        return None
    if any(
        info.get(key) != dataset_option(dataset, key)
        for key in ("max_pairs", "label_rule")
    ):
        return None
    counts = labels.value_counts()
    return str(counts.idxmin()), int(counts.min())


DRIVER_RECORD = Path(".snakemake", "moe_driver")


def driver_alive(record):
    """Whether the driver written to ``record`` ("pid start-time") still runs."""
    try:
        pid, started = record.read_text().split()
        return psutil.Process(int(pid)).create_time() == float(started)
    except (OSError, ValueError, psutil.Error):
        return False


def clear_stale_locks():
    """Let the same command resume a run whose driver was killed.

    Snakemake's directory lock outlives a driver killed by SIGKILL, SIGTERM,
    the OOM killer or a lost session, and then refuses every later run. Each
    run records its driver; a lock whose driver is gone is removed, and a live
    run's lock is kept, so two runs in one directory are still refused.
    """
    if driver_alive(DRIVER_RECORD):
        return
    locks = Path(".snakemake", "locks")
    if locks.exists():
        shutil.rmtree(locks)
        print(
            "Removed the lock left by an interrupted run (its driver is gone).",
            file=sys.stderr,
        )
    driver = psutil.Process()
    moe.io.atomic_write_text(DRIVER_RECORD, f"{driver.pid} {driver.create_time()!r}\n")


DATA = "resources/{dataset}"
PRED = "results/ppi/predictions/{dataset}/{split}/{model}"
EVAL = "results/ppi/evaluation/{dataset}/{split}/{model}"
SELECT = "results/ppi/selection/{dataset}"
TABLES = "results/tables"
FIGURES = "results/figures"


wildcard_constraints:
    dataset="|".join(DATASETS),
    split="|".join(SPLITS),
    model="|".join(
        MODELS + [MODEL_SPECS[m].base for m in MODELS if MODEL_SPECS[m].base]
    ),
    fold=r"\d+",
    experiment=r"[a-z_]+",
    section=r"[a-z_]+",


def dataset_option(dataset, key):
    return (config["data"].get(dataset) or {}).get(key)


def fit_settings(model):
    """The fixed settings of one fitted model, so that a change reruns exactly it
    (a calibrated model reruns through its base's outputs)."""
    return dict(config["models"]["settings"].get(model) or {})


def model_threads(wildcards):
    return config["models"]["threads"].get(wildcards.model, 1)


def resource(group, name):
    """mem_mb or runtime of a rule group, doubled on each retry."""
    table = config["resources"]
    value = (table.get(group) or {}).get(name, table["default"][name])
    return lambda wildcards, attempt: value * attempt


def predictions(dataset, split, model):
    return expand(
        f"{PRED}/fold{{fold}}.csv",
        dataset=dataset,
        split=split,
        model=model,
        fold=FOLDS,
    )


def fit_infos(dataset, split, model):
    return expand(
        f"{PRED}/fold{{fold}}.json",
        dataset=dataset,
        split=split,
        model=model,
        fold=FOLDS,
    )


def ppi_outputs():
    out = expand(
        f"{TABLES}/ppi_{{name}}",
        name=[
            "metrics.csv",
            "summary.csv",
            "summary.md",
            "summary.tex",
            "components.csv",
            "fit_times.csv",
            "folds.csv",
            "tuning.csv",
        ],
    )
    out += expand(
        f"{FIGURES}/reliability_{{dataset}}_{{split}}.png",
        dataset=DATASETS,
        split=SPLITS,
    )
    out += [f"{FIGURES}/accuracy_vs_ece.png", f"{FIGURES}/fit_times.png"]
    if config["anchor"]["enabled"] and "guo_yeast" in DATASETS:
        out.append(f"{TABLES}/literature_anchors.csv")
    if config["selection"]["enabled"]:
        out += expand(f"{FIGURES}/dendrogram_{{dataset}}.png", dataset=DATASETS)
        out += [
            f"{FIGURES}/solver_traces.png",
            f"{FIGURES}/expert_structure.png",
            f"{TABLES}/ppi_experts.csv",
            f"{TABLES}/ppi_selection.csv",
        ]
    return out


def synthetic_outputs():
    names = config["synthetic"]["experiments"]
    return expand(
        "results/synthetic/{name}.{ext}", name=names, ext=["csv", "md", "png"]
    )


def bench_outputs():
    names = config["bench"]["sections"]
    out = expand("results/bench/{name}.{ext}", name=names, ext=["csv", "png"])
    out += expand("results/bench/summary/{name}.csv", name=names)
    return out + ["results/bench/machine.json"]


def all_outputs():
    out = ppi_outputs()
    if config["synthetic"]["enabled"]:
        out += synthetic_outputs()
    if config["bench"]["enabled"]:
        out += bench_outputs()
    return out


def fit_inputs(wildcards):
    inputs = {
        "pairs": f"resources/{wildcards.dataset}/pairs.tsv",
        "info": f"resources/{wildcards.dataset}/dataset.json",
        "folds": f"resources/{wildcards.dataset}/splits/{wildcards.split}.tsv",
    }
    if MODEL_SPECS[wildcards.model].inputs == "features":  # not the leakage probe
        inputs["features"] = f"resources/{wildcards.dataset}/features.npz"
    return inputs


# Tuning and calibration (rules fit, calibrate in fit.smk): calibrated models are
# made by `calibrate`, every other model by `fit`.
# a calibrated model's base is fitted even when models.run does not name it
FITTED = list(
    dict.fromkeys(
        [MODEL_SPECS[m].base or m for m in MODELS]
        + [m for m in MODELS if MODEL_SPECS[m].calibration is None]
    )
)
CALIBRATED = [m for m in MODELS if MODEL_SPECS[m].calibration is not None]


def one_of(names):
    """A wildcard pattern matching exactly ``names`` (nothing when empty)."""
    return "|".join(names) if names else "(?!)"


def tuning_plan(wildcards):
    return moe.tuning.fit_plan(wildcards.model, config["tuning"], MODELS)


def fit_priority(wildcards):
    """1 for a model whose chosen settings another run model takes (moe.tuning.BORROWED):
    its jobs start first, so the borrower does not run alone at the end of the run."""
    plans = (moe.tuning.fit_plan(m, config["tuning"], MODELS) for m in MODELS)
    return int(
        any((plan["borrow"] or {}).get("model") == wildcards.model for plan in plans)
    )


def tuned_inputs(wildcards):
    """The MM MoE's fold jsons of a dataset (both splits) when its alpha is tuned: the
    whole-dataset fits then use the alpha the folds chose most often
    (moe.tuning.consensus_settings), not the fixed setting."""
    plan = moe.tuning.fit_plan("moe_mm_dsc", config["tuning"], MODELS)
    if "moe_mm_dsc" not in FITTED or "alpha" not in plan["grid"]:
        return {}
    return {
        "tuned": [
            f for s in SPLITS for f in fit_infos(wildcards.dataset, s, "moe_mm_dsc")
        ]
    }


def borrowed_inputs(wildcards):
    """The fold jsons of the model whose chosen settings this one takes (moe.tuning.BORROWED)."""
    borrow = moe.tuning.fit_plan(wildcards.model, config["tuning"], MODELS)["borrow"]
    if borrow is None:
        return {}
    return {"borrowed": fit_infos(wildcards.dataset, wildcards.split, borrow["model"])}


def calibrate_inputs(wildcards):
    base = MODEL_SPECS[wildcards.model].base
    folder = PRED.format(dataset=wildcards.dataset, split=wildcards.split, model=base)
    return {
        "predictions": predictions(wildcards.dataset, wildcards.split, base),
        "inner": [f"{folder}/fold{k}_inner.csv" for k in FOLDS],
        "infos": fit_infos(wildcards.dataset, wildcards.split, base),
        "info": f"resources/{wildcards.dataset}/dataset.json",
    }


def evaluate_inputs(wildcards):
    inputs = {
        "predictions": predictions(wildcards.dataset, wildcards.split, wildcards.model),
        "info": f"resources/{wildcards.dataset}/dataset.json",
    }
    if wildcards.model != REFERENCE:
        inputs["reference"] = predictions(wildcards.dataset, wildcards.split, REFERENCE)
        reference_eval = EVAL.format(
            dataset=wildcards.dataset, split=wildcards.split, model=REFERENCE
        )
        inputs["reference_replicates"] = f"{reference_eval}/replicates.csv"
    return inputs


def evaluation_files(name):
    return expand(f"{EVAL}/{name}", dataset=DATASETS, split=SPLITS, model=MODELS)


# Before any job, in the driver only (not in the jobs a cluster executor spawns).
if workflow.is_main_process:
    resolve_paths()
    check_settings()
    clear_stale_locks()
