"""Literature anchor: Guo et al. (2008)'s AC + tuned RBF SVM protocol on the prepared pairs."""

import logging

import pandas as pd
from job import run

from moe.io import atomic_to_csv
from moe.ppi.anchor import run_anchor


def main(snakemake):
    p = snakemake.params
    tables = []
    for dataset, pairs_path, sequences_path in zip(
        p.datasets, snakemake.input.pairs, snakemake.input.sequences, strict=True
    ):
        pairs = pd.read_csv(pairs_path, sep="\t", dtype={"protein_a": str, "protein_b": str})
        sequences = pd.read_csv(sequences_path, sep="\t", dtype=str)
        table, per_fold = run_anchor(
            dataset,
            pairs,
            dict(zip(sequences["protein_id"], sequences["sequence"])),
            representations=p.representations,
            n_folds=p.n_folds,
            max_lag=p.max_lag,
            grid=p.grid,
            holdout=p.holdout,
            seed=p.seed,
        )
        logging.getLogger("moe").info("%s per fold:\n%s", dataset, per_fold.to_string(index=False))
        tables.append(table)
    atomic_to_csv(pd.concat(tables, ignore_index=True), snakemake.output.table)


run(main, snakemake)  # noqa: F821
