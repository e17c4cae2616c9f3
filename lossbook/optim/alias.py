r"""The named optimizers, each a :func:`~lossbook.optim.transforms.chain` of small transforms.

``print(adamw(1e-3))`` shows where AdamW differs from Adam::

    chain(
        scale_by_adam(beta1=0.9, beta2=0.999, eps=1e-08, amsgrad=False),
        add_decayed_weights(weight_decay=0.01),
        scale_by_learning_rate(lr=0.001),
    )

Only the parts a setting switches on appear: ``sgd(0.1)`` is the single step
``scale_by_learning_rate(lr=0.1)``; ``weight_decay > 0`` puts :func:`add_l2` in front.
Every optimizer reproduces the ``torch.optim`` class of the same name, step for step, with
``lr`` a number or a schedule (:mod:`lossbook.optim.schedules`).

The registry :data:`OPTIMIZERS` maps each name to its factory.  Each factory declares its
numeric hyperparameters as :class:`~lossbook.params.Param` objects in ``factory.params``
(valid domains, and slider ranges: ``lr`` on a log scale); :func:`params_of` looks them up by
name.  Flags (``nesterov``, ``amsgrad``, ``centered``) are not sliders and are not listed.
"""
from __future__ import annotations

from typing import Callable

from ..params import Param
from .schedules import inverse_time
from .transforms import (
    DAMPENING,
    DECAY,
    NONNEGATIVE,
    POSITIVE,
    GradientTransformation,
    StepFn,
    add_decayed_weights,
    add_l2,
    chain,
    check_flag,
    check_lr,
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
]

#: Every optimizer factory by name; ``OPTIMIZERS[name].params`` are its hyperparameters.
OPTIMIZERS: dict[str, Callable[..., GradientTransformation]] = {}


def _register(*params: Param):
    def decorate(factory):
        factory.params = tuple(params)
        OPTIMIZERS[factory.__name__] = factory
        return factory

    return decorate


# Hyperparameters as data: the domain each value must lie in, and the slider a reader moves.
def _lr(default: float, high: float = 1.0) -> Param:
    return Param("lr", default, 1e-4, high, domain=POSITIVE, scale="log", label="η",
                 description="step size (a number here; the optimizers also take a schedule)")


def _decay(name: str, label: str, default: float, low: float, high: float, step: float, description: str) -> Param:
    return Param(name, default, low, high, step, domain=DECAY, label=label, description=description)


_MOMENTUM = _decay("momentum", "momentum", 0.0, 0.0, 0.99, 0.01, "weight of the previous momentum buffer")
_DAMPENING = Param("dampening", 0.0, 0.0, 1.0, 0.05, domain=DAMPENING, label="τ",
                   description="share of the gradient held back")
_WEIGHT_DECAY = Param("weight_decay", 0.0, 0.0, 0.1, 0.005, domain=NONNEGATIVE, label="λ",
                      description="coupled L2 penalty: adds λθ to the gradient")
_BETA1 = _decay("beta1", "β₁", 0.9, 0.0, 0.99, 0.01, "decay of the first-moment average")
_BETA2 = _decay("beta2", "β₂", 0.999, 0.9, 0.999, 0.009, "decay of the second-moment average")


def _eps(default: float) -> Param:
    return Param("eps", default, 1e-12, 1e-1, domain=POSITIVE, scale="log", label="ε",
                 description="added to the denominator")


def _checked(factory, values: dict) -> dict:
    """``values`` validated against the factory's declared domains (one path for every optimizer)."""
    out = dict(values)
    for p in factory.params:
        if p.name == "lr":
            out["lr"] = check_lr(values["lr"])
        else:
            out[p.name] = p.check(values[p.name])
    return out


def _l2(weight_decay: float) -> tuple[GradientTransformation, ...]:
    return (add_l2(weight_decay),) if weight_decay > 0 else ()


@_register(_lr(0.01), _MOMENTUM, _DAMPENING, _WEIGHT_DECAY)
def sgd(lr: float | StepFn, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0,
        dampening: float = 0.0) -> GradientTransformation:
    r"""Stochastic gradient descent, with optional momentum, as ``torch.optim.SGD``:

    .. math::
        g_t \leftarrow g_t + \lambda\theta_t, \qquad b_t = \mu b_{t-1} + (1-\tau) g_t \ (b_1 = g_1), \qquad
        \theta_{t+1} = \theta_t - \eta\, b_t \quad (\text{Nesterov: } \theta_t - \eta(g_t + \mu b_t)).

    ``chain(add_l2(weight_decay), trace(momentum, dampening, nesterov), scale_by_learning_rate(lr))``,
    the first two only when switched on.
    """
    v = _checked(sgd, locals())
    heavy_ball = trace(v["momentum"], v["dampening"], nesterov)  # checks nesterov even when momentum is 0
    parts = _l2(v["weight_decay"]) + ((heavy_ball,) if v["momentum"] > 0 else ())
    return chain(*parts, scale_by_learning_rate(v["lr"]))


@_register(_lr(0.01), _eps(1e-10),
           Param("initial_accumulator_value", 0.0, 0.0, 1.0, 0.05, domain=NONNEGATIVE,
                 description="starting value of the sum of squared gradients"),
           _WEIGHT_DECAY,
           Param("lr_decay", 0.0, 0.0, 0.1, 0.005, domain=NONNEGATIVE, label="δ",
                 description="the k-th update uses lr / (1 + k lr_decay)"))
def adagrad(lr: float | StepFn, eps: float = 1e-10, initial_accumulator_value: float = 0.0,
            weight_decay: float = 0.0, lr_decay: float = 0.0) -> GradientTransformation:
    r"""Adagrad, as ``torch.optim.Adagrad``:

    .. math::
        G_t = G_{t-1} + g_t^2, \qquad
        \theta_{t+1} = \theta_t - \frac{\eta}{1 + (t-1)\,\delta}\, \frac{g_t}{\sqrt{G_t} + \epsilon}

    with ``lr_decay`` :math:`\delta`.  ``chain(add_l2, scale_by_rss, scale_by_schedule(inverse_time(1, δ)),
    scale_by_learning_rate)``; the decay is an inverse-time schedule.
    """
    v = _checked(adagrad, locals())
    parts = _l2(v["weight_decay"]) + (scale_by_rss(v["initial_accumulator_value"], v["eps"]),)
    if v["lr_decay"] > 0:
        parts += (scale_by_schedule(inverse_time(1.0, v["lr_decay"])),)
    return chain(*parts, scale_by_learning_rate(v["lr"]))


@_register(_lr(0.01), _decay("alpha", "α", 0.99, 0.9, 0.999, 0.009, "decay of the mean of squared gradients"),
           _eps(1e-8), _MOMENTUM, _WEIGHT_DECAY)
def rmsprop(lr: float | StepFn, alpha: float = 0.99, eps: float = 1e-8, momentum: float = 0.0,
            centered: bool = False, weight_decay: float = 0.0) -> GradientTransformation:
    r"""RMSprop, as ``torch.optim.RMSprop``:

    .. math::
        v_t = \alpha v_{t-1} + (1-\alpha) g_t^2, \qquad d_t = \frac{g_t}{\sqrt{v_t} + \epsilon}, \qquad
        b_t = \mu b_{t-1} + d_t, \qquad \theta_{t+1} = \theta_t - \eta\, b_t.

    torch's momentum buffer collects the *scaled* gradients and the learning rate multiplies the
    buffer, so momentum is :func:`trace` between the scaling and the step:
    ``chain(add_l2, scale_by_rms, trace(momentum), scale_by_learning_rate)``.
    """
    v = _checked(rmsprop, locals())
    parts = _l2(v["weight_decay"]) + (scale_by_rms(v["alpha"], v["eps"], check_flag("centered", centered)),)
    if v["momentum"] > 0:
        parts += (trace(v["momentum"]),)
    return chain(*parts, scale_by_learning_rate(v["lr"]))


@_register(_lr(1.0, high=10.0), _decay("rho", "ρ", 0.9, 0.5, 0.99, 0.01, "decay of both running averages"),
           _eps(1e-6), _WEIGHT_DECAY)
def adadelta(lr: float | StepFn = 1.0, rho: float = 0.9, eps: float = 1e-6,
             weight_decay: float = 0.0) -> GradientTransformation:
    r"""Adadelta, as ``torch.optim.Adadelta``: :func:`scale_by_adadelta` followed by the step :math:`-\eta\, d_t`.

    Zeiler's method has no learning rate; torch's ``lr`` (default 1) multiplies the step,
    while the running average of squared steps collects the unscaled :math:`d_t`.
    """
    v = _checked(adadelta, locals())
    return chain(*_l2(v["weight_decay"]), scale_by_adadelta(v["rho"], v["eps"]), scale_by_learning_rate(v["lr"]))


@_register(_lr(0.001), _BETA1, _BETA2, _eps(1e-8), _WEIGHT_DECAY)
def adam(lr: float | StepFn, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
         amsgrad: bool = False, weight_decay: float = 0.0) -> GradientTransformation:
    r"""Adam, as ``torch.optim.Adam``:

    .. math::
        \theta_{t+1} = \theta_t - \frac{\eta}{1-\beta_1^t}\, \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}.

    ``chain(add_l2, scale_by_adam, scale_by_learning_rate)``: ``weight_decay`` here is the coupled
    L2 penalty, which passes through the adaptive scaling; see :func:`adamw` for the decoupled one.
    """
    v = _checked(adam, locals())
    return chain(*_l2(v["weight_decay"]),
                 scale_by_adam(v["beta1"], v["beta2"], v["eps"], check_flag("amsgrad", amsgrad)),
                 scale_by_learning_rate(v["lr"]))


@_register(_lr(0.002), _BETA1, _BETA2, _eps(1e-8), _WEIGHT_DECAY)
def adamax(lr: float | StepFn, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
           weight_decay: float = 0.0) -> GradientTransformation:
    r"""Adamax, as ``torch.optim.Adamax``:

    .. math::
        u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon), \qquad
        \theta_{t+1} = \theta_t - \frac{\eta}{1-\beta_1^t}\, \frac{m_t}{u_t}.
    """
    v = _checked(adamax, locals())
    return chain(*_l2(v["weight_decay"]), scale_by_adamax(v["beta1"], v["beta2"], v["eps"]),
                 scale_by_learning_rate(v["lr"]))


@_register(_lr(0.001), _BETA1, _BETA2, _eps(1e-8),
           _WEIGHT_DECAY.with_(default=0.01,
                               description="decoupled decay: the step shrinks θ by the factor 1 - ηλ"))
def adamw(lr: float | StepFn, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
          weight_decay: float = 0.01, amsgrad: bool = False) -> GradientTransformation:
    r"""AdamW, as ``torch.optim.AdamW``: Adam with decoupled weight decay.

    .. math::
        \theta_{t+1} = (1 - \eta\lambda)\,\theta_t - \frac{\eta}{1-\beta_1^t}\, \frac{m_t}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}.

    ``chain(scale_by_adam, add_decayed_weights, scale_by_learning_rate)``: compared with
    :func:`adam`, the decay moves from before the adaptive scaling to after it.
    """
    v = _checked(adamw, locals())
    return chain(scale_by_adam(v["beta1"], v["beta2"], v["eps"], check_flag("amsgrad", amsgrad)),
                 add_decayed_weights(v["weight_decay"]), scale_by_learning_rate(v["lr"]))


@_register(_lr(0.002), _BETA1, _BETA2, _eps(1e-8),
           Param("momentum_decay", 0.004, 0.0, 0.02, 0.001, domain=NONNEGATIVE, label="ψ",
                 description="μ_t = β1 (1 - 0.96^(tψ) / 2)"),
           _WEIGHT_DECAY)
def nadam(lr: float | StepFn, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
          momentum_decay: float = 0.004, weight_decay: float = 0.0) -> GradientTransformation:
    r"""NAdam, as ``torch.optim.NAdam``: Adam with Nesterov momentum and a warming momentum schedule.

    ``chain(add_l2, scale_by_nadam, scale_by_learning_rate)``; the update rule is in :func:`scale_by_nadam`.
    """
    v = _checked(nadam, locals())
    return chain(*_l2(v["weight_decay"]),
                 scale_by_nadam(v["beta1"], v["beta2"], v["eps"], v["momentum_decay"]),
                 scale_by_learning_rate(v["lr"]))


def params_of(name: str) -> tuple[Param, ...]:
    """The declared hyperparameters of optimizer ``name``: ``OPTIMIZERS[name].params``."""
    return _factory(name).params


def _factory(name: str):
    if not isinstance(name, str):
        raise TypeError(f"an optimizer name must be a string, got {name!r} of type {type(name).__name__}")
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; known names: {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name]


def get(name: str, **hyper) -> GradientTransformation:
    """The optimizer ``name`` with hyperparameters ``hyper``; ``lr`` defaults to its declared default.

    ``get("adam", lr=0.01, beta1=0.8)`` is ``adam(0.01, beta1=0.8)``.
    """
    factory = _factory(name)
    if "lr" not in hyper:
        hyper["lr"] = next(p.default for p in factory.params if p.name == "lr")
    return factory(**hyper)

