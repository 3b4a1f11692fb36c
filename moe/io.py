"""Atomic file writers shared by the package and the workflow scripts.

Every writer goes through :func:`atomic_path`: the content is written to a
temporary file in the destination's folder and renamed into place only when the
write finished, so an interrupted or failing job never leaves a partial output
that a later run would mistake for a finished one. Outputs get the mode an
ordinary ``open`` would give them (0666 less the umask), so results and the data
cache are readable by the group and others on a shared machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "atomic_path",
    "atomic_write_text",
    "atomic_write_json",
    "atomic_to_csv",
    "atomic_savefig",
    "save_matrix",
    "load_matrix",
    "read_json",
    "concat_csv",
]


def _umask() -> int:
    """The process umask, read without changing it (other threads may be creating files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # not Linux: the only portable read is set-and-restore
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path that is renamed to ``path`` on success.

    The parent folder is created. On an exception the temporary file is removed
    and ``path`` is left untouched.

    Parameters
    ----------
    path : str or os.PathLike
        Final destination.

    Yields
    ------
    pathlib.Path
        A fresh name in the same folder (same file system, so the rename is
        atomic), carrying the destination's suffix so that writers choosing a
        format from the suffix still work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    try:
        # mkstemp creates 0600 files; give the output the mode open() would
        os.fchmod(fd, 0o666 & ~_umask())
    finally:
        os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_json(path: str | os.PathLike, obj) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically.

    NaN and infinities are refused (``allow_nan=False``): JSON has no spelling
    for them and a silent ``NaN`` would break strict readers.
    """
    atomic_write_text(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")


def read_json(path: str | os.PathLike):
    """Read a JSON file written by :func:`atomic_write_json`."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def concat_csv(paths, **kwargs) -> pd.DataFrame:
    """Read CSV files (``pandas.read_csv`` keyword arguments) into one frame, in order."""
    return pd.concat([pd.read_csv(path, **kwargs) for path in paths], ignore_index=True)


def atomic_to_csv(frame: pd.DataFrame, path: str | os.PathLike, **kwargs) -> None:
    """Write ``frame`` to CSV atomically (``index=False`` unless given)."""
    kwargs.setdefault("index", False)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, **kwargs)


def atomic_savefig(fig, path: str | os.PathLike, **kwargs) -> None:
    """Save a matplotlib figure atomically; the format follows the suffix."""
    path = Path(path)
    kwargs.setdefault("format", path.suffix.lstrip(".") or None)
    kwargs.setdefault("bbox_inches", "tight")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, **kwargs)


def save_matrix(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    """Store a numeric DataFrame as an uncompressed ``.npz`` (values, index, columns).

    A wide float matrix (ten thousand pairs by two thousand features) loads in
    a fraction of a second this way, against minutes for CSV.
    """
    values = np.ascontiguousarray(frame.to_numpy(dtype=np.float64))
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(
            handle,
            values=values,
            index=np.asarray(frame.index.astype(str), dtype=str),
            columns=np.asarray(frame.columns.astype(str), dtype=str),
        )


def load_matrix(path: str | os.PathLike) -> pd.DataFrame:
    """Read a matrix written by :func:`save_matrix`."""
    with np.load(path, allow_pickle=False) as data:
        return pd.DataFrame(
            data["values"], index=data["index"], columns=data["columns"]
        )
