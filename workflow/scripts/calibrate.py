"""Calibrate a base model's test predictions with a calibrator fitted on its tuning holdout."""

import logging
import time

from job import run

from moe.calibration import calibrate_fold
from moe.predictions import read_predictions
from moe.io import atomic_to_csv, atomic_write_json, read_json


def main(snakemake):
    w, p = snakemake.wildcards, snakemake.params
    n_classes = len(read_json(snakemake.input.info)["classes"])
    inputs = zip(snakemake.input.predictions, snakemake.input.inner, snakemake.input.infos)
    outputs = zip(snakemake.output.predictions, snakemake.output.infos)
    for index, ((test_path, inner_path, base_info_path), (predictions_path, info_path)) in (
        enumerate(zip(inputs, outputs))
    ):
        base = read_json(base_info_path)
        start = time.perf_counter()
        try:
            table, facts = calibrate_fold(
                p.method, read_predictions([inner_path]), read_predictions([test_path]), n_classes
            )
        except ValueError as error:
            raise ValueError(f"{inner_path}: {error}") from None
        seconds = time.perf_counter() - start
        logging.info("fold %d: %s %s, inner log-loss %.4f -> %.4f", index, facts["parameter"],
                     facts["value"], facts["inner_score_before"], facts["inner_score"])
        atomic_to_csv(table, predictions_path)
        row = {
            "model": w.model, "candidate": None, "parameter": facts["parameter"],
            "value": str(facts["value"]), "inner_score": facts["inner_score"], "chosen": True,
            "n_inner": None,
            "note": (
                f"base {p.base} (its tuning rows not repeated); fitted on its "
                f"{facts['n_calibration']} inner-validation predictions, uncalibrated "
                f"inner log-loss {facts['inner_score_before']:.6g}"
            ),
        }
        atomic_write_json(
            info_path,
            {
                "dataset": w.dataset,
                "split": w.split,
                "model": w.model,
                "fold": index,
                "base": p.base,
                "calibration": p.method,
                "n_train": base["n_train"],
                "n_test": base["n_test"],
                # the calibrated model costs its base's fit plus the calibrator's
                "fit_seconds": base["fit_seconds"] + seconds,
                "calibration_seconds": seconds,
                "predict_seconds": base["predict_seconds"],
                "threads": base["threads"],
                "settings": base["settings"],
                "calibrator": facts,
                "tuning": [row],
                "details": base["details"],
            },
        )


run(main, snakemake)  # noqa: F821
