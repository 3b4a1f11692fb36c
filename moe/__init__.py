"""Softmax-gated multinomial-logistic mixture of experts (SGMLMoE), fitted by monotone MM.

arXiv:2602.07997. See ``SGMLMoE`` for the estimator.
"""

from moe.model import SGMLMoE, n_free_parameters

__all__ = ["SGMLMoE", "n_free_parameters"]
__version__ = "0.1.0"
