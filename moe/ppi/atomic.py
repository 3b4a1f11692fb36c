"""Write files so that nothing ever appears under the final name half-written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it to ``path`` on success.

    The temporary file lives in the destination folder, so ``os.replace`` is a
    rename within one file system and therefore atomic. On any exception the
    temporary file is removed and ``path`` is left as it was.

    Parameters
    ----------
    path : path-like
        The final name.

    Yields
    ------
    pathlib.Path
        Where the caller writes the content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)
