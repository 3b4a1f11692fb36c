"""The figure of one section of the performance benchmark."""

import pandas as pd
from job import run

import moe.bench
from moe.io import atomic_path


def main(snakemake):
    table = pd.read_csv(snakemake.input.table)
    with atomic_path(snakemake.output.figure) as tmp:
        moe.bench.plot_section(snakemake.wildcards.section, table, tmp)


run(main, snakemake)  # noqa: F821
