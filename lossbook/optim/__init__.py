r"""Optimizers composed from small pure transforms, step for step equal to ``torch.optim``.

>>> import lossbook as lb
>>> opt = lb.optim.adamw(1e-3)
>>> print(opt)
chain(
    scale_by_adam(beta1=0.9, beta2=0.999, eps=1e-08, amsgrad=False),
    add_decayed_weights(weight_decay=0.01),
    scale_by_learning_rate(lr=0.001),
)

An optimizer is a :class:`GradientTransformation`, a pair of pure functions
``init(params) -> state`` and ``update(grads, state, params) -> (updates, state)``; a step is
``params = apply_updates(params, updates)``.  The modules:

- :mod:`~lossbook.optim.transforms`: the pieces (:func:`add_l2`, :func:`trace`,
  :func:`scale_by_adam`, ..., :func:`scale_by_learning_rate`) and :func:`chain`;
- :mod:`~lossbook.optim.alias`: the eight named optimizers (:func:`sgd`, :func:`adagrad`,
  :func:`rmsprop`, :func:`adadelta`, :func:`adam`, :func:`adamax`, :func:`adamw`, :func:`nadam`),
  the registry :data:`OPTIMIZERS`, :func:`get` and :func:`params_of` (their hyperparameters as
  :class:`~lossbook.params.Param` objects, also at ``OPTIMIZERS[name].params``);
- :mod:`~lossbook.optim.schedules`: learning rates as functions of the step, accepted as ``lr``;
- :mod:`~lossbook.optim.run`: :func:`run` an optimizer on an objective, giving a :class:`Trajectory`;
- :mod:`~lossbook.optim.theory`: the rates linear theory predicts on a quadratic.
"""
from __future__ import annotations

from . import schedules, theory
from .alias import OPTIMIZERS, adadelta, adagrad, adam, adamax, adamw, get, nadam, params_of, rmsprop, sgd
from .run import Trajectory, run
from .schedules import SCHEDULES, Schedule
from .theory import gd_rate, gd_stability_limit, momentum_rate, optimal_momentum, optimal_step
from .transforms import (
    EmptyState,
    GradientTransformation,
    ScaleByAdadeltaState,
    ScaleByAdamaxState,
    ScaleByAdamState,
    ScaleByNadamState,
    ScaleByRmsState,
    ScaleByRssState,
    ScaleByScheduleState,
    TraceState,
    add_decayed_weights,
    add_l2,
    apply_updates,
    chain,
    scale_by_adadelta,
    scale_by_adam,
    scale_by_adamax,
    scale_by_learning_rate,
    scale_by_nadam,
    scale_by_rms,
    scale_by_rss,
    scale_by_schedule,
    trace,
)

__all__ = [
    # optimizers and their registry
    "OPTIMIZERS",
    "adadelta",
    "adagrad",
    "adam",
    "adamax",
    "adamw",
    "get",
    "nadam",
    "params_of",
    "rmsprop",
    "sgd",
    # transforms and composition
    "GradientTransformation",
    "add_decayed_weights",
    "add_l2",
    "apply_updates",
    "chain",
    "scale_by_adadelta",
    "scale_by_adam",
    "scale_by_adamax",
    "scale_by_learning_rate",
    "scale_by_nadam",
    "scale_by_rms",
    "scale_by_rss",
    "scale_by_schedule",
    "trace",
    # their states
    "EmptyState",
    "ScaleByAdadeltaState",
    "ScaleByAdamState",
    "ScaleByAdamaxState",
    "ScaleByNadamState",
    "ScaleByRmsState",
    "ScaleByRssState",
    "ScaleByScheduleState",
    "TraceState",
    # schedules
    "SCHEDULES",
    "Schedule",
    "schedules",
    # running
    "Trajectory",
    "run",
    # theory
    "gd_rate",
    "gd_stability_limit",
    "momentum_rate",
    "optimal_momentum",
    "optimal_step",
    "theory",
]
