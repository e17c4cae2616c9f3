"""Barron's general and adaptive robust loss: one shape parameter that spans L2, Charbonnier, Cauchy, Geman-McClure and Welsch."""
from __future__ import annotations

import math

import numpy as np

from ..params import Interval, Param
from ._base import Loss, register

__all__ = ["GeneralRobust", "barron_rho", "barron_drho"]


def barron_rho(x: np.ndarray, alpha: float, scale: float = 1.0) -> np.ndarray:
    r"""Barron's general robust function :math:`\rho(x, \alpha, c)` (Barron, CVPR 2019).

    .. math::
        \rho(x, \alpha, c) = \frac{|\alpha - 2|}{\alpha}
        \left( \left( \frac{(x/c)^2}{|\alpha - 2|} + 1 \right)^{\alpha/2} - 1 \right),

    with its limits taken exactly: :math:`\alpha = 2` gives :math:`\tfrac12 (x/c)^2`,
    :math:`\alpha = 0` gives :math:`\log(\tfrac12 (x/c)^2 + 1)` and
    :math:`\alpha = -\infty` gives :math:`1 - e^{-(x/c)^2/2}`.  Elsewhere it is evaluated as
    :math:`\frac{|\alpha-2|}{\alpha}\operatorname{expm1}(\tfrac{\alpha}{2}\operatorname{log1p}(b))`,
    :math:`b = (x/c)^2/|\alpha - 2|`, which stays accurate as :math:`\alpha` approaches 0 or 2.
    """
    z2 = np.square(np.asarray(x, dtype=np.float64) / scale)
    if alpha == 2:
        return 0.5 * z2
    if alpha == 0:
        return np.log1p(0.5 * z2)
    if alpha == -math.inf:
        return -np.expm1(-0.5 * z2)
    gap = abs(alpha - 2.0)
    if abs(alpha) < 1e-8:
        # Next to the Cauchy limit gap/alpha overflows: use expm1(t)/alpha = L/2 + alpha L^2/8 + O(alpha^2).
        log_b = np.log1p(z2 / gap)
        return gap * (0.5 * log_b + 0.125 * alpha * log_b * log_b)
    return gap / alpha * np.expm1(0.5 * alpha * np.log1p(z2 / gap))


def barron_drho(x: np.ndarray, alpha: float, scale: float = 1.0) -> np.ndarray:
    r"""Derivative :math:`\partial\rho/\partial x = \frac{x}{c^2}\left(\frac{(x/c)^2}{|\alpha-2|} + 1\right)^{\alpha/2 - 1}`.

    Limits: :math:`x/c^2` at :math:`\alpha = 2`, :math:`2x/(x^2 + 2c^2)` at :math:`\alpha = 0`,
    :math:`(x/c^2)\,e^{-(x/c)^2/2}` at :math:`\alpha = -\infty`.
    """
    x = np.asarray(x, dtype=np.float64)
    z2 = np.square(x / scale)
    lead = x / (scale * scale)
    if alpha == 2:
        return lead
    if alpha == -math.inf:
        return lead * np.exp(-0.5 * z2)
    gap = abs(alpha - 2.0)
    return lead * np.exp((0.5 * alpha - 1.0) * np.log1p(z2 / gap))


@register
class GeneralRobust(Loss):
    r"""Barron's general robust loss of the residual :math:`x = \hat y - y`, averaged like the mean squared error.

    .. math::
        \rho(x, \alpha, c) = \frac{|\alpha - 2|}{\alpha}
        \left( \left( \frac{(x/c)^2}{|\alpha - 2|} + 1 \right)^{\alpha/2} - 1 \right)

    Special cases (exact limits): :math:`\alpha = 2` half L2, :math:`\alpha = 1`
    Charbonnier / pseudo-Huber :math:`\sqrt{(x/c)^2 + 1} - 1`, :math:`\alpha = 0` Cauchy,
    :math:`\alpha = -2` Geman-McClure, :math:`\alpha = -\infty` Welsch.  See :func:`barron_rho`.
    """

    name = "general_robust"
    aliases = ("barron",)
    keras_name = None
    torch_name = None
    latex = (
        r"\frac{|\alpha - 2|}{\alpha}\left(\left(\frac{(x/c)^2}{|\alpha - 2|} + 1\right)^{\alpha/2} - 1\right),"
        r"\; x = \hat y - y"
    )
    convention = "Not in Keras or torch; α = 2 is the half squared error ½(x/c)², so it is half of MSE at c = 1."
    params = (
        Param("alpha", 1.0, -10.0, 4.0, step=0.1, domain=Interval(-math.inf, 10.0, True, True),
              label="α", description="shape: 2 is L2, 1 Charbonnier, 0 Cauchy, −2 Geman-McClure, −∞ Welsch"),
        Param("scale", 1.0, 0.1, 5.0, step=0.1, domain=Interval(0, math.inf, False, False),
              label="c", description="residual size at which the quadratic bowl gives way"),
    )
    minimal_at_target = True

    def __init__(self, alpha: float = 1.0, scale: float = 1.0, reduction: str = "sum_over_batch_size") -> None:
        super().__init__(reduction=reduction, alpha=alpha, scale=scale)

    def _terms(self, y_true, y_pred):
        x = y_pred - y_true
        return barron_rho(x, self.alpha, self.scale), barron_drho(x, self.alpha, self.scale)
