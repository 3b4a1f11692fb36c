"""Shared fixtures."""

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_mirror() -> Path:
    """The directory of real PPI data named by ``MOE_DATA_MIRROR``.

    CI always sets it; there a missing mirror is a failure, not a skip, so data
    tests can never pass by not running.
    """
    value = os.environ.get("MOE_DATA_MIRROR")
    if not value:
        if os.environ.get("CI"):
            pytest.fail("MOE_DATA_MIRROR is not set in CI; .ci/run must export it")
        pytest.skip("MOE_DATA_MIRROR is not set (point it at a copy of shared/data)")
    path = Path(value)
    if not path.is_dir():
        pytest.fail(f"MOE_DATA_MIRROR={value!r} is not a directory")
    return path


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread():
    """One BLAS thread for the in-process tests: their matrices are small, and on a busy
    two-core machine a threaded BLAS spends more time synchronising than computing."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
