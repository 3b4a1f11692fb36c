"""What machine a benchmark ran on: CPU, cores, memory, BLAS and its threads, versions."""

from __future__ import annotations

import os
import platform
import sys

import numpy as np
import scipy
import sklearn
from threadpoolctl import threadpool_info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return float("nan")


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _numpy_blas() -> dict:
    """The BLAS numpy's matrix products use (threadpoolctl also lists scipy's own copy)."""
    blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas"]
    numpy_own = [lib for lib in blas if "numpy" in lib["filepath"]]
    return (numpy_own or blas or [{}])[0]


def machine_info() -> dict:
    """CPU model, cores, memory, BLAS (library, version, kernel, threads) and package versions.

    ``blas_threads`` is the BLAS thread count in force outside any ``threadpool_limits``; each
    benchmark table records the count it ran with in its own ``threads`` column.
    ``openblas_coretype`` shows the OPENBLAS_CORETYPE override, which forces an older kernel.
    """
    from moe import __version__
    from moe.bench.flexmix import flexmix_version

    blas = _numpy_blas()
    return {
        "cpu_model": _cpu_model(),
        "cores": _usable_cores(),
        "memory_gb": round(_memory_gb(), 1),
        "platform": platform.platform(),
        "blas": blas.get("internal_api", "unknown"),
        "blas_version": blas.get("version") or "unknown",
        "blas_architecture": blas.get("architecture", "unknown"),
        "blas_threads": blas.get("num_threads", 0),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "moe": __version__,
        "flexmix": flexmix_version() or "not installed",
    }


def machine_summary(info: dict, threads: int | None = None) -> str:
    """One line for a table caption: CPU, cores, BLAS and the thread count used."""
    used = f", {threads} BLAS thread{'s' if threads != 1 else ''}" if threads else ""
    return (f"{info['cpu_model']}, {info['cores']} cores, {info['memory_gb']} GB; "
            f"{info['blas']} {info['blas_version']} ({info['blas_architecture']} kernels){used}")
