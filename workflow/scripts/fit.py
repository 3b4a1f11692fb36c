"""Fit one model on every fold's training part and predict the fold's test part."""

import logging

import pandas as pd
from job import run

from moe.folds import fit_fold
from moe.io import atomic_to_csv, atomic_write_json, load_matrix, read_json
from moe.ppi.splits import read_folds


def main(snakemake):
    w, p = snakemake.wildcards, snakemake.params
    pairs = pd.read_csv(snakemake.input.pairs, sep="\t", dtype={"protein_a": str, "protein_b": str})
    n_classes = len(read_json(snakemake.input.info)["classes"])
    folds = read_folds(snakemake.input.folds)
    if len(folds) != len(snakemake.output.predictions):
        raise ValueError(
            f"{snakemake.input.folds} holds {len(folds)} folds; the rule expects "
            f"{len(snakemake.output.predictions)} (n_folds)"
        )
    features = load_matrix(snakemake.input.features) if "features" in snakemake.input.keys() else None
    outputs = zip(folds, snakemake.output.predictions, snakemake.output.infos)
    for index, (fold, predictions_path, info_path) in enumerate(outputs):
        result = fit_fold(
            w.model, p.settings, features, pairs, fold, index, n_classes,
            pca_dim=p.pca_dim, random_state=p.seed, n_threads=snakemake.threads,
        )
        logging.info(
            "fold %d: fit %.2f s, predict %.2f s", index, result.fit_seconds, result.predict_seconds
        )
        atomic_to_csv(result.predictions, predictions_path)
        atomic_write_json(
            info_path,
            {
                "dataset": w.dataset,
                "split": w.split,
                "model": w.model,
                "fold": index,
                "n_train": int(len(fold.train)),
                "n_test": int(len(fold.test)),
                "fit_seconds": result.fit_seconds,
                "predict_seconds": result.predict_seconds,
                "threads": snakemake.threads,
                "settings": p.settings,
                "details": result.details,
            },
        )


run(main, snakemake)  # noqa: F821
