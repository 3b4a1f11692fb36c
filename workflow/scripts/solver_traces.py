"""MM against EM on a whole dataset, from one common start."""

import pandas as pd
from job import run, whole_dataset_settings

from moe.baselines import build_preprocessing
from moe.traces import solver_traces
from moe.io import atomic_to_csv, load_matrix


def main(snakemake):
    p = snakemake.params
    pairs = pd.read_csv(snakemake.input.pairs, sep="\t", usecols=["label"])
    X = build_preprocessing("moe_mm_dsc", pca_dim=p.pca_dim, random_state=p.seed).fit_transform(
        load_matrix(snakemake.input.features)
    )
    # the benchmark MM MoE's ridge (both solvers ascend the same penalised objective) and bound
    settings = whole_dataset_settings(snakemake)
    alpha, curvature = settings.get("alpha", 0.0), settings.get("curvature", "weighted")
    traces = solver_traces(
        X,
        pairs["label"].to_numpy(),
        p.traces["n_experts"],
        max_iter=p.traces["max_iter"],
        tol=p.traces["tol"],
        random_state=p.seed,
        n_threads=snakemake.threads,
        alpha=alpha,
        curvature=curvature,
    )
    traces.insert(0, "dataset", snakemake.wildcards.dataset)
    atomic_to_csv(traces, snakemake.output.traces)


run(main, snakemake)  # noqa: F821
