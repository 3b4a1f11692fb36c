"""The dendrogram and DSC curve of one dataset, with the criterion sweep beside it."""

import pandas as pd
from job import run

from moe.io import read_json
from moe.plots_selection import plot_dendrogram_dsc


def main(snakemake):
    tree = read_json(snakemake.input.dendrogram)
    plot_dendrogram_dsc(
        tree["linkage"],
        pd.read_csv(snakemake.input.dsc),
        tree["selected_k"],
        snakemake.output[0],
        sweep=pd.read_csv(snakemake.input.sweep),
        criterion=snakemake.params.criterion,
        title=f"{snakemake.wildcards.dataset}: MM fit at K_bar = {tree['k_bar']}",
    )


run(main, snakemake)  # noqa: F821
