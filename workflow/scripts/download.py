"""Download (or copy from the mirror), verify and parse one dataset."""

import logging

import pandas as pd
from job import run

import moe.ppi
from moe.io import atomic_to_csv, atomic_write_json
from moe.ppi.subset import stratified_subset


def main(snakemake):
    p = snakemake.params
    name = snakemake.wildcards.dataset
    data = moe.ppi.load(
        name, mirror=p.mirror, cache_dir=p.cache_dir, label_rule=p.label_rule, retries=p.retries
    )
    pairs = data.pairs
    if p.max_pairs is not None:
        pairs = pairs.iloc[stratified_subset(pairs["label"], p.max_pairs, p.seed)]
        pairs = pairs.reset_index(drop=True)
        logging.info("kept a stratified subset of %d of %d pairs", len(pairs), len(data.pairs))
    used = pd.unique(pairs[["protein_a", "protein_b"]].to_numpy().ravel())
    sequences = pd.DataFrame(
        {"protein_id": used, "sequence": [data.sequences[i] for i in used]}
    )
    atomic_to_csv(pairs[["protein_a", "protein_b", "label"]], snakemake.output.pairs, sep="\t")
    atomic_to_csv(sequences, snakemake.output.sequences, sep="\t")
    atomic_write_json(
        snakemake.output.info,
        {
            "name": name,
            "classes": list(data.classes),
            "n_pairs": len(pairs),
            "n_proteins": len(used),
            "n_pairs_source": len(data.pairs),
            "n_dropped": len(data.dropped),
            "label_rule": p.label_rule,
            "max_pairs": p.max_pairs,
        },
    )


run(main, snakemake)  # noqa: F821 (injected by Snakemake)
