"""Symmetric pair features."""

import numpy as np
import pandas as pd
import pytest

from moe.ppi import pair_features, protein_features
from moe.ppi.pairs import COMBINERS

SEQUENCES = {"P1": "MKVLAAGIVGLLLAQC", "P2": "GGSWTRE", "P3": "PPPCDEFHIK" * 4}


@pytest.fixture(scope="module")
def table():
    return protein_features(SEQUENCES)


def _pairs(rows):
    return pd.DataFrame(rows, columns=["protein_a", "protein_b"])


def test_symmetric_for_every_combiner(table):
    forward = _pairs([("P1", "P2"), ("P2", "P3"), ("P3", "P3")])
    backward = _pairs([("P2", "P1"), ("P3", "P2"), ("P3", "P3")])
    combine = tuple(COMBINERS)
    np.testing.assert_array_equal(
        pair_features(forward, table, combine).to_numpy(),
        pair_features(backward, table, combine).to_numpy(),
    )


def test_values_names_order_and_dims(table):
    pairs = _pairs([("P3", "P1"), ("P1", "P2")]).set_index(pd.Index([7, 3]))
    features = pair_features(pairs, table)
    assert features.shape == (2, 2 * 1120)
    assert list(features.index) == [7, 3]
    assert (
        features.columns[0] == "sum_aac_A" and features.columns[1120] == "product_aac_A"
    )
    a, b = table.loc["P3"], table.loc["P1"]
    np.testing.assert_allclose(features.loc[7].iloc[:1120], a + b)
    np.testing.assert_allclose(features.loc[7].iloc[1120:], a * b)
    assert features.dtypes.eq(np.float64).all()
    assert not features.isna().to_numpy().any()


def test_unknown_proteins_are_all_listed(table):
    pairs = _pairs([("P1", "Q9"), ("Q7", "P2"), ("P1", "P2")])
    with pytest.raises(
        ValueError, match="2 protein.*absent from protein_table: Q7, Q9"
    ):
        pair_features(pairs, table)


def test_missing_column_and_bad_combiner(table):
    with pytest.raises(ValueError, match="protein_b"):
        pair_features(pd.DataFrame({"protein_a": ["P1"]}), table)
    with pytest.raises(ValueError, match="combine"):
        pair_features(_pairs([("P1", "P2")]), table, combine=("concat",))


def test_nan_in_table_is_rejected(table):
    broken = table.copy()
    broken.iloc[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pair_features(_pairs([("P1", "P2")]), broken)
