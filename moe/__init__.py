"""Softmax-gated multinomial-logistic mixture of experts (SGMLMoE), fitted by monotone MM.

arXiv:2602.07997. ``SGMLMoE`` is the estimator; ``DendrogramSelector`` (the sweep-free choice of
the number of experts, by the ``MixingDendrogram`` of an over-fitted fit) and
``CriterionSelector`` (AIC/BIC/ICL over a sweep) choose its number of experts inside ``fit``.
``moe.selection``, ``moe.simulate`` and ``moe.synthetic`` (the synthetic study), ``moe.metrics``,
``moe.ppi`` (the PPI data) and ``moe.bench`` are imported on demand.
"""

from moe.dendrogram import DEFAULT_VARIANT, VARIANTS, DSCVariant, MixingDendrogram
from moe.model import SGMLMoE, n_free_parameters
from moe.selectors import CriterionSelector, DendrogramSelector

__all__ = ["SGMLMoE", "n_free_parameters", "DendrogramSelector", "CriterionSelector",
           "MixingDendrogram", "DSCVariant", "VARIANTS", "DEFAULT_VARIANT"]
__version__ = "0.1.0"
