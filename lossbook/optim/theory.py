r"""What linear theory predicts for gradient descent and heavy-ball momentum on a quadratic.

On :math:`f(\theta) = \tfrac12 (\theta - \theta^*)^\top A (\theta - \theta^*)` with eigenvalues
:math:`\lambda_i > 0` of :math:`A`, each eigen-direction of the error evolves on its own.

*Gradient descent* multiplies the error along direction :math:`i` by :math:`1 - \eta\lambda_i`
each step, so it converges iff :math:`\eta < 2/\lambda_{\max}` and its rate is
:math:`\max_i |1 - \eta\lambda_i|`, smallest at :math:`\eta = 2/(\lambda_{\min} + \lambda_{\max})`.

*Heavy ball.*  ``torch.optim.SGD`` with momentum :math:`\beta` keeps :math:`b_t = \beta b_{t-1} + g_t`
(:math:`b_1 = g_1`) and steps :math:`\theta_{t+1} = \theta_t - \eta b_t`.  Since
:math:`\theta_t - \theta_{t-1} = -\eta b_{t-1}`, this is exactly Polyak's heavy ball

.. math::
    \theta_{t+1} = \theta_t - \eta\, g_t + \beta(\theta_t - \theta_{t-1}), \qquad \theta_{-1} = \theta_0,

and along direction :math:`i` the pair :math:`(e_t, e_{t-1})` is multiplied by
:math:`\begin{pmatrix} 1 + \beta - \eta\lambda_i & -\beta \\ 1 & 0 \end{pmatrix}`, whose eigenvalues solve
:math:`z^2 - (1 + \beta - \eta\lambda_i) z + \beta = 0` (Goh's matrix
:math:`\begin{pmatrix} \beta & \lambda_i \\ -\eta\beta & 1 - \eta\lambda_i \end{pmatrix}` for
:math:`(b, \theta)` has the same characteristic polynomial).  The rate is the largest
modulus of a root over all :math:`i`; when the roots are complex it is :math:`\sqrt\beta`.
"""
from __future__ import annotations

import numpy as np

__all__ = ["gd_rate", "gd_stability_limit", "momentum_rate", "optimal_momentum", "optimal_step"]


def _eigenvalues(eigenvalues, *, positive: bool) -> np.ndarray:
    lam = np.asarray(eigenvalues, dtype=np.float64).reshape(-1)
    if lam.size == 0:
        raise ValueError("eigenvalues must not be empty")
    if not np.all(np.isfinite(lam)):
        raise ValueError(f"eigenvalues must be finite, got {lam}")
    if positive and np.any(lam <= 0):
        raise ValueError(f"eigenvalues must be positive (a positive definite Hessian), got {lam}")
    return lam


def gd_stability_limit(eigenvalues) -> float:
    r"""The largest stable step of gradient descent, :math:`2 / \lambda_{\max}`."""
    return float(2.0 / _eigenvalues(eigenvalues, positive=True).max())


def optimal_step(eigenvalues) -> float:
    r"""The step with the fastest worst-case rate, :math:`2 / (\lambda_{\min} + \lambda_{\max})`.

    Its rate is :math:`(\kappa - 1)/(\kappa + 1)` with :math:`\kappa = \lambda_{\max}/\lambda_{\min}`.
    """
    lam = _eigenvalues(eigenvalues, positive=True)
    return float(2.0 / (lam.min() + lam.max()))


def gd_rate(lr, eigenvalues):
    r"""The linear rate of gradient descent, :math:`\max_i |1 - \eta\lambda_i|`, for a number or array of ``lr``.

    Below 1 the error shrinks by this factor per step (asymptotically); above 1 it grows.
    """
    lam = _eigenvalues(eigenvalues, positive=False)
    lr = np.asarray(lr, dtype=np.float64)
    rate = np.abs(1.0 - lr[..., None] * lam).max(axis=-1)
    return float(rate) if rate.ndim == 0 else rate


def momentum_rate(lr, beta, eigenvalues):
    r"""The linear rate of heavy-ball momentum (``sgd(lr, momentum=beta)``): the spectral radius

    .. math::
        \max_i \max |z|, \qquad z^2 - (1 + \beta - \eta\lambda_i)\, z + \beta = 0,

    that is :math:`\sqrt\beta` for complex roots and :math:`\bigl(|c_i| + \sqrt{c_i^2 - 4\beta}\bigr)/2`,
    :math:`c_i = 1 + \beta - \eta\lambda_i`, for real ones.  ``lr`` and ``beta`` broadcast against
    each other, so ``momentum_rate(lr[:, None], beta[None, :], eigs)`` is a whole (lr, beta) map.
    """
    lam = _eigenvalues(eigenvalues, positive=False)
    lr, beta = np.broadcast_arrays(np.asarray(lr, dtype=np.float64), np.asarray(beta, dtype=np.float64))
    c = 1.0 + beta[..., None] - lr[..., None] * lam
    b = beta[..., None]
    disc = c * c - 4.0 * b
    real = (np.abs(c) + np.sqrt(np.maximum(disc, 0.0))) / 2.0
    rate = np.where(disc >= 0, real, np.sqrt(np.abs(b))).max(axis=-1)
    return float(rate) if rate.ndim == 0 else rate


def optimal_momentum(eigenvalues) -> tuple[float, float]:
    r"""Polyak's optimal heavy-ball parameters :math:`(\eta^*, \beta^*)`:

    .. math::
        \eta^* = \Bigl(\frac{2}{\sqrt{\lambda_{\max}} + \sqrt{\lambda_{\min}}}\Bigr)^2, \qquad
        \beta^* = \Bigl(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\Bigr)^2,

    with rate :math:`\sqrt{\beta^*} = (\sqrt\kappa - 1)/(\sqrt\kappa + 1)`, against
    :math:`(\kappa-1)/(\kappa+1)` for the best plain step.
    """
    lam = _eigenvalues(eigenvalues, positive=True)
    lo, hi = np.sqrt(lam.min()), np.sqrt(lam.max())
    return float((2.0 / (hi + lo)) ** 2), float(((hi - lo) / (hi + lo)) ** 2)
