"""moe.ppi.subset: the stratified subset behind small runs of the workflow."""

import numpy as np

from moe.ppi.subset import stratified_subset


def test_stratified_subset_keeps_proportions_and_is_seeded():
    labels = np.array([0] * 80 + [1] * 20)
    keep = stratified_subset(labels, 10, seed=1)
    assert keep.size == 10 and np.all(np.diff(keep) > 0)
    assert (labels[keep] == 1).sum() == 2
    np.testing.assert_array_equal(keep, stratified_subset(labels, 10, seed=1))
    np.testing.assert_array_equal(stratified_subset(labels, 500), np.arange(100))
