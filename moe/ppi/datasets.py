"""One call from a dataset name to a validated :class:`PPIDataset`."""

from __future__ import annotations

import os

from .download import download
from .parse import PPIDataset, parse_guo_yeast, parse_shs27k
from .registry import get_spec


def load(
    name: str,
    mirror: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike = "resources/data",
    label_rule: str | None = None,
    retries: int = 3,
) -> PPIDataset:
    """Download (mirror first), verify, parse and validate dataset ``name``.

    Parameters
    ----------
    name : {"guo_yeast", "shs27k"}
        A key of :data:`moe.ppi.DATASETS`.
    mirror : path-like, optional
        Mirror folder laid out as ``<mirror>/<mirror_dir>/raw/<file>``.
    cache_dir : path-like
        Where verified files are kept, in the same layout.
    label_rule : str, optional
        For ``shs27k``: ``"single_type"`` (default) or ``"priority"``, see
        :mod:`moe.ppi.parse`. ``guo_yeast`` has one labelling and takes None.
    retries : int
        Attempts per URL.

    Returns
    -------
    PPIDataset

    Raises
    ------
    ValueError
        Unknown ``name`` (the message lists the valid names) or ``label_rule``.
    DownloadError
        No source delivered a verified file.
    DataFormatError
        A file does not parse or validate.
    """
    spec = get_spec(name)
    if spec.label_rules:
        label_rule = spec.label_rules[0] if label_rule is None else label_rule
        if label_rule not in spec.label_rules:
            raise ValueError(
                f"unknown label_rule {label_rule!r} for {name}; valid: {list(spec.label_rules)}"
            )
    elif label_rule is not None:
        raise ValueError(
            f"{name} has a single labelling; label_rule must be None, got {label_rule!r}"
        )
    paths = download(name, cache_dir, mirror=mirror, retries=retries)
    if name == "guo_yeast":
        return parse_guo_yeast(paths)
    return parse_shs27k(paths, label_rule)
