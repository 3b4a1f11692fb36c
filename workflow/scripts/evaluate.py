"""Score one model's out-of-fold predictions: per fold, pooled and per component,
with protein-bootstrap intervals and paired differences against the reference."""

import logging

import pandas as pd
from job import run

from moe import scoring
from moe.predictions import read_predictions
from moe.io import atomic_to_csv, read_json


def main(snakemake):
    w, p = snakemake.wildcards, snakemake.params
    classes = read_json(snakemake.input.info)["classes"]
    pairs = pd.read_csv(snakemake.input.pairs, sep="\t", dtype={"protein_a": str, "protein_b": str})
    keys = {"dataset": w.dataset, "split": w.split, "model": w.model}

    def tagged(frame):
        return frame.assign(**keys)[scoring.KEYS + list(frame.columns)]

    ours = read_predictions(snakemake.input.predictions)
    atomic_to_csv(tagged(scoring.fold_metrics(ours, classes, p.n_bins)), snakemake.output.metrics)
    try:
        table, replicates = scoring.protein_evaluation(
            ours, pairs, classes, p.n_resamples, p.level, p.seed, p.n_bins
        )
    except ValueError as error:
        raise ValueError(f"{snakemake.input.pairs}: {error}") from error
    for (component, n_redrawn), _ in table.groupby(["component", "n_redrawn"], dropna=False):
        if pd.isna(n_redrawn):
            logging.warning("component %s holds fewer than two classes; not scored", component)
        elif n_redrawn:
            logging.info("component %s: %d resamples redrawn for a missing class",
                         component, n_redrawn)
    atomic_to_csv(replicates, snakemake.output.replicates)
    paired = None if w.model == p.reference else scoring.paired_protein_evaluation(
        ours,
        read_predictions(snakemake.input.reference),
        replicates,
        pd.read_csv(snakemake.input.reference_replicates),
        classes,
        p.level,
        p.n_bins,
    )
    pooled, paired, components = scoring.evaluation_outputs(table, paired)
    atomic_to_csv(tagged(pooled), snakemake.output.pooled)
    atomic_to_csv(tagged(paired), snakemake.output.paired)
    atomic_to_csv(tagged(components), snakemake.output.components)


run(main, snakemake)  # noqa: F821
