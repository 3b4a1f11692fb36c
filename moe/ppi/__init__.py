"""Protein-protein interaction benchmarks: download, parse, featurize, split, probe.

Public API
----------
DATASETS, load, download, PPIDataset, DownloadError, DataFormatError,
protein_features, pair_features, splits (module), ProteinFrequencyProbe.
"""

from . import splits
from .datasets import load
from .download import download
from .encodings import protein_features
from .errors import DataFormatError, DownloadError
from .pairs import pair_features
from .parse import PPIDataset
from .registry import DATASETS

__all__ = [
    "DATASETS",
    "DataFormatError",
    "DownloadError",
    "PPIDataset",
    "ProteinFrequencyProbe",
    "download",
    "load",
    "pair_features",
    "protein_features",
    "splits",
]


def __getattr__(name):
    # The probe is a scikit-learn estimator, loaded on first use: the Snakefile's parse imports
    # this package (see moe.baselines).
    if name == "ProteinFrequencyProbe":
        from .probe import ProteinFrequencyProbe

        globals()[name] = ProteinFrequencyProbe
        return ProteinFrequencyProbe
    raise AttributeError(f"module 'moe.ppi' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
