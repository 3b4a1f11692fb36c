"""A feature-free leakage probe: score a pair by its proteins' training labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted


def _pair_ids(P) -> tuple[np.ndarray, np.ndarray]:
    """Protein ids of each pair from a DataFrame or a two-column array."""
    if isinstance(P, pd.DataFrame):
        missing = [c for c in ("protein_a", "protein_b") if c not in P.columns]
        if missing:
            raise ValueError(f"P lacks column(s) {missing}; found {list(P.columns)}")
        return P["protein_a"].to_numpy(str), P["protein_b"].to_numpy(str)
    P = np.asarray(P)
    if P.ndim != 2 or P.shape[1] != 2:
        raise ValueError(
            f"P must be a DataFrame with protein_a, protein_b or an (n, 2) array; got shape {P.shape}"
        )
    return P[:, 0].astype(str), P[:, 1].astype(str)


class ProteinFrequencyProbe(ClassifierMixin, BaseEstimator):
    """Predict a pair's class from how often its proteins had each class in training.

    For protein p with training class counts n_pc (a pair counts once for each
    distinct protein in it, so a self pair counts once), the smoothed class
    distribution is

        theta_pc = (n_pc + alpha * pi_c) / (n_p + alpha),

    a Dirichlet posterior mean shrunk towards the training class prior pi
    (``alpha`` pseudo-pairs). A protein never seen in training has theta_p = pi.
    The pair's probabilities are the average (theta_a + theta_b) / 2, which
    sums to one and is symmetric in the two proteins.

    It never looks at a sequence: any score it reaches is leakage through
    protein identity, the floor that a sequence model must beat.

    Parameters
    ----------
    alpha : float
        Smoothing strength (> 0).

    Attributes
    ----------
    classes_ : ndarray
        Class labels seen in ``fit``.
    prior_ : ndarray of shape (n_classes,)
        Training class frequencies.
    protein_proba_ : pandas.DataFrame
        theta_p for every training protein (index: protein id).
    """

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def fit(self, P, y):
        """Count each protein's training classes.

        Parameters
        ----------
        P : DataFrame with protein_a, protein_b, or array of shape (n, 2)
        y : array-like of shape (n,)
        """
        if not self.alpha > 0:
            raise ValueError(f"alpha must be positive, got {self.alpha!r}")
        a, b = _pair_ids(P)
        y = np.asarray(y)
        if y.shape != a.shape:
            raise ValueError(f"y has shape {y.shape}, P has {len(a)} pairs")
        self.classes_, codes = np.unique(y, return_inverse=True)
        n_classes = len(self.classes_)
        self.prior_ = np.bincount(codes, minlength=n_classes) / len(codes)
        distinct = a != b
        proteins = np.concatenate([a, b[distinct]])
        pair_codes = np.concatenate([codes, codes[distinct]])
        index, protein_of = np.unique(proteins, return_inverse=True)
        counts = np.zeros((len(index), n_classes))
        np.add.at(counts, (protein_of, pair_codes), 1.0)
        theta = (counts + self.alpha * self.prior_) / (
            counts.sum(axis=1, keepdims=True) + self.alpha
        )
        self.protein_proba_ = pd.DataFrame(theta, index=index, columns=self.classes_)
        return self

    def _theta(self, proteins: np.ndarray) -> np.ndarray:
        rows = self.protein_proba_.index.get_indexer(proteins)
        theta = self.protein_proba_.to_numpy()[np.maximum(rows, 0)]
        theta[rows < 0] = self.prior_
        return theta

    def predict_proba(self, P) -> np.ndarray:
        """Class probabilities of each pair, shape (n, n_classes), columns ``classes_``."""
        check_is_fitted(self, "protein_proba_")
        a, b = _pair_ids(P)
        return (self._theta(a) + self._theta(b)) / 2.0

    def predict(self, P) -> np.ndarray:
        """Most probable class of each pair."""
        return self.classes_[np.argmax(self.predict_proba(P), axis=1)]
