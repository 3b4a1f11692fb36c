"""Per-protein sequence encodings, computed in numpy for many proteins at once.

All sequences are concatenated into one integer array; each encoding is then a
handful of array operations over the whole batch (``bincount`` keyed by
protein, ``reduceat`` over each protein's segment) rather than a Python loop
over proteins.

Encodings (column prefix, dimension)
------------------------------------
``aac`` (20)
    Amino-acid composition: count of each residue / L. Columns ``aac_A`` ...
``dpc`` (400)
    Dipeptide composition: count of each ordered residue pair at positions
    (i, i+1) / (L - 1). Columns ``dpc_AA``, ``dpc_AC``, ...
``ct`` (343)
    Conjoint triad (Shen et al., PNAS 104:4337, 2007): residues are mapped to
    7 classes (:data:`~moe.ppi.scales.CONJOINT_TRIAD_CLASSES`), f_t counts the
    class triads at positions (i, i+1, i+2), and the feature is Shen's
    normalisation d_t = (f_t - min f) / max f. Column ``ct_ijk`` is the triad
    whose first, second and third residues are in classes i, j, k (1-7).
``ac`` (7 x ``max_lag``)
    Auto covariance (Guo et al., Nucleic Acids Res. 36:3025, 2008). Each of
    the seven property scales of :data:`~moe.ppi.scales.GUO_PROPERTIES` is
    standardised over the 20 residues (mean 0, population standard
    deviation 1); with X_i the standardised value at position i and X̄ its mean
    over the sequence,
    AC(lag) = 1/(L - lag) * sum_{i=1}^{L-lag} (X_i - X̄)(X_{i+lag} - X̄),
    for lag = 1 .. max_lag. Columns ``ac_<property>_<lag>`` (``ac_H1_1``).
``ctd`` (147)
    Composition, transition, distribution (Dubchak et al. 1995, 1999) over
    the 7 attributes of :data:`~moe.ppi.scales.CTD_GROUPS`, 3 groups each:
    C = fraction of residues in each group (21, ``ctd_C_<attr>_<g>``);
    T = fraction of the L - 1 adjacent pairs that switch between groups
    1-2, 1-3 or 2-3 in either direction (21, ``ctd_T_<attr>_<gh>``);
    D = position of the first, 25 %, 50 %, 75 % and 100 % residue of a group
    divided by L, where the p-quantile residue is the k-th with
    k = max(1, floor(p * n_group)) (105, ``ctd_D_<attr>_<g>_<p>``). This is
    the iFeature / iFeatureOmega definition divided by 100; a group absent
    from the sequence gives 0.

Rules
-----
Non-standard residues (X, B, Z, U, O) are removed before encoding, and how
many were removed from how many proteins is logged (logger ``moe.ppi``). Any
other letter is an error. After removal a sequence must keep at least one
residue. A statistic with no terms is 0: DPC and T when L < 2, CT when L < 3,
AC at every lag >= L.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .scales import (
    AMINO_ACIDS,
    CONJOINT_TRIAD_CLASSES,
    CTD_GROUPS,
    GUO_PROPERTIES,
    NONSTANDARD_RESIDUES,
)

logger = logging.getLogger("moe.ppi")

_REMOVED, _INVALID = -1, -2
_CTD_QUANTILES = (0, 25, 50, 75, 100)


def _byte_table() -> np.ndarray:
    """Byte value -> residue code 0..19, ``_REMOVED`` or ``_INVALID``."""
    table = np.full(256, _INVALID, dtype=np.int16)
    for letter in NONSTANDARD_RESIDUES:
        table[ord(letter)] = _REMOVED
    for code, letter in enumerate(AMINO_ACIDS):
        table[ord(letter)] = code
    return table


_BYTE_TO_CODE = _byte_table()


@dataclass(frozen=True)
class _Batch:
    """Concatenated residue codes of many proteins.

    Attributes
    ----------
    codes : ndarray of int, shape (N,)
        Residue codes 0..19 of all proteins, one after the other.
    owner : ndarray of int, shape (N,)
        Index of the protein each residue belongs to.
    starts, lengths : ndarray of int, shape (P,)
        First position and length of each protein's segment.
    """

    codes: np.ndarray
    owner: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray

    @property
    def n_proteins(self) -> int:
        return len(self.lengths)

    def next_same(self, lag: int) -> np.ndarray:
        """Mask over positions i whose i + lag lies in the same protein."""
        n = len(self.codes)
        same = np.zeros(n, dtype=bool)
        if lag < n:
            same[: n - lag] = self.owner[: n - lag] == self.owner[lag:]
        return same

    def count(self, keys: np.ndarray, owners: np.ndarray, n_keys: int) -> np.ndarray:
        """Count ``keys`` per protein: array of shape (P, n_keys)."""
        flat = np.bincount(owners * n_keys + keys, minlength=self.n_proteins * n_keys)
        return flat.reshape(self.n_proteins, n_keys).astype(np.float64)


def _batch(ids: list[str], sequences: list[str]) -> _Batch:
    """Map sequences to codes, dropping non-standard residues."""
    raw_lengths = np.fromiter(
        (len(s) for s in sequences), dtype=np.int64, count=len(sequences)
    )
    joined = "".join(sequences).upper().encode("ascii", errors="replace")
    mapped = _BYTE_TO_CODE[np.frombuffer(joined, dtype=np.uint8)]
    raw_owner = np.repeat(np.arange(len(ids)), raw_lengths)
    invalid = mapped == _INVALID
    if invalid.any():
        bad = np.unique(raw_owner[invalid])
        raise ValueError(
            "sequences of protein(s) "
            + ", ".join(repr(ids[i]) for i in bad[:10])
            + " contain letters that are neither standard residues nor X, B, Z, U, O"
        )
    kept = mapped >= 0
    lengths = np.bincount(raw_owner[kept], minlength=len(ids))
    removed = raw_lengths - lengths
    if removed.any():
        logger.warning(
            "removed %d non-standard residues (%s) from %d protein(s) before encoding",
            removed.sum(),
            ", ".join(NONSTANDARD_RESIDUES),
            np.count_nonzero(removed),
        )
    empty = np.flatnonzero(lengths == 0)
    if len(empty):
        raise ValueError(
            "no standard residue left in the sequence of protein(s) "
            + ", ".join(repr(ids[i]) for i in empty[:10])
        )
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    return _Batch(mapped[kept].astype(np.int64), raw_owner[kept], starts, lengths)


def _per_residue(counts: np.ndarray, denominators: np.ndarray) -> np.ndarray:
    """Divide each protein's row by its denominator; 0 where it is not positive."""
    safe = np.where(denominators > 0, denominators, 1)
    return np.where(denominators[:, None] > 0, counts / safe[:, None], 0.0)


def _aac(batch: _Batch, max_lag: int) -> tuple[np.ndarray, list[str]]:
    counts = batch.count(batch.codes, batch.owner, 20)
    return _per_residue(counts, batch.lengths), [f"aac_{a}" for a in AMINO_ACIDS]


def _dpc(batch: _Batch, max_lag: int) -> tuple[np.ndarray, list[str]]:
    same = batch.next_same(1)[:-1]
    keys = batch.codes[:-1][same] * 20 + batch.codes[1:][same]
    counts = batch.count(keys, batch.owner[:-1][same], 400)
    names = [f"dpc_{a}{b}" for a in AMINO_ACIDS for b in AMINO_ACIDS]
    return _per_residue(counts, batch.lengths - 1), names


def _residue_classes(groups: Iterable[str]) -> np.ndarray:
    """Residue code -> index of the group (0-based) holding that residue."""
    lookup = np.full(20, -1, dtype=np.int64)
    for index, members in enumerate(groups):
        lookup[[AMINO_ACIDS.index(a) for a in members]] = index
    if (lookup < 0).any():
        raise AssertionError("a grouping must cover the 20 residues")
    return lookup


_CT_CLASS = _residue_classes(CONJOINT_TRIAD_CLASSES)


def _ct(batch: _Batch, max_lag: int) -> tuple[np.ndarray, list[str]]:
    cls = _CT_CLASS[batch.codes]
    same = batch.next_same(2)[:-2]
    keys = cls[:-2][same] * 49 + cls[1:-1][same] * 7 + cls[2:][same]
    f = batch.count(keys, batch.owner[:-2][same], 343)
    top = f.max(axis=1)
    d = _per_residue(f - f.min(axis=1, keepdims=True), top)
    names = [
        f"ct_{i}{j}{k}" for i in range(1, 8) for j in range(1, 8) for k in range(1, 8)
    ]
    return d, names


def _standardised_properties() -> tuple[np.ndarray, list[str]]:
    """The Guo property scales as a (20, 7) array, each column mean 0 and sd 1."""
    names = list(GUO_PROPERTIES)
    raw = np.array([[GUO_PROPERTIES[p][a] for p in names] for a in AMINO_ACIDS])
    return (raw - raw.mean(axis=0)) / raw.std(axis=0), names


def _ac(batch: _Batch, max_lag: int) -> tuple[np.ndarray, list[str]]:
    scales, names = _standardised_properties()
    # Property-major layout: reduceat along contiguous rows is several times faster.
    values = np.ascontiguousarray(scales[batch.codes].T)
    means = np.add.reduceat(values, batch.starts, axis=1) / batch.lengths
    centred = values - means[:, batch.owner]
    blocks = []
    for lag in range(1, max_lag + 1):
        products = np.zeros_like(centred)
        np.multiply(centred[:, :-lag], centred[:, lag:], out=products[:, :-lag])
        products[:, ~batch.next_same(lag)] = 0.0
        sums = np.add.reduceat(products, batch.starts, axis=1).T
        blocks.append(_per_residue(sums, batch.lengths - lag))
    # (lag, protein, property) -> protein x (property, lag)
    features = np.stack(blocks).transpose(1, 2, 0).reshape(batch.n_proteins, -1)
    columns = [f"ac_{p}_{lag}" for p in names for lag in range(1, max_lag + 1)]
    return features, columns


def _ctd(batch: _Batch, max_lag: int) -> tuple[np.ndarray, list[str]]:
    composition, transition, distribution = [], [], []
    c_names, t_names, d_names = [], [], []
    position = np.arange(len(batch.codes)) - batch.starts[batch.owner] + 1
    same = batch.next_same(1)[:-1]
    for attribute, groups in CTD_GROUPS.items():
        group = _residue_classes(groups)[batch.codes]
        counts = batch.count(group, batch.owner, 3)
        composition.append(_per_residue(counts, batch.lengths))
        c_names += [f"ctd_C_{attribute}_{g}" for g in (1, 2, 3)]

        g0, g1 = group[:-1], group[1:]
        switch = same & (g0 != g1)
        # {0,1} -> 0, {0,2} -> 1, {1,2} -> 2
        kind = g0[switch] + g1[switch] - 1
        switches = batch.count(kind, batch.owner[:-1][switch], 3)
        transition.append(_per_residue(switches, batch.lengths - 1))
        t_names += [f"ctd_T_{attribute}_{gh}" for gh in ("12", "13", "23")]

        key = batch.owner * 3 + group
        order = np.argsort(key, kind="stable")
        n_in = counts.astype(np.int64).ravel()
        first = np.concatenate(([0], np.cumsum(n_in)[:-1]))
        columns = []
        for quantile in _CTD_QUANTILES:
            k = np.maximum(1, (quantile * n_in) // 100)
            index = np.minimum(first + k - 1, len(order) - 1)
            where = np.where(n_in > 0, position[order[index]], 0)
            columns.append(where.reshape(batch.n_proteins, 3) / batch.lengths[:, None])
        # (quantile, protein, group) -> protein x (group, quantile)
        distribution.append(
            np.stack(columns).transpose(1, 2, 0).reshape(batch.n_proteins, 15)
        )
        d_names += [
            f"ctd_D_{attribute}_{g}_{q}" for g in (1, 2, 3) for q in _CTD_QUANTILES
        ]
    features = np.hstack(composition + transition + distribution)
    return features, c_names + t_names + d_names


ENCODINGS: dict[str, Callable[[_Batch, int], tuple[np.ndarray, list[str]]]] = {
    "aac": _aac,
    "dpc": _dpc,
    "ct": _ct,
    "ac": _ac,
    "ctd": _ctd,
}


def protein_features(
    sequences: Mapping[str, str],
    encodings: Iterable[str] = ("aac", "dpc", "ct", "ac", "ctd"),
    max_lag: int = 30,
) -> pd.DataFrame:
    """Encode each protein sequence as a fixed-length float64 vector.

    Parameters
    ----------
    sequences : mapping of str to str
        Protein id to sequence (one-letter codes, any case).
    encodings : iterable of str
        Blocks to compute, in this column order; see the module docstring.
    max_lag : int
        Largest lag of the auto covariance (``ac`` has ``7 * max_lag`` columns).

    Returns
    -------
    pandas.DataFrame
        Index ``protein_id`` in the order of ``sequences``; columns prefixed by
        the encoding name.

    Raises
    ------
    ValueError
        Unknown encoding, ``max_lag`` < 1, no sequences, a letter outside the
        20 residues and X B Z U O, or a sequence with no standard residue.
    """
    encodings = list(encodings)
    unknown = [e for e in encodings if e not in ENCODINGS]
    if unknown or not encodings:
        raise ValueError(
            f"encodings must be a non-empty subset of {list(ENCODINGS)}; got {encodings}"
        )
    if int(max_lag) != max_lag or max_lag < 1:
        raise ValueError(f"max_lag must be a positive integer, got {max_lag!r}")
    if len(sequences) == 0:
        raise ValueError("sequences is empty")
    ids = list(sequences)
    batch = _batch(ids, [str(sequences[i]) for i in ids])
    blocks, names = [], []
    for encoding in encodings:
        values, columns = ENCODINGS[encoding](batch, int(max_lag))
        blocks.append(values)
        names += columns
    index = pd.Index(ids, name="protein_id")
    return pd.DataFrame(np.hstack(blocks), index=index, columns=names, dtype=np.float64)
