"""Log-likelihood traces of MM and EM from one common start (a figure of the workflow)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from moe.bench.optimum import trace_method
from moe.model import SGMLMoE

__all__ = ["solver_traces"]


def solver_traces(
    X, y, n_experts: int, *, max_iter: int = 500, tol: float = 1e-8, alpha: float = 0.0,
    curvature: str = "weighted", random_state: int | None = 0, n_threads: int | None = 1,
) -> pd.DataFrame:
    """Log-likelihood traces of MM (with SQUAREM, as the estimator's default) and EM from one common start, the estimator's k-means start (``initial_parameters``), so the
    traces differ only by the solver.

    Returns
    -------
    DataFrame
        Columns ``solver`` ("mm" or "em"), ``iteration`` (accepted step; 0 is the start),
        ``seconds``, ``loglik`` (the penalised objective with ``alpha`` > 0), ``mean_loglik``
        (per pair) and ``converged`` (whether the fit met ``tol`` within ``max_iter``).
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_threads, user_api="blas"):
        (start,) = SGMLMoE(n_experts, n_init=1, random_state=random_state,
                           alpha=alpha).initial_parameters(X, y)
        frames = []
        for solver, method in (("mm", f"mm_{curvature}_squarem"), ("em", "em")):
            run = trace_method(X, y, start, method, max_iter=max_iter, tol=tol, alpha=alpha)
            if run["status"] != "ok":
                raise RuntimeError(f"solver_traces: {solver} failed: {run['message']}")
            trace = run["trace"]
            frames.append(pd.DataFrame({
                "solver": solver,
                "iteration": np.arange(len(trace)),
                "seconds": trace["seconds"].to_numpy(dtype=float),
                "loglik": trace["loglik"].to_numpy(dtype=float),
                "mean_loglik": trace["loglik"].to_numpy(dtype=float) / len(y),
                "converged": bool(run["converged"]),
            }))
    return pd.concat(frames, ignore_index=True)
