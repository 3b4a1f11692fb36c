"""One thread cap for a fit or a workflow job.

A fit can start three kinds of thread pools: BLAS (the OpenBLAS or MKL behind
numpy and scipy), OpenMP (scikit-learn's k-means, which starts the MoE) and a
library's own (XGBoost, scikit-learn's ``n_jobs``). :func:`limit_threads` caps
the first two through threadpoolctl; the third take the count as a parameter,
which :func:`moe.baselines.build_model` sets from its ``n_threads``.
"""

from __future__ import annotations

# threadpoolctl caps only the runtimes loaded when the limit is set: importing
# k-means loads scikit-learn's OpenMP runtime before any limit is taken.
import sklearn.cluster  # noqa: F401
from threadpoolctl import threadpool_limits

__all__ = ["limit_threads"]


def limit_threads(n_threads: int | None):
    """Context manager capping every BLAS and OpenMP pool at ``n_threads``.

    ``None`` leaves the pools as they are. On exit the previous sizes return.
    """
    return threadpool_limits(limits=n_threads)
