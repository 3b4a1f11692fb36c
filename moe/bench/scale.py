"""Section "scale": one fit at STRING scale (n = 1e6, d = 50, K = 8, M = 7) on two cores.

Each fit runs in a fresh process that only loads the data (saved by the parent) and fits, so its
peak resident memory is the fit's own plus the data's. With ``dtype="float32"`` the passes over
the data run in single precision; the log-likelihood reported for every fit is recomputed in
float64 at the returned parameters, so the two dtypes' rows compare directly.
"""

from __future__ import annotations

import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from moe.simulate import synthetic_data
from moe.model import SGMLMoE

LOG = logging.getLogger(__name__)

DEFAULTS = {
    "n": 1_000_000,
    "d": 50,
    "K": 8,
    "M": 7,
    "threads": 2,
    "dtypes": ["float64", "float32"],
    "model": {"n_init": 1, "max_iter": 300, "tol": 1e-6},
}
QUICK = {"n": 100_000, "model": {"n_init": 1, "max_iter": 100, "tol": 1e-6}}
COLUMNS = ["n", "d", "K", "M", "dtype", "threads", "status", "message", "seconds", "n_iter",
           "seconds_per_iter", "converged", "loglik", "loglik_minus_float64", "data_rss_gb",
           "peak_rss_gb"]


def _rss_gb() -> float:
    """Resident memory of this process now (Linux /proc), in GiB."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**30


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def _fit_in_child(folder: str, K: int, dtype: str, threads: int, params: dict, seed: int) -> dict:
    X = np.load(Path(folder) / "X.npy")
    y = np.load(Path(folder) / "y.npy")
    data_rss = _rss_gb()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = SGMLMoE(K, n_threads=threads, random_state=seed, dtype=dtype, **params).fit(X, y)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "n_iter": model.n_iter_, "converged": bool(model.converged_),
            "loglik": model.loglik_, "data_rss_gb": data_rss, "peak_rss_gb": _peak_rss_gb()}


def fit_in_fresh_process(folder, K, dtype, threads, params, seed) -> dict:
    """Fit in a fresh interpreter (so ru_maxrss is this fit's) and return its measurements.

    A new ``python -m moe.bench.scale`` rather than multiprocessing's spawn, which re-runs the
    caller's ``__main__`` (a Snakemake script, a notebook) in the child.
    """
    job = json.dumps({"folder": str(folder), "K": K, "dtype": dtype, "threads": threads,
                      "params": params, "seed": seed})
    child = subprocess.run([sys.executable, "-m", "moe.bench.scale", job],
                           capture_output=True, text=True)
    if child.returncode != 0:
        raise RuntimeError(f"scale: the {dtype} fit process exited with {child.returncode}:\n"
                           f"{child.stderr[-2000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def run(settings: dict, seed: int) -> pd.DataFrame:
    n, d, K, M = (int(settings[key]) for key in ("n", "d", "K", "M"))
    rows = []
    with tempfile.TemporaryDirectory(prefix="moe-scale-") as folder:
        X, y, _ = synthetic_data(n, d, K, M, seed)
        np.save(Path(folder) / "X.npy", X)
        np.save(Path(folder) / "y.npy", y)
        del X, y
        for dtype in settings["dtypes"]:
            row = {"n": n, "d": d, "K": K, "M": M, "dtype": dtype, "threads": settings["threads"]}
            LOG.info("scale: fitting n=%d d=%d K=%d M=%d in %s", n, d, K, M, dtype)
            result = fit_in_fresh_process(folder, K, dtype, settings["threads"],
                                          dict(settings["model"]), seed)
            rows.append(row | {"status": "ok", "message": ""} | result)
    table = pd.DataFrame(rows).reindex(columns=COLUMNS)
    table["seconds_per_iter"] = table["seconds"] / table["n_iter"]
    reference = table.loc[table["dtype"] == "float64", "loglik"]
    table["loglik_minus_float64"] = table["loglik"] - (reference.iloc[0] if len(reference) else np.nan)
    return table


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=["message"])


if __name__ == "__main__":
    print(json.dumps(_fit_in_child(**json.loads(sys.argv[1]))))
