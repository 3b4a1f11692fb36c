"""Per-protein sequence encodings combined into symmetric pair features."""

import pandas as pd
from job import run

import moe.ppi
from moe.io import save_matrix


def main(snakemake):
    p = snakemake.params
    pairs = pd.read_csv(snakemake.input.pairs, sep="\t", dtype={"protein_a": str, "protein_b": str})
    sequences = pd.read_csv(snakemake.input.sequences, sep="\t", dtype=str)
    proteins = moe.ppi.protein_features(
        dict(zip(sequences["protein_id"], sequences["sequence"])),
        encodings=p.encodings,
        max_lag=p.max_lag,
    )
    save_matrix(moe.ppi.pair_features(pairs, proteins, combine=p.combine), snakemake.output.features)


run(main, snakemake)  # noqa: F821
