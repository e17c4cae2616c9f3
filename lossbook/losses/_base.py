"""The machinery every loss shares: input validation, Keras's shape rules, reduction and its exact gradient.

A loss class only says what is particular to it:

- ``_terms(y_true, y_pred)``: the loss terms and their derivatives with respect
  to ``y_pred``.  For an *elementwise* loss these are one term per entry (Keras
  then averages over the last axis); for a *row* loss (cross-entropy, KL,
  cosine, categorical hinge) one value per row of the last axis together with
  the derivative of that value with respect to each entry of its row;
- its domains as data: ``y_true_kind`` and ``y_pred_kind`` name an entry of
  :data:`KINDS` (real numbers, probabilities, labels in {-1, 1}, class indices ...);
- its tunable numbers as :class:`lossbook.params.Param` objects in ``params``;
- text for the reference page: ``latex``, ``keras_name``, ``torch_name``, ``convention``.

Everything else (checking arrays, aligning shapes as Keras does, sample weights,
the reduction and the chain rule through it) happens here, once.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, ClassVar

import numpy as np

from ..params import Interval, Param

__all__ = ["EPSILON", "Loss", "REGISTRY", "KINDS", "register", "REDUCTIONS"]

#: Keras's fuzz factor, ``keras.backend.epsilon()``, used wherever Keras clips.
EPSILON = 1e-7

#: Every loss class by its registry name (Keras's function name where Keras has the loss).
REGISTRY: dict[str, type["Loss"]] = {}

#: The reductions of Keras 3 that give a single number.
REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "mean_with_sample_weight")


def register(cls: type["Loss"]) -> type["Loss"]:
    """Class decorator: add a loss class to :data:`REGISTRY` under ``cls.name``."""
    if cls.name in REGISTRY:
        raise ValueError(f"two losses are registered as {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls


# ---------------------------------------------------------------------------
# Domains as data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """What values an argument may hold: an interval plus, optionally, a rule on the whole array."""

    description: str
    interval: Interval = Interval()
    rule: Callable[[np.ndarray], str | None] | None = None


def _sign_labels(a: np.ndarray) -> str | None:
    pm1 = np.all((a == 1) | (a == -1))
    zero_one = np.all((a == 0) | (a == 1))
    if pm1 or zero_one:
        return None
    bad = a[~((a == 1) | (a == -1) | (a == 0))]
    if bad.size:
        return f"found {bad.flat[0]:g}"
    return "found both 0 and -1 (use {-1, 1}, or {0, 1} which is mapped to {-1, 1})"


def _positive_rows(a: np.ndarray) -> str | None:
    sums = a.sum(axis=-1)
    if np.all(sums > 0):
        return None
    index = np.unravel_index(int(np.argmin(sums)), sums.shape)
    return f"the row at index {tuple(int(i) for i in index)} sums to 0"


def _integers(a: np.ndarray) -> str | None:
    bad = a != np.round(a)
    if not np.any(bad):
        return None
    return f"found the non-integer value {a[bad].flat[0]:g}"


#: The domains of ``y_true`` and ``y_pred``, shared by all losses.  A loss names one per argument.
KINDS: dict[str, Kind] = {
    "real": Kind("real numbers"),
    "nonnegative": Kind("non-negative numbers", Interval(0, math.inf)),
    "probability": Kind("probabilities in [0, 1]", Interval(0, 1)),
    "distribution": Kind("probabilities in [0, 1] whose rows have a positive sum", Interval(0, 1), _positive_rows),
    "sign": Kind("labels in {-1, 1} (or {0, 1}, mapped to {-1, 1})", Interval(-1, 1), _sign_labels),
    "index": Kind("integer class indices", Interval(0, math.inf), _integers),
}


def _check_kind(name: str, a: np.ndarray, kind: Kind, what: str) -> None:
    inside = np.ones(a.shape, dtype=bool)
    iv = kind.interval
    if math.isfinite(iv.low):
        inside &= (a >= iv.low) if iv.low_inclusive else (a > iv.low)
    if math.isfinite(iv.high):
        inside &= (a <= iv.high) if iv.high_inclusive else (a < iv.high)
    if not np.all(inside):
        index = np.unravel_index(int(np.argmin(inside)), a.shape)
        raise ValueError(
            f"{name} must hold {kind.description} for {what}; "
            f"found {a[index]:g} at index {tuple(int(i) for i in index)} (shape {a.shape})"
        )
    if kind.rule is not None:
        problem = kind.rule(a)
        if problem is not None:
            raise ValueError(f"{name} must hold {kind.description} for {what}; {problem} (shape {a.shape})")


def as_array(name: str, x, *, min_ndim: int = 1) -> np.ndarray:
    """``x`` as a finite, non-empty float64 array, or an error that names ``name``."""
    if isinstance(x, np.ndarray):
        a = x
    else:
        try:
            a = np.asarray(x)
        except ValueError as err:  # ragged nested lists
            raise ValueError(f"{name} is not a rectangular array: {err}") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {a.dtype}")
    a = a.astype(np.float64)
    if a.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name} is empty (shape {a.shape})")
    finite = np.isfinite(a)
    if not np.all(finite):
        index = np.unravel_index(int(np.argmin(finite)), a.shape)
        raise ValueError(
            f"{name} must be finite; found {a[index]} at index {tuple(int(i) for i in index)} (shape {a.shape})"
        )
    return a


def align_ranks(a_shape: tuple, b_shape: tuple) -> tuple[tuple, tuple]:
    """Keras's ``squeeze_or_expand_to_same_rank``: reconcile two shapes whose ranks differ by one.

    When one shape has one more axis than the other and that axis is a trailing 1,
    a rank-1 partner gains a trailing 1, otherwise the trailing 1 is dropped.
    Any other difference is left for the caller to reject.
    """
    if len(a_shape) == len(b_shape) + 1 and a_shape[-1] == 1:
        return (a_shape, b_shape + (1,)) if len(b_shape) == 1 else (a_shape[:-1], b_shape)
    if len(b_shape) == len(a_shape) + 1 and b_shape[-1] == 1:
        return (a_shape + (1,), b_shape) if len(a_shape) == 1 else (a_shape, b_shape[:-1])
    return a_shape, b_shape


def check_flag(name: str, value) -> bool:
    """A boolean option such as ``from_logits``: a bool, or a TypeError naming it."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


# ---------------------------------------------------------------------------
# Numerically safe building blocks shared by several losses
# ---------------------------------------------------------------------------


def softplus(x: np.ndarray) -> np.ndarray:
    r""":math:`\log(1 + e^x)` without overflow."""
    return np.logaddexp(0.0, x)


def sigmoid(x: np.ndarray) -> np.ndarray:
    r""":math:`1 / (1 + e^{-x})` without overflow for large :math:`|x|`."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def log_softmax(z: np.ndarray) -> np.ndarray:
    r""":math:`z_j - \log\sum_i e^{z_i}` along the last axis, shifted by the maximum so it never overflows."""
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def safe_power(base: np.ndarray, exponent: float) -> np.ndarray:
    """``base ** exponent`` for ``base >= 0``, taking ``0 ** e`` as 0 for ``e > 0`` and 1 for ``e == 0``.

    Negative exponents at a zero base occur only where a factor that multiplies
    them is zero too (the focal losses at a perfect prediction); 0 is returned there.
    """
    if exponent == 0:
        return np.ones_like(base)
    positive = base > 0
    return np.where(positive, np.where(positive, base, 1.0) ** exponent, 0.0)


# ---------------------------------------------------------------------------
# The base class
# ---------------------------------------------------------------------------


@dataclass
class _Prepared:
    y_true: np.ndarray
    y_pred: np.ndarray
    pred_shape: tuple


class Loss:
    """A loss with Keras 3's call signature, reduction and sample weights, plus its exact gradient.

    ``loss(y_true, y_pred, sample_weight=None)`` returns a float equal to
    ``keras.losses.<Class>()(y_true, y_pred, sample_weight)``.  With the default
    reduction ``"sum_over_batch_size"`` it is

    .. math::
        L = \\frac{1}{N} \\sum_{i} w_i \\, \\ell_i, \\qquad
        \\ell_i = \\text{mean (or sum) over the last axis of the loss terms of sample } i,

    where :math:`N` counts the per-sample values :math:`\\ell_i` (not the weights).
    ``loss.grad`` is :math:`\\partial L / \\partial y_{\\text{pred}}`, exactly.
    """

    # Filled in by each loss class.
    name: ClassVar[str] = ""
    keras_name: ClassVar[str | None] = None
    torch_name: ClassVar[str | None] = None
    latex: ClassVar[str] = ""
    convention: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    params: ClassVar[tuple[Param, ...]] = ()
    elementwise: ClassVar[bool] = True
    y_true_kind: ClassVar[str] = "real"
    y_pred_kind: ClassVar[str] = "real"
    sparse: ClassVar[bool] = False  # y_true holds class indices, one axis fewer than y_pred
    min_classes: ClassVar[int] = 1  # the length the last axis of y_pred needs at least
    #: "minimum at the perfect prediction y_pred = y_true": the tests check it where it holds.
    minimal_at_target: ClassVar[bool] = False

    def __init__(self, *, reduction: str = "sum_over_batch_size", **values) -> None:
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"reduction must be one of {', '.join(map(repr, REDUCTIONS))}, got {reduction!r} "
                "(for unreduced values use .per_sample or .pointwise)"
            )
        self.reduction = reduction
        known = {p.name for p in self.params}
        unknown = set(values) - known
        if unknown:
            raise TypeError(f"{type(self).__name__} has no parameter {sorted(unknown)[0]!r}")
        for p in self.params:
            setattr(self, p.name, p.check(values.get(p.name, p.default)))

    # -- description -------------------------------------------------------

    @property
    def settings(self) -> dict:
        """The values of this instance's parameters, by name."""
        return {p.name: getattr(self, p.name) for p in self.params}

    def __repr__(self) -> str:
        args = [f"{k}={v!r}" for k, v in self.settings.items()]
        for flag in ("from_logits", "apply_class_balancing"):
            if getattr(self, flag, False):
                args.append(f"{flag}=True")
        if self.reduction != "sum_over_batch_size":
            args.append(f"reduction={self.reduction!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    # -- what subclasses provide --------------------------------------------

    def _terms(self, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _pred_kind(self) -> str:
        return self.y_pred_kind

    def _term_weights(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray | None:
        """Per-term (elementwise) or per-row weights from ``class_weight``; None without them."""
        return None

    # -- validation: one path for every loss ---------------------------------

    def _prepare(self, y_true, y_pred) -> _Prepared:
        what = f"{type(self).__name__}"
        y_pred = as_array("y_pred", y_pred)
        pred_shape = y_pred.shape
        if y_pred.shape[-1] < self.min_classes:
            raise ValueError(
                f"y_pred must have at least {self.min_classes} classes on its last axis for {what}, "
                f"got shape {y_pred.shape}"
            )
        if self.sparse:
            y_true = as_array("y_true", y_true, min_ndim=0)
            want = y_pred.shape[:-1]
            if y_true.shape == want + (1,):
                y_true = y_true.reshape(want)
            if y_true.shape != want:
                raise ValueError(
                    f"y_true has shape {y_true.shape} and y_pred has shape {y_pred.shape}: class indices need "
                    f"the shape of y_pred without its last (class) axis, {want}, optionally with a trailing 1"
                )
        else:
            y_true = as_array("y_true", y_true)
            t_shape, p_shape = align_ranks(y_true.shape, y_pred.shape)
            if t_shape != p_shape:
                raise ValueError(
                    f"y_true has shape {y_true.shape} and y_pred has shape {y_pred.shape}: the shapes must be "
                    "equal or differ only by a trailing axis of length 1 (as in Keras)"
                )
            y_true = y_true.reshape(t_shape)
            y_pred = y_pred.reshape(p_shape)
        _check_kind("y_true", y_true, KINDS[self.y_true_kind], what)
        _check_kind("y_pred", y_pred, KINDS[self._pred_kind()], what)
        if self.sparse and np.any(y_true >= y_pred.shape[-1]):
            bad = y_true[y_true >= y_pred.shape[-1]].flat[0]
            raise ValueError(
                f"y_true holds class index {bad:g}, out of range for y_pred with {y_pred.shape[-1]} classes "
                f"(valid indices 0..{y_pred.shape[-1] - 1})"
            )
        return _Prepared(y_true, y_pred, pred_shape)

    def _weights(self, sample_weight, values_shape: tuple) -> tuple[np.ndarray, float, tuple]:
        """Weights broadcast to the per-sample values, the divisor of the reduction, and the values' shape.

        Follows ``keras.src.losses.loss.reduce_weighted_values``.
        """
        if sample_weight is None:
            weights = np.ones(values_shape)
            sw_sum = None
        else:
            sw = as_array("sample_weight", sample_weight, min_ndim=0)
            if np.any(sw < 0):
                raise ValueError(f"sample_weight must be non-negative, found {sw[sw < 0].flat[0]:g}")
            v_shape, w_shape = align_ranks(values_shape, sw.shape)
            try:
                fits = np.broadcast_shapes(v_shape, w_shape) == v_shape
            except ValueError:
                fits = False
            if not fits:
                hint = ""
                if values_shape == ():
                    hint = (
                        "; a 1-D y_pred is one sample whose entries are averaged, "
                        "so pass y_true and y_pred of shape (n, 1) to weight n samples"
                    )
                raise ValueError(
                    f"sample_weight has shape {sw.shape} but the loss has one value per sample of shape "
                    f"{values_shape}: sample_weight must be a scalar, have that shape, or broadcast to it{hint}"
                )
            values_shape = v_shape
            weights = np.broadcast_to(sw.reshape(w_shape), v_shape)
            sw_sum = float(sw.sum())
        if len(values_shape) == 0:
            divisor = 1.0  # Keras leaves a scalar loss unreduced
        elif self.reduction == "sum":
            divisor = 1.0
        elif self.reduction == "mean_with_sample_weight" and sw_sum is not None:
            divisor = sw_sum
        else:
            divisor = float(np.prod(values_shape))
        return weights, divisor, values_shape

    # -- evaluation ------------------------------------------------------------

    def _evaluate(self, y_true, y_pred):
        """Per-sample values and the derivative of each value with respect to its row of ``y_pred``."""
        data = self._prepare(y_true, y_pred)
        terms, dterms = self._terms(data.y_true, data.y_pred)
        cw = self._term_weights(data.y_true, data.y_pred)
        if cw is not None:
            terms = terms * cw
            dterms = dterms * (cw if self.elementwise else cw[..., None])
            cw = cw.mean(axis=-1) if self.elementwise else cw  # the class weight of each sample
        if self.elementwise:
            return data, terms, dterms, terms.mean(axis=-1), dterms / data.y_pred.shape[-1], cw
        return data, terms, dterms, terms, dterms, cw

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        """The reduced loss, as Keras computes it."""
        return self.value_and_grad(y_true, y_pred, sample_weight)[0]

    def grad(self, y_true, y_pred, sample_weight=None) -> np.ndarray:
        r"""The exact gradient :math:`\partial L / \partial y_{\text{pred}}` of ``self(y_true, y_pred, sample_weight)``.

        Same shape as ``y_pred``.  Where Keras clips, the derivative is that of the clipped
        expression (zero inside the clipped region), matching the value returned.
        """
        return self.value_and_grad(y_true, y_pred, sample_weight)[1]

    def value_and_grad(self, y_true, y_pred, sample_weight=None) -> tuple[float, np.ndarray]:
        """The reduced loss and its gradient with respect to ``y_pred`` in one pass."""
        data, _, _, values, jac, class_weights = self._evaluate(y_true, y_pred)
        weights, divisor, shape = self._weights(sample_weight, values.shape)
        values = values.reshape(shape)
        if class_weights is not None and self.reduction == "mean_with_sample_weight" and shape:
            # class weights act as sample weights, so they count in the total weight too
            divisor = float(np.sum(weights * class_weights.reshape(shape)))
        if divisor == 0:  # Keras's divide_no_nan: all weights zero
            return 0.0, np.zeros(data.pred_shape)
        loss = float(np.sum(values * weights) / divisor)
        outer = (weights / divisor).reshape(jac.shape[:-1])
        return loss, (outer[..., None] * jac).reshape(data.pred_shape)

    def per_sample(self, y_true, y_pred) -> np.ndarray:
        """The per-sample values before any weighting or reduction (Keras's ``reduction=None``)."""
        return self._evaluate(y_true, y_pred)[3]

    def pointwise(self, y_true, y_pred) -> np.ndarray:
        """The loss of each entry (elementwise losses, shape of ``y_pred``) or each row (shape ``y_pred.shape[:-1]``).

        For an elementwise loss this is the curve a chapter plots against the residual or
        the margin; Keras's per-sample value is its mean over the last axis.
        """
        data, terms, *_ = self._evaluate(y_true, y_pred)
        return terms.reshape(data.pred_shape) if self.elementwise else terms

    def pointwise_grad(self, y_true, y_pred) -> np.ndarray:
        """Derivative of each value of :meth:`pointwise` with respect to the entries of ``y_pred`` it depends on.

        Shape of ``y_pred``.  For an elementwise loss entry ``i`` is :math:`d\\ell(y_i, p_i)/dp_i`.
        """
        data, _, dterms, *_ = self._evaluate(y_true, y_pred)
        return dterms.reshape(data.pred_shape)


class RowLoss(Loss):
    """A loss whose per-sample value couples the entries of the last axis (a distribution, a vector)."""

    elementwise: ClassVar[bool] = False


def with_class_weight(name: str, class_weight, n_classes: int | None = None) -> np.ndarray | None:
    """Validate a Keras-style ``class_weight`` (a dict ``{class: weight}`` or a sequence) into an array.

    Classes missing from a dict get weight 1, as in ``Model.fit``.
    """
    if class_weight is None:
        return None
    if isinstance(class_weight, dict):
        if not class_weight:
            raise ValueError(f"{name} must not be empty")
        keys = []
        for k in class_weight:
            if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 0:
                raise ValueError(f"{name} keys must be non-negative integer classes, got {k!r}")
            keys.append(int(k))
        size = max(keys) + 1
        weights = np.ones(size)
        for k, v in class_weight.items():
            weights[int(k)] = v
        weights = as_array(name, weights)
    else:
        weights = as_array(name, class_weight)
        if weights.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {weights.shape}")
    if np.any(weights < 0):
        raise ValueError(f"{name} must be non-negative, found {weights[weights < 0][0]:g}")
    return weights


def lookup_class_weight(name: str, weights: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """``weights[classes]``, where classes beyond the table weigh 1 (Keras's ``class_weight.get(c, 1.0)``)."""
    classes = classes.astype(int)
    padded = np.concatenate([weights, np.ones(max(0, int(classes.max()) + 1 - weights.size))])
    return padded[classes]
