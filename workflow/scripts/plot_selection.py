"""MM against EM traces, the selected experts' structure, and the selection table."""

import pandas as pd
from job import run

from moe.io import atomic_to_csv, read_json
from moe.plots import expert_structure, solver_traces


def concat_csv(paths):
    return pd.concat([pd.read_csv(path) for path in paths], ignore_index=True)


def main(snakemake):
    solver_traces(concat_csv(snakemake.input.traces), snakemake.output.traces)
    experts = concat_csv(snakemake.input.experts)
    expert_structure(experts, snakemake.output.structure)
    atomic_to_csv(experts, snakemake.output.experts)
    rows = []
    for tree_path, sweep_path in zip(snakemake.input.dendrograms, snakemake.input.sweeps):
        tree, sweep = read_json(tree_path), pd.read_csv(sweep_path)
        row = {"dataset": tree["dataset"], "k_bar": tree["k_bar"], "dsc": tree["selected_k"]}
        for criterion in ("aic", "bic", "icl"):
            row[criterion] = int(sweep.loc[sweep[criterion].idxmin(), "n_experts"])
        rows.append(row)
    atomic_to_csv(pd.DataFrame(rows), snakemake.output.selection)


run(main, snakemake)  # noqa: F821
