"""Fit the MM MoE at K_bar on a whole dataset; write its dendrogram, DSC curve and experts."""

import numpy as np
import pandas as pd
from job import run

from moe.baselines import build_model
from moe.evaluate import expert_structure
from moe.io import atomic_to_csv, atomic_write_json, load_matrix, read_json


def main(snakemake):
    p = snakemake.params
    pairs = pd.read_csv(snakemake.input.pairs, sep="\t", usecols=["label"])
    classes = read_json(snakemake.input.info)["classes"]
    X = load_matrix(snakemake.input.features)
    pipeline = build_model(
        "moe_mm_dsc", p.settings, pca_dim=p.pca_dim, random_state=p.seed,
        n_threads=snakemake.threads,
    )
    pipeline.fit(X, pairs["label"].to_numpy())
    selector = pipeline[-1]
    reduced = pipeline[:-1].transform(X)
    dsc = selector.dsc_table_.assign(dataset=snakemake.wildcards.dataset)
    atomic_to_csv(dsc, snakemake.output.dsc)
    atomic_write_json(
        snakemake.output.dendrogram,
        {
            "dataset": snakemake.wildcards.dataset,
            "k_bar": selector.k_bar,
            "selected_k": selector.selected_k_,
            "heights": np.asarray(selector.dendrogram_.heights_, dtype=float).tolist(),
            "linkage": np.asarray(selector.dendrogram_.linkage_, dtype=float).tolist(),
            "overfit_loglik": float(selector.overfit_model_.loglik_),
            "overfit_converged": bool(selector.overfit_model_.converged_),
        },
    )
    experts = expert_structure(selector.model_, reduced, classes)
    experts.insert(0, "dataset", snakemake.wildcards.dataset)
    atomic_to_csv(experts, snakemake.output.experts)


run(main, snakemake)  # noqa: F821
