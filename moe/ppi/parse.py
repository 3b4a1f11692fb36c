"""Read the upstream files into a validated :class:`PPIDataset`.

Label rules
-----------
``guo_yeast``
    Positive rows (``positive/Protein_A.txt`` record *i* with
    ``positive/Protein_B.txt`` record *i*) get class ``positive`` (code 1),
    negative rows class ``negative`` (code 0). Unordered pairs carrying both
    labels are contradictory and all their rows are dropped (4 pairs, 8 rows
    upstream); a repeated unordered pair with one label keeps its first row.
    Self pairs (homodimers) are kept. Row order is the upstream order,
    positives first.
``shs27k``
    Rows of the STRING actions file are collapsed to unordered pairs
    (``protein_a < protein_b`` in string order, rows sorted by that key), each
    with the set of its ``mode`` values. Classes follow the PIPR / GNN-PPI
    class map: reaction, binding, ptmod, activation, inhibition, catalysis,
    expression (codes 0 to 6).

    - ``"single_type"`` (default): keep the pairs that carry exactly one type.
    - ``"priority"``: keep every pair, labelled by its type that comes first in
      :data:`SHS27K_PRIORITY`, the rarest type first (fewest pairs carrying it
      in SHS27k), so that a rare, specific type is not hidden behind a common one.

Sequences
---------
Sequences are upper-cased. Letters other than the 20 standard residues and the
non-standard codes X, B, Z, U, O are an error; the encodings remove the
non-standard codes (see :mod:`moe.ppi.encodings`). Every protein named by a
pair must have a non-empty sequence.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from Bio import SeqIO

from .errors import DataFormatError
from .scales import AMINO_ACIDS, NONSTANDARD_RESIDUES

logger = logging.getLogger("moe.ppi")

GUO_CLASSES = ["negative", "positive"]
#: PIPR / GNN-PPI class map of the seven STRING action modes.
SHS27K_CLASSES = [
    "reaction",
    "binding",
    "ptmod",
    "activation",
    "inhibition",
    "catalysis",
    "expression",
]
#: Priority of the ``"priority"`` label rule: rarest first (pairs carrying each
#: type in SHS27k: expression 687, ptmod 1303, inhibition 1407, reaction 3164,
#: activation 3297, catalysis 3492, binding 4017).
SHS27K_PRIORITY = (
    "expression",
    "ptmod",
    "inhibition",
    "reaction",
    "activation",
    "catalysis",
    "binding",
)
PAIR_COLUMNS = ["protein_a", "protein_b", "label"]
DROPPED_COLUMNS = ["protein_a", "protein_b", "label", "reason"]
_ALLOWED = frozenset(AMINO_ACIDS + NONSTANDARD_RESIDUES)
_MAX_LISTED = 10


@dataclass
class PPIDataset:
    """A parsed, validated benchmark dataset.

    Attributes
    ----------
    name : str
        Dataset name (a key of :data:`moe.ppi.DATASETS`).
    pairs : pandas.DataFrame
        Columns ``protein_a``, ``protein_b`` (str) and ``label`` (int codes
        ``0 .. C-1``), one row per pair, deterministic order, RangeIndex.
    sequences : dict of str to str
        Upper-case sequence of every protein in the source files.
    classes : list of str
        ``classes[code]`` is the name of class ``code``.
    dropped : pandas.DataFrame
        Rows removed by the label rule: ``protein_a``, ``protein_b``,
        ``label`` (original label names, comma-separated) and ``reason``.
    """

    name: str
    pairs: pd.DataFrame
    sequences: dict[str, str]
    classes: list[str]
    dropped: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=DROPPED_COLUMNS)
    )


def _listed(items) -> str:
    """At most ``_MAX_LISTED`` items, then how many more."""
    items = list(items)
    text = ", ".join(map(str, items[:_MAX_LISTED]))
    if len(items) > _MAX_LISTED:
        text += f", ... ({len(items) - _MAX_LISTED} more)"
    return text


def _read_ascii(path: Path) -> str:
    """The text of ``path``; a byte outside ASCII is a DataFormatError naming the
    file and line (the upstream files are plain ASCII; another encoding means a
    corrupt or substituted file)."""
    raw = path.read_bytes()
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise DataFormatError(
            f"{path}, line {line}: byte {raw[error.start]:#04x} is not ASCII text"
        ) from None


def check_sequence(sequence: str, where: str) -> str:
    """Upper-case ``sequence`` and check its letters; ``where`` names it in errors."""
    sequence = sequence.strip().upper()
    if not sequence:
        raise DataFormatError(f"{where}: empty sequence")
    bad = sorted(set(sequence) - _ALLOWED)
    if bad:
        raise DataFormatError(
            f"{where}: characters {bad} are neither standard residues nor X, B, Z, U, O"
        )
    return sequence


def read_fasta(path: str | Path) -> list[tuple[str, str]]:
    """Read ``(id, sequence)`` records from a FASTA file with Biopython.

    The id is the first ``|``-separated field of the record id
    (``DIP:512N`` for ``>DIP:512N|sw:P16649|...``).

    Raises
    ------
    DataFormatError
        If the file is not ASCII text, does not start with a header, a record
        has an empty id or sequence, or a sequence holds letters outside the
        accepted alphabet; the message names the file and the record or line.
    """
    path = Path(path)
    text = _read_ascii(path)
    if not text.startswith(">"):
        raise DataFormatError(
            f"{path}: not FASTA (the first character is {text[:1]!r}, not '>')"
        )
    records = []
    for number, record in enumerate(SeqIO.parse(io.StringIO(text), "fasta"), start=1):
        protein = record.id.split("|")[0]
        where = f"{path}, record {number} ({record.id or 'no id'})"
        if not protein:
            raise DataFormatError(f"{where}: empty protein id in the header")
        records.append((protein, check_sequence(str(record.seq), where)))
    return records


def _add_sequences(sequences: dict[str, str], records, path: Path) -> None:
    """Merge records into ``sequences``; one id with two sequences is an error."""
    for protein, sequence in records:
        known = sequences.setdefault(protein, sequence)
        if known != sequence:
            raise DataFormatError(
                f"{path}: protein {protein} has two different sequences"
            )


def check_pairs(pairs: pd.DataFrame, sequences: Mapping[str, str], source: str) -> None:
    """Check that ``pairs`` has the pair columns and every protein a sequence.

    Raises
    ------
    DataFormatError
        Naming ``source`` and the missing column or protein ids.
    """
    missing_columns = [column for column in PAIR_COLUMNS if column not in pairs.columns]
    if missing_columns:
        raise DataFormatError(f"{source}: pair table lacks column(s) {missing_columns}")
    _check_sequences_known(pairs, sequences, source)


def _check_sequences_known(
    pairs: pd.DataFrame, sequences: Mapping[str, str], source: str
) -> None:
    proteins = pd.unique(pairs[["protein_a", "protein_b"]].to_numpy().ravel())
    missing = sorted(p for p in proteins if p not in sequences)
    if missing:
        raise DataFormatError(
            f"{source}: {len(missing)} protein(s) in pairs have no sequence: {_listed(missing)}"
        )


def _unordered_key(pairs: pd.DataFrame) -> pd.Series:
    a, b = pairs["protein_a"].to_numpy(str), pairs["protein_b"].to_numpy(str)
    return pd.Series(np.where(a < b, a, b)) + "\t" + pd.Series(np.where(a < b, b, a))


def parse_guo_yeast(paths: Mapping[str, Path]) -> PPIDataset:
    """Build the Guo et al. (2008) yeast dataset from its four FASTA files.

    Parameters
    ----------
    paths : mapping
        ``RemoteFile.path`` (``positive/Protein_A.txt`` ...) to local file.

    Returns
    -------
    PPIDataset
        11180 pairs from the upstream files, labels 0 = negative, 1 = positive.
    """
    sequences: dict[str, str] = {}
    blocks = []
    for code, kind in enumerate(GUO_CLASSES):
        path_a, path_b = paths[f"{kind}/Protein_A.txt"], paths[f"{kind}/Protein_B.txt"]
        records_a, records_b = read_fasta(path_a), read_fasta(path_b)
        if len(records_a) != len(records_b):
            raise DataFormatError(
                f"{path_a} has {len(records_a)} records but {path_b} has {len(records_b)}; "
                f"record i of one pairs with record i of the other (truncated file?)"
            )
        _add_sequences(sequences, records_a, path_a)
        _add_sequences(sequences, records_b, path_b)
        blocks.append(
            pd.DataFrame(
                {
                    "protein_a": [protein for protein, _ in records_a],
                    "protein_b": [protein for protein, _ in records_b],
                    "label": code,
                }
            )
        )
    # Positives first, as upstream.
    rows = pd.concat(blocks[::-1], ignore_index=True)
    key = _unordered_key(rows)
    contradictory = rows.groupby(key)["label"].transform("nunique").to_numpy() > 1
    repeated = key.duplicated().to_numpy() & ~contradictory
    reasons = np.where(
        contradictory,
        "unordered pair labelled both positive and negative",
        "repeat of an earlier row with the same unordered pair and label",
    )
    drop = contradictory | repeated
    dropped = rows.loc[drop, ["protein_a", "protein_b"]].assign(
        label=[GUO_CLASSES[code] for code in rows.loc[drop, "label"]],
        reason=reasons[drop],
    )
    if drop.any():
        conflicts = sorted(set(key[contradictory].str.replace("\t", "-")))
        logger.warning(
            "guo_yeast: dropped %d of %d rows: %d contradictory unordered pairs (%s), %d repeats",
            drop.sum(),
            len(rows),
            len(conflicts),
            _listed(conflicts),
            repeated.sum(),
        )
    pairs = rows.loc[~drop].reset_index(drop=True)
    check_pairs(pairs, sequences, "guo_yeast")
    return PPIDataset(
        name="guo_yeast",
        pairs=pairs,
        sequences=sequences,
        classes=list(GUO_CLASSES),
        dropped=dropped.reset_index(drop=True),
    )


def read_sequence_table(path: str | Path) -> dict[str, str]:
    """Read a headerless ``id<TAB>sequence`` file.

    Raises
    ------
    DataFormatError
        Naming the file and line for text that is not ASCII, a wrong field
        count, an empty id or sequence, a bad letter (a quote included: quotes
        have no meaning in this format), or a repeated id.
    """
    path = Path(path)
    sequences: dict[str, str] = {}
    lines = io.StringIO(_read_ascii(path), newline="")
    rows = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    for line_number, row in enumerate(rows, start=1):
        where = f"{path}, line {line_number}"
        if len(row) != 2:
            raise DataFormatError(
                f"{where}: expected 2 tab-separated fields (id, sequence), got {len(row)}"
            )
        protein = row[0].strip()
        if not protein:
            raise DataFormatError(f"{where}: empty protein id")
        if protein in sequences:
            raise DataFormatError(f"{where}: protein {protein} appears twice")
        sequences[protein] = check_sequence(row[1], f"{where} ({protein})")
    if not sequences:
        raise DataFormatError(f"{path}: no sequences")
    return sequences


def read_actions(path: str | Path) -> pd.DataFrame:
    """Read a STRING ``protein.actions`` table: ``item_id_a``, ``item_id_b``, ``mode``.

    Raises
    ------
    DataFormatError
        Naming the file for an empty file or text that is not a table, and the
        missing column, the lines with empty fields (a truncated last line, for
        example), or the unknown modes.
    """
    path = Path(path)
    text = _read_ascii(path)
    if not text.strip():
        raise DataFormatError(f"{path}: empty file (expected a header line and pairs)")
    try:
        # quotes have no meaning in this format: a stray one is a bad value, not a field
        table = pd.read_csv(
            io.StringIO(text), sep="\t", dtype=str, keep_default_na=False,
            quoting=csv.QUOTE_NONE,
        )
    except pd.errors.ParserError as error:
        raise DataFormatError(f"{path}: not a tab-separated table: {error}") from None
    required = ["item_id_a", "item_id_b", "mode"]
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise DataFormatError(
            f"{path}: missing column(s) {missing}; found {list(table.columns)}"
        )
    table = table[required]
    empty = table.isna().any(axis=1) | (table == "").any(axis=1)
    if empty.any():
        lines = (
            np.flatnonzero(empty.to_numpy()) + 2
        ).tolist()  # 1-based, after the header
        raise DataFormatError(
            f"{path}: empty {required} field(s) on line(s) {_listed(lines)}"
        )
    unknown = sorted(set(table["mode"]) - set(SHS27K_CLASSES))
    if unknown:
        raise DataFormatError(
            f"{path}: unknown mode(s) {unknown}; expected {SHS27K_CLASSES}"
        )
    return table


def _collapse_actions(actions: pd.DataFrame) -> pd.DataFrame:
    """One row per unordered pair with the sorted tuple of its modes."""
    a, b = actions["item_id_a"].to_numpy(str), actions["item_id_b"].to_numpy(str)
    rows = pd.DataFrame(
        {
            "protein_a": np.where(a < b, a, b),
            "protein_b": np.where(a < b, b, a),
            "mode": actions["mode"],
        }
    )
    grouped = rows.groupby(["protein_a", "protein_b"], sort=True)["mode"]
    return (
        grouped.agg(lambda modes: tuple(sorted(set(modes))))
        .rename("modes")
        .reset_index()
    )


def parse_shs27k(
    paths: Mapping[str, Path], label_rule: str = "single_type"
) -> PPIDataset:
    """Build SHS27k from the STRING actions file and the sequence dictionary.

    Parameters
    ----------
    paths : mapping
        ``RemoteFile.path`` to local file.
    label_rule : {"single_type", "priority"}
        How a pair's set of types becomes one label (module docstring).

    Returns
    -------
    PPIDataset
    """
    if label_rule not in ("single_type", "priority"):
        raise ValueError(
            f"unknown label_rule {label_rule!r} for shs27k; valid: 'single_type', 'priority'"
        )
    actions_path = paths["protein.actions.SHS27k.STRING.txt"]
    sequences_path = paths["protein.SHS27k.sequences.dictionary.tsv"]
    sequences = read_sequence_table(sequences_path)
    collapsed = _collapse_actions(read_actions(actions_path))
    _check_sequences_known(
        collapsed, sequences, f"{actions_path} (sequences: {sequences_path})"
    )
    code = {name: index for index, name in enumerate(SHS27K_CLASSES)}
    n_types = collapsed["modes"].map(len)
    if label_rule == "single_type":
        keep = (n_types == 1).to_numpy()
        label = collapsed["modes"].map(lambda modes: code[modes[0]])
    else:
        keep = np.ones(len(collapsed), dtype=bool)
        rank = {name: index for index, name in enumerate(SHS27K_PRIORITY)}
        label = collapsed["modes"].map(
            lambda modes: code[min(modes, key=rank.__getitem__)]
        )
    pairs = collapsed.loc[keep, ["protein_a", "protein_b"]].assign(
        label=label[keep].astype(np.int64)
    )
    pairs = pairs.reset_index(drop=True)
    dropped = collapsed.loc[~keep, ["protein_a", "protein_b"]].assign(
        label=collapsed.loc[~keep, "modes"].map(",".join),
        reason=[
            f"carries {n} types; label_rule='single_type' keeps single-type pairs"
            for n in n_types[~keep]
        ],
    )
    if (~keep).any():
        logger.warning(
            "shs27k: label_rule=%r dropped %d multi-type pairs, kept %d",
            label_rule,
            (~keep).sum(),
            keep.sum(),
        )
    check_pairs(pairs, sequences, "shs27k")
    return PPIDataset(
        name="shs27k",
        pairs=pairs,
        sequences=sequences,
        classes=list(SHS27K_CLASSES),
        dropped=dropped.reset_index(drop=True),
    )
