"""The models of the PPI benchmark: a registry of name -> estimator factory.

Every factory returns an unfitted scikit-learn estimator whose preprocessing is
part of it, so that ``fit`` on a training part fits the preprocessing on that
part only. What gets which preprocessing:

- ``StandardScaler`` then ``PCA(pca_dim)``: the two mixtures of experts, the
  multinomial logistic regression, the SVM and the MLP. The MoE and the linear
  model need few, decorrelated inputs (the MoE's parameter count grows as
  K * M * p); the SVM and the MLP are distance or gradient based and would be
  far slower on a few thousand raw columns.
- ``StandardScaler`` only, on all features: random forest and XGBoost (and
  their calibrated versions). Trees are invariant to monotone rescaling; the
  scaler only keeps the pipelines uniform.
- Nothing: the protein leakage probe, which never sees features. It takes a
  DataFrame of protein ids (``protein_a``, ``protein_b``); :func:`model_inputs`
  tells callers which input a model wants.

The input a model sees is its *representation*, a setting of every model that takes
features: ``representation: pca`` (scaler then PCA) or ``all`` (scaler only, all
features). The registry default (:attr:`ModelSpec.preprocessing`) is the choice above,
so results change only when a configuration (or a tuning grid, :mod:`moe.tuning`) says so.

Calibrated models (``rf_isotonic``, ``xgb_isotonic``, ``xgb_temperature``,
``mlp_temperature``, ``moe_mm_temperature``) are not estimators here: the registry keeps
their ``base`` and ``calibration`` method, and the workflow fits the calibrator
(:mod:`moe.calibration`) on the base model's inner-validation predictions of the tuning
holdout and applies it to the base model's test predictions, with no extra fit;
:func:`build_model` refuses them. The SVM keeps its own Platt scaling
(``CalibratedClassifierCV(method="sigmoid")`` by a stratified inner CV of the training
part, what ``SVC(probability=True)`` does internally): an SVC has no probabilities otherwise.

Settings are the keyword arguments of the factories plus ``representation``; an unknown
setting is a ``ValueError`` naming the model.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

# scikit-learn, XGBoost and the MoE modules are imported where a model is built: the workflow
# reads MODELS when it parses the Snakefile, which every snakemake command (and every cluster
# job, twice) does, and scikit-learn's imports would nearly double that parse's CPU time.

__all__ = [
    "ModelSpec",
    "MODELS",
    "MODEL_NAMES",
    "build_model",
    "model_inputs",
    "build_preprocessing",
    "setting_names",
    "representation_of",
    "REPRESENTATIONS",
    "MOE_SETTINGS",
    "describe_fit",
]

# setting -> preprocessing: the input a feature model sees
REPRESENTATIONS = {"pca": "pca", "all": "scale"}

# SGMLMoE's parameters that a MoE model's settings may set (n_experts, random_state and
# n_threads come from the model's own settings). Written out rather than read from
# SGMLMoE().get_params(), which would import scikit-learn; tests/test_baselines.py checks them.
MOE_SETTINGS = (
    "accelerate", "alpha", "curvature", "dtype", "em_inner_iter", "init", "max_iter", "n_init",
    "relaxation", "screen_iter", "solver", "tol",
)


def _logreg(*, C=1.0, max_iter=2000, random_state=None, n_threads=None):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=max_iter, random_state=random_state)


def _rf(
    *, n_estimators=100, max_features="sqrt", min_samples_leaf=2, max_depth=None,
    random_state=None, n_threads=None,
):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=n_estimators, max_features=max_features,
        min_samples_leaf=min_samples_leaf, max_depth=max_depth,
        n_jobs=n_threads, random_state=random_state,
    )


def _xgb(
    *, n_estimators=100, max_depth=4, learning_rate=0.2, subsample=0.8,
    colsample_bytree=0.2, max_bin=32, min_child_weight=1.0, reg_lambda=1.0,
    random_state=None, n_threads=None,
):
    from xgboost import XGBClassifier

    return XGBClassifier(
        n_estimators=n_estimators, max_depth=max_depth, learning_rate=learning_rate,
        subsample=subsample, colsample_bytree=colsample_bytree, max_bin=max_bin,
        min_child_weight=min_child_weight, reg_lambda=reg_lambda, tree_method="hist",
        n_jobs=n_threads, random_state=0 if random_state is None else random_state,
    )


def _svm(*, C=1.0, gamma="scale", kernel="rbf", cv=3, random_state=None, n_threads=None):
    from sklearn.svm import SVC

    return _calibrate(SVC(C=C, gamma=gamma, kernel=kernel), "sigmoid", cv, random_state)


def _mlp(
    *, hidden_layer_sizes=(64,), alpha=1e-3, learning_rate_init=1e-3, max_iter=300,
    early_stopping=True, random_state=None, n_threads=None,
):
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=tuple(hidden_layer_sizes), alpha=alpha,
        learning_rate_init=learning_rate_init, max_iter=max_iter,
        early_stopping=early_stopping, random_state=random_state,
    )


def _sgmlmoe(name, random_state, n_threads, settings):
    """The SGMLMoE of model ``name`` from its remaining settings (SGMLMoE's parameters)."""
    from moe.model import SGMLMoE

    unknown = sorted(set(settings) - set(MOE_SETTINGS))
    if unknown:
        raise ValueError(
            f"unknown setting(s) {', '.join(map(repr, unknown))} for model {name!r}; "
            f"known: the selector's and SGMLMoE's {', '.join(MOE_SETTINGS)}"
        )
    return SGMLMoE(random_state=random_state, n_threads=n_threads, **settings)


def _moe_mm_dsc(*, k_bar=8, variant=None, refit=False, random_state=None, n_threads=None,
                **settings):
    """``k_bar``: experts of the over-fitted MM fit; ``variant`` None: the default variant."""
    from moe.selectors import DendrogramSelector

    overfit = _sgmlmoe("moe_mm_dsc", random_state, n_threads, {"solver": "mm", **settings})
    options = {} if variant is None else {"variant": variant}
    return DendrogramSelector(overfit.set_params(n_experts=k_bar), refit=refit, **options)


def _moe_em_bic(*, k_max=6, criterion="bic", random_state=None, n_threads=None, **settings):
    """``k_max``: the sweep fits K = 1..k_max, by EM unless ``solver`` says otherwise."""
    from moe.selectors import CriterionSelector

    estimator = _sgmlmoe("moe_em_bic", random_state, n_threads, {"solver": "em", **settings})
    return CriterionSelector(estimator, k_max=k_max, criterion=criterion)


def _probe(*, random_state=None, n_threads=None, **settings):
    from moe.ppi import ProteinFrequencyProbe

    return ProteinFrequencyProbe(**settings)


def _calibrate(classifier, method, cv, random_state):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    return CalibratedClassifierCV(classifier, method=method, cv=folds, ensemble=True)


@dataclass(frozen=True)
class ModelSpec:
    """How to build one benchmark model.

    Attributes
    ----------
    name : str
    factory : callable
        ``factory(random_state=, n_threads=, **settings)`` -> unfitted classifier
        (without preprocessing).
    inputs : {"features", "proteins"}
    preprocessing : {"pca", "scale", "none"}
        The default representation (``pca`` -> "pca", ``all`` -> "scale").
    calibration : str or None
        A :mod:`moe.calibration` method applied to ``base``'s predictions.
    base : str or None
        The model whose predictions a calibrated model calibrates.
    description : str
    """

    name: str
    factory: Callable | None
    inputs: str
    preprocessing: str
    description: str
    calibration: str | None = None
    base: str | None = None


def _spec(name, factory, preprocessing, description, inputs="features"):
    return ModelSpec(name, factory, inputs, preprocessing, description)


def _calibrated(name, base, method):
    return ModelSpec(
        name, None, "features", MODELS[base].preprocessing,
        f"{MODELS[base].description}, {method} calibration on the tuning holdout",
        calibration=method, base=base,
    )


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        _spec("moe_mm_dsc", _moe_mm_dsc, "pca", "SGMLMoE by MM at K_bar, K by dendrogram (DSC)"),
        _spec("moe_em_bic", _moe_em_bic, "pca", "SGMLMoE by EM, K by BIC over 1..K_max"),
        _spec("logreg", _logreg, "pca", "multinomial logistic regression"),
        _spec("rf", _rf, "scale", "random forest"),
        _spec("xgb", _xgb, "scale", "XGBoost"),
        _spec("svm", _svm, "pca", "RBF SVM with Platt scaling"),
        _spec("mlp", _mlp, "pca", "multilayer perceptron"),
        _spec("probe", _probe, "none", "protein-frequency leakage probe", inputs="proteins"),
    )
}
MODELS.update(
    (spec.name, spec)
    for spec in (
        _calibrated("rf_isotonic", "rf", "isotonic"),
        _calibrated("xgb_isotonic", "xgb", "isotonic"),
        _calibrated("xgb_temperature", "xgb", "temperature"),
        _calibrated("mlp_temperature", "mlp", "temperature"),
        _calibrated("moe_mm_temperature", "moe_mm_dsc", "temperature"),
    )
)
MODEL_NAMES: tuple[str, ...] = tuple(MODELS)


def _spec_of(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODEL_NAMES)}") from None


def model_inputs(name: str) -> str:
    """``"features"`` or ``"proteins"``: what ``fit`` and ``predict_proba`` take."""
    return _spec_of(name).inputs


def setting_names(name: str) -> tuple[str, ...]:
    """The settings model ``name`` accepts (``representation`` included for feature models).

    The two MoEs also accept SGMLMoE's parameters (their factories take ``**settings``).
    """
    spec = _spec_of(name)
    if spec.calibration is not None:
        return ()
    accepted = [
        key for key, p in inspect.signature(spec.factory).parameters.items()
        if key not in ("random_state", "n_threads") and p.kind is not p.VAR_KEYWORD
    ]
    if spec.factory in (_moe_mm_dsc, _moe_em_bic):
        accepted += MOE_SETTINGS
    if spec.inputs == "features":
        accepted.append("representation")
    return tuple(dict.fromkeys(accepted))


def representation_of(name: str, settings: dict | None = None) -> str:
    """``"pca"``, ``"all"`` or, for the probe, ``"proteins"``: the input model ``name`` sees.

    Raises
    ------
    ValueError
        If ``settings["representation"]`` is not ``pca`` or ``all``, or is given to the probe.
    """
    spec = _spec_of(name)
    value = (settings or {}).get("representation")
    if spec.inputs != "features":
        if value is not None:
            raise ValueError(f"model {name!r} takes protein ids; it has no representation setting")
        return "proteins"
    if value is None:
        return {v: k for k, v in REPRESENTATIONS.items()}[spec.preprocessing]
    if value not in REPRESENTATIONS:
        raise ValueError(
            f"bad representation {value!r} for model {name!r}; known: {', '.join(REPRESENTATIONS)}"
        )
    return value


def _call(name, factory, settings, random_state, n_threads):
    accepted = inspect.signature(factory).parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
    unknown = [key for key in settings if key not in accepted and not takes_any]
    if unknown:
        known = [key for key in accepted if key not in ("random_state", "n_threads")]
        raise ValueError(
            f"unknown setting(s) {', '.join(map(repr, unknown))} for model {name!r}; "
            f"known: {', '.join(known)}"
        )
    try:
        return factory(random_state=random_state, n_threads=n_threads, **settings)
    except TypeError as error:
        raise ValueError(f"bad settings for model {name!r}: {error}") from None


def build_model(
    name: str, settings: dict | None = None, *, pca_dim: int = 32,
    random_state: int | None = 0, n_threads: int | None = 1,
):
    """An unfitted estimator for benchmark model ``name``, preprocessing included.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS`.
    settings : dict, optional
        Keyword arguments of the model's factory, and ``representation``
        (``pca`` or ``all``; default the registry's).
    pca_dim : int
        PCA dimension for models with ``preprocessing == "pca"``.
    random_state : int or None
    n_threads : int or None
        Threads for models that parallelise (forest, XGBoost, MoE BLAS).

    Returns
    -------
    estimator
        A ``Pipeline`` (features) or the bare probe (protein ids).

    Raises
    ------
    ValueError
        For a calibrated model (built by calibrating its base's predictions,
        :mod:`moe.calibration`), an unknown model or setting.
    """
    spec = _spec_of(name)
    if spec.calibration is not None:
        raise ValueError(
            f"model {name!r} is {spec.base!r} with {spec.calibration} calibration fitted on "
            f"its predictions (moe.calibration); build {spec.base!r} instead"
        )
    settings = dict(settings or {})
    representation = representation_of(name, settings)
    settings.pop("representation", None)
    classifier = _call(name, spec.factory, settings, random_state, n_threads)
    preprocessing = build_preprocessing(
        name, pca_dim=pca_dim, random_state=random_state, representation=representation
    )
    if preprocessing is None:
        return classifier
    from sklearn.pipeline import Pipeline

    return Pipeline(preprocessing.steps + [("model", classifier)])


def build_preprocessing(
    name: str, *, pca_dim: int = 32, random_state: int | None = 0,
    representation: str | None = None,
):
    """The unfitted preprocessing ``Pipeline`` of model ``name`` (None for the probe).

    ``StandardScaler``, followed by ``PCA(pca_dim)`` when the representation
    (default: the registry's, see the module docstring) is ``pca``.
    :func:`build_model` puts the classifier after these steps.
    """
    spec = _spec_of(name)
    if spec.preprocessing == "none":
        return None
    if representation is None:
        representation = representation_of(name)
    from sklearn.decomposition import PCA
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    steps = [("scale", StandardScaler())]
    if REPRESENTATIONS[representation] == "pca":
        if isinstance(pca_dim, bool) or not isinstance(pca_dim, int) or pca_dim < 1:
            raise ValueError(f"pca_dim must be a positive integer; got {pca_dim!r}")
        steps.append(("pca", PCA(n_components=pca_dim, random_state=random_state)))
    return Pipeline(steps)


def _json_columns(frame) -> dict:
    """Columns of ``frame`` as lists of plain Python values, NaN as None."""
    return {
        column: [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in values]
        for column, values in frame.items()
    }


def describe_fit(estimator) -> dict:
    """JSON-ready facts about a fitted benchmark model (selected K, selection tables, and
    whether its fits converged).

    ``converged`` is true when every SGMLMoE fit the model made met its tolerance (the
    over-fitted fit of a :class:`DendrogramSelector`, and its refit if any; every fit of a
    :class:`CriterionSelector`'s sweep); ``n_iter`` is the largest number of map evaluations
    among them. Returns an empty dict for models without a selection step.
    """
    from sklearn.pipeline import Pipeline

    from moe.selectors import CriterionSelector, DendrogramSelector

    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    if isinstance(final, DendrogramSelector):
        tree = final.dendrogram_
        fits = [tree.model_] + ([final.best_estimator_] if final.refit else [])
        return {
            "selected_k": final.n_experts_,
            "k_bar": int(tree.model_.gate_coef_.shape[0]),
            "converged": all(bool(f.converged_) for f in fits),
            "n_iter": max(int(f.n_iter_) for f in fits),
            "dsc_table": _json_columns(tree.dsc_table_),
            "heights": np.asarray(tree.heights_, dtype=float).tolist(),
        }
    if isinstance(final, CriterionSelector):
        table = final.criteria_
        return {
            "selected_k": final.n_experts_,
            "k_max": final.k_max,
            "criterion": final.criterion,
            "converged": bool(table["converged"].all()),
            "n_iter": int(table["n_iter"].max()),
            "sweep_table": _json_columns(table),
        }
    return {}
