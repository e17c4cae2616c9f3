r"""Margin losses of binary classification: functions :math:`\phi(m)` of the margin :math:`m = y\,f(x)`, :math:`y \in \{-1, 1\}`.

Each class is a full :class:`~lossbook.losses.Loss` (Keras call signature, gradient,
sample weights; labels in {-1, 1}, or {0, 1} which are mapped to {-1, 1} as Keras's
``hinge`` does) and also exposes the scalar function itself:

- ``loss.margin_value(m)``: :math:`\phi(m)`,
- ``loss.margin_derivative(m)``: :math:`\phi'(m)`,

so a chapter can draw every surrogate of the zero-one loss on one axis.
:data:`MARGIN_LOSSES` lists them in the order a plot's legend wants them.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from ._base import Loss, register, sigmoid, softplus

__all__ = [
    "MarginLoss",
    "ZeroOne",
    "Perceptron",
    "Hinge",
    "SquaredHinge",
    "Logistic",
    "Exponential",
    "ModifiedHuber",
    "MARGIN_LOSSES",
]


class MarginLoss(Loss):
    r"""A loss :math:`\ell(y, f) = \phi(y f)` of the margin, averaged over the last axis as in Keras.

    The gradient with respect to the score is :math:`y\,\phi'(y f)`.
    """

    y_true_kind = "sign"
    #: the text a legend shows next to the curve
    short: ClassVar[str] = ""

    def __init__(self, reduction: str = "sum_over_batch_size") -> None:
        super().__init__(reduction=reduction)

    def margin_value(self, m) -> np.ndarray:
        r""":math:`\phi(m)` for an array of margins."""
        raise NotImplementedError

    def margin_derivative(self, m) -> np.ndarray:
        r""":math:`\phi'(m)` for an array of margins (a one-sided choice at kinks)."""
        raise NotImplementedError

    @staticmethod
    def signs(y_true: np.ndarray) -> np.ndarray:
        """Labels as -1/1: Keras maps an all-{0, 1} array to {-1, 1} and leaves anything else alone."""
        return 2.0 * y_true - 1.0 if np.all((y_true == 0) | (y_true == 1)) else y_true

    def _terms(self, y_true, y_pred):
        y = self.signs(y_true)
        m = y * y_pred
        return self.margin_value(m), y * self.margin_derivative(m)


@register
class ZeroOne(MarginLoss):
    r"""Zero-one loss :math:`\phi(m) = [m \le 0]`: the error count every other margin loss stands in for.

    Its derivative is 0 wherever it exists, which is why it cannot be trained by gradient descent.
    """

    name = "zero_one"
    minimal_at_target = True
    short = "zero-one"
    latex = r"\mathbb{1}[m \le 0]"
    convention = "Not differentiable; a zero margin counts as an error."

    def margin_value(self, m):
        return (np.asarray(m) <= 0).astype(float)

    def margin_derivative(self, m):
        return np.zeros(np.shape(m))


@register
class Perceptron(MarginLoss):
    r"""Perceptron loss :math:`\phi(m) = \max(0, -m)`: pays only for mistakes, not for small margins."""

    name = "perceptron"
    minimal_at_target = True
    short = "perceptron"
    latex = r"\max(0, -m)"
    convention = "Hinge with the margin 1 moved to 0; zero loss for any correct sign."

    def margin_value(self, m):
        return np.maximum(0.0, -np.asarray(m, dtype=float))

    def margin_derivative(self, m):
        return -(np.asarray(m) < 0).astype(float)


@register
class Hinge(MarginLoss):
    r"""Hinge loss :math:`\phi(m) = \max(0, 1 - m)` (support vector machines); Keras's ``Hinge``."""

    name = "hinge"
    minimal_at_target = True
    short = "hinge"
    keras_name = "Hinge"
    latex = r"\max(0, 1 - y\hat y)"
    convention = "Keras maps labels {0, 1} to {−1, 1}; torch hinge_embedding_loss is a different loss."

    def margin_value(self, m):
        return np.maximum(0.0, 1.0 - np.asarray(m, dtype=float))

    def margin_derivative(self, m):
        return -(np.asarray(m) < 1).astype(float)


@register
class SquaredHinge(MarginLoss):
    r"""Squared hinge :math:`\phi(m) = \max(0, 1 - m)^2`: smooth at the hinge, harsher on large violations; Keras's ``SquaredHinge``."""

    name = "squared_hinge"
    minimal_at_target = True
    short = "squared hinge"
    keras_name = "SquaredHinge"
    latex = r"\max(0, 1 - y\hat y)^2"
    convention = "Keras maps labels {0, 1} to {−1, 1}."

    def margin_value(self, m):
        return np.square(np.maximum(0.0, 1.0 - np.asarray(m, dtype=float)))

    def margin_derivative(self, m):
        return -2.0 * np.maximum(0.0, 1.0 - np.asarray(m, dtype=float))


@register
class Logistic(MarginLoss):
    r"""Logistic loss :math:`\phi(m) = \log(1 + e^{-m})`: binary cross-entropy on logits written in the margin."""

    name = "logistic"
    short = "logistic"
    torch_name = "soft_margin_loss"
    latex = r"\log(1 + e^{-m})"
    convention = "Natural log (some texts use log₂ so that φ(0) = 1); equals BCE from logits with y ∈ {0, 1}."

    def margin_value(self, m):
        return softplus(-np.asarray(m, dtype=float))

    def margin_derivative(self, m):
        return -sigmoid(-np.asarray(m, dtype=float))


@register
class Exponential(MarginLoss):
    r"""Exponential loss :math:`\phi(m) = e^{-m}` (AdaBoost); it grows without bound for confident mistakes."""

    name = "exponential"
    short = "exponential"
    latex = r"e^{-m}"
    convention = "The loss AdaBoost minimises stagewise."

    def margin_value(self, m):
        with np.errstate(over="ignore"):  # a margin below about -709 is an infinite loss, honestly
            return np.exp(-np.asarray(m, dtype=float))

    def margin_derivative(self, m):
        return -self.margin_value(m)


@register
class ModifiedHuber(MarginLoss):
    r"""Modified Huber loss: :math:`\phi(m) = \max(0, 1 - m)^2` for :math:`m \ge -1`, :math:`-4m` below.

    A squared hinge that turns linear for bad mistakes (scikit-learn's ``SGDClassifier(loss='modified_huber')``).
    """

    name = "modified_huber"
    minimal_at_target = True
    short = "modified Huber"
    latex = r"\begin{cases} \max(0, 1 - m)^2 & m \ge -1 \\ -4m & m < -1 \end{cases}"
    convention = "As in scikit-learn's SGDClassifier; continuous with its derivative at m = −1."

    def margin_value(self, m):
        m = np.asarray(m, dtype=float)
        return np.where(m >= -1.0, np.square(np.maximum(0.0, 1.0 - m)), -4.0 * m)

    def margin_derivative(self, m):
        m = np.asarray(m, dtype=float)
        return np.where(m >= -1.0, -2.0 * np.maximum(0.0, 1.0 - m), -4.0)


#: The margin losses, in the order a legend lists them.
MARGIN_LOSSES: tuple[type[MarginLoss], ...] = (
    ZeroOne, Perceptron, Hinge, SquaredHinge, Logistic, Exponential, ModifiedHuber,
)
