"""moe.experts: the gate mass and class profile of each expert."""

import numpy as np
import pytest

from moe.experts import expert_structure
from moe.model import SGMLMoE


def test_expert_structure_by_hand():
    # Two experts with equal gates; slopes zero, so each expert predicts its
    # intercept softmax everywhere: expert 1 [e/(1+e), 1/(1+e)], expert 2 [1/2, 1/2].
    gate = np.zeros((2, 3))
    experts = np.zeros((2, 2, 3))
    experts[0, 0, 0] = 1.0
    model = SGMLMoE.from_parameters(gate, experts, np.array([0, 1]))
    X = np.random.default_rng(0).normal(size=(10, 2))
    table = expert_structure(model, X, ["neg", "pos"])
    assert table["gate_mass"].tolist() == pytest.approx([0.5] * 4)
    first = table[table["expert"] == 1].set_index("class")["probability"]
    assert first["neg"] == pytest.approx(np.e / (1 + np.e))
