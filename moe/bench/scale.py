"""Section "scale": one fit at STRING scale (n = 1e6, d = 50, K = 8, M = 7) on two cores.

Each fit runs in a fresh process that only loads the data (saved by the parent) and fits, so its
peak resident memory is the fit's own plus the data's; :class:`PeakLocator` records where in
``moe`` the peak was reached (``peak_at``).
With ``dtype="float32"`` the passes over
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
import threading
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from moe.simulate import synthetic_data
from moe.model import SGMLMoE

LOG = logging.getLogger(__name__)
PACKAGE = Path(__file__).resolve().parents[1]  # moe/

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
           "peak_rss_gb", "peak_at"]


def _rss_gb() -> float:
    """Resident memory of this process now (Linux /proc), in GiB."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**30


def _peak_rss_gb() -> float:
    """This process's peak resident memory (Linux /proc VmHWM), in GiB.

    Not ru_maxrss: Linux carries it across exec, so a fit process started by a parent that
    once held more (generating the data) reported the parent's peak. VmHWM belongs to the
    process's own address space.
    """
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20  # kB
    raise RuntimeError("/proc/self/status has no VmHWM line")


class PeakLocator:
    """Where in ``moe`` the process's peak resident memory is reached.

    A thread polls the kernel's high-water mark (VmHWM) every ``period`` seconds; each
    time it has risen, the main thread's innermost ``depth`` frames in the ``moe`` package
    are kept (``where``, innermost first, "file:line function"). The high-water mark catches
    peaks shorter than the period, but the place is that of the first poll after it rose: a
    peak inside one long call (which may hold the GIL) is placed at, or just after, that call.
    """

    def __init__(self, period: float = 0.005, depth: int = 3):
        self.period, self.depth = period, depth
        self.where = "before the fit"  # the high-water mark never rose during it
        self._stop = threading.Event()
        self._main = threading.main_thread().ident
        self._thread = threading.Thread(target=self._poll, name="peak-locator", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _poll(self):
        high = _peak_rss_gb()
        while not self._stop.is_set():
            time.sleep(self.period)
            now = _peak_rss_gb()
            if now > high:
                high = now
                self.where = self._moe_frames(sys._current_frames().get(self._main))

    def _moe_frames(self, frame) -> str:
        if frame is None:
            return ""
        ours = [f for f in reversed(traceback.extract_stack(frame))
                if Path(f.filename).is_relative_to(PACKAGE)
                and not Path(f.filename).is_relative_to(PACKAGE / "bench")]
        return " <- ".join(f"{Path(f.filename).relative_to(PACKAGE.parent)}:{f.lineno} {f.name}"
                           for f in ours[: self.depth])


def _fit_in_child(folder: str, K: int, dtype: str, threads: int, params: dict, seed: int) -> dict:
    X = np.load(Path(folder) / "X.npy")
    y = np.load(Path(folder) / "y.npy")
    data_rss = _rss_gb()
    start = time.perf_counter()
    with warnings.catch_warnings(), PeakLocator() as peak:
        warnings.simplefilter("ignore")
        model = SGMLMoE(K, n_threads=threads, random_state=seed, dtype=dtype, **params).fit(X, y)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "n_iter": model.n_iter_, "converged": bool(model.converged_),
            "loglik": model.loglik_, "data_rss_gb": data_rss, "peak_rss_gb": _peak_rss_gb(),
            "peak_at": peak.where}


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
