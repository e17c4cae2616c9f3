r"""Run an optimizer on an objective and keep the whole path: :func:`run` and :class:`Trajectory`.

An objective is anything with ``value(x)`` and ``grad(x)`` for a point ``x`` of shape ``(dim,)``:
a surface of :mod:`lossbook.surfaces`, the loss of a model over a dataset, a small class in a test.
If it has ``reset()``, :func:`run` calls it first, so a stochastic objective replays the
same minibatches on every run.  If it has ``value_and_grad(x) -> (value, grad)``, :func:`run`
uses that instead, once per step, for objectives that share work between the two.

A run that blows up stops quietly (no RuntimeWarning) and says so: ``diverged=True``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..params import Interval, check_scalar
from .transforms import GradientTransformation, apply_updates, check_flag

__all__ = ["Trajectory", "run"]


@dataclass(frozen=True, eq=False)
class Trajectory:
    r"""The path of a run: iterates :math:`\theta_0, \dots, \theta_k` and their objective values.

    ``points`` has shape ``(k + 1, dim)`` with the start first; ``values`` has length ``k + 1``;
    ``states`` (with ``keep_state=True``) holds the optimizer state beside each point, the
    initial state first; ``diverged`` says the run stopped early because it blew up.  Then
    ``k`` (``steps``) is smaller than requested, or the last point lies outside the bound.
    """

    points: np.ndarray
    values: np.ndarray
    states: list | None
    diverged: bool

    @property
    def steps(self) -> int:
        """The number of updates taken, ``len(points) - 1``."""
        return len(self.points) - 1

    @property
    def final(self) -> np.ndarray:
        """The last point reached."""
        return self.points[-1]

    def __repr__(self) -> str:
        end = np.array2string(self.final, precision=4, separator=", ")
        status = ", diverged" if self.diverged else ""
        return f"Trajectory(steps={self.steps}, final={end}, value={self.values[-1]:.4g}{status})"


def _check_objective(objective: Any) -> None:
    missing = [m for m in ("value", "grad") if not callable(getattr(objective, m, None))]
    if missing:
        raise TypeError(
            f"objective must have callable value(x) and grad(x) methods; {type(objective).__name__} "
            f"lacks {' and '.join(missing)}"
        )


def _start(objective: Any, x0) -> tuple[np.ndarray, float, np.ndarray]:
    try:
        x = np.array(x0, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"x0 must be a 1-D array of real numbers: {err}") from None
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x0 must be a non-empty 1-D array, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x0 must be finite, got {x}")
    dim = getattr(objective, "dim", None)
    if isinstance(dim, (int, np.integer)) and x.size != dim:
        raise ValueError(f"x0 has {x.size} coordinates but the objective takes points of dimension {dim}")
    with np.errstate(all="ignore"):
        value = np.asarray(objective.value(x.copy()), dtype=np.float64)
        grad = np.asarray(objective.grad(x.copy()), dtype=np.float64)
    if value.shape not in ((), (1,)):
        raise ValueError(f"objective.value(x0) must be a number, got an array of shape {value.shape}")
    if grad.shape != x.shape:
        raise ValueError(
            f"objective.grad(x0) has shape {grad.shape} but x0 has shape {x.shape}: "
            "x0 must have the dimension the objective accepts"
        )
    if not (np.isfinite(value).all() and np.isfinite(grad).all()):
        raise ValueError(f"the objective's value or gradient at x0 = {x} is not finite")
    return x, float(value.reshape(())), grad


def run(
    optimizer: GradientTransformation, objective: Any, x0, steps: int, *, bound: float = 1e6,
    keep_state: bool = False,
) -> Trajectory:
    r"""Take up to ``steps`` updates of ``optimizer`` from ``x0`` on ``objective``.

    Each step is :math:`u, s \leftarrow \text{update}(\nabla f(\theta), s, \theta)`,
    :math:`\theta \leftarrow \theta + u`.  The run stops early, with ``diverged=True``, when a
    gradient, point or value stops being finite or :math:`\max_i |\theta_i| >` ``bound``.  A
    point that is not finite is left out of the path; a finite point beyond the bound is the last one kept.
    """
    if not isinstance(optimizer, GradientTransformation):
        raise TypeError(
            f"optimizer must be a GradientTransformation (e.g. lb.optim.sgd(0.1)), got {type(optimizer).__name__}"
        )
    _check_objective(objective)
    steps = check_scalar("steps", steps, Interval(0, math.inf, True, False), integer=True)
    bound = check_scalar("bound", bound, Interval(0.0, math.inf, False, True))
    keep_state = check_flag("keep_state", keep_state)
    reset = getattr(objective, "reset", None)
    if callable(reset):
        reset()
    x, value, grad = _start(objective, x0)

    state = optimizer.init(x.copy())
    points, values = [x], [value]
    states = [state] if keep_state else None
    diverged = False
    # An objective that computes both at once (``value_and_grad(x) -> (value, grad)``) is asked once per step.
    both = getattr(objective, "value_and_grad", None)
    both = both if callable(both) else None
    with np.errstate(all="ignore"):
        for k in range(steps):
            if k > 0 and both is None:
                grad = np.asarray(objective.grad(x.copy()), dtype=np.float64)
            if not np.all(np.isfinite(grad)):
                diverged = True
                break
            updates, state = optimizer.update(grad, state, x.copy())
            x = apply_updates(x, updates)
            if not np.all(np.isfinite(x)):
                diverged = True
                break
            if both is None:
                value = objective.value(x.copy())
            else:
                value, grad = both(x.copy())
                grad = np.asarray(grad, dtype=np.float64)
            value = float(np.asarray(value, dtype=np.float64).reshape(()))
            points.append(x)
            values.append(value)
            if keep_state:
                states.append(state)
            if not math.isfinite(value) or np.max(np.abs(x)) > bound:
                diverged = True
                break
    return Trajectory(np.array(points), np.array(values), states, diverged)
