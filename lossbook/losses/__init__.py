"""Every loss in the book: Keras 3's names, defaults and numbers, with exact gradients.

>>> from lossbook import losses
>>> mse = losses.get("mse")
>>> mse([[0.0, 1.0]], [[1.0, 1.0]])
0.5
>>> mse.grad([[0.0, 1.0]], [[1.0, 1.0]])
array([[1., 0.]])

Each loss is called like a Keras loss, ``loss(y_true, y_pred, sample_weight=None)``, and
returns the same float; ``loss.grad`` is the exact gradient of that float with respect
to ``y_pred``; ``loss.pointwise`` gives the per-entry values a chapter plots.

Modules: :mod:`~lossbook.losses.regression`, :mod:`~lossbook.losses.robust`,
:mod:`~lossbook.losses.classification`, :mod:`~lossbook.losses.margin`; the shared
validation and reduction live in :mod:`~lossbook.losses._base`.
"""
from __future__ import annotations

from ._base import EPSILON, KINDS, REDUCTIONS, REGISTRY, Loss
from .regression import (
    CosineSimilarity,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    Quantile,
)
from .robust import GeneralRobust, barron_drho, barron_rho
from .classification import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalHinge,
    KLDivergence,
    SparseCategoricalCrossentropy,
)
from . import margin  # imported in the order of the reference table: regression, robust, classification, margin
from .margin import MARGIN_LOSSES, Hinge, MarginLoss, SquaredHinge

__all__ = [
    "EPSILON",
    "KINDS",
    "REDUCTIONS",
    "REGISTRY",
    "MARGIN_LOSSES",
    "Loss",
    "MarginLoss",
    "catalogue",
    "get",
    "names",
    "margin",
    "barron_rho",
    "barron_drho",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "Huber",
    "LogCosh",
    "Poisson",
    "Quantile",
    "GeneralRobust",
    "CosineSimilarity",
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "KLDivergence",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
]


def _lookup() -> dict[str, type[Loss]]:
    table: dict[str, type[Loss]] = {}
    for cls in REGISTRY.values():
        for key in (cls.name, cls.__name__, *cls.aliases):
            table[key] = cls
    return table


def names() -> list[str]:
    """Every string :func:`get` accepts: registry names, Keras aliases and class names."""
    return sorted(_lookup())


def get(identifier) -> Loss:
    """A loss instance from a Keras-style identifier, like ``keras.losses.get``.

    Strings are Keras's names (``'mse'``, ``'mean_squared_error'``, ``'categorical_crossentropy'``,
    ``'MeanSquaredError'`` ...) plus this book's own (``'quantile'``, ``'general_robust'``,
    ``'logistic'`` ...) and give an instance with default settings; a loss instance is
    returned as is; a loss class is instantiated with its defaults.
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss) and identifier.name in REGISTRY:
        return identifier()
    if isinstance(identifier, str):
        table = _lookup()
        if identifier in table:
            return table[identifier]()
        raise ValueError(f"unknown loss {identifier!r}; known names: {', '.join(sorted(table))}")
    raise TypeError(f"a loss identifier must be a string or a Loss, got {identifier!r} of type {type(identifier).__name__}")


def catalogue() -> list[dict]:
    """One row per registered loss, in registry order, for the reference page and the explorers.

    Keys: ``name`` (for :func:`get`), ``cls``, ``family`` (module), ``latex``, ``keras``
    (``keras.losses`` class name or None), ``torch`` (``torch.nn.functional`` name or None),
    ``convention``, ``params`` (the declared :class:`~lossbook.params.Param` objects).
    """
    return [
        {
            "name": cls.name,
            "cls": cls,
            "family": cls.__module__.rsplit(".", 1)[-1],
            "latex": cls.latex,
            "keras": cls.keras_name,
            "torch": cls.torch_name,
            "convention": cls.convention,
            "params": cls.params,
        }
        for cls in REGISTRY.values()
    ]
