"""Section "time_to_optimum": every solver from the same starts, timed to the best optimum found.

Methods: the MM variants (fixed, weighted or lazy curvature; plain, SQUAREM or quasi-Newton
extrapolation; with or without over-relaxation), our EM with capped L-BFGS M-steps, and R flexmix
(EM with nnet M-steps). Each start theta_0 is the
estimator's own random-partition start (``SGMLMoE(init="random").initial_parameters``); our
solvers begin at theta_0 (:func:`trace_method`, which the synthetic study's optimisation
experiment and the workflow's solver traces use too), flexmix at the responsibilities
tau(theta_0) (it cannot take parameters). Every final log-likelihood is recomputed by our code at
the returned parameters.

The target is L* = the best recomputed objective of any method from any start on that data set
(the log-likelihood, minus the ridge alpha/2 |slopes|^2 when the data set has one: the quantity
every solver ascends and every trace records); a run "reaches" it when its trace comes within
``rel_gap`` |L*| of it. A run that stops
below it is "worse" if it converged, "budget" if it ran out of iterations, "failed" if it hit a
non-finite log-likelihood (flexmix: "Log-likelihood: NA"), and "not run" if flexmix is absent
(or the data set has a ridge, which flexmix does not fit). Runs of our solvers that converge are
timed ``repeats`` times (the iterates are identical) and the median run is kept.
"""

from __future__ import annotations

import logging
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from moe.simulate import synthetic_data
from moe.bench.flexmix import flexmix_loglik, run_flexmix
from moe._mm import penalty
from moe.model import SGMLMoE

LOG = logging.getLogger(__name__)

RELAXED = 1.8  # omega of the over-relaxed variants; any omega in (0, 2) keeps the ascent
METHODS = {
    "mm_fixed": {"solver": "mm", "curvature": "fixed", "accelerate": False},
    "mm_fixed_squarem": {"solver": "mm", "curvature": "fixed", "accelerate": True},
    "mm_weighted": {"solver": "mm", "curvature": "weighted", "accelerate": False},
    "mm_weighted_squarem": {"solver": "mm", "curvature": "weighted", "accelerate": True},
    "mm_weighted_qn": {"solver": "mm", "curvature": "weighted", "accelerate": "quasi_newton"},
    "mm_lazy_squarem": {"solver": "mm", "curvature": "lazy", "accelerate": True},
    "mm_weighted_squarem_relaxed": {"solver": "mm", "curvature": "weighted", "accelerate": True,
                                    "relaxation": RELAXED},
    "mm_fixed_squarem_relaxed": {"solver": "mm", "curvature": "fixed", "accelerate": True,
                                 "relaxation": RELAXED},
    "mm_lazy_squarem_relaxed": {"solver": "mm", "curvature": "lazy", "accelerate": True,
                                "relaxation": RELAXED},
    "em": {"solver": "em"},
    "flexmix": {"solver": "flexmix"},
}
DEFAULT_METHOD = "mm_weighted_squarem"  # SGMLMoE's defaults

DEFAULTS = {
    "datasets": [
        {"n": 2000, "d": 10, "K": 3, "M": 3, "coef_sd": 1.0, "n_init": 6},
        # flexmix costs about 2.2 s per iteration here: 40 iterations reach the optimum from
        # the start that converges, and keep the section within a quarter of an hour
        {"n": 10000, "d": 50, "K": 3, "M": 3, "coef_sd": 0.45, "n_init": 2,
         "flexmix_iter_max": 40},
        # the same data with the ridge of the workflow's fits (alpha = 1): the objective has a
        # maximiser, so no start drifts; flexmix fits no ridge, which leaves room for more starts
        {"n": 2000, "d": 10, "K": 3, "M": 3, "coef_sd": 1.0, "n_init": 6, "alpha": 1.0},
        {"n": 10000, "d": 50, "K": 3, "M": 3, "coef_sd": 0.45, "n_init": 4, "alpha": 1.0},
    ],
    "methods": list(METHODS),
    "rel_gap": 1e-6,
    "tol": 1e-10,  # our stopping rule: relative change per cycle
    "mm_max_iter": 10000,
    "em_max_iter": 1000,
    "em_inner_iter": 5,
    "flexmix_iter_max": 200,
    "flexmix_tolerance": 1e-10,
    "threads": 1,
    "max_trace_points": 300,
    "repeats": 3,  # runs of our solvers that converge are timed this often; the median counts
}
QUICK = {"datasets": [{"n": 2000, "d": 10, "K": 3, "M": 3, "coef_sd": 1.0, "n_init": 4}]}
RUN_COLUMNS = ["dataset", "n", "d", "K", "M", "method", "start", "status", "message", "outcome",
               "final_loglik", "final_objective", "reported_loglik", "best_objective", "target_objective",
               "total_iter", "total_seconds", "iter_to_target", "seconds_to_target",
               "start_outcome", "start_target_objective", "iter_to_start_target", "seconds_to_start_target"]
COLUMNS = RUN_COLUMNS + ["iter", "seconds", "loglik", "threads"]


def common_starts(X, y, K: int, n_init: int, seed: int, alpha: float = 0.0) -> list[dict]:
    """``n_init`` random-partition starts ``{"gate_coef", "expert_coef"}``, made by the
    estimator's own start routine."""
    return SGMLMoE(K, init="random", n_init=n_init, random_state=seed,
                   alpha=alpha).initial_parameters(X, y)


def trace_method(X, y, start: dict, method: str, *, max_iter: int, tol: float,
                 em_inner_iter: int = 5, alpha: float = 0.0) -> dict:
    """Run solver ``method`` (a key of ``METHODS`` other than flexmix) from ``start``.

    Returns ``status`` ("ok" or "failed"), ``message``, ``converged``, ``final_loglik``
    (recomputed at the returned parameters), ``final_objective`` (that minus the ridge),
    ``reported_loglik`` (the solver's objective),
    ``total_iter``, ``total_seconds`` and ``trace`` (columns ``iter`` = map evaluations,
    ``seconds``, ``loglik`` = the objective after every accepted step; the first row is the
    start).
    """
    spec = METHODS[method]
    if spec["solver"] == "flexmix":
        raise ValueError("trace_method runs our solvers; flexmix runs through run_flexmix")
    K = np.shape(start["gate_coef"])[0]
    model = SGMLMoE(K, init=start, max_iter=max_iter, tol=tol, alpha=alpha,
                    em_inner_iter=em_inner_iter, **spec)
    failed = ""
    start_time = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the outcome column says it
        try:
            model.fit(X, y)
        except RuntimeError as error:  # every start failed: a non-finite objective
            failed = str(error)
    seconds = time.perf_counter() - start_time
    if failed:
        return {"status": "failed", "message": failed, "converged": False,
                "final_loglik": np.nan, "final_objective": np.nan, "reported_loglik": np.nan,
                "total_iter": 0,
                "total_seconds": seconds,
                "trace": pd.DataFrame({"iter": [], "seconds": [], "loglik": []})}
    result = model.fit_results_[0]
    times = np.asarray(model.time_trace_)  # from the start of the ascent: S is set up before
    return {
        "status": "failed" if result["failed"] else "ok",
        "message": result["failed"] or "",
        "converged": bool(model.converged_),
        "final_loglik": model.loglik_,
        "final_objective": model.loglik_ - penalty(model._theta(), alpha),  # alpha/2 |slopes|^2
        "reported_loglik": model.objective_,
        "total_iter": int(model.n_iter_),
        "total_seconds": float(times[-1]),
        "trace": pd.DataFrame({"iter": model.eval_trace_, "seconds": times,
                               "loglik": model.loglik_trace_}),
    }


def _run_flexmix(X, y, W0, V0, iter_max, settings) -> dict:
    tau0 = SGMLMoE.from_parameters(W0, V0, np.arange(V0.shape[1])).responsibilities(X, y)
    fit = run_flexmix(X, y, tau0, iter_max=iter_max,
                      tolerance=settings["flexmix_tolerance"], threads=settings["threads"])
    final = flexmix_loglik(fit.coef, X, y) if fit.status == "ok" else np.nan
    return {
        "status": fit.status,
        "message": fit.message,
        "converged": fit.converged,
        "final_loglik": final,
        "final_objective": final,  # flexmix runs only on data sets without a ridge
        "reported_loglik": fit.reported_loglik,
        "total_iter": fit.n_iter,
        "total_seconds": fit.seconds,
        "trace": fit.trace[["iter", "seconds", "loglik"]],
    }


def _not_run(message: str) -> dict:
    return {"status": "not run", "message": message, "converged": False, "final_loglik": np.nan,
            "final_objective": np.nan, "reported_loglik": np.nan, "total_iter": 0, "total_seconds": np.nan,
            "trace": pd.DataFrame({"iter": [], "seconds": [], "loglik": []})}


def _outcome(run: dict, reached: bool) -> str:
    if run["status"] in ("not run", "failed"):
        return run["status"]
    if reached:
        return "reached"
    return "worse" if run["converged"] else "budget"


def _thin(n_points: int, keep: list[int], max_points: int) -> np.ndarray:
    """Indices of about ``max_points`` trace entries, log-spaced, always keeping ``keep``."""
    if n_points == 0:
        return np.array([], dtype=int)
    spaced = np.geomspace(1, n_points, num=min(max_points, n_points)).astype(int) - 1
    return np.unique(np.r_[0, spaced, n_points - 1, keep]).astype(int)


def _timed_run(X, y, start, method, settings, alpha) -> dict:
    """One run of our solver ``method``; a run that converges is repeated (its iterates are
    the same every time) and the repeat with the median total time is kept."""
    max_iter = settings["em_max_iter" if METHODS[method]["solver"] == "em" else "mm_max_iter"]

    def once():
        return trace_method(X, y, start, method, max_iter=max_iter, tol=settings["tol"],
                            em_inner_iter=settings["em_inner_iter"], alpha=alpha)

    run = once()
    if not run["converged"]:
        return run
    repeats = [run] + [once() for _ in range(int(settings["repeats"]) - 1)]
    if any(r["final_loglik"] != run["final_loglik"] for r in repeats):
        raise RuntimeError(f"time_to_optimum: repeated runs of {method} from one start differ")
    return sorted(repeats, key=lambda r: r["total_seconds"])[len(repeats) // 2]


def run_dataset(dataset: dict, settings: dict, seed: int) -> pd.DataFrame:
    """Every method from every start on one data set. ``K`` is the truth's number of experts;
    the fits have ``n_experts`` (default K) and the ridge ``alpha`` (default 0)."""
    n, d, K0, M = (int(dataset[key]) for key in ("n", "d", "K", "M"))
    K, alpha = int(dataset.get("n_experts", K0)), float(dataset.get("alpha", 0.0))
    X, y, _ = synthetic_data(n, d, K0, M, seed, coef_sd=dataset.get("coef_sd"))
    starts = common_starts(X, y, K, int(dataset["n_init"]), seed, alpha)
    runs = []
    for j, start in enumerate(starts):
        for method in settings["methods"]:
            if METHODS[method]["solver"] != "flexmix":
                run = _timed_run(X, y, start, method, settings, alpha)
            elif alpha > 0:
                run = _not_run("flexmix fits no ridge")
            else:
                iter_max = dataset.get("flexmix_iter_max", settings["flexmix_iter_max"])
                run = _run_flexmix(X, y, start["gate_coef"], start["expert_coef"], iter_max, settings)
            LOG.info("n=%d d=%d K=%d start %d %s: %s, L=%.6f, %d iterations, %.2f s", n, d, K, j,
                     method, run["status"], run["final_loglik"], run["total_iter"],
                     run["total_seconds"])
            runs.append({"method": method, "start": j} | run)
    best = _best(runs)
    start_best = {j: _best([r for r in runs if r["start"] == j]) for j in range(len(starts))}
    label = f"n={n}, d={d}, K={K}, M={M}" + (f" (K0={K0}, alpha={alpha:g})" if (K, alpha) != (K0, 0) else "")
    threshold = _target(best, settings["rel_gap"])
    pieces = []
    for run in runs:
        trace = run.pop("trace").reset_index(drop=True)
        start_threshold = _target(start_best[run["start"]], settings["rel_gap"])
        first, start_first = _first_hit(trace, threshold), _first_hit(trace, start_threshold)
        hits = [i for i in (first, start_first) if i is not None]
        keep = _thin(len(trace), hits, settings["max_trace_points"])
        part = trace.iloc[keep].copy() if len(trace) else pd.DataFrame(
            {"iter": [np.nan], "seconds": [np.nan], "loglik": [np.nan]})
        for key, value in {
            "dataset": label, "n": n, "d": d, "K": K, "M": M, "method": run["method"],
            "start": run["start"], "status": run["status"], "message": run["message"],
            "outcome": _outcome(run, first is not None), "final_loglik": run["final_loglik"],
            "final_objective": run["final_objective"], "reported_loglik": run["reported_loglik"],
            "best_objective": best, "target_objective": threshold,
            "total_iter": run["total_iter"], "total_seconds": run["total_seconds"],
            "iter_to_target": np.nan if first is None else trace["iter"].iloc[first],
            "seconds_to_target": np.nan if first is None else trace["seconds"].iloc[first],
            "start_outcome": _outcome(run, start_first is not None),
            "start_target_objective": start_threshold,
            "iter_to_start_target": np.nan if start_first is None else trace["iter"].iloc[start_first],
            "seconds_to_start_target": np.nan if start_first is None else trace["seconds"].iloc[start_first],
        }.items():
            part[key] = value
        pieces.append(part)
    return pd.concat(pieces, ignore_index=True)


def _best(runs: list[dict]) -> float:
    """The best recomputed objective of ``runs`` (NaN if none is finite)."""
    finals = [r["final_objective"] for r in runs if np.isfinite(r["final_objective"])]
    return max(finals) if finals else np.nan


def _target(best: float, rel_gap: float) -> float:
    """The objective a run must reach to count as reaching ``best``: within rel_gap |best|."""
    return best - rel_gap * abs(best)


def _first_hit(trace: pd.DataFrame, threshold: float) -> int | None:
    """Position of the first trace entry at or above ``threshold``, None if there is none."""
    hits = np.flatnonzero(trace["loglik"].to_numpy() >= threshold)
    return int(hits[0]) if hits.size else None


def run(settings: dict, seed: int) -> pd.DataFrame:
    unknown = set(settings["methods"]) - set(METHODS)
    if unknown:
        raise ValueError(f"time_to_optimum: unknown methods {sorted(unknown)}; known: {list(METHODS)}")
    with threadpool_limits(limits=settings["threads"], user_api="blas"):
        table = pd.concat([run_dataset(ds, settings, seed) for ds in settings["datasets"]],
                          ignore_index=True)
    table["threads"] = settings["threads"]
    return table[COLUMNS]


def _paired_ratios(runs: pd.DataFrame, method: str, reference: str,
                   seconds: str = "seconds_to_target") -> pd.Series:
    """t_reference / t_method over the (data set, start) pairs where both reached the target
    whose times ``seconds`` holds."""
    t = runs.pivot_table(index=["dataset", "start"], columns="method", values=seconds)
    if method not in t or reference not in t:
        return pd.Series(dtype=float)
    return (t[reference] / t[method]).dropna()


def _median(ratios: pd.Series) -> float:
    return float(ratios.median()) if len(ratios) else np.nan


def _speedups(runs: pd.DataFrame, method: str) -> dict:
    """Paired median speed-ups of ``method`` over flexmix and our EM: to L* (the data set's best)
    and to L*_j (the best any method reached from the same start j)."""
    return {
        f"speedup_vs_{reference}{suffix}": _median(_paired_ratios(runs, method, reference, seconds))
        for suffix, seconds in (("", "seconds_to_target"), ("_start_best", "seconds_to_start_target"))
        for reference in ("flexmix", "em")
    }


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Per data set and method: outcomes over starts, median time and iterations to the target,
    seconds per iteration, and paired speed-ups (medians over starts) of each method over
    flexmix and over our EM; then one row per method over every data set ("all"), whose
    speed-ups are medians over all (data set, start) pairs.

    Two targets: L*, the best objective any method reached on the data set (outcome columns,
    ``speedup_vs_*``), and L*_j, the best any method reached from the same start
    (``reached_start_best``, ``speedup_vs_*_start_best``). Most starts of a non-convex fit end
    at another optimum than L*, for every method alike; L*_j times every solver from every
    start to the optimum that start leads to, and a method that stops below L*_j where another
    reached it is counted as missing it.
    """
    runs = table.drop_duplicates(["dataset", "method", "start"])
    outcomes = ("reached", "worse", "budget", "failed", "not run")
    rows = []
    for (dataset, method), group in runs.groupby(["dataset", "method"], sort=False):
        counts = group["outcome"].value_counts()
        ran = group[group["status"] != "not run"]
        rows.append({
            "dataset": dataset, "method": method, "starts": len(group),
            **{outcome: int(counts.get(outcome, 0)) for outcome in outcomes},
            "reached_start_best": int((group["start_outcome"] == "reached").sum()),
            "median_seconds_to_target": group["seconds_to_target"].median(),
            "median_iter_to_target": group["iter_to_target"].median(),
            "ms_per_iter": 1e3 * (ran["total_seconds"] / ran["total_iter"]).median(),
            **_speedups(runs[runs["dataset"] == dataset], method),
            "best_objective": group["best_objective"].iloc[0],
        })
    per_dataset = pd.DataFrame(rows)
    pooled = [{
        "dataset": "all", "method": method, "starts": int(group["starts"].sum()),
        **{outcome: int(group[outcome].sum()) for outcome in outcomes},
        "reached_start_best": int(group["reached_start_best"].sum()),
        **_speedups(runs, method),
    } for method, group in per_dataset.groupby("method", sort=False)]
    return pd.concat([per_dataset, pd.DataFrame(pooled)], ignore_index=True)
