"""A seeded, class-stratified subset of a dataset's pairs (small runs of the workflow)."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

__all__ = ["stratified_subset"]


def stratified_subset(labels, size: int, seed: int = 0) -> np.ndarray:
    """Sorted row indices of a seeded, class-stratified random subset of ``size`` rows.

    Used to run the workflow on small parts of the real data (the end-to-end
    test); ``size`` at least the number of rows returns every row.
    """
    labels = np.asarray(labels)
    if size < 2:
        raise ValueError(f"size must be at least 2; got {size}")
    if size >= labels.size:
        return np.arange(labels.size)
    keep, _ = train_test_split(
        np.arange(labels.size), train_size=size, stratify=labels, random_state=seed
    )
    return np.sort(keep)
