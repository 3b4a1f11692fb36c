"""R flexmix as a peer: the same model fitted by EM with nnet M-steps, through ``Rscript``.

flexmix 2.3 (Debian package r-cran-flexmix) fits this exact model with FLXMRmultinom experts and
an FLXPmultinom concomitant model. It cannot start from given parameters, only from starting
posteriors, so it is started from the responsibilities tau(theta_0) of our common start theta_0:
its first M-step then lands where one EM step from theta_0 lands. On a machine without R or
flexmix nothing is faked: the run comes back with status "not run".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from moe.model import SGMLMoE

NOT_INSTALLED = "Rscript or the R package flexmix (Debian: r-cran-flexmix) is not installed"


def flexmix_version() -> str | None:
    """The installed flexmix version, or None when ``Rscript`` or flexmix is missing."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    proc = subprocess.run(
        [rscript, "-e", 'cat(as.character(packageVersion("flexmix")))'],
        capture_output=True, text=True, timeout=300,
    )
    version = proc.stdout.strip()
    return version if proc.returncode == 0 and version else None


@dataclass
class FlexmixRun:
    """One flexmix fit; ``status`` is "ok", "failed" (flexmix stopped, e.g. on an NA
    log-likelihood) or "not run" (no R or no flexmix here)."""

    status: str
    message: str = ""
    trace: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"iter": [], "loglik": [], "seconds": []})
    )
    coef: pd.DataFrame | None = None  # block, component, class, column, value (flexmix's layout)
    n_iter: int = 0
    converged: bool = False
    reported_loglik: float = float("nan")  # what flexmix itself reported
    seconds: float = float("nan")  # wall time of the flexmix() call inside R


def run_flexmix(X: np.ndarray, y: np.ndarray, posterior: np.ndarray, *, iter_max: int,
                tolerance: float, threads: int = 1) -> FlexmixRun:
    """Fit flexmix on (X, y) with labels 0..M-1, starting from ``posterior`` (n x K).

    ``tolerance`` is flexmix's relative stopping rule |L - L_old| / (|L| + 0.1) < tolerance.
    R's BLAS threads are limited to ``threads`` through the child's environment.
    """
    rscript = shutil.which("Rscript")
    if rscript is None or flexmix_version() is None:
        return FlexmixRun("not run", NOT_INSTALLED)
    n, d = X.shape
    if posterior.shape[0] != n or len(y) != n:
        raise ValueError(f"X has {n} rows, y {len(y)} and posterior {posterior.shape[0]}")
    env = dict(os.environ, **{name: str(threads) for name in
                              ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    with tempfile.TemporaryDirectory(prefix="moe-flexmix-") as tmp, \
            resources.as_file(resources.files("moe.bench").joinpath("flexmix.R")) as script:
        tmp = Path(tmp)
        data = pd.DataFrame(X, columns=[f"x{j + 1}" for j in range(d)])
        data.insert(0, "y", np.asarray(y, dtype=int))
        data.to_csv(tmp / "data.csv", index=False, float_format="%.17g")
        np.savetxt(tmp / "posterior.csv", posterior, delimiter=",", fmt="%.17g")
        out = tmp / "fit"
        proc = subprocess.run(
            [rscript, str(script), str(tmp / "data.csv"), str(tmp / "posterior.csv"),
             str(int(iter_max)), repr(float(tolerance)), str(out)],
            capture_output=True, text=True, env=env,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"flexmix.R exited with {proc.returncode}: {proc.stderr.strip()[-2000:]}")
        status = pd.read_csv(f"{out}_status.csv").iloc[0]
        trace = pd.read_csv(f"{out}_trace.csv")
        coef = pd.read_csv(f"{out}_coef.csv") if status["status"] == "ok" else None
    message = status["message"]
    return FlexmixRun(
        status=str(status["status"]),
        message="" if pd.isna(message) else str(message).strip(),
        trace=trace,
        coef=coef,
        n_iter=int(status["iter"]),
        converged=bool(status["converged"]),
        reported_loglik=float(status["loglik"]),
        seconds=float(status["seconds"]),
    )


def flexmix_parameters(coef: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """flexmix's coefficients as our (W, V): W (K x p), V (K x M x p).

    flexmix fixes gate component 1 and expert class 1 at zero; our layout fixes the last ones.
    Both describe the same model (SGMLMoE.from_parameters removes the translation).
    """
    gate = coef[coef["block"] == "gate"]
    expert = coef[coef["block"] == "expert"]
    K = int(coef["component"].max())
    p = int(coef["column"].max()) + 1
    M = int(expert["class"].max())
    W = np.zeros((K, p))
    W[gate["component"].to_numpy() - 1, gate["column"].to_numpy()] = gate["value"].to_numpy()
    V = np.zeros((K, M, p))
    V[expert["component"].to_numpy() - 1, expert["class"].to_numpy() - 1,
      expert["column"].to_numpy()] = expert["value"].to_numpy()
    return W, V


def flexmix_loglik(coef: pd.DataFrame, X: np.ndarray, y: np.ndarray) -> float:
    """sum_i log p(y_i | x_i) at flexmix's returned parameters, computed by our own code.

    flexmix refits its concomitant model after the last E-step, so the returned parameters are
    not exactly those whose log-likelihood it reports; this is the number to compare.
    """
    W, V = flexmix_parameters(coef)
    return SGMLMoE.from_parameters(W, V, np.arange(V.shape[1])).loglik(X, y)
