"""Softmax-gated multinomial-logistic mixture of experts (SGMLMoE), fitted by monotone MM.

arXiv:2602.07997. ``SGMLMoE`` is the estimator, ``MixingDendrogram`` the sweep-free selector of
the number of experts; ``moe.selection`` (AIC/BIC/ICL sweeps), ``moe.simulate`` and
``moe.synthetic`` (the synthetic study), ``moe.metrics``, ``moe.ppi`` (the PPI data) and
``moe.bench`` are imported on demand.
"""

from moe.dendrogram import DEFAULT_VARIANT, VARIANTS, DSCVariant, MixingDendrogram
from moe.model import SGMLMoE, n_free_parameters

__all__ = ["SGMLMoE", "n_free_parameters", "MixingDendrogram", "DSCVariant", "VARIANTS", "DEFAULT_VARIANT"]
__version__ = "0.1.0"
