"""Per-protein encodings against values worked out by hand."""

import logging

import numpy as np
import pytest

from moe.ppi import protein_features
from moe.ppi.scales import AMINO_ACIDS, CTD_GROUPS, GUO_PROPERTIES


def _block(sequence, encoding, **kwargs):
    return protein_features({"p": sequence}, encodings=(encoding,), **kwargs).loc["p"]


def test_aac_of_aac():
    aac = _block("AAC", "aac")
    assert aac["aac_A"] == pytest.approx(2 / 3)
    assert aac["aac_C"] == pytest.approx(1 / 3)
    assert aac.drop(["aac_A", "aac_C"]).eq(0).all()


def test_dpc_of_aca():
    dpc = _block("ACA", "dpc")
    assert dpc["dpc_AC"] == pytest.approx(0.5)
    assert dpc["dpc_CA"] == pytest.approx(0.5)
    assert dpc.sum() == pytest.approx(1.0)
    assert list(dpc.index[:3]) == ["dpc_AA", "dpc_AC", "dpc_AD"]


def test_conjoint_triad_uses_shen_classes_and_normalisation():
    # Shen 2007 classes: A, G, V -> 1; I, L, F, P -> 2; K, R -> 5; D, E -> 6; C -> 7.
    ct = _block("KDC", "ct")
    assert ct["ct_567"] == 1.0 and ct.sum() == 1.0
    # AGVAI -> classes 1 1 1 1 2 -> triads 111, 111, 112: f = 2, 1, so
    # d = (f - min f) / max f = (2 - 0) / 2 and (1 - 0) / 2.
    ct = _block("AGVAI", "ct")
    assert ct["ct_111"] == 1.0
    assert ct["ct_112"] == 0.5
    assert ct.drop(["ct_111", "ct_112"]).eq(0).all()


def test_auto_covariance_at_lag_one_by_hand():
    # H1 over the 20 residues has mean 0 and sum of squares 18.9914, so the
    # standardised scale is H1 / sqrt(0.94957). For ACD (0.62, 0.29, -0.90)
    # the sequence mean is 0.01 / 3 and AC(1) averages the two lag-1 products.
    m = 0.01 / 3
    expected = ((0.62 - m) * (0.29 - m) + (0.29 - m) * (-0.90 - m)) / 2 / 0.94957
    ac = _block("ACD", "ac", max_lag=3)
    assert ac["ac_H1_1"] == pytest.approx(expected, rel=1e-9)
    assert ac["ac_H1_2"] == pytest.approx((0.62 - m) * (-0.90 - m) / 0.94957, rel=1e-9)
    # Lags at or beyond the length have no terms: 0 by rule.
    assert ac["ac_H1_3"] == 0.0


def test_auto_covariance_of_a_homopolymer_is_zero():
    ac = _block("W" * 40, "ac")
    assert np.allclose(ac, 0.0)


def test_ctd_values_by_hand():
    # Hydrophobicity groups: R, K -> 1 (polar); A -> 2 (neutral); C, L -> 3.
    ctd = _block("RKCLA", "ctd")
    h = "hydrophobicity"
    assert [ctd[f"ctd_C_{h}_{g}"] for g in (1, 2, 3)] == pytest.approx([0.4, 0.2, 0.4])
    # Adjacent pairs RK, KC, CL, LA: one 1-3 switch and one 3-2 switch out of 4.
    assert [ctd[f"ctd_T_{h}_{gh}"] for gh in ("12", "13", "23")] == pytest.approx(
        [0, 0.25, 0.25]
    )
    # Group 1 sits at positions 1, 2: the 0/25/50/75 % residues are the 1st
    # (k = max(1, floor(p * 2))) and the 100 % residue the 2nd, over L = 5.
    assert [ctd[f"ctd_D_{h}_1_{q}"] for q in (0, 25, 50, 75, 100)] == pytest.approx(
        [0.2, 0.2, 0.2, 0.2, 0.4]
    )
    assert [ctd[f"ctd_D_{h}_3_{q}"] for q in (0, 25, 50, 75, 100)] == pytest.approx(
        [0.6, 0.6, 0.6, 0.6, 0.8]
    )
    assert [ctd[f"ctd_D_{h}_2_{q}"] for q in (0, 25, 50, 75, 100)] == pytest.approx(
        [1.0] * 5
    )


def test_ctd_absent_group_gives_zero_distribution():
    ctd = _block("KKKK", "ctd")  # charge: all positive (group 1)
    assert ctd["ctd_C_charge_1"] == 1.0
    assert all(ctd[f"ctd_D_charge_3_{q}"] == 0.0 for q in (0, 25, 50, 75, 100))


def test_ctd_groups_partition_the_residues():
    for attribute, groups in CTD_GROUPS.items():
        letters = "".join(groups)
        assert sorted(letters) == sorted(AMINO_ACIDS), attribute


def test_guo_scales_spot_values():
    # Values from Guo et al. 2008 Table S1 / AAindex (KRIW790103, GRAR740102, CHAM820101).
    assert GUO_PROPERTIES["V"]["W"] == 145.5
    assert GUO_PROPERTIES["P1"]["D"] == 13.0
    assert GUO_PROPERTIES["P2"]["G"] == 0.0
    assert GUO_PROPERTIES["NCISC"]["P"] == 0.239531


def test_dimensions_names_and_finiteness():
    sequences = {
        "a": "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQ",
        "b": "AC",
        "c": "W",
    }
    table = protein_features(sequences)
    dims = {
        prefix: table.filter(regex=f"^{prefix}_").shape[1]
        for prefix in ("aac", "dpc", "ct", "ac", "ctd")
    }
    assert dims == {"aac": 20, "dpc": 400, "ct": 343, "ac": 210, "ctd": 147}
    assert table.shape == (3, 1120)
    assert list(table.index) == ["a", "b", "c"]
    assert table.dtypes.eq(np.float64).all()
    assert np.isfinite(table.to_numpy()).all()
    assert protein_features(sequences, encodings=("ac",), max_lag=4).shape == (3, 28)


def test_batch_encoding_equals_one_protein_at_a_time():
    sequences = {"a": "MKVLAAGIVGLLLAQC", "b": "GGSWTRE", "c": "PPPCDEFHIK" * 5}
    together = protein_features(sequences)
    for protein, sequence in sequences.items():
        alone = protein_features({protein: sequence})
        np.testing.assert_allclose(together.loc[[protein]], alone, rtol=0, atol=1e-12)


def test_nonstandard_residues_are_removed_and_counted(caplog):
    with caplog.at_level(logging.WARNING, logger="moe.ppi"):
        table = protein_features({"p": "AXCB", "q": "AC"}, encodings=("aac", "dpc"))
    np.testing.assert_array_equal(table.loc["p"], table.loc["q"])
    assert "removed 2 non-standard residues" in caplog.text
    assert "1 protein" in caplog.text


def test_bad_sequences_raise_naming_the_protein():
    with pytest.raises(ValueError, match="'bad'"):
        protein_features({"ok": "ACD", "bad": "AC1D"})
    with pytest.raises(ValueError, match="no standard residue.*'unknown'"):
        protein_features({"unknown": "XXX"})
    with pytest.raises(ValueError, match="encodings"):
        protein_features({"p": "ACD"}, encodings=("pssm",))
    with pytest.raises(ValueError, match="max_lag"):
        protein_features({"p": "ACD"}, max_lag=0)
