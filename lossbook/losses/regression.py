"""Regression losses: functions of the residual, averaged over the last axis as Keras does."""
from __future__ import annotations

import math

import numpy as np

from ..params import Interval, Param
from ._base import EPSILON, Loss, RowLoss, register, softplus

__all__ = [
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "Huber",
    "LogCosh",
    "Poisson",
    "Quantile",
    "CosineSimilarity",
]

_LOG2 = math.log(2.0)


@register
class MeanSquaredError(Loss):
    r"""Mean squared error, :math:`\ell = (\hat y - y)^2`, averaged over the last axis.

    The *full* square: :math:`d\ell/d\hat y = 2(\hat y - y)`.  Some texts (and
    scikit-learn's ``HalfSquaredError``) use :math:`\tfrac12(\hat y - y)^2`.
    """

    name = "mean_squared_error"
    aliases = ("mse", "MSE")
    keras_name = "MeanSquaredError"
    torch_name = "mse_loss"
    latex = r"(\hat y - y)^2"
    convention = "Full square, gradient 2(ŷ − y); the 'half' convention ½(ŷ − y)² halves it."
    minimal_at_target = True

    def __init__(self, reduction: str = "sum_over_batch_size") -> None:
        super().__init__(reduction=reduction)

    def _terms(self, y_true, y_pred):
        r = y_pred - y_true
        return r * r, 2.0 * r


@register
class MeanAbsoluteError(Loss):
    r"""Mean absolute error, :math:`\ell = |\hat y - y|`; derivative :math:`\operatorname{sign}(\hat y - y)` (0 at 0)."""

    name = "mean_absolute_error"
    aliases = ("mae", "MAE")
    keras_name = "MeanAbsoluteError"
    torch_name = "l1_loss"
    latex = r"|\hat y - y|"
    convention = "Same in both; the derivative at a zero residual is taken as 0."
    minimal_at_target = True

    def __init__(self, reduction: str = "sum_over_batch_size") -> None:
        super().__init__(reduction=reduction)

    def _terms(self, y_true, y_pred):
        r = y_pred - y_true
        return np.abs(r), np.sign(r)


@register
class MeanAbsolutePercentageError(Loss):
    r"""Mean absolute percentage error, :math:`\ell = 100\,|\hat y - y| / \max(|y|, \epsilon)`, :math:`\epsilon = 10^{-7}`.

    As in Keras the denominator is clipped at :math:`\epsilon` so a zero target gives a
    huge but finite loss.
    """

    name = "mean_absolute_percentage_error"
    aliases = ("mape", "MAPE")
    keras_name = "MeanAbsolutePercentageError"
    torch_name = None
    latex = r"100\,\frac{|\hat y - y|}{\max(|y|, \epsilon)}"
    convention = "A percentage (×100); targets are clipped away from 0 at ε = 1e-7."
    minimal_at_target = True

    def __init__(self, reduction: str = "sum_over_batch_size") -> None:
        super().__init__(reduction=reduction)

    def _terms(self, y_true, y_pred):
        scale = 100.0 / np.maximum(np.abs(y_true), EPSILON)
        r = y_pred - y_true
        return scale * np.abs(r), scale * np.sign(r)


@register
class MeanSquaredLogarithmicError(Loss):
    r"""Mean squared logarithmic error, :math:`\ell = (\log(1 + \max(\hat y, \epsilon)) - \log(1 + \max(y, \epsilon)))^2`.

    Keras clips both arguments below at :math:`\epsilon = 10^{-7}`, so the derivative is 0
    for :math:`\hat y < \epsilon`.
    """

    name = "mean_squared_logarithmic_error"
    aliases = ("msle", "MSLE")
    keras_name = "MeanSquaredLogarithmicError"
    torch_name = None
    latex = r"\left(\log(1 + \hat y) - \log(1 + y)\right)^2"
    convention = "Both arguments clipped below at ε = 1e-7 before log(1 + ·)."
    minimal_at_target = True

    def __init__(self, reduction: str = "sum_over_batch_size") -> None:
        super().__init__(reduction=reduction)

    def _terms(self, y_true, y_pred):
        p = np.maximum(y_pred, EPSILON)
        d = np.log1p(p) - np.log1p(np.maximum(y_true, EPSILON))
        return d * d, np.where(y_pred > EPSILON, 2.0 * d / (1.0 + p), 0.0)


@register
class Huber(Loss):
    r"""Huber loss: quadratic near zero, linear beyond ``delta``.

    .. math::
        \ell(r) = \begin{cases} \tfrac12 r^2 & |r| \le \delta \\ \delta |r| - \tfrac12 \delta^2 & |r| > \delta \end{cases},
        \qquad r = \hat y - y, \qquad \ell'(r) = \operatorname{clip}(r, -\delta, \delta).

    PyTorch's ``smooth_l1_loss(beta)`` equals ``huber_loss(delta=beta) / beta``.
    """

    name = "huber"
    aliases = ("huber_loss",)
    keras_name = "Huber"
    torch_name = "huber_loss"
    latex = (
        r"\begin{cases} \tfrac12 r^2 & |r| \le \delta \\ "
        r"\delta |r| - \tfrac12 \delta^2 & |r| > \delta \end{cases},\; r = \hat y - y"
    )
    convention = "Same as torch huber_loss(delta); torch smooth_l1_loss(beta) = huber(delta=beta) / beta."
    params = (
        Param("delta", 1.0, 0.05, 5.0, step=0.05, domain=Interval(0, math.inf, False, False),
              label="δ", description="residual at which the loss turns from quadratic to linear"),
    )
    minimal_at_target = True

    def __init__(self, delta: float = 1.0, reduction: str = "sum_over_batch_size") -> None:
        super().__init__(reduction=reduction, delta=delta)

    def _terms(self, y_true, y_pred):
        r = y_pred - y_true
        a = np.abs(r)
        d = self.delta
        return np.where(a <= d, 0.5 * r * r, d * a - 0.5 * d * d), np.clip(r, -d, d)


@register
class LogCosh(Loss):
    r"""Log-cosh loss, :math:`\ell(r) = \log\cosh r = r + \operatorname{softplus}(-2r) - \log 2`, :math:`\ell'(r) = \tanh r`.

    About :math:`r^2/2` for small residuals and :math:`|r| - \log 2` for large ones;
    the softplus form never overflows.
    """

    name = "log_cosh"
    aliases = ("logcosh",)
    keras_name = "LogCosh"
    torch_name = None
    latex = r"\log\cosh(\hat y - y)"
    convention = "Computed as r + softplus(−2r) − log 2, finite for any residual."
    minimal_at_target = True

    def __init__(self, reduction: str = "sum_over_batch_size") -> None:
        super().__init__(reduction=reduction)

    def _terms(self, y_true, y_pred):
        r = y_pred - y_true
        return r + softplus(-2.0 * r) - _LOG2, np.tanh(r)


@register
class Poisson(Loss):
    r"""Poisson negative log-likelihood up to a constant, :math:`\ell = \hat y - y \log(\hat y + \epsilon)`.

    ``y_pred`` is the predicted rate (not its log), ``y_true`` a non-negative count;
    Keras adds :math:`\epsilon = 10^{-7}` inside the logarithm.
    """

    name = "poisson"
    keras_name = "Poisson"
    torch_name = "poisson_nll_loss"
    latex = r"\hat y - y \log(\hat y + \epsilon)"
    convention = "Rates, not log-rates: torch poisson_nll_loss(log_input=False, eps=1e-7) matches; torch's default eps is 1e-8."
    y_true_kind = "nonnegative"
    y_pred_kind = "nonnegative"

    def __init__(self, reduction: str = "sum_over_batch_size") -> None:
        super().__init__(reduction=reduction)

    def _terms(self, y_true, y_pred):
        return y_pred - y_true * np.log(y_pred + EPSILON), 1.0 - y_true / (y_pred + EPSILON)


@register
class Quantile(Loss):
    r"""Quantile (pinball) loss for the ``q``-quantile, :math:`\ell = \max(q r, (q - 1) r)`, :math:`r = y - \hat y`.

    Minimizing its expectation puts :math:`\hat y` at the :math:`q`-quantile of :math:`y`;
    :math:`q = 1/2` gives half the absolute error.  Reduced like the mean absolute error.
    """

    name = "quantile"
    aliases = ("pinball",)
    keras_name = None
    torch_name = None
    latex = r"\max\left(q\,(y - \hat y),\; (q - 1)(y - \hat y)\right)"
    convention = "Not in Keras or torch; q = 0.5 gives half the mean absolute error."
    params = (
        Param("q", 0.5, 0.01, 0.99, step=0.01, domain=Interval(0, 1, False, False),
              label="q", description="the quantile the prediction is pulled towards"),
    )
    minimal_at_target = True

    def __init__(self, q: float = 0.5, reduction: str = "sum_over_batch_size") -> None:
        super().__init__(reduction=reduction, q=q)

    def _terms(self, y_true, y_pred):
        r = y_true - y_pred
        q = self.q
        return np.maximum(q * r, (q - 1.0) * r), np.where(r > 0, -q, np.where(r < 0, 1.0 - q, 0.0))


@register
class CosineSimilarity(RowLoss):
    r"""Negative cosine similarity along the last axis, :math:`\ell = -\hat u \cdot \hat v`.

    :math:`\hat u = y / \max(\|y\|, \epsilon)` and likewise for :math:`\hat y`, as in Keras's
    ``normalize`` (:math:`\epsilon = 10^{-7}`); the loss lies in :math:`[-1, 1]` and is
    :math:`-1` when the vectors point the same way.
    """

    name = "cosine_similarity"
    keras_name = "CosineSimilarity"
    torch_name = "cosine_similarity"
    latex = r"-\frac{y \cdot \hat y}{\|y\|\,\|\hat y\|}"
    convention = "Keras returns the negative similarity (a loss); torch cosine_similarity returns +similarity."
    minimal_at_target = True

    def __init__(self, reduction: str = "sum_over_batch_size") -> None:
        super().__init__(reduction=reduction)

    def _terms(self, y_true, y_pred):
        def unit(x):
            norm = np.sqrt((x * x).sum(axis=-1, keepdims=True))
            return x / np.maximum(norm, EPSILON), norm

        u, _ = unit(y_true)
        v, norm = unit(y_pred)
        cos = (u * v).sum(axis=-1)
        big = norm > EPSILON
        # d(-u·v)/dp: the component of u orthogonal to v, over |p|; below ε the normalisation is p/ε.
        jac = np.where(big, -(u - cos[..., None] * v) / np.where(big, norm, 1.0), -u / EPSILON)
        return -cos, jac
