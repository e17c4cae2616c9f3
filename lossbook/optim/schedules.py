r"""Learning-rate schedules: functions of the step :math:`k`, the number of updates already taken.

:math:`k = 0` for the first update, so ``schedule(k)`` is the learning rate of update
:math:`k + 1`; this is the value a ``torch.optim.lr_scheduler`` holds (``get_last_lr()``) when
``scheduler.step()`` is called once after each ``optimizer.step()``.  Pass a schedule as ``lr``
to any optimizer: ``lb.optim.sgd(lb.optim.schedules.cosine(0.1, total_steps=100))``.

Every schedule also takes an integer array of steps and returns an array, for plotting::

    k = np.arange(200)
    plt.plot(k, one_cycle(0.1, 200)(k))

Schedules are closed-form; torch updates most of them recursively, which agrees to rounding.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..params import Interval, check_scalar

__all__ = [
    "SCHEDULES",
    "Schedule",
    "constant",
    "cosine",
    "cosine_restarts",
    "exponential",
    "inverse_time",
    "linear_warmup",
    "one_cycle",
    "step_decay",
]

_POSITIVE = Interval(0.0, math.inf, False, False)
_NONNEGATIVE = Interval(0.0, math.inf, True, False)
_GAMMA = Interval(0.0, 1.0, False, True)
_FRACTION = Interval(0.0, 1.0, True, True)


class Schedule:
    """A learning rate as a function of the step: ``schedule(k)`` is a float, ``schedule(array)`` an array.

    ``name`` and ``settings`` describe the call that made it (and give the ``repr``).
    """

    def __init__(self, name: str, settings: dict, fn: Callable[[np.ndarray], np.ndarray]) -> None:
        self.name = name
        self.settings = dict(settings)
        self._fn = fn

    def __call__(self, step):
        steps = _check_steps(step)
        values = np.asarray(self._fn(steps), dtype=np.float64)
        return float(values) if steps.ndim == 0 else values

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in self.settings.items())})"


def _check_steps(step) -> np.ndarray:
    if isinstance(step, (bool, np.bool_)):
        raise ValueError(f"step must be a non-negative integer, got {step!r}")
    a = np.asarray(step)
    if a.dtype.kind == "b" or a.dtype.kind not in "iuf":
        raise ValueError(f"step must be a non-negative integer or an array of them, got {step!r}")
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise ValueError(f"step must hold integers, got {step!r}")
    if np.any(a < 0):
        raise ValueError(f"step must be non-negative, got {a[a < 0].flat[0]!r}")
    return a.astype(np.int64)


def _evaluate(schedule: Callable, steps: np.ndarray) -> np.ndarray:
    """A schedule at an array of steps, vectorised when it is a :class:`Schedule`."""
    if isinstance(schedule, Schedule):
        return np.asarray(schedule(steps), dtype=np.float64)
    return np.array([float(schedule(int(k))) for k in steps.ravel()], dtype=np.float64).reshape(steps.shape)


def _lr(name: str, value) -> float:
    return check_scalar(name, value, _POSITIVE)


def _steps(name: str, value, low: int = 1) -> int:
    return check_scalar(name, value, Interval(low, math.inf, True, False), integer=True)


def _min_lr(min_lr, lr: float) -> float:
    return check_scalar("min_lr", min_lr, Interval(0.0, lr, True, True))


def _cosine_between(high: float, low: float, fraction: np.ndarray) -> np.ndarray:
    return low + (high - low) * (1.0 + np.cos(np.pi * fraction)) / 2.0


def constant(lr: float) -> Schedule:
    r""":math:`\eta_k = \eta`."""
    lr = _lr("lr", lr)
    return Schedule("constant", {"lr": lr}, lambda k: np.full(k.shape, lr))


def step_decay(lr: float, step_size: int, gamma: float = 0.1) -> Schedule:
    r""":math:`\eta_k = \eta\, \gamma^{\lfloor k / s \rfloor}`: multiply by :math:`\gamma` every :math:`s` steps.

    torch's ``StepLR``.
    """
    lr = _lr("lr", lr)
    step_size = _steps("step_size", step_size)
    gamma = check_scalar("gamma", gamma, _GAMMA)
    return Schedule(
        "step_decay", {"lr": lr, "step_size": step_size, "gamma": gamma},
        lambda k: lr * gamma ** (k // step_size).astype(np.float64),
    )


def exponential(lr: float, gamma: float) -> Schedule:
    r""":math:`\eta_k = \eta\, \gamma^k` (torch ``ExponentialLR``)."""
    lr = _lr("lr", lr)
    gamma = check_scalar("gamma", gamma, _GAMMA)
    return Schedule("exponential", {"lr": lr, "gamma": gamma}, lambda k: lr * gamma ** k.astype(np.float64))


def inverse_time(lr: float, decay_rate: float, decay_steps: float = 1) -> Schedule:
    r""":math:`\eta_k = \eta / (1 + r\, k / s)` (Keras ``InverseTimeDecay``, ``staircase=False``).

    With :math:`s = 1` this is Adagrad's ``lr_decay`` :math:`r`.
    """
    lr = _lr("lr", lr)
    decay_rate = check_scalar("decay_rate", decay_rate, _NONNEGATIVE)
    decay_steps = check_scalar("decay_steps", decay_steps, _POSITIVE)
    return Schedule(
        "inverse_time", {"lr": lr, "decay_rate": decay_rate, "decay_steps": decay_steps},
        lambda k: lr / (1.0 + decay_rate * k / decay_steps),
    )


def cosine(lr: float, total_steps: int, min_lr: float = 0.0) -> Schedule:
    r"""Half a cosine from :math:`\eta` down to :math:`\eta_{\min}` over :math:`T` steps (torch ``CosineAnnealingLR``):

    .. math::
        \eta_k = \eta_{\min} + \tfrac12(\eta - \eta_{\min})\bigl(1 + \cos(\pi \min(k, T) / T)\bigr).

    After :math:`T` steps it stays at :math:`\eta_{\min}`; torch's scheduler would climb back up.
    """
    lr = _lr("lr", lr)
    total_steps = _steps("total_steps", total_steps)
    min_lr = _min_lr(min_lr, lr)
    return Schedule(
        "cosine", {"lr": lr, "total_steps": total_steps, "min_lr": min_lr},
        lambda k: _cosine_between(lr, min_lr, np.minimum(k, total_steps) / total_steps),
    )


def cosine_restarts(lr: float, period: int, period_mult: int = 1, min_lr: float = 0.0) -> Schedule:
    r"""Cosine annealing with warm restarts, SGDR (torch ``CosineAnnealingWarmRestarts``):

    .. math::
        \eta_k = \eta_{\min} + \tfrac12(\eta - \eta_{\min})\bigl(1 + \cos(\pi\, T_{\text{cur}} / T_i)\bigr),

    where cycle :math:`i` lasts :math:`T_i = T_0 m^i` steps (``period`` :math:`T_0`, integer
    ``period_mult`` :math:`m`) and :math:`T_{\text{cur}}` counts the steps since the last restart.
    """
    lr = _lr("lr", lr)
    period = _steps("period", period)
    period_mult = _steps("period_mult", period_mult)
    min_lr = _min_lr(min_lr, lr)

    def fn(k: np.ndarray) -> np.ndarray:
        if period_mult == 1:
            return _cosine_between(lr, min_lr, (k % period) / period)
        starts, length = [0], period  # the first step of each cycle, exact in integers
        while starts[-1] <= (int(k.max()) if k.size else 0):
            starts.append(starts[-1] + length)
            length *= period_mult
        cycle = np.searchsorted(np.array(starts, dtype=np.int64), k, side="right") - 1
        lengths = period * np.power(float(period_mult), cycle)
        return _cosine_between(lr, min_lr, (k - np.array(starts, dtype=np.int64)[cycle]) / lengths)

    return Schedule(
        "cosine_restarts", {"lr": lr, "period": period, "period_mult": period_mult, "min_lr": min_lr}, fn
    )


def linear_warmup(schedule_or_lr, warmup_steps: int, start_factor: float = 1.0 / 3.0) -> Schedule:
    r"""Ramp linearly from ``start_factor`` times the target up to it over :math:`W` steps, then hand over.

    .. math::
        \eta_k = \begin{cases}
            \bigl(f + (1 - f)\, k / W\bigr)\, s(0) & k < W \\
            s(k - W) & k \ge W
        \end{cases}

    for a schedule :math:`s`, which starts its own count when the warmup ends (a number
    :math:`\eta` is the constant schedule).  For a number this is torch's ``LinearLR(start_factor=f,
    total_iters=W)``; for a schedule, torch's ``SequentialLR`` of ``LinearLR`` and that schedule
    with the milestone :math:`W`.  The default :math:`f = 1/3` is torch's.
    """
    inner = schedule_or_lr if callable(schedule_or_lr) else constant(_lr("schedule_or_lr", schedule_or_lr))
    warmup_steps = _steps("warmup_steps", warmup_steps, low=0)
    start_factor = check_scalar("start_factor", start_factor, _FRACTION)

    def fn(k: np.ndarray) -> np.ndarray:
        ramp = k < warmup_steps
        out = np.empty(k.shape)
        if np.any(ramp):
            target = _evaluate(inner, np.zeros((), np.int64))
            out[ramp] = (start_factor + (1.0 - start_factor) * k[ramp] / warmup_steps) * target
        if not np.all(ramp):
            out[~ramp] = _evaluate(inner, k[~ramp] - warmup_steps)
        return out

    return Schedule(
        "linear_warmup", {"schedule_or_lr": schedule_or_lr if callable(schedule_or_lr) else inner.settings["lr"],
                          "warmup_steps": warmup_steps, "start_factor": start_factor}, fn,
    )


def one_cycle(
    max_lr: float, total_steps: int, pct_start: float = 0.3, div_factor: float = 25.0,
    final_div_factor: float = 1e4, anneal: str = "cos",
) -> Schedule:
    r"""The one-cycle policy (Smith), torch's ``OneCycleLR`` with ``three_phase=False``.

    From :math:`\eta_0 = \eta_{\max}/\text{div\_factor}` up to :math:`\eta_{\max}` by step
    :math:`p T - 1`, then down to :math:`\eta_0 / \text{final\_div\_factor}` at step :math:`T - 1`;
    each phase follows half a cosine (``anneal="cos"``) or a straight line (``"linear"``).
    After :math:`T - 1` the rate stays at its final value (torch refuses further steps).
    Momentum cycling (torch's ``cycle_momentum``) is not part of a learning-rate schedule.
    """
    max_lr = _lr("max_lr", max_lr)
    total_steps = _steps("total_steps", total_steps, low=2)
    pct_start = check_scalar("pct_start", pct_start, Interval(0.0, 1.0, False, False))
    div_factor = check_scalar("div_factor", div_factor, _POSITIVE)
    final_div_factor = check_scalar("final_div_factor", final_div_factor, _POSITIVE)
    if anneal not in ("cos", "linear"):
        raise ValueError(f"anneal must be 'cos' or 'linear', got {anneal!r}")
    peak = float(pct_start * total_steps) - 1.0  # the step at which the rate peaks (torch's end of phase one)
    if peak <= 0:
        raise ValueError(
            f"pct_start * total_steps must exceed 1 so the warm-up phase has a step, got "
            f"pct_start={pct_start:g}, total_steps={total_steps}"
        )
    initial = max_lr / div_factor
    final = initial / final_div_factor
    end = total_steps - 1.0

    def go(start: float, stop: float, fraction: np.ndarray) -> np.ndarray:
        if anneal == "cos":
            return stop + (start - stop) / 2.0 * (np.cos(np.pi * fraction) + 1.0)
        return (stop - start) * fraction + start

    def fn(k: np.ndarray) -> np.ndarray:
        up = k <= peak
        return np.where(
            up,
            go(initial, max_lr, np.minimum(k, peak) / peak),
            go(max_lr, final, np.clip((k - peak) / (end - peak), 0.0, 1.0)),
        )

    return Schedule(
        "one_cycle",
        {"max_lr": max_lr, "total_steps": total_steps, "pct_start": pct_start, "div_factor": div_factor,
         "final_div_factor": final_div_factor, "anneal": anneal},
        fn,
    )


#: Every schedule factory by name.
SCHEDULES: dict[str, Callable[..., Schedule]] = {
    f.__name__: f
    for f in (constant, step_decay, exponential, inverse_time, cosine, cosine_restarts, linear_warmup, one_cycle)
}
