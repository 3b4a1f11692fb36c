"""The outer loop shared by every solver: plain or SQUAREM-accelerated monotone ascent."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class AscentResult:
    """Where one run of :func:`ascend` stopped."""

    theta: np.ndarray
    objective: float
    trace: list = field(default_factory=list)  # objective after every accepted step
    times: list = field(default_factory=list)  # seconds since the run started, per trace entry
    evals: list = field(default_factory=list)  # map evaluations spent, per trace entry
    n_iter: int = 0  # evaluations of the map F
    converged: bool = False
    failed: str | None = None  # why the run stopped early on a non-finite value


def _converged(old: float, new: float, tol: float) -> bool:
    return abs(new - old) <= tol * max(abs(old), np.finfo(float).tiny)


def ascend(F, theta: np.ndarray, max_iter: int, tol: float, accelerate: bool,
           result: AscentResult | None = None) -> AscentResult:
    """Iterate the map ``F`` from ``theta`` until the relative change of the objective < ``tol``.

    ``F`` has ``e_step(theta)``, ``objective(state, theta)`` and ``F(theta, state) -> theta'``.
    With ``accelerate``, SQUAREM scheme S3 (Varadhan and Roland 2008) with the monotone
    safeguard of docs/method.md (section "The MM iteration"): the extrapolated point is kept only if its objective is
    finite and at least that of the second plain step; so the accepted sequence stays monotone.
    Passing a previous ``result`` continues it (trace, times and iteration count carry over).
    """
    t0 = time.perf_counter() - (result.times[-1] if result and result.times else 0.0)
    state = F.e_step(theta)
    obj = F.objective(state, theta)
    if result is None:
        result = AscentResult(theta, obj, [obj], [0.0], [0])
    budget = result.n_iter + max_iter

    def record(th, ob):
        result.theta, result.objective = th, ob
        result.trace.append(ob)
        result.times.append(time.perf_counter() - t0)
        result.evals.append(result.n_iter)

    def advance(th, st):
        """One map evaluation, recorded; None (and ``result.failed`` set) if it is non-finite."""
        new = F(th, st)
        result.n_iter += 1
        new_state = F.e_step(new)
        ob = F.objective(new_state, new)
        if not np.isfinite(ob):
            result.failed = "the objective became non-finite"
            return None
        record(new, ob)
        return new, new_state, ob

    if not np.isfinite(obj):
        result.failed = "the objective is not finite at the starting point"
        return result
    while result.n_iter < budget:
        start = obj
        th0 = theta
        plain = advance(theta, state)
        if plain is None:
            break
        theta, state, obj = plain
        if accelerate and result.n_iter < budget:
            th1 = theta
            second = advance(th1, state)
            if second is None:
                break
            theta, state, obj = second
            th2, ob2 = theta, obj
            r = th1 - th0
            v = th2 - th1 - r
            norm_v = np.linalg.norm(v)
            if norm_v > 0:
                a = min(-1.0, -np.linalg.norm(r) / norm_v)
                th_x = th0 - 2 * a * r + a * a * v
                st_x = F.e_step(th_x)
                ob_x = F.objective(st_x, th_x)
                if np.isfinite(ob_x) and ob_x >= ob2:
                    theta, state, obj = th_x, st_x, ob_x
                    record(theta, obj)
        if _converged(start, obj, tol):
            result.converged = True
            break
    return result
