"""Fit the MM MoE at K_bar on a whole dataset; write its dendrogram, DSC curve and experts."""

import numpy as np
from job import fit_whole_dataset, run

from moe.experts import expert_structure
from moe.io import atomic_to_csv, atomic_write_json, read_json


def main(snakemake):
    classes = read_json(snakemake.input.info)["classes"]
    pipeline, X = fit_whole_dataset(snakemake, "moe_mm_dsc")
    selector = pipeline[-1]
    tree = selector.dendrogram_
    reduced = pipeline[:-1].transform(X)
    dsc = tree.dsc_table_.assign(dataset=snakemake.wildcards.dataset)
    atomic_to_csv(dsc, snakemake.output.dsc)
    atomic_write_json(
        snakemake.output.dendrogram,
        {
            "dataset": snakemake.wildcards.dataset,
            "k_bar": int(tree.model_.gate_coef_.shape[0]),
            "alpha": float(tree.model_.alpha),
            "selected_k": selector.n_experts_,
            "heights": np.asarray(tree.heights_, dtype=float).tolist(),
            "linkage": np.asarray(tree.linkage_, dtype=float).tolist(),
            "overfit_loglik": float(tree.model_.loglik_),
            "overfit_converged": bool(tree.model_.converged_),
            "overfit_n_iter": int(tree.model_.n_iter_),
        },
    )
    experts = expert_structure(selector.best_estimator_, reduced, classes)
    experts.insert(0, "dataset", snakemake.wildcards.dataset)
    atomic_to_csv(experts, snakemake.output.experts)


run(main, snakemake)  # noqa: F821
