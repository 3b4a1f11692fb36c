"""MM against EM on a whole dataset, from one common start."""

import pandas as pd
from job import run

from moe.baselines import build_preprocessing
from moe.evaluate import solver_traces
from moe.io import atomic_to_csv, load_matrix


def main(snakemake):
    p = snakemake.params
    pairs = pd.read_csv(snakemake.input.pairs, sep="\t", usecols=["label"])
    X = build_preprocessing("moe_mm_dsc", pca_dim=p.pca_dim, random_state=p.seed).fit_transform(
        load_matrix(snakemake.input.features)
    )
    # the model settings the benchmark's MM MoE uses, where both solvers accept them
    shared = {k: v for k, v in p.settings.items() if k in ("alpha", "curvature")}
    traces = solver_traces(
        X,
        pairs["label"].to_numpy(),
        p.traces["n_experts"],
        max_iter=p.traces["max_iter"],
        tol=p.traces["tol"],
        random_state=p.seed,
        n_threads=snakemake.threads,
        **shared,
    )
    traces.insert(0, "dataset", snakemake.wildcards.dataset)
    atomic_to_csv(traces, snakemake.output.traces)


run(main, snakemake)  # noqa: F821
