"""The classical EM baseline with iterative, approximate M-steps (Jordan and Jacobs 1994; flexmix).

The E-step is shared with MM. The M-step maximises the same Jensen minoriser, but by capped
L-BFGS runs on K + 1 separate problems (the soft-label gate and the K weighted experts), as
flexmix does with nnet. It exists so the MM's claims (no inner loop, monotone, faster) can be
shown side by side on the same data and start.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from moe._mm import EState, Layout, MapBase, log_softmax_with_zero


class EMMap(MapBase):
    """theta^t -> theta^{t+1} by ``inner_iter`` L-BFGS iterations per M-step sub-problem."""

    def __init__(self, XT, y, s, layout: Layout, alpha: float = 0.0, inner_iter: int = 5):
        super().__init__(XT, y, s, layout, alpha)
        self.inner_iter = inner_iter

    def __call__(self, theta: np.ndarray, state: EState) -> np.ndarray:
        K, M = self.layout.K, self.layout.M
        new = theta.copy()
        if K > 1:
            new[: K - 1] = self._maximise(theta[: K - 1], self.s * state.tau, self.s)
        for k in range(K):
            rows = slice(K - 1 + k * (M - 1), K - 1 + (k + 1) * (M - 1))
            w = self.s * state.tau[k]
            new[rows] = self._maximise(theta[rows], w * self.Y, w)
        return new

    def _maximise(self, B0: np.ndarray, T: np.ndarray, w: np.ndarray) -> np.ndarray:
        """argmax over B of sum_i sum_c T_ci log softmax_c(B x~_i) - alpha/2 |slopes|^2, approximately.

        ``T`` (C x n) holds soft targets already multiplied by the weights ``w`` (n,), whose row
        sums they equal; the last category's logit is fixed at 0.
        """
        shape = B0.shape
        XT, alpha, mask = self.XT, self.alpha, self._mask

        def negative(b):
            B = b.reshape(shape)
            logp = log_softmax_with_zero(B @ XT, axis=0)
            value = -float(np.sum(T * logp)) + 0.5 * alpha * float(np.sum(B[:, 1:] ** 2))
            grad = -((T[:-1] - w * np.exp(logp[:-1])) @ XT.T) + alpha * B * mask
            return value, grad.ravel()

        result = minimize(
            negative, B0.ravel(), jac=True, method="L-BFGS-B", options={"maxiter": self.inner_iter}
        )
        return result.x.reshape(shape)
