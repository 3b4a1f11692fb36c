"""Per-rule wall time, CPU time and memory of the run, from the benchmark files."""

from job import run

from moe.evaluate import runtime_summary
from moe.io import atomic_to_csv


def main(snakemake):
    atomic_to_csv(runtime_summary(snakemake.params.benchmarks), snakemake.output[0])


run(main, snakemake)  # noqa: F821
