"""ppi_tuning.csv: the hyper-parameters chosen on each fold's training part, from the fold jsons."""

from job import run

from moe.io import atomic_to_csv, read_json
from moe.tuning import tuning_table


def main(snakemake):
    table = tuning_table([read_json(path) for path in snakemake.input.infos])
    atomic_to_csv(table, snakemake.output.table)


run(main, snakemake)  # noqa: F821
