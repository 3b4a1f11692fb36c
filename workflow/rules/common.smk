# Shared settings, paths and helpers of the workflow.

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
CALIBRATION_SUFFIXES = ("_isotonic", "_temperature")

DATA = "resources/{dataset}"
PRED = "results/ppi/predictions/{dataset}/{split}/{model}"
EVAL = "results/ppi/evaluation/{dataset}/{split}/{model}"
SELECT = "results/ppi/selection/{dataset}"
TABLES = "results/tables"
FIGURES = "results/figures"


wildcard_constraints:
    dataset="|".join(DATASETS),
    split="|".join(SPLITS),
    model="|".join(MODELS),
    fold=r"\d+",
    experiment=r"[a-z_]+",
    section=r"[a-z_]+",


def dataset_option(dataset, key):
    return (config["data"].get(dataset) or {}).get(key)


def fit_settings(model):
    """The settings that determine one model, so that a change reruns exactly it.

    A calibrated model (``<base>_isotonic`` or ``<base>_temperature``) also
    depends on its base model's settings, passed under ``base``.
    """
    settings_by_model = config["models"]["settings"]
    settings = dict(settings_by_model.get(model) or {})
    for suffix in CALIBRATION_SUFFIXES:
        if model.endswith(suffix):
            base = model[: -len(suffix)]
            settings["base"] = dict(settings_by_model.get(base) or {})
    return settings


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
        ],
    )
    out += expand(
        f"{FIGURES}/reliability_{{dataset}}_{{split}}.png",
        dataset=DATASETS,
        split=SPLITS,
    )
    out += [f"{FIGURES}/accuracy_vs_ece.png", f"{FIGURES}/fit_times.png"]
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
    if wildcards.model != "probe":  # the leakage probe reads protein ids only
        inputs["features"] = f"resources/{wildcards.dataset}/features.npz"
    return inputs


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
