"""Classification losses: cross-entropies (plain, focal, class-weighted), KL divergence and the categorical hinge.

Two ways in, as in Keras: probabilities (``from_logits=False``, the default) are clipped
to :math:`[\\epsilon, 1 - \\epsilon]`, :math:`\\epsilon = 10^{-7}`, before any logarithm, and
categorical probabilities are first renormalised to sum to one; logits
(``from_logits=True``) are handled in log space (softplus, log-sum-exp), exact and
finite for logits as large as :math:`\\pm 10^4`.
"""
from __future__ import annotations

import math

import numpy as np

from ..params import Interval, Param
from ._base import (
    EPSILON,
    Loss,
    RowLoss,
    as_array,
    check_flag,
    log_softmax,
    lookup_class_weight,
    register,
    safe_power,
    sigmoid,
    softplus,
    with_class_weight,
)

__all__ = [
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "KLDivergence",
    "CategoricalHinge",
]

_UNIT = Interval(0, 1, True, True)

LABEL_SMOOTHING = Param(
    "label_smoothing", 0.0, 0.0, 0.5, step=0.01, domain=_UNIT, label="label smoothing",
    description="fraction of the target mass spread evenly over the classes",
)
GAMMA = Param(
    "gamma", 2.0, 0.0, 5.0, step=0.1, domain=Interval(0, math.inf, True, False), label="γ",
    description="focusing: how strongly well-classified examples are down-weighted",
)
ALPHA = Param(
    "alpha", 0.25, 0.0, 1.0, step=0.01, domain=_UNIT, label="α",
    description="weight of the positive class (binary) or of every class (categorical)",
)

_CLASS_WEIGHT_NOTE = (
    " class_weight={class: weight} multiplies each sample's loss by the weight of its class, exactly like "
    "Model.fit(class_weight=...) (the batch mean still divides by the batch size); torch's weight= divides by "
    "the summed weights instead, which is reduction='mean_with_sample_weight' here."
)
_BINARY_CLASS_WEIGHT_NOTE = (
    " class_weight={class: weight} multiplies each sample's loss by the weight of its class, exactly like "
    "Model.fit(class_weight=...) (the batch mean still divides by the batch size); torch's BCELoss(weight=...) "
    "is a per-element rescaling with the same mean over N, and BCEWithLogitsLoss(pos_weight=...) weights only "
    "the positive term."
)


def _inside(p: np.ndarray, low: float, high: float) -> np.ndarray:
    """Where a clip to [low, high] is not active (its derivative is 1 there and 0 elsewhere)."""
    return (p > low) & (p < high)


class _FromLogits:
    """Mixin: ``from_logits`` switches the domain of ``y_pred`` from probabilities to real numbers."""

    probability_kind = "probability"

    def _pred_kind(self) -> str:
        return "real" if self.from_logits else self.probability_kind


@register
class BinaryCrossentropy(_FromLogits, Loss):
    r"""Binary cross-entropy, averaged over the last axis.

    .. math::
        \ell = -\bigl(y \log p + (1 - y)\log(1 - p)\bigr), \qquad y \leftarrow y(1 - s) + s/2,

    with label smoothing :math:`s`.  Probabilities are clipped to :math:`[\epsilon, 1 - \epsilon]`;
    with ``from_logits=True``, :math:`\ell = \operatorname{softplus}(z) - y z` and
    :math:`d\ell/dz = \sigma(z) - y`.
    """

    name = "binary_crossentropy"
    aliases = ("bce", "BCE")
    keras_name = "BinaryCrossentropy"
    torch_name = "binary_cross_entropy / binary_cross_entropy_with_logits"
    latex = r"-\left(y \log p + (1 - y)\log(1 - p)\right)"
    convention = (
        "Keras clips p to [1e-7, 1 − 1e-7]; torch binary_cross_entropy does not clip but floors each log at −100."
        + _BINARY_CLASS_WEIGHT_NOTE
    )
    params = (LABEL_SMOOTHING,)
    y_true_kind = "probability"

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, class_weight=None,
                 reduction: str = "sum_over_batch_size") -> None:
        super().__init__(reduction=reduction, label_smoothing=label_smoothing)
        self.from_logits = check_flag("from_logits", from_logits)
        self.class_weight = with_class_weight("class_weight", class_weight)

    def _smooth(self, y_true):
        s = self.label_smoothing
        return y_true * (1.0 - s) + 0.5 * s if s else y_true

    def _terms(self, y_true, y_pred):
        y = self._smooth(y_true)
        if self.from_logits:
            return softplus(y_pred) - y * y_pred, sigmoid(y_pred) - y
        p = np.clip(y_pred, EPSILON, 1.0 - EPSILON)
        value = -(y * np.log(p) + (1.0 - y) * np.log1p(-p))
        return value, np.where(_inside(y_pred, EPSILON, 1.0 - EPSILON), (p - y) / (p * (1.0 - p)), 0.0)

    def _term_weights(self, y_true, y_pred):
        if self.class_weight is None:
            return None
        return lookup_class_weight("class_weight", self.class_weight, np.round(y_true))


@register
class BinaryFocalCrossentropy(_FromLogits, Loss):
    r"""Binary focal cross-entropy (Lin et al., 2017), averaged over the last axis.

    .. math::
        \ell = w\,(1 - p_t)^\gamma \,\mathrm{BCE}(y, p), \qquad p_t = y p + (1 - y)(1 - p),

    with :math:`w = y\alpha + (1 - y)(1 - \alpha)` when ``apply_class_balancing`` and
    :math:`w = 1` otherwise; :math:`y` is label-smoothed first, as in Keras.  On
    probabilities the BCE factor is clipped as in :class:`BinaryCrossentropy` while
    :math:`p_t` uses :math:`p` unclipped (Keras's order).  With ``from_logits=True``
    everything is computed from the logit in log space; Keras instead applies a sigmoid
    and clips, so the two agree wherever :math:`\sigma(z) \in (10^{-7}, 1 - 10^{-7})`.
    """

    name = "binary_focal_crossentropy"
    keras_name = "BinaryFocalCrossentropy"
    torch_name = None
    latex = r"-w\,(1 - p_t)^\gamma \left(y \log p + (1 - y)\log(1 - p)\right),\; p_t = y p + (1 - y)(1 - p)"
    convention = (
        "Defaults γ = 2, α = 0.25 (used only with apply_class_balancing=True). torchvision.ops.sigmoid_focal_loss "
        "always applies α (and to logits only). With logits, Keras clips σ(z); here the log-space value is exact."
    )
    params = (GAMMA, ALPHA, LABEL_SMOOTHING)
    y_true_kind = "probability"

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25, gamma: float = 2.0,
                 from_logits: bool = False, label_smoothing: float = 0.0,
                 reduction: str = "sum_over_batch_size") -> None:
        super().__init__(reduction=reduction, alpha=alpha, gamma=gamma, label_smoothing=label_smoothing)
        self.apply_class_balancing = check_flag("apply_class_balancing", apply_class_balancing)
        self.from_logits = check_flag("from_logits", from_logits)

    def _terms(self, y_true, y_pred):
        s, g = self.label_smoothing, self.gamma
        y = y_true * (1.0 - s) + 0.5 * s if s else y_true
        if self.from_logits:
            p, q = sigmoid(y_pred), sigmoid(-y_pred)  # q = 1 - p without cancellation
            bce, dbce = softplus(y_pred) - y * y_pred, p - y
            m = y * q + (1.0 - y) * p  # 1 - p_t
            dm = (1.0 - 2.0 * y) * p * q
        else:
            p = np.clip(y_pred, EPSILON, 1.0 - EPSILON)
            bce = -(y * np.log(p) + (1.0 - y) * np.log1p(-p))
            dbce = np.where(_inside(y_pred, EPSILON, 1.0 - EPSILON), (p - y) / (p * (1.0 - p)), 0.0)
            m = y_pred + y - 2.0 * y * y_pred
            dm = 1.0 - 2.0 * y
        m = np.maximum(m, 0.0)  # rounding can leave -0.0 or -1e-17 at a perfect prediction
        focal = safe_power(m, g)
        dfocal = g * safe_power(m, g - 1.0) * dm if g else np.zeros_like(m)
        value, dvalue = focal * bce, dfocal * bce + focal * dbce
        if self.apply_class_balancing:
            w = y * self.alpha + (1.0 - y) * (1.0 - self.alpha)
            value, dvalue = w * value, w * dvalue
        return value, dvalue


@register
class CategoricalCrossentropy(_FromLogits, RowLoss):
    r"""Categorical cross-entropy over the last (class) axis.

    .. math::
        \ell = -\sum_j y_j \log p_j, \qquad y \leftarrow y(1 - s) + s/K,

    for :math:`K` classes and label smoothing :math:`s`.  Probabilities are renormalised,
    :math:`p \leftarrow p / \sum_j p_j`, then clipped to :math:`[\epsilon, 1 - \epsilon]` (Keras);
    with ``from_logits=True``, :math:`\log p = z - \operatorname{logsumexp}(z)` and
    :math:`\partial\ell/\partial z = \operatorname{softmax}(z)\sum_j y_j - y`.
    """

    name = "categorical_crossentropy"
    aliases = ("cce",)
    keras_name = "CategoricalCrossentropy"
    torch_name = "cross_entropy"
    latex = r"-\sum_{j=1}^{K} y_j \log p_j"
    convention = (
        "torch cross_entropy takes logits only (Keras's default is probabilities) and the class axis second; "
        "its label_smoothing uses the same y(1 − s) + s/K." + _CLASS_WEIGHT_NOTE
    )
    params = (LABEL_SMOOTHING,)
    y_true_kind = "probability"
    probability_kind = "distribution"
    min_classes = 2

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, class_weight=None,
                 reduction: str = "sum_over_batch_size") -> None:
        super().__init__(reduction=reduction, label_smoothing=label_smoothing)
        self.from_logits = check_flag("from_logits", from_logits)
        self.class_weight = with_class_weight("class_weight", class_weight)

    def _targets(self, y_true, n_classes):
        s = getattr(self, "label_smoothing", 0.0)
        return y_true * (1.0 - s) + s / n_classes if s else y_true

    def _classes(self, y_true):
        return np.argmax(y_true, axis=-1)

    def _terms(self, y_true, y_pred):
        y = self._targets(y_true, y_pred.shape[-1])
        if self.from_logits:
            logp = log_softmax(y_pred)
            return -(y * logp).sum(axis=-1), np.exp(logp) * y.sum(axis=-1, keepdims=True) - y
        total = y_pred.sum(axis=-1, keepdims=True)
        q = y_pred / total
        p = np.clip(q, EPSILON, 1.0 - EPSILON)
        g = np.where(_inside(q, EPSILON, 1.0 - EPSILON), -y / p, 0.0)  # d loss / d q
        # chain rule through q = p / sum(p)
        return -(y * np.log(p)).sum(axis=-1), (g - (g * q).sum(axis=-1, keepdims=True)) / total

    def _term_weights(self, y_true, y_pred):
        if self.class_weight is None:
            return None
        return lookup_class_weight("class_weight", self.class_weight, self._classes(y_true))


@register
class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    r"""Categorical cross-entropy with integer class indices as targets: :math:`\ell = -\log p_{y}`.

    ``y_true`` has the shape of ``y_pred`` without its class axis (a trailing 1 is allowed);
    indices must be integers in :math:`0, \dots, K - 1`.  Otherwise identical to
    :class:`CategoricalCrossentropy` with one-hot targets.
    """

    name = "sparse_categorical_crossentropy"
    aliases = ("scce",)
    keras_name = "SparseCategoricalCrossentropy"
    torch_name = "cross_entropy / nll_loss"
    latex = r"-\log p_{y}"
    convention = (
        "torch cross_entropy with integer targets is this loss on logits; nll_loss takes log-probabilities."
        + _CLASS_WEIGHT_NOTE
    )
    params = ()
    y_true_kind = "index"
    sparse = True

    def __init__(self, from_logits: bool = False, class_weight=None,
                 reduction: str = "sum_over_batch_size") -> None:
        Loss.__init__(self, reduction=reduction)
        self.from_logits = check_flag("from_logits", from_logits)
        self.class_weight = with_class_weight("class_weight", class_weight)

    def _targets(self, y_true, n_classes):
        return np.eye(n_classes)[y_true.astype(int)]

    def _classes(self, y_true):
        return y_true


@register
class CategoricalFocalCrossentropy(_FromLogits, RowLoss):
    r"""Categorical focal cross-entropy (Lin et al., 2017): :math:`\ell = -\sum_j \alpha_j (1 - p_j)^\gamma y_j \log p_j`.

    Defaults :math:`\alpha = 0.25`, :math:`\gamma = 2` as in Keras; ``alpha`` may also be a
    sequence with one weight per class.  Probabilities are renormalised and clipped as in
    :class:`CategoricalCrossentropy` and the focal factor uses the clipped :math:`p`.  With
    ``from_logits=True`` the value is computed in log space; Keras applies a softmax and
    clips, so the two agree wherever every :math:`p_j \in (10^{-7}, 1 - 10^{-7})`.
    """

    name = "categorical_focal_crossentropy"
    keras_name = "CategoricalFocalCrossentropy"
    torch_name = None
    latex = r"-\sum_{j=1}^{K} \alpha_j (1 - p_j)^\gamma\, y_j \log p_j"
    convention = "Defaults α = 0.25, γ = 2 (so at γ = 0 it is 0.25 × CCE). With logits, Keras clips softmax(z); here the log-space value is exact."
    params = (GAMMA, ALPHA, LABEL_SMOOTHING)
    y_true_kind = "probability"
    probability_kind = "distribution"
    min_classes = 2

    def __init__(self, alpha=0.25, gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0,
                 reduction: str = "sum_over_batch_size") -> None:
        per_class = np.ndim(alpha) > 0
        super().__init__(reduction=reduction, alpha=ALPHA.default if per_class else alpha, gamma=gamma,
                         label_smoothing=label_smoothing)
        if per_class:
            alpha = as_array("alpha", alpha)
            if alpha.ndim != 1 or np.any(alpha < 0):
                raise ValueError(f"alpha must be a number or a 1-D sequence of non-negative weights, got {alpha}")
            self.alpha = alpha
        self.from_logits = check_flag("from_logits", from_logits)

    def _terms(self, y_true, y_pred):
        n = y_pred.shape[-1]
        alpha = self.alpha
        if np.ndim(alpha) and alpha.size != n:
            raise ValueError(f"alpha has {alpha.size} class weights but y_pred has {n} classes (shape {y_pred.shape})")
        s, g = self.label_smoothing, self.gamma
        y = y_true * (1.0 - s) + s / n if s else y_true
        a = alpha * y
        if self.from_logits:
            logp = log_softmax(y_pred)
            p = np.exp(logp)
            m = -np.expm1(logp)  # 1 - p, accurate as p -> 1
            focal = safe_power(m, g)
            dfocal = g * safe_power(m, g - 1.0) if g else np.zeros_like(m)
            # total derivative with respect to log p_j (p_j depends on log p_j as dp = p dlogp)
            G = -a * focal + a * p * dfocal * logp
            return -(a * focal * logp).sum(axis=-1), G - p * G.sum(axis=-1, keepdims=True)
        total = y_pred.sum(axis=-1, keepdims=True)
        q = y_pred / total
        p = np.clip(q, EPSILON, 1.0 - EPSILON)
        logp, m = np.log(p), 1.0 - p
        focal = m**g
        dfocal = g * m ** (g - 1.0)
        dq = np.where(_inside(q, EPSILON, 1.0 - EPSILON), a * (dfocal * logp - focal / p), 0.0)
        return -(a * focal * logp).sum(axis=-1), (dq - (dq * q).sum(axis=-1, keepdims=True)) / total


@register
class KLDivergence(RowLoss):
    r"""Kullback-Leibler divergence :math:`\ell = \sum_j y_j \log(y_j / p_j)` over the last axis.

    As in Keras both arguments are clipped to :math:`[\epsilon, 1]` first, so the loss is
    finite when a target is 0 and the derivative :math:`-y_j/p_j` is 0 where
    :math:`p_j < \epsilon`.
    """

    name = "kl_divergence"
    aliases = ("kld", "KLD", "kullback_leibler_divergence")
    keras_name = "KLDivergence"
    torch_name = "kl_div"
    latex = r"\sum_{j} y_j \log\frac{y_j}{p_j}"
    convention = (
        "torch kl_div(input, target) takes log-probabilities as input (predictions first) "
        "and needs reduction='batchmean' for the mathematical KL; Keras clips both to [1e-7, 1]."
    )
    y_true_kind = "probability"
    y_pred_kind = "probability"
    minimal_at_target = True

    def __init__(self, reduction: str = "sum_over_batch_size") -> None:
        super().__init__(reduction=reduction)

    def _terms(self, y_true, y_pred):
        t = np.clip(y_true, EPSILON, 1.0)
        p = np.clip(y_pred, EPSILON, 1.0)
        return (t * np.log(t / p)).sum(axis=-1), np.where(y_pred > EPSILON, -t / p, 0.0)


@register
class CategoricalHinge(RowLoss):
    r"""Keras's categorical hinge: :math:`\ell = \max(0,\; 1 + \max_{j} (1 - y_j) \hat y_j - \sum_j y_j \hat y_j)`.

    For a one-hot ``y_true`` the inner maximum runs over every class, the true one entering as
    :math:`(1 - y_j)\hat y_j = 0`.  When some wrong-class score is positive this is the
    Crammer-Singer hinge :math:`\max(0, 1 + \max_{j \ne t} \hat y_j - \hat y_t)`; when every
    wrong-class score is negative, 0 takes the place of the best wrong score.  The derivative at a
    tie takes the first maximum.
    """

    name = "categorical_hinge"
    keras_name = "CategoricalHinge"
    torch_name = None
    latex = r"\max\left(0,\; 1 + \max_{j} (1 - y_j)\hat y_j - \sum_j y_j \hat y_j\right)"
    convention = "torch multi_margin_loss sums over the wrong classes (Weston-Watkins) instead of taking the max."
    y_true_kind = "probability"
    min_classes = 2

    def __init__(self, reduction: str = "sum_over_batch_size") -> None:
        super().__init__(reduction=reduction)

    def _terms(self, y_true, y_pred):
        pos = (y_true * y_pred).sum(axis=-1)
        wrong = (1.0 - y_true) * y_pred
        j = np.argmax(wrong, axis=-1)[..., None]
        neg = np.take_along_axis(wrong, j, axis=-1)[..., 0]
        slack = neg - pos + 1.0
        pick = np.zeros_like(y_pred)
        np.put_along_axis(pick, j, 1.0, axis=-1)
        jac = (pick * (1.0 - y_true) - y_true) * (slack > 0)[..., None]
        return np.maximum(slack, 0.0), jac
