"""Snakemake benchmark files: the cost of a workflow run per rule.

A helper module of the workflow scripts (imported as ``benchmark_files``; the
scripts' folder is on the path of a ``script:`` job), not a script itself.
"""

from pathlib import Path

import pandas as pd


def runtime_summary(benchmark_root) -> pd.DataFrame:
    """Per rule, the cost of a workflow run from its Snakemake benchmark files.

    Parameters
    ----------
    benchmark_root : path-like
        The ``benchmarks/`` folder; ``<rule>/...tsv`` or ``<rule>.tsv`` below it.

    Returns
    -------
    DataFrame
        Columns ``rule, jobs, wall_seconds`` (summed), ``max_wall_seconds``,
        ``cpu_seconds`` (summed), ``max_rss_mb``; rules by decreasing wall time.
    """
    root = Path(benchmark_root)
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        table = pd.read_csv(path, sep="\t", na_values=["-", "NA"])
        relative = path.relative_to(root)
        rule = relative.parts[0] if len(relative.parts) > 1 else path.stem
        last = table.iloc[-1]  # a rule benchmarked with repeats keeps its last
        rows.append({"rule": rule, "s": last["s"], "cpu_time": last["cpu_time"],
                     "max_rss": last["max_rss"]})
    if not rows:
        raise ValueError(f"no benchmark files under {root}")
    frame = pd.DataFrame(rows)
    summary = frame.groupby("rule").agg(
        jobs=("s", "size"),
        wall_seconds=("s", "sum"),
        max_wall_seconds=("s", "max"),
        cpu_seconds=("cpu_time", "sum"),
        max_rss_mb=("max_rss", "max"),
    )
    return summary.sort_values("wall_seconds", ascending=False).reset_index()
