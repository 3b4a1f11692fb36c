"""The outer loop shared by every solver: plain or extrapolated (SQUAREM, quasi-Newton) monotone ascent."""

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


QN_SECANTS = 2  # secant pairs the quasi-Newton extrapolation keeps


def squarem(th0, th1, th2):
    """SQUAREM scheme S3 (Varadhan and Roland 2008) from two plain steps th0 -> th1 -> th2:
    th0 - 2 a r + a^2 v with r = th1 - th0, v = th2 - th1 - r, a = min(-1, -|r| / |v|)."""
    r = th1 - th0
    v = th2 - th1 - r
    norm_v = np.linalg.norm(v)
    if norm_v == 0:
        return None
    a = min(-1.0, -np.linalg.norm(r) / norm_v)
    return th0 - 2 * a * r + a * a * v


class QuasiNewton:
    """The quasi-Newton extrapolation of Zhou, Alexander and Lange (2011).

    From the secant pairs u_j = F(x_j) - x_j, v_j = F(F(x_j)) - F(x_j) of the last
    ``QN_SECANTS`` cycles (columns of U, V), dF is approximated by V (U^T U)^{-1} U^T, and one
    Newton step on x - F(x) = 0 gives F(x) + V (U^T U - U^T V)^{-1} U^T u, u the newest u_j.
    """

    def __init__(self, secants: int = QN_SECANTS):
        self.secants = secants
        self.U, self.V = [], []

    def __call__(self, th0, th1, th2):
        u, v = (th1 - th0).ravel(), (th2 - th1).ravel()
        self.U, self.V = (self.U + [u])[-self.secants:], (self.V + [v])[-self.secants:]
        U, V = np.array(self.U).T, np.array(self.V).T
        UU = U.T @ U
        try:
            c = np.linalg.solve(UU - U.T @ V, U.T @ u)
        except np.linalg.LinAlgError:  # parallel secants; the safeguard takes the plain step
            return None
        return th1 + (V @ c).reshape(th1.shape)


def ascend(F, theta: np.ndarray, max_iter: int, tol: float, accelerate,
           result: AscentResult | None = None) -> AscentResult:
    """Iterate the map ``F`` from ``theta`` until the relative change of the objective < ``tol``.

    ``F`` has ``e_step(theta)``, ``objective(state, theta)``, ``F(theta, state) -> theta'`` and
    ``reset()``. ``accelerate`` is False (plain steps), "squarem" (or True) or "quasi_newton":
    every cycle makes two plain steps and extrapolates from them (:func:`squarem`,
    :class:`QuasiNewton`); the monotone safeguard of docs/method.md (section "The MM iteration")
    keeps the extrapolated point only if its objective is finite and at least that of the second
    plain step, so the accepted sequence stays monotone.
    Passing a previous ``result`` continues it (trace, times and iteration count carry over).
    """
    if accelerate in (True, "squarem"):
        extrapolate = squarem
    elif accelerate == "quasi_newton":
        extrapolate = QuasiNewton()
    elif not accelerate:
        extrapolate = None
    else:
        raise ValueError(f"accelerate must be False, True, 'squarem' or 'quasi_newton'; got {accelerate!r}")
    F.reset()
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
        if extrapolate is not None and result.n_iter < budget:
            th1 = theta
            second = advance(th1, state)
            if second is None:
                break
            theta, state, obj = second
            th_x = extrapolate(th0, th1, theta)
            if th_x is not None:
                st_x = F.e_step(th_x)
                ob_x = F.objective(st_x, th_x)
                if np.isfinite(ob_x) and ob_x >= obj:
                    theta, state, obj = th_x, st_x, ob_x
                    record(theta, obj)
        if _converged(start, obj, tol):
            result.converged = True
            break
    return result
