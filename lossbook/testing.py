"""Numerical checks shared by the tests and the chapters."""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["numerical_gradient", "check_gradient", "GradientCheck"]


def numerical_gradient(f: Callable[[np.ndarray], float], x, h: float = 1e-4) -> np.ndarray:
    r"""Gradient of the scalar function ``f`` at ``x`` by 4th-order central differences.

    For each coordinate :math:`i`,

    .. math::
        \partial_i f(x) \approx \frac{-f(x + 2he_i) + 8f(x + he_i) - 8f(x - he_i) + f(x - 2he_i)}{12h},

    whose error is :math:`O(h^4)`.  ``h`` is scaled by ``max(1, |x_i|)`` so
    large coordinates get a proportionate step.
    """
    x = np.array(x, dtype=np.float64)
    if x.size == 0:
        raise ValueError("x must not be empty")
    if not np.all(np.isfinite(x)):
        raise ValueError("x must be finite")
    grad = np.empty_like(x)
    flat = x.reshape(-1)
    gflat = grad.reshape(-1)
    for i in range(flat.size):
        xi = flat[i]
        step = h * max(1.0, abs(xi))
        values = []
        for k in (2, 1, -1, -2):
            flat[i] = xi + k * step
            values.append(float(f(x)))
        flat[i] = xi
        f2, f1, fm1, fm2 = values
        gflat[i] = (-f2 + 8.0 * f1 - 8.0 * fm1 + fm2) / (12.0 * step)
    return grad


class GradientCheck:
    """The outcome of :func:`check_gradient`: both gradients and their discrepancy."""

    def __init__(self, analytic: np.ndarray, numeric: np.ndarray, rtol: float, atol: float):
        self.analytic = analytic
        self.numeric = numeric
        self.rtol = rtol
        self.atol = atol
        self.abs_error = np.abs(analytic - numeric)
        scale = np.maximum(np.abs(analytic), np.abs(numeric))
        self.max_abs_error = float(self.abs_error.max())
        self.max_rel_error = float((self.abs_error / np.where(scale > 0, scale, 1.0)).max())
        self.ok = bool(np.all(self.abs_error <= atol + rtol * scale))

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        verdict = "passed" if self.ok else "FAILED"
        return (
            f"GradientCheck({verdict}: max abs error {self.max_abs_error:.1e}, "
            f"max rel error {self.max_rel_error:.1e})"
        )


def check_gradient(
    f: Callable[[np.ndarray], float],
    grad: Callable[[np.ndarray], np.ndarray],
    x,
    *,
    h: float = 1e-4,
    rtol: float = 1e-6,
    atol: float = 1e-8,
) -> GradientCheck:
    """Compare an analytic gradient ``grad(x)`` with :func:`numerical_gradient` of ``f``.

    Returns a :class:`GradientCheck` that is truthy when every coordinate
    agrees within ``atol + rtol * max(|analytic|, |numeric|)``.
    """
    x = np.array(x, dtype=np.float64)
    analytic = np.asarray(grad(x.copy()), dtype=np.float64)
    if analytic.shape != x.shape:
        raise ValueError(f"grad(x) has shape {analytic.shape}, expected the shape of x, {x.shape}")
    numeric = numerical_gradient(f, x, h=h)
    return GradientCheck(analytic, numeric, rtol, atol)
