r"""Gradient transformations: the small pure pieces every optimizer is composed of.

A :class:`GradientTransformation` is a pair of pure functions,

- ``init(params) -> state``, and
- ``update(grads, state, params) -> (updates, new_state)``,

that never modify their arguments.  An optimizer is a :func:`chain` of them, and a step is
:func:`apply_updates`: :math:`\theta \leftarrow \theta + u`.  The last link of every optimizer in
this book is :func:`scale_by_learning_rate`, which turns a direction into a step
:math:`u = -\eta\, d`; everything before it shapes the direction :math:`d`.

Each transform keeps its state in a NamedTuple defined right beside it.  The conventions
are those of ``torch.optim`` (where :math:`\epsilon` sits, how momentum is dampened, how
moments are bias-corrected); each docstring says where they differ from other libraries.
"""
from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import numpy as np

from ..params import Interval, check_scalar

__all__ = [
    "GradientTransformation",
    "EmptyState",
    "TraceState",
    "ScaleByRssState",
    "ScaleByRmsState",
    "ScaleByAdadeltaState",
    "ScaleByAdamState",
    "ScaleByAdamaxState",
    "ScaleByNadamState",
    "ScaleByScheduleState",
    "chain",
    "apply_updates",
    "add_l2",
    "add_decayed_weights",
    "trace",
    "scale_by_rss",
    "scale_by_rms",
    "scale_by_adadelta",
    "scale_by_adam",
    "scale_by_adamax",
    "scale_by_nadam",
    "scale_by_schedule",
    "scale_by_learning_rate",
]

#: A learning rate schedule: any function of the number of updates already taken.
StepFn = Callable[[int], float]

# Domains shared by the transforms and the optimizers built from them.
POSITIVE = Interval(0.0, math.inf, False, False)
NONNEGATIVE = Interval(0.0, math.inf, True, False)
DECAY = Interval(0.0, 1.0, True, False)  # betas, momentum, alpha, rho: [0, 1)
DAMPENING = Interval(0.0, 1.0, True, True)


class GradientTransformation(NamedTuple):
    """An optimizer or a piece of one: ``init(params) -> state``, ``update(grads, state, params) -> (updates, state)``.

    Both functions are pure: they return new arrays and leave their arguments untouched.
    """

    init: Callable[[np.ndarray], Any]
    update: Callable[[np.ndarray, Any, np.ndarray | None], tuple[np.ndarray, Any]]


class _Described(GradientTransformation):
    """A :class:`GradientTransformation` that knows the call that made it, for ``repr`` and ``print``.

    ``name`` and ``settings`` give ``scale_by_adam(beta1=0.9, ...)``; a chain keeps its ``parts``.
    It is still a plain ``(init, update)`` pair for everything else.
    """

    def __new__(cls, init, update, name: str, settings: dict | None = None, parts: tuple = ()):
        self = super().__new__(cls, init, update)
        self.name = name
        self.settings = dict(settings or {})
        self.parts = tuple(parts)
        return self

    def __getnewargs__(self):  # so copies and pickles keep the description
        return self.init, self.update, self.name, self.settings, self.parts

    def __repr__(self) -> str:
        if self.name == "chain":
            return f"chain({', '.join(map(repr, self.parts))})"
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in self.settings.items())})"

    def __str__(self) -> str:
        if self.name != "chain" or not self.parts:
            return repr(self)
        inner = ",\n".join("    " + str(p).replace("\n", "\n    ") for p in self.parts)
        return f"chain(\n{inner},\n)"


# ---------------------------------------------------------------------------
# Shared checks
# ---------------------------------------------------------------------------


def check_flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_lr(lr, name: str = "lr"):
    """A positive float, or a schedule (any callable ``step -> lr``) returned as is."""
    if callable(lr):
        return lr
    return check_scalar(name, lr, POSITIVE)


def _as_array(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _need_params(params, name: str) -> np.ndarray:
    if params is None:
        raise ValueError(f"{name} needs the current params: call update(grads, state, params)")
    return _as_array(params)


# ---------------------------------------------------------------------------
# Composition
# ---------------------------------------------------------------------------


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    r"""Apply ``transforms`` one after the other: the updates of one are the gradients of the next.

    The state is the tuple of the parts' states.  ``print(chain(...))`` lists the parts one per line.
    """
    for i, t in enumerate(transforms):
        if not isinstance(t, GradientTransformation):
            raise TypeError(
                f"chain takes GradientTransformations; argument {i} is {t!r} of type {type(t).__name__}"
            )

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(grads, state, params=None):
        if len(state) != len(transforms):
            raise ValueError(f"chain of {len(transforms)} transforms got a state of length {len(state)}")
        updates = _as_array(grads).copy()
        new_state = []
        for t, s in zip(transforms, state):
            updates, s = t.update(updates, s, params)
            new_state.append(s)
        return updates, tuple(new_state)

    return _Described(init, update, "chain", parts=transforms)


def apply_updates(params, updates) -> np.ndarray:
    r"""The new parameters :math:`\theta + u`, as a new array."""
    params, updates = _as_array(params), _as_array(updates)
    if params.shape != updates.shape:
        raise ValueError(f"params have shape {params.shape} but updates have shape {updates.shape}")
    return params + updates


# ---------------------------------------------------------------------------
# Weight decay
# ---------------------------------------------------------------------------


class EmptyState(NamedTuple):
    """The state of a transform that remembers nothing."""


def _add_params(name: str, weight_decay: float) -> GradientTransformation:
    weight_decay = check_scalar("weight_decay", weight_decay, NONNEGATIVE)

    def init(params):
        return EmptyState()

    def update(grads, state, params=None):
        return _as_array(grads) + weight_decay * _need_params(params, name), state

    return _Described(init, update, name, {"weight_decay": weight_decay})


def add_l2(weight_decay: float) -> GradientTransformation:
    r"""Coupled weight decay, the gradient of :math:`\tfrac{\lambda}{2}\|\theta\|^2`: :math:`g \leftarrow g + \lambda\theta`.

    This is ``weight_decay`` of ``torch.optim`` SGD, Adagrad, RMSprop, Adadelta, Adam, Adamax and
    NAdam: it comes *first* in the chain, so the decay term passes through the adaptive scaling
    (in Adam a large :math:`v` also shrinks the decay).  Compare :func:`add_decayed_weights`.
    """
    return _add_params("add_l2", weight_decay)


def add_decayed_weights(weight_decay: float) -> GradientTransformation:
    r"""Decoupled weight decay (AdamW): :math:`u \leftarrow u + \lambda\theta`, placed *after* the adaptive scaling.

    The same arithmetic as :func:`add_l2`; the difference is only its place in the chain.
    Followed by :func:`scale_by_learning_rate` it gives :math:`\theta \leftarrow \theta - \eta(d + \lambda\theta)
    = (1 - \eta\lambda)\theta - \eta d`, torch's ``AdamW`` (the decay is scaled by the learning
    rate, as in torch and optax; Loshchilov and Hutter's paper scales it by the schedule only).
    """
    return _add_params("add_decayed_weights", weight_decay)


# ---------------------------------------------------------------------------
# Momentum
# ---------------------------------------------------------------------------


class TraceState(NamedTuple):
    """``count`` updates taken; ``trace`` the momentum buffer :math:`b` (zeros before the first update)."""

    count: int
    trace: np.ndarray


def trace(momentum: float, dampening: float = 0.0, nesterov: bool = False) -> GradientTransformation:
    r"""Momentum with the buffer of ``torch.optim.SGD``:

    .. math::
        b_1 = g_1, \qquad b_t = \mu\, b_{t-1} + (1 - \tau)\, g_t \quad (t > 1), \qquad
        d_t = \begin{cases} g_t + \mu\, b_t & \text{Nesterov} \\ b_t & \text{otherwise} \end{cases}

    with momentum :math:`\mu` and dampening :math:`\tau`.  The first buffer is the gradient
    itself, undampened (torch's convention); optax's ``trace`` starts from zero, which differs
    only when :math:`\tau \neq 0`.  Followed by :func:`scale_by_learning_rate` this is the heavy
    ball :math:`\theta_{t+1} = \theta_t - \eta g_t + \mu(\theta_t - \theta_{t-1})`
    (see :mod:`lossbook.optim.theory`).  Nesterov needs :math:`\mu > 0` and :math:`\tau = 0`, as in torch.
    """
    momentum = check_scalar("momentum", momentum, DECAY)
    dampening = check_scalar("dampening", dampening, DAMPENING)
    nesterov = check_flag("nesterov", nesterov)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(
            f"nesterov=True requires momentum > 0 and dampening == 0 (as in torch), "
            f"got momentum={momentum:g}, dampening={dampening:g}"
        )

    def init(params):
        return TraceState(0, np.zeros_like(_as_array(params)))

    def update(grads, state, params=None):
        g = _as_array(grads)
        buf = g.copy() if state.count == 0 else momentum * state.trace + (1.0 - dampening) * g
        out = g + momentum * buf if nesterov else buf.copy()
        return out, TraceState(state.count + 1, buf)

    return _Described(init, update, "trace", {"momentum": momentum, "dampening": dampening, "nesterov": nesterov})


# ---------------------------------------------------------------------------
# Adaptive scalings
# ---------------------------------------------------------------------------


class ScaleByRssState(NamedTuple):
    """``sum_of_squares``: the accumulated :math:`G_t = G_0 + \\sum_s g_s^2`."""

    sum_of_squares: np.ndarray


def scale_by_rss(initial_accumulator_value: float = 0.0, eps: float = 1e-10) -> GradientTransformation:
    r"""Adagrad's scaling by the root of the summed squares:

    .. math::
        G_t = G_{t-1} + g_t^2, \qquad d_t = \frac{g_t}{\sqrt{G_t} + \epsilon}, \qquad G_0 = \text{initial\_accumulator\_value}.

    :math:`\epsilon` is added *outside* the square root, as in torch (optax adds it inside).
    """
    initial = check_scalar("initial_accumulator_value", initial_accumulator_value, NONNEGATIVE)
    eps = check_scalar("eps", eps, POSITIVE)

    def init(params):
        return ScaleByRssState(np.full_like(_as_array(params), initial))

    def update(grads, state, params=None):
        g = _as_array(grads)
        total = state.sum_of_squares + g * g
        return g / (np.sqrt(total) + eps), ScaleByRssState(total)

    return _Described(init, update, "scale_by_rss", {"initial_accumulator_value": initial, "eps": eps})


class ScaleByRmsState(NamedTuple):
    """``nu``: the running mean of :math:`g^2`; ``mu``: the running mean of :math:`g` (centered only, else None)."""

    nu: np.ndarray
    mu: np.ndarray | None


def scale_by_rms(alpha: float = 0.99, eps: float = 1e-8, centered: bool = False) -> GradientTransformation:
    r"""RMSprop's scaling by a running root mean square:

    .. math::
        v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2, \qquad d_t = \frac{g_t}{\sqrt{v_t} + \epsilon}, \qquad v_0 = 0.

    Centered, the running mean :math:`m_t = \alpha m_{t-1} + (1-\alpha) g_t` is subtracted:
    :math:`d_t = g_t / (\sqrt{v_t - m_t^2} + \epsilon)`.  No bias correction, and :math:`\epsilon`
    outside the root, as in torch (optax adds it inside).  torch's RMSprop momentum is
    :func:`trace` applied after this transform.
    """
    alpha = check_scalar("alpha", alpha, DECAY)
    eps = check_scalar("eps", eps, POSITIVE)
    centered = check_flag("centered", centered)

    def init(params):
        zeros = np.zeros_like(_as_array(params))
        return ScaleByRmsState(zeros, zeros.copy() if centered else None)

    def update(grads, state, params=None):
        g = _as_array(grads)
        nu = alpha * state.nu + (1.0 - alpha) * g * g
        if centered:
            mu = state.mu + (1.0 - alpha) * (g - state.mu)
            rms = np.sqrt(nu - mu * mu)
        else:
            mu = None
            rms = np.sqrt(nu)
        return g / (rms + eps), ScaleByRmsState(nu, mu)

    return _Described(init, update, "scale_by_rms", {"alpha": alpha, "eps": eps, "centered": centered})


class ScaleByAdadeltaState(NamedTuple):
    """``nu``: running mean of :math:`g^2`; ``delta``: running mean of the squared steps :math:`d^2`."""

    nu: np.ndarray
    delta: np.ndarray


def scale_by_adadelta(rho: float = 0.9, eps: float = 1e-6) -> GradientTransformation:
    r"""Adadelta's unit-correcting scaling:

    .. math::
        v_t = \rho v_{t-1} + (1-\rho) g_t^2, \qquad
        d_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t, \qquad
        u_t = \rho u_{t-1} + (1-\rho) d_t^2,

    with :math:`\epsilon` *inside* both roots.  Zeiler's method has no learning rate; torch
    multiplies :math:`d_t` by ``lr`` (default 1) afterwards, which is :func:`scale_by_learning_rate`
    after this transform.  The running mean :math:`u` collects the unscaled :math:`d_t`.
    """
    rho = check_scalar("rho", rho, DECAY)
    eps = check_scalar("eps", eps, POSITIVE)

    def init(params):
        zeros = np.zeros_like(_as_array(params))
        return ScaleByAdadeltaState(zeros, zeros.copy())

    def update(grads, state, params=None):
        g = _as_array(grads)
        nu = rho * state.nu + (1.0 - rho) * g * g
        d = np.sqrt(state.delta + eps) / np.sqrt(nu + eps) * g
        delta = rho * state.delta + (1.0 - rho) * d * d
        return d, ScaleByAdadeltaState(nu, delta)

    return _Described(init, update, "scale_by_adadelta", {"rho": rho, "eps": eps})


class ScaleByAdamState(NamedTuple):
    """``count`` updates taken; moments ``mu`` (of :math:`g`) and ``nu`` (of :math:`g^2`); ``nu_max`` for AMSGrad, else None."""

    count: int
    mu: np.ndarray
    nu: np.ndarray
    nu_max: np.ndarray | None


def _ema(old: np.ndarray, new: np.ndarray, beta: float) -> np.ndarray:
    """:math:`\\beta\\,\\text{old} + (1-\\beta)\\,\\text{new}`, written as torch's ``lerp``."""
    return old + (1.0 - beta) * (new - old)


def scale_by_adam(
    beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, amsgrad: bool = False
) -> GradientTransformation:
    r"""Adam's bias-corrected scaling by moment estimates:

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \qquad
        d_t = \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t} / \sqrt{1 - \beta_2^t} + \epsilon}.

    :math:`\epsilon` is added after the bias correction of :math:`\sqrt{v_t}` (torch and the
    paper's algorithm box; Keras adds it before, which matters only while :math:`v_t` is tiny).
    With ``amsgrad`` :math:`\sqrt{v_t}` is replaced by :math:`\sqrt{\hat v_t}`, :math:`\hat v_t = \max(\hat v_{t-1}, v_t)`,
    the maximum taken before the bias correction, as in torch.
    """
    beta1 = check_scalar("beta1", beta1, DECAY)
    beta2 = check_scalar("beta2", beta2, DECAY)
    eps = check_scalar("eps", eps, POSITIVE)
    amsgrad = check_flag("amsgrad", amsgrad)

    def init(params):
        zeros = np.zeros_like(_as_array(params))
        return ScaleByAdamState(0, zeros, zeros.copy(), zeros.copy() if amsgrad else None)

    def update(grads, state, params=None):
        g = _as_array(grads)
        t = state.count + 1
        mu = _ema(state.mu, g, beta1)
        nu = beta2 * state.nu + (1.0 - beta2) * g * g
        nu_max = np.maximum(state.nu_max, nu) if amsgrad else None
        denom = np.sqrt(nu_max if amsgrad else nu) / (1.0 - beta2**t) ** 0.5 + eps
        return mu / denom / (1.0 - beta1**t), ScaleByAdamState(t, mu, nu, nu_max)

    return _Described(init, update, "scale_by_adam", {"beta1": beta1, "beta2": beta2, "eps": eps, "amsgrad": amsgrad})


class ScaleByAdamaxState(NamedTuple):
    """``count`` updates taken; ``mu`` the first moment; ``nu`` the exponentially weighted infinity norm."""

    count: int
    mu: np.ndarray
    nu: np.ndarray


def scale_by_adamax(beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    r"""Adamax, Adam with the infinity norm in place of the second moment:

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad u_t = \max(\beta_2 u_{t-1},\ |g_t| + \epsilon), \qquad
        d_t = \frac{m_t}{(1 - \beta_1^t)\, u_t}.

    :math:`\epsilon` sits *inside* the maximum, as in torch (optax and Keras add it to :math:`u_t`).
    """
    beta1 = check_scalar("beta1", beta1, DECAY)
    beta2 = check_scalar("beta2", beta2, DECAY)
    eps = check_scalar("eps", eps, POSITIVE)

    def init(params):
        zeros = np.zeros_like(_as_array(params))
        return ScaleByAdamaxState(0, zeros, zeros.copy())

    def update(grads, state, params=None):
        g = _as_array(grads)
        t = state.count + 1
        mu = _ema(state.mu, g, beta1)
        nu = np.maximum(beta2 * state.nu, np.abs(g) + eps)
        return mu / nu / (1.0 - beta1**t), ScaleByAdamaxState(t, mu, nu)

    return _Described(init, update, "scale_by_adamax", {"beta1": beta1, "beta2": beta2, "eps": eps})


class ScaleByNadamState(NamedTuple):
    """``count`` updates taken; ``mu_product`` :math:`\\prod_{s \\le t} \\mu_s`; moments ``mu`` and ``nu``."""

    count: int
    mu_product: float
    mu: np.ndarray
    nu: np.ndarray


def scale_by_nadam(
    beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, momentum_decay: float = 0.004
) -> GradientTransformation:
    r"""NAdam (Dozat), Adam with Nesterov momentum and torch's momentum schedule:

    .. math::
        \mu_t = \beta_1\bigl(1 - \tfrac12\, 0.96^{\,t\psi}\bigr), \qquad
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,

    .. math::
        d_t = \frac{1}{\sqrt{v_t / (1-\beta_2^t)} + \epsilon}
              \left(\frac{1-\mu_t}{1-\prod_{s\le t}\mu_s}\, g_t + \frac{\mu_{t+1}}{1-\prod_{s\le t+1}\mu_s}\, m_t\right),

    with :math:`\psi` the ``momentum_decay``.  The bias correction of the first moment uses the
    product of the :math:`\mu_s`, not :math:`\beta_1^t`; this is torch's ``NAdam``.  optax's and
    Keras's NAdam differ (no :math:`\mu_t` schedule, or a different one).
    """
    beta1 = check_scalar("beta1", beta1, DECAY)
    beta2 = check_scalar("beta2", beta2, DECAY)
    eps = check_scalar("eps", eps, POSITIVE)
    momentum_decay = check_scalar("momentum_decay", momentum_decay, NONNEGATIVE)

    def mu_at(t: int) -> float:
        return beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))

    def init(params):
        zeros = np.zeros_like(_as_array(params))
        return ScaleByNadamState(0, 1.0, zeros, zeros.copy())

    def update(grads, state, params=None):
        g = _as_array(grads)
        t = state.count + 1
        mu_t, mu_next = mu_at(t), mu_at(t + 1)
        product = state.mu_product * mu_t
        m = _ema(state.mu, g, beta1)
        v = beta2 * state.nu + (1.0 - beta2) * g * g
        denom = np.sqrt(v / (1.0 - beta2**t)) + eps
        d = (1.0 - mu_t) / (1.0 - product) * (g / denom) + mu_next / (1.0 - product * mu_next) * (m / denom)
        return d, ScaleByNadamState(t, product, m, v)

    return _Described(
        init, update, "scale_by_nadam",
        {"beta1": beta1, "beta2": beta2, "eps": eps, "momentum_decay": momentum_decay},
    )


# ---------------------------------------------------------------------------
# Step sizes
# ---------------------------------------------------------------------------


class ScaleByScheduleState(NamedTuple):
    """``count``: updates already taken (0 during the first update)."""

    count: int


def _scale_by(name: str, factor: Callable[[int], float] | float, sign: float, label: str) -> GradientTransformation:
    def init(params):
        return ScaleByScheduleState(0)

    def update(grads, state, params=None):
        value = float(factor(state.count)) if callable(factor) else factor
        return (sign * value) * _as_array(grads), ScaleByScheduleState(state.count + 1)

    return _Described(init, update, name, {label: factor})


def scale_by_schedule(schedule: StepFn) -> GradientTransformation:
    r"""Multiply by :math:`s(k)`, with :math:`k` the number of updates already taken (0 first).

    Adagrad's ``lr_decay`` is this with :func:`lossbook.optim.schedules.inverse_time`.
    """
    if not callable(schedule):
        raise TypeError(f"schedule must be callable (step -> factor), got {schedule!r}")
    return _scale_by("scale_by_schedule", schedule, 1.0, "schedule")


def scale_by_learning_rate(lr: float | StepFn) -> GradientTransformation:
    r"""The step: :math:`u = -\eta_k\, d`, where :math:`\eta_k` is ``lr`` or, for a schedule, ``lr(k)``.

    :math:`k` counts the updates already taken, 0 for the first, exactly as a ``torch.optim.lr_scheduler``
    stepped after each optimizer step.  The minus sign lives here, so every transform before it
    works with descent directions that point uphill, like gradients.
    """
    return _scale_by("scale_by_learning_rate", check_lr(lr), -1.0, "lr")

