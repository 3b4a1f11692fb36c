"""Softmax-gated multinomial-logistic mixture of experts (SGMLMoE), fitted by monotone MM.

arXiv:2602.07997. ``SGMLMoE`` is the estimator; ``DendrogramSelector`` (the sweep-free choice of
the number of experts, by the ``MixingDendrogram`` of an over-fitted fit) and
``CriterionSelector`` (AIC/BIC/ICL over a sweep) choose its number of experts inside ``fit``.
``moe.selection``, ``moe.simulate`` and ``moe.synthetic`` (the synthetic study), ``moe.metrics``,
``moe.ppi`` (the PPI data) and ``moe.bench`` are imported on demand.
"""

import importlib

# Loaded on first use, so that a module that needs none of them (reading predictions,
# scoring, plotting) does not import scikit-learn: an evaluation job's imports took 0.8 s of
# CPU instead of 2.2 s (docs/performance.md).
_EXPORTS = {
    "SGMLMoE": "moe.model",
    "n_free_parameters": "moe.model",
    "DendrogramSelector": "moe.selectors",
    "CriterionSelector": "moe.selectors",
    "MixingDendrogram": "moe.dendrogram",
    "DSCVariant": "moe.dendrogram",
    "VARIANTS": "moe.dendrogram",
    "DEFAULT_VARIANT": "moe.dendrogram",
}

__all__ = list(_EXPORTS)
__version__ = "0.1.0"


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'moe' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
