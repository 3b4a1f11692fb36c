"""Per-rule wall time, CPU time and memory of the run, from the benchmark files and job logs."""

from benchmark_files import runtime_summary
from job import run

from moe.io import atomic_to_csv


def main(snakemake):
    p = snakemake.params
    atomic_to_csv(runtime_summary(p.benchmarks, p.logs), snakemake.output[0])


run(main, snakemake)  # noqa: F821
