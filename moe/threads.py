"""One thread cap for a fit or a workflow job.

A fit can start three kinds of thread pools: BLAS (the OpenBLAS or MKL behind
numpy and scipy), OpenMP (scikit-learn's k-means, which starts the MoE) and a
library's own (XGBoost, scikit-learn's ``n_jobs``). :func:`limit_threads` caps
the first two through threadpoolctl; the third take the count as a parameter,
which :func:`moe.baselines.build_model` sets from its ``n_threads``.

threadpoolctl caps only the runtimes loaded when the limit is entered, so every
fit enters its own limit after its model's module is imported (:mod:`moe.model`
imports k-means, which loads scikit-learn's OpenMP runtime); this module loads
nothing itself, and a job that only reads or plots never imports scikit-learn.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext

from threadpoolctl import ThreadpoolController

__all__ = ["limit_threads"]

# Finding the loaded runtimes reads the process's memory map (about 4 ms); a tree or a
# bootstrap calls limit_threads hundreds of times. The controller is kept until a module is
# imported, which may load a new runtime (XGBoost's OpenMP, say), and then made again.
_controller: tuple[int, ThreadpoolController] | None = None


def _current_controller() -> ThreadpoolController:
    global _controller
    if _controller is None or _controller[0] != len(sys.modules):
        _controller = (len(sys.modules), ThreadpoolController())
    return _controller[1]


def limit_threads(n_threads: int | None):
    """Context manager capping every BLAS and OpenMP pool at ``n_threads``.

    ``None`` leaves the pools as they are. On exit the previous sizes return.
    """
    if n_threads is None:
        return nullcontext()
    return _current_controller().limit(limits=n_threads)
