"""Parsing, label rules and bad input on small files written by the tests."""

import hashlib
import logging

import pandas as pd
import pytest

import moe.ppi
from moe.ppi import DataFormatError
from moe.ppi.parse import (
    check_pairs,
    parse_guo_yeast,
    parse_shs27k,
    read_actions,
    read_fasta,
    read_sequence_table,
)
from moe.ppi.registry import DatasetSpec, RemoteFile

SEQ = {"D1": "MKVLA", "D2": "GGSWT", "D3": "PPCDE", "D4": "HIKLM", "D5": "NQRST"}


def _fasta(ids):
    return "".join(f">{i}|sw:P0|pir:|gi:1\n{SEQ[i]}\n" for i in ids)


GUO_FILES = {
    # positives: D1-D2, D3-D3 (self pair), D4-D1; negatives: D2-D1 (contradicts D1-D2), D5-D3
    "positive/Protein_A.txt": _fasta(["D1", "D3", "D4"]),
    "positive/Protein_B.txt": _fasta(["D2", "D3", "D1"]),
    "negative/Protein_A.txt": _fasta(["D2", "D5"]),
    "negative/Protein_B.txt": _fasta(["D1", "D3"]),
}

ACTIONS = (
    "item_id_a\titem_id_b\tmode\taction\tis_directional\ta_is_acting\tscore\n"
    "S1\tS2\tbinding\t\tf\tf\t900\n"
    "S2\tS1\tbinding\t\tf\tf\t900\n"
    "S1\tS3\tactivation\tactivation\tt\tt\t400\n"
    "S3\tS1\tactivation\tactivation\tt\tf\t400\n"
    "S1\tS3\tbinding\t\tf\tf\t300\n"
    "S2\tS3\texpression\texpression\tt\tt\t200\n"
    "S3\tS4\treaction\t\tt\tt\t150\n"
    "S3\tS4\tptmod\t\tt\tt\t150\n"
    "S3\tS4\tbinding\t\tt\tt\t150\n"
)
SHS_SEQUENCES = "S1\tMKV\nS2\tACDE\nS3\tWWY\nS4\tGGHK\n"


def _write(folder, files):
    paths = {}
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths[name] = path
    return paths


def _shs_paths(folder, actions=ACTIONS, sequences=SHS_SEQUENCES):
    return _write(
        folder,
        {
            "protein.actions.SHS27k.STRING.txt": actions,
            "protein.SHS27k.sequences.dictionary.tsv": sequences,
        },
    )


def test_guo_drops_contradictory_pairs_keeps_self_pairs(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="moe.ppi"):
        data = parse_guo_yeast(_write(tmp_path, GUO_FILES))
    assert data.classes == ["negative", "positive"]
    assert data.pairs.to_dict("list") == {
        "protein_a": ["D3", "D4", "D5"],
        "protein_b": ["D3", "D1", "D3"],
        "label": [1, 1, 0],
    }
    assert data.dropped[["protein_a", "protein_b", "label"]].to_dict("list") == {
        "protein_a": ["D1", "D2"],
        "protein_b": ["D2", "D1"],
        "label": ["positive", "negative"],
    }
    assert data.dropped["reason"].str.contains("both positive and negative").all()
    assert "dropped 2 of 5 rows" in caplog.text and "D1-D2" in caplog.text
    assert data.sequences["D3"] == "PPCDE" and len(data.sequences) == 5


def test_shs27k_label_rules(tmp_path, caplog):
    paths = _shs_paths(tmp_path)
    with caplog.at_level(logging.WARNING, logger="moe.ppi"):
        single = parse_shs27k(paths, "single_type")
    classes = single.classes
    assert classes == [
        "reaction",
        "binding",
        "ptmod",
        "activation",
        "inhibition",
        "catalysis",
        "expression",
    ]
    # Unordered pairs: S1-S2 {binding}, S1-S3 {activation, binding}, S2-S3 {expression},
    # S3-S4 {binding, ptmod, reaction}.
    named = lambda d: [
        (a, b, d.classes[c]) for a, b, c in d.pairs.itertuples(index=False)
    ]  # noqa: E731
    assert named(single) == [("S1", "S2", "binding"), ("S2", "S3", "expression")]
    assert single.dropped["label"].tolist() == [
        "activation,binding",
        "binding,ptmod,reaction",
    ]
    assert "dropped 2 multi-type pairs" in caplog.text
    priority = parse_shs27k(paths, "priority")
    assert named(priority) == [
        ("S1", "S2", "binding"),
        ("S1", "S3", "activation"),
        ("S2", "S3", "expression"),
        ("S3", "S4", "ptmod"),
    ]
    assert priority.dropped.empty
    assert priority.pairs["label"].dtype == "int64"


def test_load_end_to_end_from_a_mirror(tmp_path, monkeypatch):
    files = _write(tmp_path / "mirror" / "guo_yeast_core" / "raw", GUO_FILES)
    remote = tuple(
        RemoteFile(
            name,
            "http://127.0.0.1:9/unused",
            hashlib.sha256(path.read_bytes()).hexdigest(),
            0,
        )
        for name, path in files.items()
    )
    spec = moe.ppi.DATASETS["guo_yeast"]
    monkeypatch.setitem(
        moe.ppi.DATASETS, "guo_yeast", DatasetSpec(**{**spec.__dict__, "files": remote})
    )
    data = moe.ppi.load(
        "guo_yeast", mirror=tmp_path / "mirror", cache_dir=tmp_path / "cache"
    )
    assert isinstance(data, moe.ppi.PPIDataset)
    assert len(data.pairs) == 3
    assert (
        tmp_path / "cache" / "guo_yeast_core" / "raw" / "negative" / "Protein_B.txt"
    ).is_file()
    with pytest.raises(ValueError, match="label_rule must be None"):
        moe.ppi.load(
            "guo_yeast",
            mirror=tmp_path / "mirror",
            cache_dir=tmp_path / "cache",
            label_rule="priority",
        )
    with pytest.raises(ValueError, match="single_type"):
        moe.ppi.load("shs27k", cache_dir=tmp_path / "cache", label_rule="majority")


def test_truncated_guo_file_names_both_files(tmp_path):
    files = dict(GUO_FILES, **{"positive/Protein_B.txt": _fasta(["D2", "D3"])})
    with pytest.raises(
        DataFormatError,
        match=r"positive/Protein_A\.txt has 3 records but .*positive/Protein_B\.txt has 2",
    ):
        parse_guo_yeast(_write(tmp_path, files))


def test_fasta_with_an_empty_record(tmp_path):
    path = tmp_path / "x.fasta"
    path.write_text(">A|sw:\nMKV\n>B|sw:\n>C|sw:\nACD\n")
    with pytest.raises(
        DataFormatError, match=r"x\.fasta, record 2 \(B\|sw:\): empty sequence"
    ):
        read_fasta(path)


def test_fasta_bad_letters_and_no_header(tmp_path):
    path = tmp_path / "x.fasta"
    path.write_text(">A\nMK*V\n")
    with pytest.raises(DataFormatError, match=r"x\.fasta, record 1.*\['\*'\]"):
        read_fasta(path)
    path.write_text("MKV\n")
    with pytest.raises(DataFormatError, match=r"x\.fasta: not FASTA"):
        read_fasta(path)


def test_nonstandard_letters_are_accepted_by_the_parser(tmp_path):
    path = tmp_path / "x.fasta"
    path.write_text(">A\nmkxbzuoV\n")
    assert read_fasta(path) == [("A", "MKXBZUOV")]


def test_pair_naming_an_unknown_protein(tmp_path):
    paths = _shs_paths(tmp_path, sequences="S1\tMKV\nS2\tACDE\nS3\tWWY\n")
    with pytest.raises(
        DataFormatError,
        match=r"STRING\.txt \(sequences: .*dictionary\.tsv\): 1 protein.*no sequence: S4",
    ):
        parse_shs27k(paths)


def test_pair_table_missing_a_column(tmp_path):
    paths = _shs_paths(tmp_path, actions=ACTIONS.replace("\tmode\t", "\tkind\t"))
    with pytest.raises(
        DataFormatError, match=r"STRING\.txt: missing column\(s\) \['mode'\]"
    ):
        parse_shs27k(paths)
    with pytest.raises(
        DataFormatError, match=r"mine: pair table lacks column\(s\) \['label'\]"
    ):
        check_pairs(
            pd.DataFrame({"protein_a": ["S1"], "protein_b": ["S2"]}),
            {"S1": "A", "S2": "C"},
            "mine",
        )


def test_truncated_actions_file_names_the_line(tmp_path):
    paths = _shs_paths(tmp_path, actions=ACTIONS + "S4\tS1")
    with pytest.raises(DataFormatError, match=r"STRING\.txt: empty .* line\(s\) 11"):
        parse_shs27k(paths)


def test_unknown_mode_and_bad_sequence_table(tmp_path):
    paths = _shs_paths(tmp_path, actions=ACTIONS.replace("reaction", "phosphorylation"))
    with pytest.raises(DataFormatError, match="unknown mode.*phosphorylation"):
        parse_shs27k(paths)
    paths = _shs_paths(tmp_path, sequences="S1\tMKV\nS2\n")
    with pytest.raises(DataFormatError, match=r"dictionary\.tsv, line 2: expected 2"):
        parse_shs27k(paths)
    paths = _shs_paths(tmp_path, sequences="S1\tMKV\nS1\tMKV\n")
    with pytest.raises(DataFormatError, match="line 2: protein S1 appears twice"):
        parse_shs27k(paths)


def test_text_that_is_not_ascii_names_the_file_and_line(tmp_path):
    latin1 = tmp_path / "latin1.fasta"
    latin1.write_bytes(b">D1|sw:P0\nMKVLA\n>D2|sw:P0 caf\xe9\nGGSWT\n")
    with pytest.raises(DataFormatError, match=rf"{latin1}, line 3: byte 0xe9 is not ASCII"):
        read_fasta(latin1)
    table = tmp_path / "sequences.tsv"
    table.write_bytes(b"P1\tMKVLA\nP2\tGG\xffSWT\n")
    with pytest.raises(DataFormatError, match=rf"{table}, line 2: byte 0xff is not ASCII"):
        read_sequence_table(table)


def test_a_stray_quote_is_a_bad_value_not_a_quoted_field(tmp_path):
    # csv quoting would join the lines up to the next quote and blame a wrong record
    table = tmp_path / "sequences.tsv"
    table.write_text('P1\t"MKVLA\nP2\tGGSWT\n')
    with pytest.raises(DataFormatError, match=rf"{table}, line 1 \(P1\): characters \['\"'\]"):
        read_sequence_table(table)
    actions = tmp_path / "actions.tsv"
    actions.write_text('item_id_a\titem_id_b\tmode\nP1\t"P2\tbinding\nP2\tP3\tbinding\n')
    assert read_actions(actions)["item_id_b"].tolist() == ['"P2', "P3"]  # two rows, as written


def test_an_empty_actions_file_names_the_file(tmp_path):
    empty = tmp_path / "actions.tsv"
    empty.write_text("")
    with pytest.raises(DataFormatError, match=rf"{empty}: empty file"):
        read_actions(empty)
