"""The short table of one section of the performance benchmark (medians, ratios, counts)."""

import pandas as pd
from job import run

import moe.bench
from moe.io import atomic_to_csv


def main(snakemake):
    table = pd.read_csv(snakemake.input.table)
    atomic_to_csv(moe.bench.summarize_section(snakemake.wildcards.section, table), snakemake.output.summary)


run(main, snakemake)  # noqa: F821
