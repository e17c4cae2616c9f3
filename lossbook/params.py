"""Parameters as data: valid domains and the sliders that explore them.

Losses, optimizers, schedules and explorers all describe their tunable
numbers with :class:`Param`, so one mechanism validates arguments and one
mechanism builds sliders.  A :class:`Interval` is the set of valid values;
a :class:`Param` adds the range a reader is likely to explore.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np

__all__ = ["Interval", "Param", "check_scalar"]


@dataclass(frozen=True)
class Interval:
    """A real interval ``low .. high`` with open or closed ends.

    ``Interval(0, 1, False, False)`` is the open interval (0, 1).
    Infinite ends are allowed: ``Interval(0, math.inf, False, False)``.
    """

    low: float = -math.inf
    high: float = math.inf
    low_inclusive: bool = True
    high_inclusive: bool = True

    def __contains__(self, x: float) -> bool:
        if not math.isfinite(x) and not (math.isinf(x) and (x == self.low or x == self.high)):
            return False
        above = x >= self.low if self.low_inclusive else x > self.low
        below = x <= self.high if self.high_inclusive else x < self.high
        return above and below

    def __str__(self) -> str:
        left = "[" if self.low_inclusive else "("
        right = "]" if self.high_inclusive else ")"
        return f"{left}{_fmt(self.low)}, {_fmt(self.high)}{right}"


def _fmt(x: float) -> str:
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def check_scalar(name: str, value, interval: Interval | None = None, *, integer: bool = False) -> float:
    """Return ``value`` as a Python float (or int), or raise a ValueError naming ``name``.

    Rejects non-numbers, booleans, NaN, values outside ``interval`` and, with
    ``integer=True``, non-integral values.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Real, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number, got {value!r} of type {type(value).__name__}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must be a real number, got nan")
    if interval is not None and value not in interval:
        raise ValueError(f"{name} must lie in {interval}, got {value:g}")
    if integer:
        if value != int(value):
            raise ValueError(f"{name} must be an integer, got {value:g}")
        return int(value)
    return value


@dataclass(frozen=True)
class Param:
    """A named, tunable number: its valid domain and its slider.

    ``low``/``high``/``step``/``default`` describe the slider a reader sees;
    ``domain`` is what the code accepts (wider than the slider, usually).
    ``scale="log"`` asks for a logarithmic slider (learning rates, epsilons).
    """

    name: str
    default: float
    low: float
    high: float
    step: float | None = None
    domain: Interval = Interval()
    scale: str = "linear"
    integer: bool = False
    label: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not (self.low <= self.default <= self.high):
            raise ValueError(
                f"Param {self.name!r}: default {self.default:g} outside slider range [{self.low:g}, {self.high:g}]"
            )
        if self.scale not in ("linear", "log"):
            raise ValueError(f"Param {self.name!r}: scale must be 'linear' or 'log', got {self.scale!r}")
        if self.scale == "log" and self.low <= 0:
            raise ValueError(f"Param {self.name!r}: a log-scale slider needs low > 0, got {self.low:g}")

    @property
    def display(self) -> str:
        """The label shown beside a slider."""
        return self.label or self.name

    def check(self, value) -> float:
        """Validate ``value`` against this parameter's domain (not its slider range)."""
        return check_scalar(self.name, value, self.domain, integer=self.integer)

    def grid(self, n: int | None = None) -> np.ndarray:
        """Values a static (kernel-free) slider steps through.

        With ``n`` given, ``n`` points spread over the slider range (geometric
        for log scale); otherwise the slider's own steps.
        """
        if n is None:
            if self.step is None:
                n = 21
            else:
                n = int(round((self.high - self.low) / self.step)) + 1
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if n == 1:
            return np.array([self.default], dtype=float)
        if self.scale == "log":
            values = np.geomspace(self.low, self.high, n)
        else:
            values = np.linspace(self.low, self.high, n)
        if self.integer:
            values = np.unique(np.round(values))
        return values

    def with_(self, **changes) -> "Param":
        """A copy with some fields changed (a narrower range for one chapter, say)."""
        from dataclasses import replace

        return replace(self, **changes)
