"""What each expert of a fitted SGMLMoE does: its gate mass and class profile."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["expert_structure"]


def expert_structure(model, X, class_names) -> pd.DataFrame:
    """Gate mass and class profile of every expert of a fitted SGMLMoE.

    Gate mass of expert k: ``mean_i pi_k(x_i)``. Class profile:
    ``sum_i pi_k(x_i) p_k(m | x_i) / sum_i pi_k(x_i)``, the class distribution
    of expert k averaged over the inputs it is gated to.

    Returns
    -------
    DataFrame
        Columns ``expert, gate_mass, class, probability`` (one row per expert and
        class), experts ordered by decreasing gate mass and renumbered from 1.
    """
    gate = model.gate_proba(X)  # (n, K)
    K = gate.shape[1]
    rows = []
    for k in range(K):
        single = type(model).from_parameters(
            np.zeros((1, model.gate_coef_.shape[1])),
            model.expert_coef_[k : k + 1],
            model.classes_,
        )
        profile = gate[:, k] @ single.predict_proba(X) / gate[:, k].sum()
        rows.append((gate[:, k].mean(), profile))
    rows.sort(key=lambda item: -item[0])
    names = [class_names[int(c)] for c in model.classes_]
    return pd.DataFrame(
        [
            {"expert": k + 1, "gate_mass": mass, "class": names[m], "probability": profile[m]}
            for k, (mass, profile) in enumerate(rows)
            for m in range(len(names))
        ]
    )
