"""Accuracy against ECE (all test pairs and C3 pairs), and fit time per model."""

import pandas as pd
from job import run

from moe.plots import plot_accuracy_vs_ece, plot_fit_times


def main(snakemake):
    pooled = pd.concat([pd.read_csv(path) for path in snakemake.input.pooled], ignore_index=True)
    components = pd.concat(
        [
            pd.read_csv(path, keep_default_na=False, dtype={"component": str})
            for path in snakemake.input.components
        ],
        ignore_index=True,
    )
    plot_accuracy_vs_ece(
        pooled,
        snakemake.output.accuracy_vs_ece,
        reference=snakemake.params.reference,
        components=components,
    )
    plot_fit_times(pd.read_csv(snakemake.input.fit_times), snakemake.output.fit_times)


run(main, snakemake)  # noqa: F821
