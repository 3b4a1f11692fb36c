"""The real benchmark data from MOE_DATA_MIRROR: counts from SOURCE.md, probe AUC."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import moe.ppi
from moe.ppi import ProteinFrequencyProbe, pair_features, protein_features, splits
from moe.ppi.parse import read_fasta

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("ppi_cache")


@pytest.fixture(scope="module")
def guo(data_mirror, cache):
    return moe.ppi.load("guo_yeast", mirror=data_mirror, cache_dir=cache)


@pytest.fixture(scope="module")
def shs(data_mirror, cache):
    return moe.ppi.load("shs27k", mirror=data_mirror, cache_dir=cache)


def _unordered(a, b):
    return {tuple(sorted(pair)) for pair in zip(a, b, strict=True)}


def test_guo_counts(guo):
    assert len(guo.pairs) == 11180
    assert guo.pairs["label"].value_counts().to_dict() == {1: 5590, 0: 5590}
    assert len(guo.sequences) == 2530
    assert guo.classes == ["negative", "positive"]
    assert len(guo.dropped) == 8
    assert _unordered(guo.dropped["protein_a"], guo.dropped["protein_b"]) == {
        ("DIP:669N", "DIP:745N"),
        ("DIP:2984N", "DIP:3007N"),
        ("DIP:2425N", "DIP:3035N"),
        ("DIP:1713N", "DIP:4853N"),
    }
    self_pairs = guo.pairs[guo.pairs["protein_a"] == guo.pairs["protein_b"]]
    assert len(self_pairs) == 212 and (self_pairs["label"] == 1).all()


def test_guo_matches_the_derived_files(guo, data_mirror):
    derived = pd.read_csv(
        data_mirror / "guo_yeast_core" / "derived" / "pairs.tsv", sep="\t"
    )
    dropped = _unordered(guo.dropped["protein_a"], guo.dropped["protein_b"])
    keep = [
        pair not in dropped
        for pair in zip(
            *np.sort(derived[["protein_a", "protein_b"]], axis=1).T, strict=True
        )
    ]
    expected = derived.loc[keep, ["protein_a", "protein_b", "label"]].reset_index(
        drop=True
    )
    pd.testing.assert_frame_equal(guo.pairs, expected, check_dtype=False)
    fasta = dict(
        read_fasta(data_mirror / "guo_yeast_core" / "derived" / "sequences.fasta")
    )
    assert fasta == guo.sequences


def test_shs27k_single_type_counts(shs):
    assert len(shs.pairs) == 3073
    counts = {
        shs.classes[code]: n for code, n in shs.pairs["label"].value_counts().items()
    }
    assert counts == {
        "activation": 1171,
        "binding": 738,
        "expression": 462,
        "catalysis": 399,
        "inhibition": 132,
        "ptmod": 120,
        "reaction": 51,
    }
    assert len(shs.dropped) == 7624 - 3073
    assert len(shs.sequences) == 1690


def test_shs27k_matches_the_derived_multilabel_table(shs, data_mirror, cache):
    derived = pd.read_csv(
        data_mirror / "shs27k" / "derived" / "pairs_multilabel.tsv", sep="\t"
    )
    single = derived[derived["n_types"] == 1]
    names = single[shs.classes].idxmax(axis=1).map(shs.classes.index)
    expected = pd.DataFrame(
        {
            "protein_a": single["protein_a"],
            "protein_b": single["protein_b"],
            "label": names,
        }
    ).sort_values(["protein_a", "protein_b"], ignore_index=True)
    pd.testing.assert_frame_equal(shs.pairs, expected, check_dtype=False)
    priority = moe.ppi.load(
        "shs27k", mirror=data_mirror, cache_dir=cache, label_rule="priority"
    )
    assert len(priority.pairs) == 7624 and priority.dropped.empty
    # Each pair's priority label is one of its types.
    merged = priority.pairs.merge(
        derived, on=["protein_a", "protein_b"], validate="one_to_one"
    )
    carried = merged[priority.classes].to_numpy()[
        np.arange(len(merged)), merged["label"].to_numpy()
    ]
    assert (carried == 1).all()


def test_probe_auc_under_random_cv_on_guo(guo):
    """The leakage probe reaches AUC ~0.93 on Guo without reading a sequence."""
    y = guo.pairs["label"].to_numpy()
    scores = np.empty(len(y))
    for fold in splits.random_kfold(y, n_splits=5, seed=0):
        probe = ProteinFrequencyProbe().fit(guo.pairs.iloc[fold.train], y[fold.train])
        scores[fold.test] = probe.predict_proba(guo.pairs.iloc[fold.test])[:, 1]
    auc = roc_auc_score(y, scores)
    print(f"probe ROC-AUC on guo_yeast, stratified random 5-fold (seed 0): {auc:.4f}")
    assert 0.88 < auc < 0.97


def test_protein_disjoint_folds_on_guo(guo):
    folds = splits.protein_disjoint(guo.pairs, n_splits=5, seed=0)
    y = guo.pairs["label"].to_numpy()
    for fold in folds:
        assert set(fold.component) == {"C1", "C2", "C3"}
        c3 = fold.test[fold.component == "C3"]
        train_proteins = set(guo.pairs["protein_a"].iloc[fold.train]) | set(
            guo.pairs["protein_b"].iloc[fold.train]
        )
        assert (
            not (
                set(guo.pairs["protein_a"].iloc[c3])
                | set(guo.pairs["protein_b"].iloc[c3])
            )
            & train_proteins
        )
        # On C3 pairs the probe knows neither protein: it can only return the prior.
        probe = ProteinFrequencyProbe().fit(guo.pairs.iloc[fold.train], y[fold.train])
        np.testing.assert_allclose(
            probe.predict_proba(guo.pairs.iloc[c3]), np.tile(probe.prior_, (len(c3), 1))
        )
    summary = splits.summarize_folds(folds, y, guo.classes)
    assert (summary.groupby("fold")["n_pairs"].sum() == len(y)).all()


def test_features_of_real_proteins(shs):
    table = protein_features(shs.sequences)
    assert table.shape == (1690, 1120)
    assert np.isfinite(table.to_numpy()).all()
    features = pair_features(shs.pairs.iloc[:200], table)
    assert features.shape == (200, 2240) and np.isfinite(features.to_numpy()).all()
