"""The number of experts chosen inside ``fit``: scikit-learn meta-estimators around ``SGMLMoE``.

:class:`DendrogramSelector` fits one over-fitted model at K_bar experts (``estimator``'s
``n_experts``) and keeps the level of its :class:`~moe.dendrogram.MixingDendrogram` that the
variant's score picks. :class:`CriterionSelector` fits K = 1..k_max (``estimator`` with
``n_experts`` set to each K) and keeps the fit an information criterion picks. Both pass every
setting of the fits through ``estimator`` (``clone`` / ``set_params``, e.g.
``set_params(estimator__alpha=1.0)``), and both predict with ``best_estimator_``.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from moe.dendrogram import DEFAULT_VARIANT, DSCVariant, MixingDendrogram, resolve_variant
from moe.model import SGMLMoE
from moe.selection import CRITERIA, best_k, sweep

__all__ = ["DendrogramSelector", "CriterionSelector"]

K_BAR = 8  # experts of the over-fitted model when no estimator is given


class _Selector(ClassifierMixin, BaseEstimator):
    """Prediction through ``best_estimator_``, the SGMLMoE the subclass's ``fit`` selected."""

    def _validate(self, X, y):
        self._validate_params()
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite=True)
        check_classification_targets(y)
        return X, y

    def _finish(self, best):
        self.best_estimator_ = best
        self.n_experts_ = int(best.gate_coef_.shape[0])
        self.classes_ = best.classes_
        return self

    def _inputs(self, X):
        check_is_fitted(self, "best_estimator_")
        return validate_data(self, X, dtype=np.float64, reset=False, ensure_all_finite=True)

    def predict_log_proba(self, X):
        X = self._inputs(X)
        return self.best_estimator_.predict_log_proba(X)

    def predict_proba(self, X):
        X = self._inputs(X)
        return self.best_estimator_.predict_proba(X)

    def predict(self, X):
        X = self._inputs(X)
        return self.best_estimator_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


class DendrogramSelector(_Selector):
    """SGMLMoE over-fitted at K_bar experts, reduced by its dendrogram of mixing measures.

    Parameters
    ----------
    estimator : SGMLMoE or None
        The over-fitted model, unfitted: its ``n_experts`` is K_bar, its other parameters are
        the settings of the fit and of every merge and refit in the tree. None:
        ``SGMLMoE(n_experts=8)``.
    variant : str or DSCVariant
        How the tree is built and its levels scored; default ``"bic_refit"``, BIC along a
        refitted likelihood tree, with effective degrees of freedom when the estimator has a
        ridge ``alpha > 0`` (``moe.dendrogram.VARIANTS``, a
        ``"<name>@<omega>"``, or a :class:`~moe.dendrogram.DSCVariant`, whose ``score`` may be
        any function of the levels).
    refit : bool
        Continue the solver from the selected level's parameters (``MixingDendrogram.select``).

    Attributes
    ----------
    dendrogram_ : MixingDendrogram
        The tree; ``dendrogram_.model_`` is the over-fitted model, ``dendrogram_.dsc_table_``
        the scores of every level on the training data.
    best_estimator_ : SGMLMoE
        The selected level (refitted when ``refit``); it makes the predictions.
    n_experts_ : int
        Its number of experts.
    classes_ : ndarray
    n_features_in_ : int
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "variant": [str, DSCVariant],
        "refit": ["boolean"],
    }

    def __init__(self, estimator=None, *, variant=DEFAULT_VARIANT, refit=False):
        self.estimator = estimator
        self.variant = variant
        self.refit = refit

    def fit(self, X, y):
        """Fit the over-fitted model, build its tree on (X, y) and keep the best level."""
        X, y = self._validate(X, y)
        resolve_variant(self.variant)  # a bad variant fails before the fit
        estimator = SGMLMoE(n_experts=K_BAR) if self.estimator is None else self.estimator
        self.dendrogram_ = MixingDendrogram(clone(estimator), self.variant).fit(X, y)
        return self._finish(self.dendrogram_.select(X, y, refit=self.refit))


class CriterionSelector(_Selector):
    """SGMLMoE with K chosen by an information criterion over the sweep K = 1..k_max.

    Parameters
    ----------
    estimator : SGMLMoE or None
        The settings of every fit of the sweep (its ``n_experts`` is set to each K). None:
        ``SGMLMoE()``.
    k_max : int
        The largest number of experts fitted.
    criterion : {"aic", "bic", "hqc", "icl"}
        The criterion that picks K (``moe.selection``; ties go to fewer experts).

    Attributes
    ----------
    criteria_ : DataFrame
        The sweep: one row per K with the log-likelihood, every criterion, ``converged``,
        ``n_iter`` and ``fit_seconds`` (``moe.selection.sweep``).
    estimators_ : list of SGMLMoE
        The fit at each K = 1..k_max.
    best_estimator_ : SGMLMoE
        The fit at the selected K; it makes the predictions.
    n_experts_ : int
    classes_ : ndarray
    n_features_in_ : int
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "k_max": [Interval(Integral, 1, None, closed="left")],
        "criterion": [StrOptions(set(CRITERIA))],
    }

    def __init__(self, estimator=None, *, k_max=6, criterion="bic"):
        self.estimator = estimator
        self.k_max = k_max
        self.criterion = criterion

    def fit(self, X, y):
        """Fit K = 1..k_max and keep the fit with the smallest criterion."""
        X, y = self._validate(X, y)
        self.criteria_, self.estimators_ = sweep(
            X, y, self.k_max, CRITERIA, estimator=self.estimator, return_estimators=True
        )
        return self._finish(self.estimators_[best_k(self.criteria_, self.criterion) - 1])
