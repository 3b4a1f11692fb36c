"""Shared fixtures."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def skip_here_fail_in_ci(reason: str):
    """Skip with ``reason`` locally; in CI (CI set) fail, so no test passes by not running."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def data_mirror() -> Path:
    """The directory of real PPI data named by ``MOE_DATA_MIRROR``.

    CI always sets it; there a missing mirror is a failure, not a skip, so data
    tests can never pass by not running.
    """
    value = os.environ.get("MOE_DATA_MIRROR")
    if not value:
        skip_here_fail_in_ci("MOE_DATA_MIRROR is not set (point it at a copy of shared/data)")
    path = Path(value)  # a relative path is kept as given: the workflow resolves it
    if not path.is_dir():
        pytest.fail(f"MOE_DATA_MIRROR={value!r} is not a directory (from {Path.cwd()})")
    return path


@pytest.fixture
def tmpfs(tmp_path):
    """``tmpfs(name, size_kb, read_only=False)`` mounts a small tmpfs below tmp_path:
    a real file system that fills up (ENOSPC) or refuses writes (EROFS). Needs root."""
    points = []

    def mount(name, size_kb, read_only=False):
        point = tmp_path / name
        point.mkdir()
        options = f"size={size_kb}k" + (",ro" if read_only else "")
        command = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)]
        result = subprocess.run(command, capture_output=True, text=True)
        if shutil.which("mount") is None or result.returncode != 0:
            skip_here_fail_in_ci(f"cannot mount a tmpfs (needs root): {result.stderr.strip()}")
        points.append(point)
        return point

    yield mount
    for point in reversed(points):
        subprocess.run(["umount", "-l", str(point)], check=False)


@pytest.fixture(scope="session", autouse=True)
def one_blas_thread():
    """One BLAS thread for the in-process tests: their matrices are small, and on a busy
    two-core machine a threaded BLAS spends more time synchronising than computing."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
