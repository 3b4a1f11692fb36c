"""Reliability diagrams of every model for one dataset and split."""

from pathlib import Path

from job import run

from moe.folds import prediction_arrays, read_predictions
from moe.io import read_json
from moe.plots import plot_reliability


def main(snakemake):
    p, w = snakemake.params, snakemake.wildcards
    n_classes = len(read_json(snakemake.input.info)["classes"])
    by_model = {}
    for path in snakemake.input.predictions:
        by_model.setdefault(Path(path).parent.name, []).append(path)
    arrays = {
        model: prediction_arrays(read_predictions(by_model[model]), n_classes)
        for model in p.models
    }
    plot_reliability(
        arrays,
        snakemake.output[0],
        n_bins=p.n_bins,
        title=f"{w.dataset}, {w.split} split: pooled out-of-fold predictions",
        reference=p.reference,
    )


run(main, snakemake)  # noqa: F821
