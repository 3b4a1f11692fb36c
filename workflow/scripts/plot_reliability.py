"""Reliability diagrams of every model for one dataset and split."""

from pathlib import Path

import pandas as pd
from job import run

from moe.evaluate import prediction_arrays
from moe.io import read_json
from moe.plots import reliability_diagrams


def main(snakemake):
    p, w = snakemake.params, snakemake.wildcards
    n_classes = len(read_json(snakemake.input.info)["classes"])
    by_model = {}
    for path in snakemake.input.predictions:
        by_model.setdefault(Path(path).parent.name, []).append(pd.read_csv(path))
    arrays = {
        model: prediction_arrays(pd.concat(by_model[model], ignore_index=True), n_classes)
        for model in p.models
    }
    reliability_diagrams(
        arrays,
        snakemake.output[0],
        n_bins=p.n_bins,
        title=f"{w.dataset}, {w.split} split: pooled out-of-fold predictions",
        reference=p.reference,
    )


run(main, snakemake)  # noqa: F821
