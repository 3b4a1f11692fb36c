"""Symmetric pair features built from a table of per-protein features.

A pair (A, B) is unordered, so its features must satisfy f(A, B) = f(B, A).
Each combiner below is an element-wise symmetric function of the two protein
vectors; the default, sum and product, keeps both the additive profile of
the pair and the co-occurrence of feature values (the product is large only
when both proteins are). ``min`` / ``max`` and ``absdiff`` are offered too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

COMBINERS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "sum": np.add,
    "product": np.multiply,
    "min": np.minimum,
    "max": np.maximum,
    "absdiff": lambda a, b: np.abs(a - b),
}


def pair_features(
    pairs: pd.DataFrame,
    protein_table: pd.DataFrame,
    combine: Iterable[str] = ("sum", "product"),
) -> pd.DataFrame:
    """Combine the two proteins' feature vectors of every pair symmetrically.

    Parameters
    ----------
    pairs : pandas.DataFrame
        Columns ``protein_a`` and ``protein_b`` (protein ids); other columns
        are ignored.
    protein_table : pandas.DataFrame
        Features indexed by protein id, as from :func:`moe.ppi.protein_features`.
    combine : iterable of str
        Keys of :data:`COMBINERS`, in output column order.

    Returns
    -------
    pandas.DataFrame
        float64, one row per pair in the order (and with the index) of
        ``pairs``; columns ``<combiner>_<feature>``, e.g. ``sum_aac_A``.

    Raises
    ------
    ValueError
        A missing pair column, an unknown combiner, a non-unique or NaN-holding
        ``protein_table``, or pair proteins absent from ``protein_table`` (all
        missing ids are listed).
    """
    combine = list(combine)
    unknown = [c for c in combine if c not in COMBINERS]
    if unknown or not combine:
        raise ValueError(
            f"combine must be a non-empty subset of {list(COMBINERS)}; got {combine}"
        )
    missing_columns = [c for c in ("protein_a", "protein_b") if c not in pairs.columns]
    if missing_columns:
        raise ValueError(
            f"pairs lacks column(s) {missing_columns}; found {list(pairs.columns)}"
        )
    if not protein_table.index.is_unique:
        raise ValueError("protein_table has repeated protein ids in its index")
    values = protein_table.to_numpy(dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError("protein_table holds NaN values")
    rows_a = protein_table.index.get_indexer(pairs["protein_a"].astype(str))
    rows_b = protein_table.index.get_indexer(pairs["protein_b"].astype(str))
    absent = (rows_a < 0) | (rows_b < 0)
    if absent.any():
        ids = pd.concat(
            [pairs["protein_a"][rows_a < 0], pairs["protein_b"][rows_b < 0]]
        )
        missing = sorted(set(ids.astype(str)))
        raise ValueError(
            f"{len(missing)} protein(s) named in pairs are absent from protein_table: "
            + ", ".join(missing)
        )
    a, b = values[rows_a], values[rows_b]
    blocks = [COMBINERS[name](a, b) for name in combine]
    columns = [
        f"{name}_{feature}" for name in combine for feature in protein_table.columns
    ]
    return pd.DataFrame(
        np.hstack(blocks), index=pairs.index, columns=columns, dtype=np.float64
    )
