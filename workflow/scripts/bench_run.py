"""One section of the performance benchmark."""

from job import run

import moe.bench
from moe.io import atomic_to_csv


def main(snakemake):
    table = moe.bench.run_section(
        snakemake.wildcards.section, dict(snakemake.params.settings), snakemake.params.seed
    )
    atomic_to_csv(table, snakemake.output.table)


run(main, snakemake)  # noqa: F821
