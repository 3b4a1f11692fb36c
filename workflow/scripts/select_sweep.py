"""Fit the EM MoE for K = 1..K_max on a whole dataset; write the criterion sweep."""

from job import fit_whole_dataset, run

from moe.io import atomic_to_csv


def main(snakemake):
    pipeline, _ = fit_whole_dataset(snakemake, "moe_em_bic")
    selector = pipeline[-1]
    sweep = selector.criteria_.assign(
        dataset=snakemake.wildcards.dataset,
        criterion=selector.criterion,
        alpha=selector.best_estimator_.alpha,
        selected_k=selector.n_experts_,
    )
    atomic_to_csv(sweep, snakemake.output.sweep)


run(main, snakemake)  # noqa: F821
