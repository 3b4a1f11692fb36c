"""Errors raised by :mod:`moe.ppi`."""


class DownloadError(RuntimeError):
    """No source delivered a file with the pinned sha256 sum."""


class DataFormatError(ValueError):
    """A data file, or a table built from one, does not have the expected form."""


class CacheError(DownloadError):
    """The cache folder cannot hold a file (permission, full disk, not a folder).

    Raised at once: another source or a retry would fail the same way.
    """
