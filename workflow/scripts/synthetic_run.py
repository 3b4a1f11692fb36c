"""One experiment of the synthetic study: its table and its Markdown summary."""

from job import run

import moe.synthetic
from moe.io import atomic_to_csv, atomic_write_text


def main(snakemake):
    name = snakemake.wildcards.experiment
    p = snakemake.params
    table = moe.synthetic.run_experiment(name, dict(p.settings), p.seed, p.scale)
    atomic_to_csv(table, snakemake.output.table)
    atomic_write_text(snakemake.output.summary, moe.synthetic.summarize(name, table) + "\n")


run(main, snakemake)  # noqa: F821
