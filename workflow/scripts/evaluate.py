"""Score one model's out-of-fold predictions: per fold, pooled with bootstrap, paired."""

import logging

import pandas as pd
from job import run

from moe import scoring
from moe.folds import read_predictions
from moe.io import atomic_to_csv, read_json


def main(snakemake):
    w, p = snakemake.wildcards, snakemake.params
    classes = read_json(snakemake.input.info)["classes"]
    keys = {"dataset": w.dataset, "split": w.split, "model": w.model}

    def tagged(frame):
        return frame.assign(**keys)[scoring.KEYS + list(frame.columns)]

    ours = read_predictions(snakemake.input.predictions)
    atomic_to_csv(tagged(scoring.fold_metrics(ours, classes, p.n_bins)), snakemake.output.metrics)
    pooled, replicates = scoring.pooled_evaluation(
        ours, classes, p.n_resamples, p.level, p.seed, p.n_bins
    )
    atomic_to_csv(tagged(pooled), snakemake.output.pooled)
    atomic_to_csv(replicates, snakemake.output.replicates)
    if w.model == p.reference:
        paired = pd.DataFrame(columns=["metric", "difference", "lower", "upper", "better"])
    else:
        paired = scoring.paired_evaluation(
            ours,
            read_predictions(snakemake.input.reference),
            replicates,
            pd.read_csv(snakemake.input.reference_replicates),
            classes,
            p.level,
            p.n_bins,
        )
    atomic_to_csv(tagged(paired), snakemake.output.paired)
    components, unscored = scoring.component_metrics(ours, classes, p.n_bins)
    for component in unscored:
        logging.warning("component %s holds fewer than two classes; not scored", component)
    atomic_to_csv(tagged(components), snakemake.output.components)


run(main, snakemake)  # noqa: F821
