"""MM against EM traces, the selected experts' structure, and the selection table."""

import pandas as pd
from job import run

from moe.io import atomic_to_csv, concat_csv, read_json
from moe.plots import plot_expert_structure, plot_solver_traces
from moe.selection import CRITERIA, best_k


def main(snakemake):
    plot_solver_traces(concat_csv(snakemake.input.traces), snakemake.output.traces)
    experts = concat_csv(snakemake.input.experts)
    plot_expert_structure(experts, snakemake.output.structure)
    atomic_to_csv(experts, snakemake.output.experts)
    rows = []
    for tree_path, sweep_path in zip(snakemake.input.dendrograms, snakemake.input.sweeps):
        tree, sweep = read_json(tree_path), pd.read_csv(sweep_path)
        row = {"dataset": tree["dataset"], "k_bar": tree["k_bar"], "dsc": tree["selected_k"]}
        for criterion in CRITERIA:
            row[criterion] = best_k(sweep, criterion)
        rows.append(row)
    atomic_to_csv(pd.DataFrame(rows), snakemake.output.selection)


run(main, snakemake)  # noqa: F821
