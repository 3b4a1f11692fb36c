"""What each benchmark dataset is, where it lives upstream and how it is checked.

The pinned URLs point at fixed commits, so the sha256 sums never change. A
mirror (and the local cache, which uses the same layout) holds each file at
``<mirror>/<mirror_dir>/raw/<path>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

_GUO_BASE = (
    "https://raw.githubusercontent.com/xal2019/DeepFE-PPI/"
    "684377647fa6ada14f837b23860214b34779cfbb/dataset/training%20and%20test%20dataset/"
)
_SHS_BASE = (
    "https://raw.githubusercontent.com/lvguofeng/GNN_PPI/"
    "f47dfd1f5f43b1d8c0777e53f111be99a567d0f3/data/"
)


@dataclass(frozen=True)
class RemoteFile:
    """One upstream file.

    Attributes
    ----------
    path : str
        Path below ``raw/`` in a mirror or cache, with ``/`` separators.
    url : str
        Pinned upstream URL.
    sha256 : str
        Hex digest of the exact upstream bytes.
    size : int
        Size in bytes (informative; the sha256 is what is checked).
    """

    path: str
    url: str
    sha256: str
    size: int


@dataclass(frozen=True)
class DatasetSpec:
    """A benchmark dataset.

    Attributes
    ----------
    name : str
        Public name, the key of :data:`DATASETS`.
    mirror_dir : str
        Folder of the dataset in a mirror or cache.
    files : tuple of RemoteFile
        The upstream files, all needed to build the dataset.
    label_rules : tuple of str
        Accepted values of ``label_rule`` in :func:`moe.ppi.load`; the first is
        the default. Empty when the dataset has a single natural labelling.
    description, citation, licence : str
        Human-readable provenance, shown in the README.
    """

    name: str
    mirror_dir: str
    files: tuple[RemoteFile, ...]
    label_rules: tuple[str, ...]
    description: str
    citation: str
    licence: str

    def mirror_path(self, root: str | Path, file: RemoteFile) -> Path:
        """Where ``file`` sits below a mirror or cache folder ``root``."""
        return Path(root, self.mirror_dir, "raw", *file.path.split("/"))


DATASETS: dict[str, DatasetSpec] = {
    "guo_yeast": DatasetSpec(
        name="guo_yeast",
        mirror_dir="guo_yeast_core",
        files=(
            RemoteFile(
                "positive/Protein_A.txt",
                _GUO_BASE + "positive/Protein_A.txt",
                "0a0af8e951d24c8e5a8c62d1109b80e212b031ef1a58cae0e2674b12414603db",
                3356347,
            ),
            RemoteFile(
                "positive/Protein_B.txt",
                _GUO_BASE + "positive/Protein_B.txt",
                "c9433ebaf7c519b4fdaf3510e0004822cc3848d4209737f68cd215e7e955e307",
                3498419,
            ),
            RemoteFile(
                "negative/Protein_A.txt",
                _GUO_BASE + "negative/Protein_A.txt",
                "98163b40edcaa49600a27891366f08189bb4294ee7b4419f0b5f67258e1050f6",
                2933805,
            ),
            RemoteFile(
                "negative/Protein_B.txt",
                _GUO_BASE + "negative/Protein_B.txt",
                "29d98c1ceac8b6b76a34bba712b021f19148f9bff3f1a0c498ef56bb47ee9582",
                3562954,
            ),
        ),
        label_rules=(),
        description=(
            "Guo et al. 2008 S. cerevisiae core set: 5594 positive pairs (DIP core) and "
            "5594 negative pairs (proteins from different subcellular compartments)."
        ),
        citation=(
            "Guo Y, Yu L, Wen Z, Li M. Nucleic Acids Res. 2008;36(9):3025-3030. "
            "doi:10.1093/nar/gkn159. Copy: Yao Y et al. (DeepFE-PPI), PeerJ 2019;7:e7126."
        ),
        licence=(
            "No licence file in the DeepFE-PPI repository; the article is open access and "
            "the pairs come from DIP (free for academic, non-commercial use). Research use only."
        ),
    ),
    "shs27k": DatasetSpec(
        name="shs27k",
        mirror_dir="shs27k",
        files=(
            RemoteFile(
                "protein.actions.SHS27k.STRING.txt",
                _SHS_BASE + "protein.actions.SHS27k.STRING.txt",
                "6c79932d6489bed3c794fcde68a42ce603bc14e22c3cf549115685cd4fd6076a",
                3958672,
            ),
            RemoteFile(
                "protein.SHS27k.sequences.dictionary.tsv",
                _SHS_BASE + "protein.SHS27k.sequences.dictionary.tsv",
                "2fe6201a91c8f64f872ae954f497232ec500bd3209a1647a2f0b471bc19a530d",
                1002278,
            ),
        ),
        label_rules=("single_type", "priority"),
        description=(
            "SHS27k: 7624 human STRING pairs with one or more of 7 interaction types "
            "(1690 proteins), as distributed by GNN-PPI."
        ),
        citation=(
            "Chen M et al. (PIPR), Bioinformatics 2019;35(14):i305-i314, "
            "doi:10.1093/bioinformatics/btz328; Lv G et al. (GNN-PPI), IJCAI 2021, "
            "arXiv:2105.06709; Szklarczyk D et al. (STRING)."
        ),
        licence=("GNN_PPI repository: MIT (c) 2021 lvguofeng; STRING data: CC BY 4.0."),
    ),
}


def get_spec(name: str) -> DatasetSpec:
    """Return the spec of dataset ``name``.

    Raises
    ------
    ValueError
        If ``name`` is not a key of :data:`DATASETS`; the message lists the valid names.
    """
    try:
        return DATASETS[name]
    except (KeyError, TypeError):
        valid = ", ".join(sorted(DATASETS))
        raise ValueError(
            f"unknown dataset name {name!r}; valid names: {valid}"
        ) from None
