"""The protein-frequency leakage probe on small tables worked out by hand."""

import numpy as np
import pandas as pd
import pytest

from moe.ppi import ProteinFrequencyProbe


def _pairs(rows):
    return pd.DataFrame(rows, columns=["protein_a", "protein_b"])


def test_smoothed_frequencies_by_hand():
    P = _pairs([("A", "B"), ("A", "C"), ("B", "C"), ("A", "A")])
    y = np.array([1, 1, 0, 0])
    probe = ProteinFrequencyProbe(alpha=2.0).fit(P, y)
    # Prior (0.5, 0.5). A: labels 1, 1, 0 (the self pair counts once) ->
    # ((1 + 1) / 5, (2 + 1) / 5); B: 1, 0 -> (2 / 4, 2 / 4); unseen Z -> prior.
    proba = probe.predict_proba(
        _pairs([("A", "B"), ("B", "A"), ("A", "Z"), ("Z", "Y")])
    )
    theta_a, theta_b, prior = (
        np.array([0.4, 0.6]),
        np.array([0.5, 0.5]),
        np.array([0.5, 0.5]),
    )
    np.testing.assert_allclose(
        proba, [(theta_a + theta_b) / 2] * 2 + [(theta_a + prior) / 2, prior]
    )
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_string_classes_and_array_input():
    P = np.array([["A", "B"], ["C", "D"], ["A", "D"]])
    probe = ProteinFrequencyProbe().fit(P, ["bind", "none", "bind"])
    assert list(probe.classes_) == ["bind", "none"]
    assert probe.predict(np.array([["A", "B"]]))[0] == "bind"


def test_bad_input():
    with pytest.raises(ValueError, match="protein_b"):
        ProteinFrequencyProbe().fit(pd.DataFrame({"protein_a": ["A"]}), [1])
    with pytest.raises(ValueError, match="alpha"):
        ProteinFrequencyProbe(alpha=0).fit(_pairs([("A", "B")]), [1])
