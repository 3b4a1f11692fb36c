"""Fit one model on every fold's training part (tuned there) and predict the fold's test part."""

import logging

import numpy as np
import pandas as pd
from job import run

from moe.folds import fit_fold
from moe.predictions import prediction_table
from moe.io import atomic_to_csv, atomic_write_json, load_matrix, read_json
from moe.ppi.splits import Fold, read_folds
from moe.tuning import borrowed_settings, inner_folds, tuning_rows


def empty_inner(n_classes):
    """The inner table of a model that made no inner fit: the columns, no rows."""
    none = np.array([], dtype=np.int64)
    return prediction_table(Fold(train=none, test=none), 0, none, np.empty((0, n_classes)))


def main(snakemake):
    w, p = snakemake.wildcards, snakemake.params
    plan = p.tuning
    pairs = pd.read_csv(snakemake.input.pairs, sep="\t", dtype={"protein_a": str, "protein_b": str})
    n_classes = len(read_json(snakemake.input.info)["classes"])
    folds = read_folds(snakemake.input.folds)
    if len(folds) != len(snakemake.output.predictions):
        raise ValueError(
            f"{snakemake.input.folds} holds {len(folds)} folds; the rule expects "
            f"{len(snakemake.output.predictions)} (n_folds)"
        )
    given = snakemake.input.keys()
    features = load_matrix(snakemake.input.features) if "features" in given else None
    # the fold jsons of the model whose chosen settings this one takes (moe.tuning.BORROWED)
    sources = list(snakemake.input.borrowed) if "borrowed" in given else []
    out = snakemake.output
    outputs = zip(folds, out.predictions, out.infos, out.inner)
    for index, (fold, predictions_path, info_path, inner_path) in enumerate(outputs):
        borrowed = (
            borrowed_settings(read_json(sources[index]), plan["borrow"]["keys"]) if sources else {}
        )
        settings = {**p.settings, **borrowed}
        inner = None
        if plan["inner"]:
            inner = inner_folds(
                pairs, fold.train, w.split, n_inner=plan["n_inner"], seed=p.seed,
                fold_index=index, scale=plan["scale"],
            )
        result = fit_fold(
            w.model, settings, features, pairs, fold, index, n_classes,
            grid=plan["grid"], inner=inner, extend=plan["extend"],
            pca_dim=p.pca_dim, random_state=p.seed, n_threads=snakemake.threads,
        )
        logging.info(
            "fold %d: tuning %.2f s, fit %.2f s, predict %.2f s, settings %s", index,
            result.tuning_seconds, result.fit_seconds, result.predict_seconds, result.settings,
        )
        atomic_to_csv(result.predictions, predictions_path)
        inner_table = result.inner_predictions
        atomic_to_csv(empty_inner(n_classes) if inner_table is None else inner_table, inner_path)
        rows = tuning_rows(
            w.model, result.settings, result.tuning if plan["grid"] else None,
            borrowed=borrowed, borrowed_from=(plan["borrow"] or {}).get("model"),
        )
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
                "tuning_seconds": result.tuning_seconds,
                "threads": snakemake.threads,
                "config_settings": p.settings,
                "settings": result.settings,
                "tuning": rows,
                "details": result.details,
            },
        )


run(main, snakemake)  # noqa: F821
