"""Seeded cross-validation folds over pairs, with Park & Marcotte components.

Components (Park & Marcotte, Nat. Methods 9:1134, 2012) describe a test pair
relative to the proteins of the *training pairs of its fold*:

- ``C1``: both proteins occur in training pairs;
- ``C2``: exactly one does;
- ``C3``: neither does.

They are always computed from the actual training set, so a C3 test pair
shares no protein with any training pair by definition.

:func:`random_kfold` is stratified k-fold over pairs: the test sets partition
the pairs and nearly all test pairs are C1.

:func:`protein_disjoint` splits the proteins too, so that every fold tests all
three components:

1. The sorted protein ids are shuffled (seeded) and dealt round-robin into
   ``n_splits`` groups.
2. Each pair gets one test fold: a pair inside group g tests in fold g; every
   other pair is dealt to a fold by stratified k-fold on its label.
3. Fold k trains on the pairs that neither test in fold k nor touch a
   protein of group k. Pairs that touch group k but test in another fold are
   *discarded* in fold k: used neither to train nor to test, so that the
   proteins of group k stay unseen.

So the test sets partition the pairs; a pair inside group k tests as C3, a
pair with one protein in group k mostly as C2, the others mostly as C1.
:func:`summarize_folds` reports the discarded pairs with the others.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from moe.io import atomic_path
from .errors import DataFormatError

# scikit-learn is imported inside the functions that split: the Snakefile's parse imports this
# module (see moe.baselines).

COMPONENTS = ("C1", "C2", "C3")
FOLD_COLUMNS = ["pair_index", "fold", "role", "component"]


@dataclass
class Fold:
    """Indices of one fold.

    Attributes
    ----------
    train, test : ndarray of int
        Sorted row indices into the pair table.
    component : ndarray of str or None
        Aligned with ``test``: ``"C1"``, ``"C2"`` or ``"C3"``; None when unknown
        (no pairs were given to compute it).
    """

    train: np.ndarray
    test: np.ndarray
    component: np.ndarray | None = None


def _pair_columns(pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    missing = [c for c in ("protein_a", "protein_b") if c not in pairs.columns]
    if missing:
        raise ValueError(
            f"pairs lacks column(s) {missing}; found {list(pairs.columns)}"
        )
    return pairs["protein_a"].to_numpy(str), pairs["protein_b"].to_numpy(str)


def components(pairs: pd.DataFrame, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Park & Marcotte component of each test pair given the training pairs.

    Parameters
    ----------
    pairs : pandas.DataFrame
        Columns ``protein_a``, ``protein_b``.
    train, test : ndarray of int
        Row positions.

    Returns
    -------
    ndarray of str, aligned with ``test``.
    """
    a, b = _pair_columns(pairs)
    seen = np.union1d(a[train], b[train])
    n_seen = np.isin(a[test], seen).astype(int) + np.isin(b[test], seen).astype(int)
    return np.array(["C3", "C2", "C1"])[n_seen]


def _labels(labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(
            f"labels must be a non-empty 1-d array, got shape {labels.shape}"
        )
    return labels


def random_kfold(
    labels, n_splits: int = 5, seed: int = 0, pairs: pd.DataFrame | None = None
) -> list[Fold]:
    """Stratified k-fold over pairs.

    Parameters
    ----------
    labels : array-like of shape (n_pairs,)
        Class of each pair; folds keep the class proportions.
    n_splits : int
        Number of folds.
    seed : int
        Seed of the shuffle; the same seed gives the same folds.
    pairs : pandas.DataFrame, optional
        Columns ``protein_a``, ``protein_b``; when given, ``Fold.component``
        is computed.

    Returns
    -------
    list of Fold
        Test sets partition ``range(n_pairs)``; each train set is the complement.

    Raises
    ------
    ValueError
        If a class has fewer pairs than ``n_splits``.
    """
    labels = _labels(labels)
    if pairs is not None and len(pairs) != len(labels):
        raise ValueError(f"pairs has {len(pairs)} rows but labels has {len(labels)}")
    classes, counts = np.unique(labels, return_counts=True)
    if n_splits > counts.min():
        # a fold without a class gives a training part without it: every model fails later
        raise ValueError(
            f"n_splits={n_splits} is more than the {counts.min()} pairs of class "
            f"{classes[counts.argmin()].item()!r}: some folds would lack that class"
        )
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    folds = []
    for train, test in splitter.split(np.zeros(len(labels)), labels):
        component = None if pairs is None else components(pairs, train, test)
        folds.append(
            Fold(train=np.sort(train), test=np.sort(test), component=component)
        )
    return folds


def protein_disjoint(
    pairs: pd.DataFrame, n_splits: int = 5, seed: int = 0
) -> list[Fold]:
    """Folds whose test sets hold C1, C2 and C3 pairs (see the module docstring).

    Parameters
    ----------
    pairs : pandas.DataFrame
        Columns ``protein_a``, ``protein_b`` and, optionally, ``label`` (used
        to stratify the fold of pairs that span two protein groups).
    n_splits : int
        Number of folds and of protein groups (at least 2).
    seed : int
        Seed of the protein shuffle and of the pair assignment.

    Returns
    -------
    list of Fold
        Test sets partition the pairs; train and test are disjoint; pairs in
        neither are discarded for that fold.
    """
    if n_splits < 2:
        raise ValueError(f"n_splits must be at least 2, got {n_splits}")
    a, b = _pair_columns(pairs)
    rng = np.random.default_rng(seed)
    proteins = np.unique(np.concatenate([a, b]))
    group_of = pd.Series(np.empty(len(proteins), dtype=np.int64), index=proteins)
    group_of.iloc[rng.permutation(len(proteins))] = np.arange(len(proteins)) % n_splits
    group_a = group_of.loc[a].to_numpy()
    group_b = group_of.loc[b].to_numpy()

    test_fold = np.where(group_a == group_b, group_a, -1)
    spanning = np.flatnonzero(test_fold < 0)
    strata = (
        pairs["label"].to_numpy()[spanning]
        if "label" in pairs.columns
        else np.zeros(len(spanning))
    )
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(
        n_splits=n_splits, shuffle=True, random_state=int(rng.integers(2**31))
    )
    for fold, (_, test) in enumerate(splitter.split(np.zeros(len(spanning)), strata)):
        test_fold[spanning[test]] = fold

    folds = []
    for fold in range(n_splits):
        test = np.flatnonzero(test_fold == fold)
        train = np.flatnonzero(
            (test_fold != fold) & (group_a != fold) & (group_b != fold)
        )
        folds.append(
            Fold(train=train, test=test, component=components(pairs, train, test))
        )
    return folds


def write_folds(folds: Sequence[Fold], path: str | os.PathLike) -> None:
    """Write folds as a TSV with columns pair_index, fold, role, component.

    ``role`` is ``train`` or ``test``; ``component`` is filled for test rows
    with a known component and empty otherwise. The file is written under a
    temporary name and renamed, so it is complete or absent.
    """
    tables = []
    for number, fold in enumerate(folds):
        component = (
            fold.component
            if fold.component is not None
            else np.full(len(fold.test), "")
        )
        if len(component) != len(fold.test):
            raise ValueError(
                f"fold {number}: component has {len(component)} entries for {len(fold.test)} test pairs"
            )
        tables.append(
            pd.DataFrame(
                {
                    "pair_index": fold.train,
                    "fold": number,
                    "role": "train",
                    "component": "",
                }
            )
        )
        tables.append(
            pd.DataFrame(
                {
                    "pair_index": fold.test,
                    "fold": number,
                    "role": "test",
                    "component": component,
                }
            )
        )
    table = pd.concat(tables, ignore_index=True)[FOLD_COLUMNS]
    with atomic_path(path) as tmp:
        table.to_csv(tmp, sep="\t", index=False)


def read_folds(path: str | os.PathLike) -> list[Fold]:
    """Read folds written by :func:`write_folds`.

    Raises
    ------
    DataFormatError
        Naming the file and the missing column, bad role or component, or a
        gap in the fold numbers.
    """
    table = pd.read_csv(path, sep="\t", dtype={"component": str}, keep_default_na=False)
    missing = [c for c in FOLD_COLUMNS if c not in table.columns]
    if missing:
        raise DataFormatError(f"{path}: missing column(s) {missing}")
    bad_role = sorted(set(table["role"]) - {"train", "test"})
    if bad_role:
        raise DataFormatError(f"{path}: role must be train or test, found {bad_role}")
    bad_component = sorted(set(table["component"]) - {"", *COMPONENTS})
    if bad_component:
        raise DataFormatError(f"{path}: unknown component value(s) {bad_component}")
    numbers = sorted(set(table["fold"]))
    if numbers != list(range(len(numbers))):
        raise DataFormatError(f"{path}: fold numbers must be 0..K-1, found {numbers}")
    folds = []
    for number in numbers:
        rows = table[table["fold"] == number]
        train = rows.loc[rows["role"] == "train", "pair_index"].to_numpy(np.int64)
        test_rows = rows[rows["role"] == "test"]
        component = test_rows["component"].to_numpy(str)
        folds.append(
            Fold(
                train=train,
                test=test_rows["pair_index"].to_numpy(np.int64),
                component=(
                    component if (component != "").all() and len(component) else None
                ),
            )
        )
    return folds


def summarize_folds(
    folds: Sequence[Fold], labels, classes: Sequence[str]
) -> pd.DataFrame:
    """Count pairs per fold, role, component and class.

    Parameters
    ----------
    folds : sequence of Fold
    labels : array-like of int
        Class code of every pair (its length is the number of pairs).
    classes : sequence of str
        ``classes[code]`` names class ``code``.

    Returns
    -------
    pandas.DataFrame
        Columns fold, role (``train``, ``test`` or ``discarded``: neither train
        nor test in that fold), component (C1/C2/C3 for test pairs with a known
        component, else ``""``), class and n_pairs; only non-zero counts.
    """
    labels = _labels(labels)
    names = np.asarray(classes, dtype=object)
    rows = []
    for number, fold in enumerate(folds):
        used = np.zeros(len(labels), dtype=bool)
        used[fold.train] = True
        used[fold.test] = True
        component = (
            fold.component
            if fold.component is not None
            else np.full(len(fold.test), "")
        )
        parts = [
            ("train", fold.train, np.full(len(fold.train), "")),
            ("test", fold.test, np.asarray(component, dtype=str)),
            ("discarded", np.flatnonzero(~used), np.full(int((~used).sum()), "")),
        ]
        for role, index, comp in parts:
            rows.append(
                pd.DataFrame(
                    {
                        "fold": number,
                        "role": role,
                        "component": comp,
                        "class": names[labels[index]],
                    }
                )
            )
    table = pd.concat(rows, ignore_index=True)
    counts = table.groupby(["fold", "role", "component", "class"], sort=False).size()
    return counts.rename("n_pairs").reset_index()
