"""lossbook: loss functions and the optimizers that minimize them, for reading and for running.

Notebooks write ``import lossbook as lb``; the modules are

- :mod:`lossbook.params`: tunable numbers with domains and slider ranges,
- :mod:`lossbook.testing`: gradient checks by finite differences.
"""
from . import params, testing
from .params import Interval, Param
from .testing import check_gradient, numerical_gradient

__version__ = "0.1.0"

__all__ = ["Interval", "Param", "check_gradient", "numerical_gradient", "params", "testing"]
