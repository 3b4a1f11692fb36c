"""Snakemake benchmark files and job logs: the cost of a workflow run per rule.

A helper module of the workflow scripts (imported as ``benchmark_files``; the
scripts' folder is on the path of a ``script:`` job), not a script itself.
"""

from pathlib import Path

import pandas as pd

import usage


def runtime_summary(benchmark_root, log_root) -> pd.DataFrame:
    """Per rule, the cost of a workflow run from its benchmark files and job logs.

    Wall time comes from Snakemake's benchmark files, which time a job from start to end.
    CPU time and peak memory come from the usage line each job writes last to its log
    (:mod:`usage`): Snakemake samples them, and its ``cpu_time`` misses up to the last
    30 s of every job; that sampled figure is kept beside the job's own.

    Parameters
    ----------
    benchmark_root : path-like
        The ``benchmarks/`` folder; ``<rule>/...tsv`` or ``<rule>.tsv`` below it.
    log_root : path-like
        The ``logs/`` folder, whose ``<rule>/....log`` belongs to the benchmark file of
        the same relative name.

    Returns
    -------
    DataFrame
        Columns ``rule, jobs, wall_seconds`` (summed), ``max_wall_seconds``,
        ``cpu_seconds`` (summed from the logs; NaN for a rule with a job whose log has
        no usage line), ``sampled_cpu_seconds`` (summed from the benchmark files),
        ``max_rss_mb`` (from the logs, NaN likewise); rules by decreasing wall time.
    """
    root, logs = Path(benchmark_root), Path(log_root)
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        table = pd.read_csv(path, sep="\t", na_values=["-", "NA"])
        relative = path.relative_to(root)
        rule = relative.parts[0] if len(relative.parts) > 1 else path.stem
        last = table.iloc[-1]  # a rule benchmarked with repeats keeps its last
        own = usage.from_log(logs / relative.with_suffix(".log")) or {}
        rows.append({"rule": rule, "s": last["s"], "sampled_cpu": last["cpu_time"],
                     "cpu": own.get("cpu_seconds"), "rss": own.get("peak_rss_mb")})
    if not rows:
        raise ValueError(f"no benchmark files under {root}")
    frame = pd.DataFrame(rows).astype({"cpu": float, "rss": float})
    summary = frame.groupby("rule").agg(
        jobs=("s", "size"),
        wall_seconds=("s", "sum"),
        max_wall_seconds=("s", "max"),
        cpu_seconds=("cpu", lambda cpu: cpu.sum(skipna=False)),
        sampled_cpu_seconds=("sampled_cpu", "sum"),
        max_rss_mb=("rss", lambda rss: rss.max(skipna=False)),
    )
    return summary.sort_values("wall_seconds", ascending=False).reset_index()
