"""Amino-acid property tables used by the sequence encodings.

Every table is keyed by the one-letter code of the 20 standard residues.

Sources
-------
Auto covariance (Guo et al. 2008, Table S1 of the supplement) uses seven
physicochemical properties. Five of them are entries of AAindex (Kawashima et
al. 2008) and were checked value by value against the AAindex1 release shipped
with the maintained package ``propy3`` 2.0.1 (``propy/aaindex/aaindex1``) and,
for hydrophobicity, against ``propy/data/hydrophobicity.json``:

- ``H1`` hydrophobicity: the scale Guo et al. attribute to Tanford, J. Am.
  Chem. Soc. 84:4240 (1962); identical to propy3's ``hydrophobicity.json``,
  which gives the same attribution (it is not an AAindex entry);
- ``H2`` hydrophilicity: Hopp & Woods, PNAS 78:3824 (1981), AAindex HOPT810101;
- ``V`` volume of side chains: Krigbaum & Komoriya, BBA 576:204 (1979),
  AAindex KRIW790103;
- ``P1`` polarity: Grantham, Science 185:862 (1974), AAindex GRAR740102;
- ``P2`` polarizability: Charton & Charton, J. Theor. Biol. 99:629 (1982),
  AAindex CHAM820101;
- ``SASA`` solvent-accessible surface area and ``NCISC`` net charge index of
  side chains: taken from Guo et al. 2008 (Table S1) as reproduced in
  You et al., BMC Bioinformatics 14(Suppl 8):S10 (2013), PMC3654889. These
  two are not in AAindex; the values were written from that table and agree
  with independent public copies of it.

The CTD groupings (three groups per attribute) are those of Dubchak et al.,
PNAS 92:8700 (1995) and Proteins 35:401 (1999), extended to seven attributes
(charge, secondary structure and solvent accessibility added) as in PROFEAT
(Li et al., Nucleic Acids Res. 34:W32, 2006). They are identical, letter for
letter, to ``propy/CTD.py`` in propy3 2.0.1 and to the ``CTDC`` tables of
iFeatureOmega-CLI 1.0.2 (Chen et al., Nucleic Acids Res. 50:W434, 2022).

The conjoint-triad classes are those of Shen et al., PNAS 104:4337 (2007),
grouping residues by dipole and side-chain volume.
"""

from __future__ import annotations

#: The 20 standard residues in alphabetical order of their one-letter codes;
#: this order defines the columns of AAC and DPC.
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"

#: Letters that may occur in a sequence but are not one of the 20 standard
#: residues: unknown (X), Asx (B), Glx (Z), selenocysteine (U), pyrrolysine (O).
NONSTANDARD_RESIDUES = "XBZUO"


def _table(values: str) -> dict[str, float]:
    """Map the 20 residues, in ``AMINO_ACIDS`` order, to whitespace-separated values."""
    numbers = [float(v) for v in values.split()]
    if len(numbers) != len(AMINO_ACIDS):
        raise AssertionError("a property table needs exactly 20 values")
    return dict(zip(AMINO_ACIDS, numbers, strict=True))


#: The seven properties of Guo et al. (2008), residues in ``AMINO_ACIDS`` order
#: (A C D E F G H I K L M N P Q R S T V W Y).
GUO_PROPERTIES: dict[str, dict[str, float]] = {
    "H1": _table(
        "0.62 0.29 -0.90 -0.74 1.19 0.48 -0.40 1.38 -1.50 1.06 "
        "0.64 -0.78 0.12 -0.85 -2.53 -0.18 -0.05 1.08 0.81 0.26"
    ),
    "H2": _table(
        "-0.5 -1.0 3.0 3.0 -2.5 0.0 -0.5 -1.8 3.0 -1.8 "
        "-1.3 0.2 0.0 0.2 3.0 0.3 -0.4 -1.5 -3.4 -2.3"
    ),
    "V": _table(
        "27.5 44.6 40.0 62.0 115.5 0.0 79.0 93.5 100.0 93.5 "
        "94.1 58.7 41.9 80.7 105.0 29.3 51.3 71.5 145.5 117.3"
    ),
    "P1": _table(
        "8.1 5.5 13.0 12.3 5.2 9.0 10.4 5.2 11.3 4.9 "
        "5.7 11.6 8.0 10.5 10.5 9.2 8.6 5.9 5.4 6.2"
    ),
    "P2": _table(
        "0.046 0.128 0.105 0.151 0.290 0.000 0.230 0.186 0.219 0.186 "
        "0.221 0.134 0.131 0.180 0.291 0.062 0.108 0.140 0.409 0.298"
    ),
    "SASA": _table(
        "1.181 1.461 1.587 1.862 2.228 0.881 2.025 1.810 2.258 1.931 "
        "2.034 1.655 1.468 1.932 2.560 1.298 1.525 1.645 2.663 2.368"
    ),
    "NCISC": _table(
        "0.007187 -0.036610 -0.023820 0.006802 0.037552 0.179052 -0.010690 "
        "0.021631 0.017708 0.051672 0.002683 0.005392 0.239531 0.049211 "
        "0.043587 0.004627 0.003352 0.057004 0.037977 0.023599"
    ),
}

#: CTD attributes: name -> the residues of groups 1, 2 and 3.
CTD_GROUPS: dict[str, tuple[str, str, str]] = {
    # polar / neutral / hydrophobic
    "hydrophobicity": ("RKEDQN", "GASTPHY", "CLVIMFW"),
    # normalized van der Waals volume 0-2.78 / 2.95-4.0 / 4.03-8.08
    "vdw_volume": ("GASTPDC", "NVEQIL", "MHKFRYW"),
    # polarity 4.9-6.2 / 8.0-9.2 / 10.4-13.0
    "polarity": ("LIFWCMVY", "PATGS", "HQRKNED"),
    # polarizability 0-0.108 / 0.128-0.186 / 0.219-0.409
    "polarizability": ("GASDT", "CPNVEQIL", "KMHFRYW"),
    # positive / neutral / negative
    "charge": ("KR", "ANCQGHILMFPSTWYV", "DE"),
    # helix / strand / coil
    "secondary_structure": ("EALMQKRH", "VIYCWFT", "GNPSD"),
    # buried / exposed / intermediate
    "solvent_accessibility": ("ALFCGIVW", "RKQEND", "MPSTHY"),
}

#: Conjoint-triad classes of Shen et al. (2007), classes 1 to 7.
CONJOINT_TRIAD_CLASSES: tuple[str, ...] = (
    "AGV",
    "ILFP",
    "YMTS",
    "HNQW",
    "RK",
    "DE",
    "C",
)
