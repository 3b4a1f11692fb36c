"""Performance benchmark of the MM fit: its step cost, its peers, selection cost and scale.

Four sections, each a function of (settings, seed) returning one tidy table:

- ``step_cost``: time per MM step against the two matrix products that bound it (one BLAS thread).
- ``time_to_optimum``: every MM variant, our EM and R flexmix from the same starts, timed to the
  best objective any of them found (on the data set, and from the same start); failures and
  worse optima counted.
- ``selection_cost``: one over-fitted fit plus the dendrogram against the K = 1..K_bar sweep.
- ``scale``: a fit at n = 1e6, d = 50, K = 8, M = 7 on two cores: wall time and peak memory.

Settings are shallow-merged over each section's defaults (``DEFAULTS[name]``; ``QUICK[name]``
holds the small overrides ``python -m moe.bench`` uses by default). Benchmarks are scripts and
workflow rules, never timed tests.
"""

from __future__ import annotations

import os

import pandas as pd

from moe.bench import optimum, scale, selection_cost, step_cost
from moe.bench.machine import machine_info, machine_summary
from moe.bench.plots import PLOTS

SECTIONS = ("step_cost", "time_to_optimum", "selection_cost", "scale")
_MODULES = {
    "step_cost": step_cost,
    "time_to_optimum": optimum,
    "selection_cost": selection_cost,
    "scale": scale,
}
DEFAULTS = {name: module.DEFAULTS for name, module in _MODULES.items()}
QUICK = {name: module.QUICK for name, module in _MODULES.items()}

__all__ = ["SECTIONS", "DEFAULTS", "QUICK", "run_section", "plot_section", "summarize_section",
           "machine_info", "machine_summary", "resolve_settings"]


def _check_section(name: str) -> None:
    if name not in SECTIONS:
        raise ValueError(f"unknown benchmark section {name!r}; choose one of {SECTIONS}")


def resolve_settings(name: str, settings: dict | None) -> dict:
    """The section's defaults with ``settings`` shallow-merged over them; unknown keys are errors."""
    _check_section(name)
    settings = dict(settings or {})
    unknown = set(settings) - set(DEFAULTS[name])
    if unknown:
        raise ValueError(
            f"benchmark section {name!r}: unknown settings {sorted(unknown)}; "
            f"known: {sorted(DEFAULTS[name])}"
        )
    return DEFAULTS[name] | settings


def run_section(name: str, settings: dict, seed: int) -> pd.DataFrame:
    """Run one section and return its tidy table.

    Every table ends with the columns ``machine`` (CPU, cores, BLAS and kernel; see
    :func:`machine_summary`) and ``load_before`` / ``load_after`` (1-minute load average), so a
    number never travels without the machine and the load it was measured under.
    """
    resolved = resolve_settings(name, settings)
    info = machine_info()
    load_before = os.getloadavg()[0]
    table = _MODULES[name].run(resolved, int(seed))
    table["machine"] = machine_summary(info)
    table["load_before"] = load_before
    table["load_after"] = os.getloadavg()[0]
    return table


def summarize_section(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """The short table to print or quote (medians, ratios, counts) for one section's table."""
    _check_section(name)
    return _MODULES[name].summarize(table)


def plot_section(name: str, table: pd.DataFrame, path) -> None:
    """Draw the section's figure from its table into ``path`` (format from the suffix)."""
    _check_section(name)
    PLOTS[name](table, path)
