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
from .probe import ProteinFrequencyProbe
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
