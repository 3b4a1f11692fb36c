"""The machine the performance benchmark ran on."""

from job import run

import moe.bench
from moe.io import atomic_write_json


def main(snakemake):
    atomic_write_json(snakemake.output.info, moe.bench.machine_info())


run(main, snakemake)  # noqa: F821
