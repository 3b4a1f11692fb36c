"""Join every model's scores into the benchmark's tables."""

import pandas as pd
from job import run

from moe.io import atomic_to_csv, atomic_write_text, concat_csv, read_json
from moe.report import summary_latex, summary_markdown
from moe.scoring import correct_components, summarize


def main(snakemake):
    reference, level = snakemake.params.reference, snakemake.params.level
    metrics = concat_csv(snakemake.input.metrics)
    pooled = concat_csv(snakemake.input.pooled)
    paired = concat_csv(snakemake.input.paired)
    summary = summarize(metrics, pooled, paired, reference, level)
    components = correct_components(
        concat_csv(snakemake.input.components, dtype={"component": str}), reference, level
    )
    atomic_to_csv(metrics, snakemake.output.metrics)
    atomic_to_csv(summary, snakemake.output.summary)
    atomic_to_csv(components, snakemake.output.components)
    atomic_write_text(
        snakemake.output.summary_md, summary_markdown(summary, reference, components, level)
    )
    atomic_write_text(
        snakemake.output.summary_tex, summary_latex(summary, reference, components, level)
    )
    infos = [read_json(path) for path in snakemake.input.infos]
    times = pd.DataFrame(
        {
            "dataset": info["dataset"],
            "split": info["split"],
            "model": info["model"],
            "fold": info["fold"],
            "n_train": info["n_train"],
            "n_test": info["n_test"],
            "fit_seconds": info["fit_seconds"],
            "predict_seconds": info["predict_seconds"],
            "threads": info["threads"],
            "selected_k": info["details"].get("selected_k"),
            "converged": info["details"].get("converged"),
            "n_iter": info["details"].get("n_iter"),
        }
        for info in infos
    )
    # None for models without K or without an iterative MoE fit
    times["selected_k"] = times["selected_k"].astype("Int64")
    times["converged"] = times["converged"].astype("boolean")
    times["n_iter"] = times["n_iter"].astype("Int64")
    atomic_to_csv(times, snakemake.output.fit_times)
    folds = concat_csv(snakemake.input.folds, sep="\t", keep_default_na=False)
    atomic_to_csv(folds, snakemake.output.folds)


run(main, snakemake)  # noqa: F821
