"""Cut the folds of one dataset and split (random stratified or protein-disjoint)."""

import pandas as pd
from job import run

from moe.io import atomic_to_csv, read_json
from moe.ppi import splits


def main(snakemake):
    p = snakemake.params
    pairs = pd.read_csv(snakemake.input.pairs, sep="\t", dtype={"protein_a": str, "protein_b": str})
    classes = read_json(snakemake.input.info)["classes"]
    try:
        if snakemake.wildcards.split == "random":
            folds = splits.random_kfold(pairs["label"], p.n_folds, p.seed, pairs=pairs)
        else:
            folds = splits.protein_disjoint(pairs, p.n_folds, p.seed)
    except ValueError as error:
        raise ValueError(
            f"config: n_folds={p.n_folds} does not fit {snakemake.wildcards.dataset}: {error}"
        ) from error
    splits.write_folds(folds, snakemake.output.folds)
    summary = splits.summarize_folds(folds, pairs["label"], classes)
    summary.insert(0, "split", snakemake.wildcards.split)
    summary.insert(0, "dataset", snakemake.wildcards.dataset)
    atomic_to_csv(summary, snakemake.output.summary, sep="\t")


run(main, snakemake)  # noqa: F821
