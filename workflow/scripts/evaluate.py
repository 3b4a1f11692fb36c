"""Score one model's out-of-fold predictions: per fold, pooled with bootstrap, paired."""

import logging

import pandas as pd
from job import run

from moe import evaluate as E
from moe.io import atomic_to_csv, read_json


def read_predictions(paths):
    return pd.concat(
        [pd.read_csv(path, keep_default_na=False, dtype={"component": str}) for path in paths],
        ignore_index=True,
    )


def main(snakemake):
    w, p = snakemake.wildcards, snakemake.params
    classes = read_json(snakemake.input.info)["classes"]
    keys = {"dataset": w.dataset, "split": w.split, "model": w.model}

    def tagged(frame):
        return frame.assign(**keys)[E.KEYS + list(frame.columns)]

    ours = read_predictions(snakemake.input.predictions)
    atomic_to_csv(tagged(E.fold_metrics(ours, classes, p.n_bins)), snakemake.output.metrics)
    pooled, replicates = E.pooled_evaluation(
        ours, classes, p.n_resamples, p.level, p.seed, p.n_bins
    )
    atomic_to_csv(tagged(pooled), snakemake.output.pooled)
    atomic_to_csv(replicates, snakemake.output.replicates)
    if w.model == p.reference:
        paired = pd.DataFrame(columns=["metric", "difference", "lower", "upper", "better"])
    else:
        paired = E.paired_evaluation(
            ours,
            read_predictions(snakemake.input.reference),
            replicates,
            pd.read_csv(snakemake.input.reference_replicates),
            classes,
            p.level,
            p.n_bins,
        )
    atomic_to_csv(tagged(paired), snakemake.output.paired)
    components, unscored = E.component_metrics(ours, classes, p.n_bins)
    for component in unscored:
        logging.warning("component %s holds fewer than two classes; not scored", component)
    atomic_to_csv(tagged(components), snakemake.output.components)


run(main, snakemake)  # noqa: F821
