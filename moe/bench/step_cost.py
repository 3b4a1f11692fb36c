"""Section "step_cost": time per MM step against the two matrix products that bound it.

One MM step is the map F(theta, state) (fused surrogate gradient, then the bound solves; for
the weighted curvature also the K weighted Gram matrices) followed by the E-step at the new
point: exactly one iteration of the plain ascent loop. Its floor is the pair of products it
cannot avoid, Z = theta X~ (U x p by p x n) and G = R X~^T (U x n by n x p), timed in the same
run, interleaved with the steps so that load on a shared machine hits both alike; medians are
the quoted numbers, and the ratio of the fastest repeats (``ratio_of_minima``) is kept beside
them because on a loaded machine it is the least disturbed estimate. The products
are timed both whole and in the step's blocks of ``moe._mm.CHUNK`` columns (whole products write
a U x n array and turn memory-bound at large n); the floor is the faster of the two.
"""

from __future__ import annotations

import itertools
import logging
import time

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from moe.simulate import synthetic_data
from moe._mm import CHUNK, Layout, MMMap, augment

LOG = logging.getLogger(__name__)

DEFAULTS = {
    "n": [1_000, 10_000, 100_000, 1_000_000],
    "d": [10, 50, 200],
    "K": [2, 5, 10],
    "M": [2, 7],
    "curvatures": ["fixed", "weighted"],
    "threads": 1,
    "min_repeats": 3,
    "max_repeats": 25,
    "target_seconds": 2.0,  # aim for this much timing per configuration
}
QUICK = {"n": [1_000, 10_000, 100_000], "d": [50], "K": [3], "M": [3], "max_repeats": 15}
COLUMNS = ["n", "d", "K", "M", "curvature", "step_seconds", "floor_seconds", "ratio",
           "floor_whole_seconds", "floor_blocked_seconds", "ratio_of_minima", "repeats", "threads"]


def _timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def time_configuration(n, d, K, M, curvatures, *, seed, min_repeats, max_repeats,
                       target_seconds) -> list[dict]:
    """Median step and floor times for one (n, d, K, M), one row per curvature."""
    X, y, truth = synthetic_data(n, d, K, M, seed)
    XT = augment(X)
    del X
    layout = Layout(K, M, d + 1)
    s = np.ones(n)
    theta = layout.pack(truth.gate_coef_, truth.expert_coef_)
    R = np.ones((layout.n_units, n))
    R_block = np.ones((layout.n_units, min(CHUNK, n)))
    maps = {c: MMMap(XT, y, s, layout, c) for c in curvatures}

    def floor_whole():
        theta @ XT
        R @ XT.T

    def floor_blocked():
        G = np.zeros(theta.shape)
        for lo in range(0, n, CHUNK):
            Xb = XT[:, lo : lo + CHUNK]
            theta @ Xb
            G += R_block[:, : Xb.shape[1]] @ Xb.T

    def step(F):
        return lambda: F(theta, F.e_step(theta))

    calls = {"floor_whole": floor_whole, "floor_blocked": floor_blocked}
    calls |= {c: step(F) for c, F in maps.items()}
    first = {name: _timed(call) for name, call in calls.items()}  # also warms caches up
    repeats = int(np.clip(target_seconds / max(sum(first.values()), 1e-9), min_repeats, max_repeats))
    times = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            times[name].append(_timed(call))
    whole, blocked = float(np.median(times["floor_whole"])), float(np.median(times["floor_blocked"]))
    floor_seconds = min(whole, blocked)
    return [
        {"n": n, "d": d, "K": K, "M": M, "curvature": c,
         "step_seconds": float(np.median(times[c])), "floor_seconds": floor_seconds,
         "ratio": float(np.median(times[c])) / floor_seconds, "floor_whole_seconds": whole,
         "floor_blocked_seconds": blocked,
         "ratio_of_minima": min(times[c]) / min(min(times["floor_whole"]), min(times["floor_blocked"])),
         "repeats": repeats}
        for c in curvatures
    ]


def run(settings: dict, seed: int) -> pd.DataFrame:
    rows = []
    grid = itertools.product(settings["n"], settings["d"], settings["K"], settings["M"])
    with threadpool_limits(limits=settings["threads"], user_api="blas"), \
            np.errstate(over="ignore", invalid="ignore"):
        for n, d, K, M in grid:
            LOG.info("step cost at n=%d d=%d K=%d M=%d", n, d, K, M)
            rows += time_configuration(
                int(n), int(d), int(K), int(M), list(settings["curvatures"]), seed=seed,
                min_repeats=settings["min_repeats"], max_repeats=settings["max_repeats"],
                target_seconds=settings["target_seconds"],
            )
    table = pd.DataFrame(rows)
    table["threads"] = settings["threads"]
    return table[COLUMNS]


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """The table in milliseconds, for printing."""
    out = table.copy()
    out["step_ms"] = 1e3 * out.pop("step_seconds")
    out["floor_ms"] = 1e3 * out.pop("floor_seconds")
    return out[["n", "d", "K", "M", "curvature", "step_ms", "floor_ms", "ratio", "ratio_of_minima",
                "repeats", "threads"]]
