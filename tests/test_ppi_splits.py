"""Random and protein-disjoint folds, their files and summaries."""

import numpy as np
import pandas as pd
import pytest

from moe.ppi import DataFormatError, splits


@pytest.fixture(scope="module")
def toy_pairs():
    """400 pairs over 60 proteins, a few hubs, three classes, some self pairs."""
    rng = np.random.default_rng(7)
    weights = rng.pareto(1.5, 60) + 1
    weights /= weights.sum()
    a = rng.choice(60, 400, p=weights)
    b = rng.choice(60, 400)
    return pd.DataFrame(
        {
            "protein_a": [f"P{i}" for i in a],
            "protein_b": [f"P{i}" for i in b],
            "label": rng.integers(0, 3, 400),
        }
    )


def _proteins(pairs, index):
    return set(pairs["protein_a"].iloc[index]) | set(pairs["protein_b"].iloc[index])


def test_random_folds_partition_and_stratify(toy_pairs):
    y = toy_pairs["label"].to_numpy()
    folds = splits.random_kfold(y, n_splits=5, seed=3, pairs=toy_pairs)
    tests = np.concatenate([f.test for f in folds])
    assert np.array_equal(np.sort(tests), np.arange(len(y)))
    for fold in folds:
        assert np.array_equal(
            np.sort(np.concatenate([fold.train, fold.test])), np.arange(len(y))
        )
        expected = np.bincount(y) / 5
        assert np.all(np.abs(np.bincount(y[fold.test], minlength=3) - expected) <= 1)
        assert len(fold.component) == len(fold.test)
    assert splits.random_kfold(y, 5, 3)[0].component is None


def test_same_seed_same_folds_other_seed_differs(toy_pairs):
    y = toy_pairs["label"].to_numpy()
    for make in (
        lambda s: splits.random_kfold(y, 5, s),
        lambda s: splits.protein_disjoint(toy_pairs, 5, s),
    ):
        first, again, other = make(11), make(11), make(12)
        for f, g in zip(first, again, strict=True):
            assert np.array_equal(f.train, g.train) and np.array_equal(f.test, g.test)
        assert any(
            not np.array_equal(f.test, g.test)
            for f, g in zip(first, other, strict=True)
        )


def test_components_follow_the_training_proteins(toy_pairs):
    for fold in splits.random_kfold(toy_pairs["label"], 4, 0, pairs=toy_pairs):
        seen = _proteins(toy_pairs, fold.train)
        for index, component in zip(fold.test, fold.component, strict=True):
            a, b = toy_pairs.loc[index, ["protein_a", "protein_b"]]
            assert component == ("C1", "C2", "C3")[2 - (a in seen) - (b in seen)]


def test_protein_disjoint_structure(toy_pairs):
    folds = splits.protein_disjoint(toy_pairs, n_splits=4, seed=0)
    tests = np.concatenate([f.test for f in folds])
    assert np.array_equal(np.sort(tests), np.arange(len(toy_pairs)))
    for fold in folds:
        assert not set(fold.train) & set(fold.test)
        assert set(fold.component) == {"C1", "C2", "C3"}
        c3 = fold.test[fold.component == "C3"]
        assert not _proteins(toy_pairs, c3) & _proteins(toy_pairs, fold.train)
        assert len(fold.train) + len(fold.test) < len(toy_pairs)  # some pairs discarded


def test_summary_counts_every_pair_once_per_fold(toy_pairs):
    y = toy_pairs["label"].to_numpy()
    folds = splits.protein_disjoint(toy_pairs, n_splits=4, seed=0)
    summary = splits.summarize_folds(folds, y, ["x", "y", "z"])
    assert set(summary.columns) == {"fold", "role", "component", "class", "n_pairs"}
    per_fold = summary.groupby("fold")["n_pairs"].sum()
    assert (per_fold == len(y)).all()
    fold0 = summary[summary["fold"] == 0]
    assert fold0.loc[fold0["role"] == "discarded", "n_pairs"].sum() == len(y) - len(
        folds[0].train
    ) - len(folds[0].test)
    c3 = fold0[(fold0["role"] == "test") & (fold0["component"] == "C3")]
    assert c3["n_pairs"].sum() == np.sum(folds[0].component == "C3")
    per_class = fold0[fold0["role"] == "train"].set_index("class")["n_pairs"]
    assert per_class.to_dict() == {
        name: int(np.sum(y[folds[0].train] == code))
        for code, name in enumerate("xyz")
        if np.any(y[folds[0].train] == code)
    }


def test_write_read_round_trip(toy_pairs, tmp_path):
    path = tmp_path / "folds.tsv"
    folds = splits.protein_disjoint(toy_pairs, n_splits=3, seed=1)
    splits.write_folds(folds, path)
    header = path.read_text().splitlines()[0]
    assert header == "pair_index\tfold\trole\tcomponent"
    back = splits.read_folds(path)
    assert len(back) == 3
    for f, g in zip(folds, back, strict=True):
        assert np.array_equal(f.train, g.train) and np.array_equal(f.test, g.test)
        assert np.array_equal(f.component, g.component)
    plain = splits.random_kfold(toy_pairs["label"], 3, 0)
    splits.write_folds(plain, path)
    assert all(f.component is None for f in splits.read_folds(path))


def test_failed_write_leaves_nothing(toy_pairs, tmp_path):
    path = tmp_path / "folds.tsv"
    bad = splits.Fold(
        train=np.array([0, 1]), test=np.array([2, 3]), component=np.array(["C1"])
    )
    with pytest.raises(ValueError, match="component"):
        splits.write_folds([bad], path)
    assert list(tmp_path.iterdir()) == []


def test_read_rejects_a_bad_file(tmp_path):
    path = tmp_path / "folds.tsv"
    path.write_text("pair_index\tfold\trole\n0\t0\ttrain\n")
    with pytest.raises(DataFormatError, match=r"folds\.tsv.*component"):
        splits.read_folds(path)
    path.write_text("pair_index\tfold\trole\tcomponent\n0\t0\tvalidate\t\n")
    with pytest.raises(DataFormatError, match="role"):
        splits.read_folds(path)


def test_random_kfold_refuses_more_folds_than_the_smallest_class():
    labels = ["a"] * 10 + ["b"] * 3
    with pytest.raises(ValueError, match="n_splits=4 is more than the 3 pairs of class 'b'"):
        splits.random_kfold(labels, n_splits=4)
    assert len(splits.random_kfold(labels, n_splits=3)) == 3
