"""The figure of one experiment of the synthetic study."""

import pandas as pd
from job import run

import moe.synthetic
from moe.io import atomic_path


def main(snakemake):
    table = pd.read_csv(snakemake.input.table)
    with atomic_path(snakemake.output.figure) as tmp:
        moe.synthetic.plot_experiment(snakemake.wildcards.experiment, table, tmp)


run(main, snakemake)  # noqa: F821
