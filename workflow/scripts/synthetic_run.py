"""One experiment of the synthetic study."""

from job import run

import moe.synthetic
from moe.io import atomic_to_csv


def main(snakemake):
    table = moe.synthetic.run_experiment(
        snakemake.wildcards.experiment, dict(snakemake.params.settings), snakemake.params.seed
    )
    atomic_to_csv(table, snakemake.output.table)


run(main, snakemake)  # noqa: F821
