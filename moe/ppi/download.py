"""Fetch the upstream files of a dataset, mirror first, each checked by sha256.

Every file is streamed to a temporary name in its destination folder, hashed
on the way, and renamed into place only when the sum matches, so a file under
its final name is always complete and verified.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

from moe.io import atomic_path
from .errors import CacheError, DownloadError
from .registry import DatasetSpec, RemoteFile, get_spec

logger = logging.getLogger("moe.ppi")

_CHUNK = 1 << 20


class _ChecksumMismatch(Exception):
    """A source delivered bytes whose sha256 is not the pinned one."""


class _SourceError(Exception):
    """Reading a source failed (kept apart from the cache's own OSErrors)."""


def _read(source: BinaryIO) -> bytes:
    try:
        return source.read(_CHUNK)
    except OSError as error:
        raise _SourceError(error) from error


def _cache_error(path: Path, error: OSError) -> CacheError:
    reason = error.strerror or str(error)
    return CacheError(f"cannot write the cache file {path} (cache_dir): {reason}")


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_verified(source: BinaryIO, dest: Path, file: RemoteFile, origin: str) -> None:
    """Stream ``source`` to ``dest`` atomically, failing on a sha256 mismatch.

    An OSError here is the cache's (creating, writing or renaming under
    ``dest``'s folder: permission, full disk): a CacheError naming the path.
    """
    digest = hashlib.sha256()
    try:
        with atomic_path(dest) as tmp:
            with open(tmp, "wb") as out:
                for chunk in iter(lambda: _read(source), b""):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != file.sha256:
                raise _ChecksumMismatch(
                    f"sha256 mismatch for {file.path} from {origin}: "
                    f"expected {file.sha256}, got {digest.hexdigest()}"
                )
    except OSError as error:
        raise _cache_error(dest, error) from error


def _from_mirror(path: Path, dest: Path, file: RemoteFile) -> None:
    with open(path, "rb") as source:
        _copy_verified(source, dest, file, str(path))


def _from_url(url: str, dest: Path, file: RemoteFile, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        _copy_verified(response, dest, file, url)


def _is_permanent(error: Exception) -> bool:
    """A client error (4xx) will not go away by asking again."""
    return isinstance(error, urllib.error.HTTPError) and 400 <= error.code < 500


def _fetch(
    spec: DatasetSpec,
    file: RemoteFile,
    dest: Path,
    mirror: str | os.PathLike | None,
    url: str,
    retries: int,
    backoff: float,
    timeout: float,
    sleep: Callable[[float], None],
) -> None:
    """Obtain one file from the mirror, else from ``url``; raise DownloadError listing each failure."""
    failures: list[str] = []
    if mirror is not None:
        mirror_file = spec.mirror_path(mirror, file)
        try:
            _from_mirror(mirror_file, dest, file)
            logger.info(
                "%s: %s copied from mirror %s", spec.name, file.path, mirror_file
            )
            return
        except FileNotFoundError:
            failures.append(f"mirror {mirror_file}: no such file")
        except (OSError, _SourceError, _ChecksumMismatch) as error:
            failures.append(f"mirror {mirror_file}: {error}")
    attempts: list[str] = []
    for attempt in range(1, retries + 1):
        try:
            _from_url(url, dest, file, timeout)
            logger.info("%s: %s downloaded from %s", spec.name, file.path, url)
            return
        except (OSError, _SourceError, _ChecksumMismatch) as error:
            # URLError, HTTPError and socket timeouts are all OSError subclasses.
            attempts.append(f"attempt {attempt}/{retries}: {error}")
            if _is_permanent(error) or attempt == retries:
                break
            sleep(backoff * 2 ** (attempt - 1))
    failures.append(f"{url}: " + "; ".join(attempts))
    reasons = "\n".join(f"  - {reason}" for reason in failures)
    raise DownloadError(
        f"could not obtain {spec.name} file {file.path!r} (expected sha256 {file.sha256}). "
        f"Sources tried:\n{reasons}\n"
        f"Without network access, use a mirror: a folder holding the file at "
        f"<mirror>/{spec.mirror_dir}/raw/{file.path}; pass mirror=DIR to moe.ppi.load or "
        f"moe.ppi.download, or run the workflow with --config mirror=DIR."
    )


def download(
    name: str,
    dest_dir: str | os.PathLike,
    mirror: str | os.PathLike | None = None,
    retries: int = 3,
    urls: Mapping[str, str] | None = None,
    *,
    backoff: float = 1.0,
    timeout: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Path]:
    """Place every file of dataset ``name`` under ``dest_dir``, verified by sha256.

    Files already present with the right sum are kept. Otherwise the mirror is
    tried first, then the pinned URL, up to ``retries`` times with exponential
    backoff (``backoff``, ``2*backoff``, ... seconds; client errors such as 404
    are not retried).

    Parameters
    ----------
    name : str
        A key of :data:`moe.ppi.DATASETS`.
    dest_dir : path-like
        Cache folder; files land at ``dest_dir/<mirror_dir>/raw/<path>``, the
        same layout as a mirror, so a cache can serve as a mirror.
    mirror : path-like, optional
        Mirror folder laid out as ``<mirror>/<mirror_dir>/raw/<path>``.
    retries : int
        Attempts per URL (at least 1).
    urls : mapping, optional
        Replacement URL per file path (``RemoteFile.path``); others use the pinned URL.
    backoff : float
        Seconds before the first retry; doubled before each further one.
    timeout : float
        Socket timeout in seconds per request.
    sleep : callable
        Called with the wait time between attempts (tests replace it).

    Returns
    -------
    dict of str to pathlib.Path
        ``RemoteFile.path`` to the verified local file.

    Raises
    ------
    ValueError
        Unknown dataset name, ``retries`` < 1, or a ``mirror`` that is not a
        directory (checked before any request).
    DownloadError
        When no source delivered a file with the pinned sum; the message names
        the file, every source tried and why it failed (a sha256 mismatch gives
        both sums), and how to use a mirror.
    CacheError
        A DownloadError raised at once when ``dest_dir`` cannot hold a file
        (permission, full disk, a file in the way); the message names the path.
    """
    spec = get_spec(name)
    if retries < 1:
        raise ValueError(f"retries must be at least 1, got {retries}")
    if mirror is not None and not Path(mirror).is_dir():
        raise ValueError(f"mirror {str(mirror)!r} is not a directory")
    urls = dict(urls or {})
    unknown = sorted(set(urls) - {file.path for file in spec.files})
    if unknown:
        raise ValueError(f"urls names files that {name} does not have: {unknown}")
    paths: dict[str, Path] = {}
    for file in spec.files:
        dest = spec.mirror_path(dest_dir, file)
        try:
            present = dest.is_file()
            if present and sha256_of(dest) == file.sha256:
                paths[file.path] = dest
                continue
        except OSError as error:
            reason = error.strerror or str(error)
            raise CacheError(f"cannot read the cache file {dest} (cache_dir): {reason}") from error
        if present:
            logger.warning(
                "%s: cached %s has a wrong sha256; fetching it again", name, dest
            )
        _fetch(
            spec,
            file,
            dest,
            mirror,
            urls.get(file.path, file.url),
            retries,
            backoff,
            timeout,
            sleep,
        )
        paths[file.path] = dest
    return paths


__all__ = ["download", "sha256_of"]
