"""Fit the EM MoE for K = 1..K_max on a whole dataset; write the criterion sweep."""

import pandas as pd
from job import run

from moe.baselines import build_model
from moe.io import atomic_to_csv, load_matrix


def main(snakemake):
    p = snakemake.params
    pairs = pd.read_csv(snakemake.input.pairs, sep="\t", usecols=["label"])
    X = load_matrix(snakemake.input.features)
    pipeline = build_model(
        "moe_em_bic", p.settings, pca_dim=p.pca_dim, random_state=p.seed,
        n_threads=snakemake.threads,
    )
    pipeline.fit(X, pairs["label"].to_numpy())
    selector = pipeline[-1]
    sweep = selector.criteria_.assign(
        dataset=snakemake.wildcards.dataset,
        criterion=selector.criterion,
        selected_k=selector.n_experts_,
    )
    atomic_to_csv(sweep, snakemake.output.sweep)


run(main, snakemake)  # noqa: F821
