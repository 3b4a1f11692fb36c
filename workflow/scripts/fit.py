"""Fit one model on one fold's training part and predict its test part."""

import logging

import pandas as pd
from job import run

from moe.evaluate import fit_fold
from moe.io import atomic_to_csv, atomic_write_json, load_matrix, read_json
from moe.ppi.splits import read_folds


def main(snakemake):
    w, p = snakemake.wildcards, snakemake.params
    fold_index = int(w.fold)
    pairs = pd.read_csv(snakemake.input.pairs, sep="\t", dtype={"protein_a": str, "protein_b": str})
    info = read_json(snakemake.input.info)
    folds = read_folds(snakemake.input.folds)
    features = load_matrix(snakemake.input.features) if "features" in snakemake.input.keys() else None
    result = fit_fold(
        w.model,
        p.settings,
        features,
        pairs,
        folds[fold_index],
        fold_index,
        len(info["classes"]),
        pca_dim=p.pca_dim,
        random_state=p.seed,
        n_threads=snakemake.threads,
    )
    logging.info("fit %.2f s, predict %.2f s", result.fit_seconds, result.predict_seconds)
    atomic_to_csv(result.predictions, snakemake.output.predictions)
    atomic_write_json(
        snakemake.output.info,
        {
            "dataset": w.dataset,
            "split": w.split,
            "model": w.model,
            "fold": fold_index,
            "n_train": int(len(folds[fold_index].train)),
            "n_test": int(len(folds[fold_index].test)),
            "fit_seconds": result.fit_seconds,
            "predict_seconds": result.predict_seconds,
            "threads": snakemake.threads,
            "settings": p.settings,
            "details": result.details,
        },
    )


run(main, snakemake)  # noqa: F821
