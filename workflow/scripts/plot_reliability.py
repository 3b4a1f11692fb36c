"""Reliability diagrams of every model for one dataset and split (and of its C3 test pairs)."""

from pathlib import Path

from job import run

from moe.predictions import prediction_arrays, read_predictions
from moe.io import read_json
from moe.plots import C3_SPLITS, plot_reliability


def main(snakemake):
    p, w = snakemake.params, snakemake.wildcards
    n_classes = len(read_json(snakemake.input.info)["classes"])
    by_model = {}
    for path in snakemake.input.predictions:
        by_model.setdefault(Path(path).parent.name, []).append(path)
    tables = {model: read_predictions(by_model[model]) for model in p.models}
    arrays = {model: prediction_arrays(table, n_classes) for model, table in tables.items()}
    # C3 = neither protein seen in training: panels for the protein-disjoint split only
    c3 = {
        model: prediction_arrays(table[table["component"] == "C3"], n_classes)
        for model, table in tables.items()
        if w.split in C3_SPLITS and "component" in table and (table["component"] == "C3").any()
    }
    plot_reliability(
        arrays,
        snakemake.output[0],
        n_bins=p.n_bins,
        title=f"{w.dataset}, {w.split} split: pooled out-of-fold predictions"
        + ("; lower rows: C3 test pairs only" if c3 else ""),
        reference=p.reference,
        c3=c3,
    )


run(main, snakemake)  # noqa: F821
