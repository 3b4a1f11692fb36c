"""The synthetic study (docs/method.md, section "Synthetic study"): five experiments, each a tidy table and a figure.

``run_experiment(name, settings, seed, scale)`` returns a DataFrame; ``plot_experiment(name,
table, path)`` draws it and ``summarize(name, table)`` writes its summary as Markdown tables.
``SETTINGS["default"][name]`` runs in a few minutes on two cores; ``SETTINGS["paper"][name]``
(``scale="paper"``) is the larger study the README reports. ``settings`` may give only the keys
it changes; the rest come from ``SETTINGS[scale][name]``.

1. ``selection``: the share of replicates in which each selector returns the true K0, against
   n, for every DSC variant (one over-fitted fit at K_bar = K0 + ``k_extra`` per replicate and
   per ridge alpha) and for AIC, BIC and ICL (a sweep K = 1..K_bar), in a well-specified and an
   epsilon-contaminated setting.
2. ``voronoi``: the Voronoi loss (``moe.simulate.voronoi_loss``) of the over-fitted fit, of its
   dendrogram level at K0, of the level the DSC selects and of a fit at K0, against n, with the
   log-log slope (``moe.simulate.loglog_slope``).
3. ``optimisation``: the log-likelihood against iteration and wall time for MM (weighted and
   fixed curvature, with and without SQUAREM; the lazy curvature with SQUAREM and relaxation
   1.8) and EM, all from the same start on the same data
   (``moe.bench.optimum.trace_method``, the benchmark's runner; solver names are the keys of
   ``moe.bench.optimum.METHODS``).
4. ``selection_cost``: the wall time of one over-fitted fit plus the dendrogram against the
   sweep K = 1..K_bar (``moe.bench.selection_cost``'s two paths).
5. ``split_copies``: the share of replicates in which each DSC variant returns K0 when the
   over-fitted model is the truth itself, its experts split into exact copies: the truth
   ``moe.simulate.simplex_parameters(K0)`` (atoms on a regular simplex), experts 0 and 2 split
   in two copies each with intercept b - log 2 (``moe.simulate.split_copies``, atoms shuffled),
   for K0 = 2, 3, 4 against n. No fit: the tree starts from the split model, so a miss is the
   selector's, not the optimiser's.

Every model is ``SGMLMoE(**fit)`` with the experiment's ``fit`` settings (SGMLMoE's parameters,
e.g. ``n_init``, ``max_iter``, ``tol``), so the study validates the estimator users get
(``split_copies``: the split model carries them, for the merges and refits of its tree).

Command line (writes ``<out>/<name>.csv``, ``.png`` and ``.md``, the summary tables):

    python -m moe.synthetic selection --scale paper --seed 0 --out results/synthetic
"""

from __future__ import annotations

import argparse
import copy
import re
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from threadpoolctl import threadpool_limits

from moe.bench.optimum import METHODS, trace_method
from moe.bench.selection_cost import dendrogram_path, sweep_path
from moe.dendrogram import DEFAULT_VARIANT, OMEGAS, VARIANTS, MixingDendrogram, resolve_variant
from moe.io import atomic_path, atomic_to_csv, atomic_write_text
from moe.model import SGMLMoE
from moe.plots_selection import EXPERIMENT_PLOTS
from moe.selection import CRITERIA, best_k, sweep
from moe.simulate import (
    loglog_slope,
    sample,
    simplex_parameters,
    split_copies,
    true_model,
    voronoi_loss,
    well_separated_parameters,
)

EXPERIMENTS = ("selection", "voronoi", "optimisation", "selection_cost", "split_copies")

_TRUTH = {"K0": 3, "d": 2, "M": 4, "gate_scale": 3.0, "expert_scale": 3.0, "slope_scale": 0.5,
          "truth_seed": 0}
_FIT = {"max_iter": 1000, "tol": 1e-7, "n_threads": 1, "n_init": 2}
# the split-copies truth (moe.simulate.simplex_parameters' defaults) and the split model's
# settings: plain MM (no SQUAREM), whose steps keep exact copies exact (see _run_split_copies)
_SIMPLEX = {"M": 3, "gate_scale": 3.0, "expert_scale": 6.0}
_SPLIT_FIT = {"n_threads": 1, "tol": 1e-8, "accelerate": False}

SETTINGS = {
    "default": {
        "selection": {
            "settings": [{"name": "well-specified", **_TRUTH, "epsilon": 0.0},
                         {"name": "contaminated", **_TRUTH, "epsilon": 0.1}],
            "n_grid": [1000, 4000], "replicates": 2, "k_extra": 2, "alphas": [0.0],
            "variants": [DEFAULT_VARIANT, "literal"], "omegas": ["log"],
            "criteria": list(CRITERIA), "fit": {**_FIT, "max_iter": 300, "tol": 1e-6},
        },
        "voronoi": {"truth": _TRUTH, "n_grid": [1000, 4000, 16000], "replicates": 2,
                    "k_extra": 2, "variant": DEFAULT_VARIANT,
                    "fit": {**_FIT, "max_iter": 300, "tol": 1e-6}},
        "optimisation": {"truth": _TRUTH, "n": 4000, "n_experts": 3, "max_iter": 200,
                         "em_inner_iter": 5,
                         "solvers": ["mm_weighted_squarem", "mm_weighted", "mm_fixed_squarem",
                                     "mm_fixed", "mm_lazy_squarem_relaxed", "em"]},
        "selection_cost": {"truth": _TRUTH, "n_grid": [2000, 8000], "replicates": 1,
                           "k_extra": 2, "variant": DEFAULT_VARIANT,
                           "fit": {**_FIT, "max_iter": 300, "tol": 1e-6}},
        "split_copies": {"K0_grid": [2, 3, 4], "copies": [2, 1, 2, 1], "truth": _SIMPLEX,
                         "n_grid": [2000], "replicates": 1,
                         "variants": [DEFAULT_VARIANT, "literal"], "fit": _SPLIT_FIT},
    },
}
SETTINGS["paper"] = {
    "selection": {
        **SETTINGS["default"]["selection"],
        "settings": [
            # every variant, every omega, with and without a ridge on the over-fitted fit
            {"name": "well-specified", **_TRUTH, "epsilon": 0.0, "variants": list(VARIANTS),
             "omegas": list(OMEGAS), "alphas": [0.0, 3.0]},
            {"name": "contaminated", **_TRUTH, "epsilon": 0.1, "variants": list(VARIANTS),
             "omegas": list(OMEGAS)},
            {"name": "well-specified K0=2", **_TRUTH, "K0": 2, "epsilon": 0.0},
            {"name": "well-specified K0=1", **_TRUTH, "K0": 1, "epsilon": 0.0},
            # a second K0 = 3 truth: how much the n = 2,000 verdict owes to one draw of it
            {"name": "well-specified, second truth", **_TRUTH, "truth_seed": 1, "epsilon": 0.0},
        ],
        "n_grid": [2000, 6000, 20000], "replicates": 5, "k_extra": 3, "alphas": [0.0],
        "variants": [DEFAULT_VARIANT, "literal"], "omegas": ["log"], "fit": _FIT,
    },
    "voronoi": {**SETTINGS["default"]["voronoi"], "n_grid": [1000, 3000, 10000, 30000],
                "replicates": 5, "k_extra": 3, "fit": _FIT},
    "optimisation": {**SETTINGS["default"]["optimisation"], "n": 20000, "max_iter": 1000},
    "selection_cost": {**SETTINGS["default"]["selection_cost"],
                       "n_grid": [2000, 6000, 20000], "replicates": 3, "k_extra": 3,
                       "fit": _FIT},
    "split_copies": {**SETTINGS["default"]["split_copies"], "n_grid": [2000, 6000, 20000],
                     "replicates": 5, "variants": list(VARIANTS)},
}


def run_experiment(name, settings=None, seed=0, scale="default") -> pd.DataFrame:
    """Run experiment ``name`` with ``settings`` (over ``SETTINGS[scale][name]``) and ``seed``.

    Returns the experiment's tidy table; see the module docstring and each ``_run_*`` function
    for its columns.
    """
    if name not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {EXPERIMENTS}; got {name!r}")
    if scale not in SETTINGS:
        raise ValueError(f"scale must be one of {sorted(SETTINGS)}; got {scale!r}")
    defaults = SETTINGS[scale][name]
    settings = {**copy.deepcopy(defaults), **(settings or {})}
    unknown = set(settings) - set(defaults)
    if unknown:
        raise ValueError(f"unknown settings for experiment {name!r}: {sorted(unknown)}")
    return _RUNNERS[name](settings, seed)


# ---------------------------------------------------------------------------- helpers
def _truth(spec):
    W, V = well_separated_parameters(
        spec["K0"], spec["d"], spec["M"], gate_scale=spec["gate_scale"],
        expert_scale=spec["expert_scale"], slope_scale=spec["slope_scale"],
        random_state=spec["truth_seed"],
    )
    return true_model(W, V)


def _seeds(seed, *key):
    """(data seed, fit seed) for one replicate, a function of ``seed`` and ``key`` alone, so a
    setting, n or replicate draws the same numbers whatever else a run holds."""
    words = [zlib.crc32(str(part).encode()) for part in key]
    state = np.random.SeedSequence(seed, spawn_key=words).generate_state(2)
    return tuple(int(word % (2**31 - 1)) for word in state)


def _estimator(fit, seed, alpha=0.0) -> SGMLMoE:
    return SGMLMoE(random_state=seed, **{"alpha": alpha, **fit})


def _fit(X, y, K, fit, seed, alpha=0.0):
    return _estimator(fit, seed, alpha).set_params(n_experts=K).fit(X, y)


def _quietly(run):
    """Run ``run(settings, seed)`` without ConvergenceWarnings: the study's budgets are part of
    its settings, and a fit stopped by one is a fit as the study defines it."""
    def quiet(settings, seed):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return run(settings, seed)
    return quiet


# ---------------------------------------------------------------------------- 1. selection
def _run_selection(s, seed):
    """Columns: setting, epsilon, K0, n, replicate, method, alpha, selected_k, correct, seconds.

    A setting may carry its own ``variants``, ``omegas`` and ``alphas`` (else the experiment's).

    ``method`` is ``dsc:<variant>`` (``<variant>@<omega>`` when scored with another omega) or a
    sweep criterion; ``seconds`` is the over-fitted fit plus the tree (DSC) or the whole sweep.
    """
    rows = []
    for setting in s["settings"]:
        truth = _truth(setting)
        K0, K_bar = setting["K0"], setting["K0"] + s["k_extra"]
        variants = setting.get("variants", s["variants"])
        omegas = setting.get("omegas", s["omegas"])
        alphas = setting.get("alphas", s["alphas"])
        for n in s["n_grid"]:
            for rep in range(s["replicates"]):
                data_seed, fit_seed = _seeds(seed, "selection", setting["name"], n, rep)
                X, y = sample(truth, n, epsilon=setting["epsilon"], random_state=data_seed)
                base = {"setting": setting["name"], "epsilon": setting["epsilon"], "K0": K0,
                        "n": n, "replicate": rep}
                for alpha in alphas:
                    t0 = time.perf_counter()
                    model = _fit(X, y, K_bar, s["fit"], fit_seed, alpha)
                    fit_seconds = time.perf_counter() - t0
                    for tree, scored in _group_by_tree(variants, omegas).items():
                        t0 = time.perf_counter()
                        dendrogram = MixingDendrogram(model, tree).fit(X, y)
                        seconds = fit_seconds + time.perf_counter() - t0
                        for label, variant in scored:
                            k = best_k(dendrogram.with_variant(variant).dsc(X, y), "dsc")
                            rows.append({**base, "method": f"dsc:{label}", "alpha": alpha,
                                         "selected_k": k, "correct": k == K0, "seconds": seconds})
                t0 = time.perf_counter()
                table = sweep(X, y, K_bar, s["criteria"], estimator=_estimator(s["fit"], fit_seed))
                seconds = time.perf_counter() - t0
                for criterion in s["criteria"]:
                    k = best_k(table, criterion)
                    rows.append({**base, "method": criterion, "alpha": 0.0, "selected_k": k,
                                 "correct": k == K0, "seconds": seconds})
    return pd.DataFrame(rows)


def _group_by_tree(variants, omegas):
    """{tree: [(label, variant)]}: variants that differ only in omega share one tree."""
    groups = {}
    for name in variants:
        base = resolve_variant(name)
        for omega in omegas:
            label = name if omega == base.omega else f"{name}@{omega}"
            groups.setdefault(base, []).append((label, resolve_variant(label)))
    return groups


# ---------------------------------------------------------------------------- 2. voronoi
def _run_voronoi(s, seed):
    """Columns: n, replicate, fit (``overfit`` K_bar, ``merged`` the tree's level K0,
    ``selected`` the DSC's choice, ``k0_fit`` a fit at K0), n_experts, loss."""
    truth = _truth(s["truth"])
    K0 = s["truth"]["K0"]
    K_bar = K0 + s["k_extra"]
    rows = []
    for n in s["n_grid"]:
        for rep in range(s["replicates"]):
            data_seed, fit_seed = _seeds(seed, "voronoi", n, rep)
            X, y = sample(truth, n, random_state=data_seed)
            model = _fit(X, y, K_bar, s["fit"], fit_seed)
            dendrogram = MixingDendrogram(model, s["variant"]).fit(X, y)
            fits = {"overfit": model, "merged": dendrogram.levels_[K0],
                    "selected": dendrogram.merged_model_,
                    "k0_fit": _fit(X, y, K0, s["fit"], fit_seed)}
            for label, fitted in fits.items():
                rows.append({"n": n, "replicate": rep, "fit": label,
                             "n_experts": fitted.gate_coef_.shape[0],
                             "loss": voronoi_loss(fitted, truth)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- 3. optimisation
def _run_optimisation(s, seed):
    """Columns: solver, iteration (accepted step), seconds, mean_loglik (objective / n)."""
    truth = _truth(s["truth"])
    data_seed, start_seed = _seeds(seed, "optimisation")
    X, y = sample(truth, s["n"], random_state=data_seed)
    ours = [name for name, spec in METHODS.items() if spec["solver"] != "flexmix"]
    unknown = [label for label in s["solvers"] if label not in ours]
    if unknown:
        raise ValueError(f"unknown solver(s) {unknown}; choose from {ours}")
    rows = []
    with threadpool_limits(limits=1, user_api="blas"):
        (start,) = SGMLMoE(s["n_experts"], n_init=1, random_state=start_seed).initial_parameters(X, y)
        for label in s["solvers"]:
            run = trace_method(X, y, start, label, max_iter=s["max_iter"], tol=0.0,
                               em_inner_iter=s["em_inner_iter"])
            trace = run["trace"]
            rows += [{"solver": label, "iteration": it, "seconds": t, "mean_loglik": ll / s["n"]}
                     for it, (ll, t) in enumerate(zip(trace["loglik"], trace["seconds"]))]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- 4. selection cost
def _run_selection_cost(s, seed):
    """Columns: n, replicate, procedure (``overfit+dendrogram`` or ``sweep``), seconds, selected_k."""
    truth = _truth(s["truth"])
    K_bar = s["truth"]["K0"] + s["k_extra"]
    rows = []
    for n in s["n_grid"]:
        for rep in range(s["replicates"]):
            data_seed, fit_seed = _seeds(seed, "selection_cost", n, rep)
            X, y = sample(truth, n, random_state=data_seed)
            estimator = _estimator(s["fit"], fit_seed)
            seconds, k = dendrogram_path(X, y, estimator, K_bar, s["variant"])
            rows.append({"n": n, "replicate": rep, "procedure": "overfit+dendrogram",
                         "seconds": seconds, "selected_k": k})
            seconds, picks = sweep_path(X, y, estimator, K_bar, ("bic",))
            rows.append({"n": n, "replicate": rep, "procedure": "sweep",
                         "seconds": seconds, "selected_k": picks["bic"]})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- 5. split copies
def _run_split_copies(s, seed):
    """Columns: K0, n, replicate, method (``dsc:<variant>``), selected_k, correct, seconds.

    Per K0 in ``K0_grid``, n and replicate: data from the truth ``simplex_parameters(K0,
    M, gate_scale, expert_scale)`` (those keys of ``truth``), and the split model: expert k in
    ``copies[k]`` copies (the first K0 entries; default experts 0 and 2 in two) with intercept
    b - log c, atoms shuffled, which predicts exactly as the truth. ``SGMLMoE.from_parameters(..., **fit)`` holds it; the default
    ``fit`` is plain MM (``accelerate=False``), whose steps keep exact copies exact, while
    SQUAREM's extrapolation amplifies last-bit differences between them until they drift apart
    into a genuinely over-fitted model. Each variant's ``MixingDendrogram`` is built on it and
    scored on the data; ``seconds`` is that tree.
    """
    rows = []
    copies = list(s["copies"])
    for K0 in s["K0_grid"]:
        if len(copies) < K0:
            raise ValueError(f"copies {copies} gives fewer than K0 = {K0} experts")
        truth_spec = s["truth"]
        W, V = simplex_parameters(K0, n_classes=truth_spec["M"],
                                  gate_scale=truth_spec["gate_scale"],
                                  expert_scale=truth_spec["expert_scale"])
        truth = true_model(W, V)
        for n in s["n_grid"]:
            for rep in range(s["replicates"]):
                data_seed, split_seed = _seeds(seed, "split_copies", K0, n, rep)
                X, y = sample(truth, n, random_state=data_seed)
                split = SGMLMoE.from_parameters(
                    *split_copies(W, V, copies[:K0], split_seed), truth.classes_, **s["fit"])
                for variant in s["variants"]:
                    t0 = time.perf_counter()
                    k = MixingDendrogram(split, variant).fit(X, y).selected_k_
                    rows.append({"K0": K0, "n": n, "replicate": rep, "method": f"dsc:{variant}",
                                 "selected_k": k, "correct": k == K0,
                                 "seconds": time.perf_counter() - t0})
    return pd.DataFrame(rows)


_RUNNERS = {
    "selection": _quietly(_run_selection),
    "voronoi": _quietly(_run_voronoi),
    "optimisation": _run_optimisation,
    "selection_cost": _quietly(_run_selection_cost),
    "split_copies": _quietly(_run_split_copies),
}


# ---------------------------------------------------------------------------- summaries
def summarize(name, table) -> str:
    """Markdown tables of an experiment's numbers (what the README reports)."""
    if name == "selection":
        table = table.assign(method=[m if a == 0 else f"{m} (ridge {a:g})"
                                     for m, a in zip(table["method"], table["alpha"])])
        hits = table.groupby(["method", "setting", "n"])["correct"].agg(
            lambda c: f"{int(c.sum())}/{len(c)}").unstack(["setting", "n"])
        mean_k = table.groupby(["method", "setting", "n"])["selected_k"].mean().unstack(
            ["setting", "n"]).round(1)
        return ("Replicates selecting K0:\n\n" + _markdown(hits)
                + "\n\nMean selected number of experts:\n\n" + _markdown(mean_k))
    if name == "voronoi":
        median = table.groupby(["fit", "n"])["loss"].median().unstack("n")
        slopes = loglog_slope(table).rename("log-log slope (all replicates)")
        return ("Median Voronoi loss:\n\n" + _markdown(median.round(3))
                + "\n\n" + _markdown(slopes.round(2).to_frame()))
    if name == "optimisation":
        best = table["mean_loglik"].max()
        rows = {}
        for solver, g in table.groupby("solver", sort=False):
            row = {"accepted steps": int(g["iteration"].max()),
                   "seconds": round(g["seconds"].max(), 2),
                   "final gap to best": f"{best - g['mean_loglik'].max():.1e}"}
            for gap in (1e-4, 1e-8):
                hit = g[g["mean_loglik"] >= best - gap]
                row[f"seconds to {gap:g}"] = round(hit["seconds"].iloc[0], 2) if len(hit) else None
            rows[solver] = row
        return _markdown(pd.DataFrame(rows).T)
    if name == "split_copies":
        cells = table.groupby(["method", "K0", "n"], sort=False).agg(
            hits=("correct", "sum"), replicates=("correct", "size"),
            mean_k=("selected_k", "mean"))
        cells = pd.Series([f"{int(h)}/{int(r)} ({k:.1f})" for h, r, k in cells.to_numpy()],
                          index=cells.index).unstack(["K0", "n"])
        cells.columns = [f"K0={K0} n={n}" for K0, n in cells.columns]
        return ("Replicates selecting K0 from the split-copies truth (mean selected K):\n\n"
                + _markdown(cells))
    median = table.groupby(["procedure", "n"])["seconds"].median().unstack("n").round(2)
    return "Median wall time (s):\n\n" + _markdown(median)


def _markdown(frame) -> str:
    """A DataFrame as a GitHub markdown table (index first)."""
    columns = [" ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in frame.columns]
    lines = ["| " + " | ".join([str(frame.index.name or "")] + columns) + " |",
             "|" + "---|" * (len(columns) + 1)]
    for index, row in frame.iterrows():
        cells = ["" if pd.isna(v) else str(v) for v in row]
        lines.append("| " + " | ".join([str(index)] + cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- figures
def plot_experiment(name, table, path) -> None:
    """Draw experiment ``name``'s table to ``path`` (one figure; format from the suffix)."""
    if name not in EXPERIMENT_PLOTS:
        raise ValueError(f"experiment must be one of {EXPERIMENTS}; got {name!r}")
    EXPERIMENT_PLOTS[name](table, path)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", choices=EXPERIMENTS)
    parser.add_argument("--scale", choices=sorted(SETTINGS), default="default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("results/synthetic"))
    parser.add_argument("--setting", action="append",
                        help="selection only: run just this setting (repeatable); the rows equal "
                             "those of the full run, seeds being per setting")
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS),
                        help="selection and split_copies only: run just these dendrogram variants "
                             "(every setting's own list included); the rows equal those of the full "
                             "run")
    args = parser.parse_args(argv)
    settings = copy.deepcopy(SETTINGS[args.scale][args.experiment])
    stem = args.experiment
    if args.variants:
        if args.experiment not in ("selection", "split_copies"):
            parser.error("--variants applies to the selection and split_copies experiments only")
        settings["variants"] = args.variants
        for entry in settings.get("settings", []):
            entry.pop("variants", None)
    if args.setting:
        if args.experiment != "selection":
            parser.error("--setting applies to the selection experiment only")
        known = [entry["name"] for entry in settings["settings"]]
        unknown = set(args.setting) - set(known)
        if unknown:
            parser.error(f"unknown setting(s) {sorted(unknown)}; choose from {known}")
        settings["settings"] = [e for e in settings["settings"] if e["name"] in args.setting]
        stem += "-" + "-".join(re.sub(r"[^A-Za-z0-9]+", "_", name) for name in args.setting)
    table = run_experiment(args.experiment, settings, args.seed, args.scale)
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_to_csv(table, args.out / f"{stem}.csv")
    with atomic_path(args.out / f"{stem}.png") as tmp:
        plot_experiment(args.experiment, table, tmp)
    summary = summarize(args.experiment, table)
    atomic_write_text(args.out / f"{stem}.md", summary + "\n")
    print(summary)


if __name__ == "__main__":
    main()
