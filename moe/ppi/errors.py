"""Errors raised by :mod:`moe.ppi`."""


class DownloadError(RuntimeError):
    """No source delivered a file with the pinned sha256 sum."""


class DataFormatError(ValueError):
    """A data file, or a table built from one, does not have the expected form."""
