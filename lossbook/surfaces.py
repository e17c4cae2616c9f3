r"""Two-dimensional surfaces to run optimizers on: classic test functions and the loss surfaces of datasets.

Every surface is a :class:`Surface` with exact ``value``, ``grad`` and ``hessian``, vectorised over
points of shape ``(..., 2)``, plus what a figure needs: ``bounds``, the known ``minima`` and
``min_value``, a suggested ``start`` and a ``latex`` caption.

- ``quadratic``: :math:`\tfrac12 (p - c)^\top H (p - c)`,
  :math:`H = R_\theta \operatorname{diag}(\lambda_1, \lambda_2) R_\theta^\top`; minimum :math:`c`, value 0.
- ``rosenbrock``: :math:`(a - x)^2 + b\,(y - x^2)^2`; minimum :math:`(a, a^2)`, value 0.
- ``beale``: :math:`(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2`; minimum :math:`(3, 0.5)`, value 0.
- ``himmelblau``: :math:`(x^2 + y - 11)^2 + (x + y^2 - 7)^2`; four minima, value 0.
- ``rastrigin``: :math:`2A + \sum_{t \in \{x, y\}} (t^2 - A\cos 2\pi t)`; minimum :math:`(0, 0)`, value 0.
- ``booth``: :math:`(x + 2y - 7)^2 + (2x + y - 5)^2`; minimum :math:`(1, 3)`, value 0.
- ``six_hump_camel``: :math:`(4 - 2.1x^2 + x^4/3)\,x^2 + xy + (4y^2 - 4)\,y^2`; minima
  :math:`\pm(0.0898, -0.7127)`, value :math:`-1.0316`.
- ``saddle``: :math:`\tfrac{s}{2}(x^2 - y^2)`; unbounded below, stationary point :math:`(0, 0)`.

:func:`get` builds one by name (``SURFACES`` holds the factories).  :func:`regression` turns a
dataset, a model and any loss of :mod:`lossbook.losses` into the surface of the empirical risk
over the model's two parameters :math:`(w, b)`; :meth:`Surface.minibatch` gives its stochastic
gradients.  Angles are in radians.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Callable, ClassVar

import numpy as np

from . import losses as _losses
from .losses._base import sigmoid
from .params import Interval, check_scalar

__all__ = [
    "SURFACES",
    "EmpiricalRisk",
    "Minibatch",
    "Quadratic",
    "Surface",
    "beale",
    "booth",
    "get",
    "himmelblau",
    "names",
    "quadratic",
    "rastrigin",
    "regression",
    "rosenbrock",
    "saddle",
    "six_hump_camel",
]

_POSITIVE = Interval(0.0, math.inf, False, False)
_NONNEG = Interval(0.0, math.inf)


def _points(x) -> np.ndarray:
    p = np.asarray(x, dtype=np.float64)
    if p.ndim == 0 or p.shape[-1] != 2:
        raise ValueError(f"x must have shape (..., 2): points in the plane, got shape {p.shape}")
    return p


def _stack(parts, shape: tuple) -> np.ndarray:
    """Components (arrays broadcasting to ``shape``, or scalars) stacked along a new last axis."""
    out = np.empty(shape + (len(parts),))
    for i, part in enumerate(parts):
        out[..., i] = part
    return out


def _pair(name: str, value) -> tuple[float, float]:
    if np.shape(value) != (2,):
        raise ValueError(f"{name} must be a pair of numbers, got {value!r}")
    return tuple(check_scalar(f"{name}[{i}]", v) for i, v in enumerate(value))


def _check_bounds(bounds) -> tuple[tuple[float, float], tuple[float, float]]:
    if np.shape(bounds) != (2, 2):
        raise ValueError(f"bounds must be ((xmin, xmax), (ymin, ymax)), got {bounds!r}")
    out = tuple(_pair(f"bounds[{i}]", b) for i, b in enumerate(bounds))
    if not all(lo < hi for lo, hi in out):
        raise ValueError(f"bounds must be increasing on each axis, got {bounds!r}")
    return out


@dataclass(frozen=True, eq=False, repr=False)
class Surface:
    r"""A function of two variables with its exact derivatives and what a figure of it needs.

    ``f(x, y)``, ``df(x, y) -> (f_x, f_y)`` and ``d2f(x, y) -> (f_xx, f_xy, f_yy)`` work on
    arrays of coordinates; :meth:`value`, :meth:`grad` and :meth:`hessian` wrap them for points
    of shape ``(..., 2)``.  Without ``d2f`` the Hessian is taken by central differences of
    ``df``.  ``minima`` holds the known global minimizers (shape ``(k, 2)``, empty when there are
    none), ``stationary`` other stationary points worth marking (a saddle).  ``risk`` is set
    for the loss surface of a dataset (see :func:`regression`).
    """

    name: str
    f: Callable
    df: Callable
    bounds: tuple
    start: np.ndarray
    d2f: Callable | None = None
    minima: np.ndarray = ()
    min_value: float | None = None
    stationary: np.ndarray = ()
    latex: str = ""
    settings: dict = field(default_factory=dict)
    risk: "EmpiricalRisk | None" = None

    dim: ClassVar[int] = 2

    def __post_init__(self) -> None:
        def set_(name, value):
            object.__setattr__(self, name, value)

        set_("bounds", _check_bounds(self.bounds))
        set_("start", np.array(_pair("start", self.start)))
        for name in ("minima", "stationary"):
            points = np.array(getattr(self, name), dtype=np.float64).reshape(-1, 2)
            points.setflags(write=False)
            set_(name, points)
        self.start.setflags(write=False)
        if self.min_value is not None:
            set_("min_value", float(self.min_value))

    def __repr__(self) -> str:
        args = [repr(self.name)] + [f"{k}={v!r}" for k, v in self.settings.items()]
        return f"{type(self).__name__}({', '.join(args)})"

    def value(self, x) -> np.ndarray:
        """:math:`f` at points ``x`` of shape ``(..., 2)``; shape ``(...)``."""
        p = _points(x)
        return np.broadcast_to(self.f(p[..., 0], p[..., 1]), p.shape[:-1]).astype(np.float64)[()]

    def grad(self, x) -> np.ndarray:
        r""":math:`\nabla f` at points ``x`` of shape ``(..., 2)``; shape ``(..., 2)``."""
        p = _points(x)
        return _stack(self.df(p[..., 0], p[..., 1]), p.shape[:-1])

    def hessian(self, x) -> np.ndarray:
        r""":math:`\nabla^2 f` at points ``x`` of shape ``(..., 2)``; shape ``(..., 2, 2)``.

        Exact when the surface has ``d2f``; otherwise central differences of the exact gradient
        with step :math:`10^{-5}\max(1, |x_j|)`, symmetrised.
        """
        p = _points(x)
        if self.d2f is not None:
            fxx, fxy, fyy = self.d2f(p[..., 0], p[..., 1])
            return _stack((fxx, fxy, fxy, fyy), p.shape[:-1]).reshape(p.shape + (2,))
        h = 1e-5 * np.maximum(1.0, np.abs(p))
        columns = []
        for j in range(2):
            e = np.zeros_like(p)
            e[..., j] = h[..., j]
            columns.append((self.grad(p + e) - self.grad(p - e)) / (2.0 * h[..., j, None]))
        H = np.stack(columns, axis=-1)
        return 0.5 * (H + np.swapaxes(H, -1, -2))

    def grid(self, n: int = 160) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(X, Y, Z)``: an ``n`` by ``n`` meshgrid over ``bounds`` and the values on it, for contour plots."""
        n = check_scalar("n", n, Interval(2, math.inf), integer=True)
        (x0, x1), (y0, y1) = self.bounds
        X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        return X, Y, self.value(np.stack([X, Y], axis=-1))

    def minibatch(self, batch_size: int, seed: int = 0, replace: bool = False) -> "Minibatch":
        """This dataset surface with stochastic gradients: see :class:`Minibatch`."""
        if self.risk is None:
            raise ValueError(
                f"minibatch needs the loss surface of a dataset (lossbook.surfaces.regression); "
                f"{self.name!r} has no data"
            )
        return Minibatch(self, batch_size, seed=seed, replace=replace)


# ---------------------------------------------------------------------------
# Quadratic bowls
# ---------------------------------------------------------------------------


def _rotated(eigenvalues, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    R = np.array([[c, -s], [s, c]])
    return R @ np.diag(eigenvalues) @ R.T


class Quadratic(Surface):
    r"""A convex quadratic :math:`\tfrac12 (p - c)^\top H (p - c)`; see :func:`quadratic`."""

    @property
    def eigenvalues(self) -> np.ndarray:
        r""":math:`(\lambda_1, \lambda_2)`, in the order given (the first belongs to the direction at ``angle``)."""
        return np.array(self.settings["eigenvalues"])

    @property
    def center(self) -> np.ndarray:
        """The minimizer :math:`c`."""
        return np.array(self.settings["center"])

    @property
    def H(self) -> np.ndarray:
        r"""The Hessian :math:`R_\theta \operatorname{diag}(\lambda_1, \lambda_2) R_\theta^\top`."""
        return _rotated(self.eigenvalues, self.settings["angle"])

    @property
    def condition_number(self) -> float:
        r""":math:`\kappa = \lambda_{\max} / \lambda_{\min}`; gradient descent needs steps in proportion to it."""
        return float(self.eigenvalues.max() / self.eigenvalues.min())


def quadratic(eigenvalues=(1.0, 10.0), angle: float = 0.0, center=(0.0, 0.0)) -> Quadratic:
    r"""A convex quadratic bowl, :math:`f(p) = \tfrac12 (p - c)^\top H (p - c)`.

    :math:`H = R_\theta \operatorname{diag}(\lambda_1, \lambda_2) R_\theta^\top`, where
    :math:`R_\theta` rotates by ``angle`` radians: :math:`\lambda_1` is the curvature along
    :math:`(\cos\theta, \sin\theta)`, :math:`\lambda_2` across it.  Both eigenvalues must be
    positive.  The only minimum is :math:`c`, value 0; ``condition_number`` is
    :math:`\lambda_{\max}/\lambda_{\min}`.  Bounds are :math:`c \pm 2`; ``start`` is
    :math:`c + R_\theta(-1.5, 1)`, off both axes of the ellipses so gradient descent zigzags.
    """
    eig = _pair("eigenvalues", eigenvalues)
    for i, lam in enumerate(eig):
        check_scalar(f"eigenvalues[{i}]", lam, _POSITIVE)
    angle = check_scalar("angle", angle)
    cx, cy = _pair("center", center)
    c, s = math.cos(angle), math.sin(angle)
    (hxx, hxy), (_, hyy) = _rotated(eig, angle)

    def f(x, y):
        dx, dy = x - cx, y - cy
        return 0.5 * (hxx * dx * dx + 2.0 * hxy * dx * dy + hyy * dy * dy)

    def df(x, y):
        dx, dy = x - cx, y - cy
        return hxx * dx + hxy * dy, hxy * dx + hyy * dy

    return Quadratic(
        "quadratic", f, df, bounds=((cx - 2.0, cx + 2.0), (cy - 2.0, cy + 2.0)),
        start=(cx - 1.5 * c - s, cy - 1.5 * s + c), d2f=lambda x, y: (hxx, hxy, hyy),
        minima=[(cx, cy)], min_value=0.0,
        latex=r"\tfrac12 (p - c)^\top R_\theta \operatorname{diag}(\lambda_1, \lambda_2) R_\theta^\top (p - c)",
        settings={"eigenvalues": eig, "angle": angle, "center": (cx, cy)},
    )


# ---------------------------------------------------------------------------
# Sums of squares: f = sum_k r_k^2, so grad = 2 sum r_k grad r_k, Hessian = 2 sum (grad r_k grad r_k^T + r_k Hess r_k)
# ---------------------------------------------------------------------------


def _sum_of_squares(residuals: Callable) -> tuple[Callable, Callable, Callable]:
    """``f, df, d2f`` of :math:`\\sum_k r_k^2` from ``residuals(x, y)``: tuples ``(r, r_x, r_y, r_xx, r_xy, r_yy)``."""

    def f(x, y):
        return sum(r * r for r, *_ in residuals(x, y))

    def df(x, y):
        terms = residuals(x, y)
        return (2.0 * sum(r * rx for r, rx, *_ in terms), 2.0 * sum(r * ry for r, _, ry, *_ in terms))

    def d2f(x, y):
        terms = residuals(x, y)
        return (
            2.0 * sum(rx * rx + r * rxx for r, rx, _, rxx, _, _ in terms),
            2.0 * sum(rx * ry + r * rxy for r, rx, ry, _, rxy, _ in terms),
            2.0 * sum(ry * ry + r * ryy for r, _, ry, _, _, ryy in terms),
        )

    return f, df, d2f


def _polished(surface: Surface, steps: int = 8) -> Surface:
    """``surface`` with its approximate minima refined by Newton steps, and ``min_value`` theirs."""
    p = surface.minima
    for _ in range(steps):
        p = p - np.linalg.solve(surface.hessian(p), surface.grad(p)[..., None])[..., 0]
    return replace(surface, minima=p, min_value=surface.value(p[0]))


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Surface:
    r"""Rosenbrock's banana valley, :math:`f = (a - x)^2 + b\,(y - x^2)^2`, with ``b > 0``.

    Global minimum :math:`(a, a^2)`, value 0, at the end of a long curved valley along
    :math:`y = x^2`: easy to find, slow to follow.  Starts at :math:`(-1.2a, a)` (for
    :math:`a = 1` the classic :math:`(-1.2, 1)`, Rosenbrock 1960).
    """
    a = check_scalar("a", a)
    b = check_scalar("b", b, _POSITIVE)
    rb = math.sqrt(b)
    f, df, d2f = _sum_of_squares(lambda x, y: (
        (a - x, -1.0, 0.0, 0.0, 0.0, 0.0),
        (rb * (y - x * x), -2.0 * rb * x, rb, -2.0 * rb, 0.0, 0.0),
    ))
    s = 2.0 * max(1.0, abs(a))
    return Surface(
        "rosenbrock", f, df, bounds=((-s, s), (-0.5 * s, 0.75 * s * s)), start=(-1.2 * (a or 1.0), a),
        d2f=d2f, minima=[(a, a * a)], min_value=0.0, latex=r"(a - x)^2 + b\,(y - x^2)^2",
        settings={"a": a, "b": b},
    )


_BEALE = _sum_of_squares(lambda x, y: (
    (1.5 - x + x * y, y - 1.0, x, 0.0, 1.0, 0.0),
    (2.25 - x + x * y**2, y**2 - 1.0, 2.0 * x * y, 0.0, 2.0 * y, 2.0 * x),
    (2.625 - x + x * y**3, y**3 - 1.0, 3.0 * x * y**2, 0.0, 3.0 * y**2, 6.0 * x * y),
))


def beale() -> Surface:
    r"""Beale's function, :math:`f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2`.

    Global minimum :math:`(3, 0.5)`, value 0, in a narrow curved valley; steep walls for
    :math:`|y| > 1` and a flat plateau near :math:`x = 0`.  Bounds :math:`[-4.5, 4.5]^2`.
    """
    return Surface(
        "beale", *_BEALE[:2], bounds=((-4.5, 4.5), (-4.5, 4.5)), start=(1.0, 1.5), d2f=_BEALE[2],
        minima=[(3.0, 0.5)], min_value=0.0,
        latex=r"(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
    )


_HIMMELBLAU = _sum_of_squares(lambda x, y: (
    (x * x + y - 11.0, 2.0 * x, 1.0, 2.0, 0.0, 0.0),
    (x + y * y - 7.0, 1.0, 2.0 * y, 0.0, 0.0, 2.0),
))


def himmelblau() -> Surface:
    r"""Himmelblau's function, :math:`f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2`.

    Four global minima, all of value 0: :math:`(3, 2)`, :math:`(-2.8051, 3.1313)`,
    :math:`(-3.7793, -3.2832)`, :math:`(3.5844, -1.8481)` (refined to double precision by
    Newton's method); a local maximum near :math:`(-0.27, -0.92)`.  Which minimum an
    optimizer reaches depends on where it starts and on its momentum: from the suggested start
    :math:`(0, 0)` gradient descent ends at :math:`(3, 2)`, heavy-ball momentum elsewhere.
    Bounds :math:`[-5, 5]^2`.
    """
    return _polished(Surface(
        "himmelblau", *_HIMMELBLAU[:2], bounds=((-5.0, 5.0), (-5.0, 5.0)), start=(0.0, 0.0), d2f=_HIMMELBLAU[2],
        minima=[(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)],
        latex=r"(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
    ))


_BOOTH = _sum_of_squares(lambda x, y: (
    (x + 2.0 * y - 7.0, 1.0, 2.0, 0.0, 0.0, 0.0),
    (2.0 * x + y - 5.0, 2.0, 1.0, 0.0, 0.0, 0.0),
))


def booth() -> Surface:
    r"""Booth's function, :math:`f = (x + 2y - 7)^2 + (2x + y - 5)^2`: a convex quadratic.

    Global minimum :math:`(1, 3)`, value 0; Hessian :math:`\begin{pmatrix}10 & 8\\ 8 & 10\end{pmatrix}`,
    eigenvalues 2 and 18.  Bounds :math:`[-10, 10]^2`.
    """
    return Surface(
        "booth", *_BOOTH[:2], bounds=((-10.0, 10.0), (-10.0, 10.0)), start=(-7.0, -6.0), d2f=_BOOTH[2],
        minima=[(1.0, 3.0)], min_value=0.0, latex=r"(x + 2y - 7)^2 + (2x + y - 5)^2",
    )


# ---------------------------------------------------------------------------
# Surfaces that are not sums of squares
# ---------------------------------------------------------------------------


def rastrigin(A: float = 10.0) -> Surface:
    r"""Rastrigin's function, :math:`f = 2A + \sum_{t \in \{x, y\}} \bigl(t^2 - A\cos(2\pi t)\bigr)`, ``A >= 0``.

    Global minimum :math:`(0, 0)`, value 0, amid a lattice of local minima near the integer
    points.  Bounds :math:`[-5.12, 5.12]^2`.
    """
    A = check_scalar("A", A, _NONNEG)
    tau = 2.0 * math.pi

    def f(x, y):
        return 2.0 * A + x * x - A * np.cos(tau * x) + y * y - A * np.cos(tau * y)

    def df(x, y):
        return 2.0 * x + tau * A * np.sin(tau * x), 2.0 * y + tau * A * np.sin(tau * y)

    def d2f(x, y):
        return 2.0 + tau * tau * A * np.cos(tau * x), 0.0, 2.0 + tau * tau * A * np.cos(tau * y)

    return Surface(
        "rastrigin", f, df, bounds=((-5.12, 5.12), (-5.12, 5.12)), start=(2.6, -2.2), d2f=d2f,
        minima=[(0.0, 0.0)], min_value=0.0, latex=r"2A + \sum_{t \in \{x, y\}} \left(t^2 - A\cos 2\pi t\right)",
        settings={"A": A},
    )


def _camel(x, y):
    return (4.0 - 2.1 * x**2 + x**4 / 3.0) * x**2 + x * y + (4.0 * y**2 - 4.0) * y**2


def _camel_grad(x, y):
    return 8.0 * x - 8.4 * x**3 + 2.0 * x**5 + y, x - 8.0 * y + 16.0 * y**3


def _camel_hessian(x, y):
    return 8.0 - 25.2 * x**2 + 10.0 * x**4, 1.0, -8.0 + 48.0 * y**2


def six_hump_camel() -> Surface:
    r"""The six-hump camel function, :math:`f = (4 - 2.1x^2 + x^4/3)\,x^2 + xy + (4y^2 - 4)\,y^2`.

    Six local minima; the two global ones are :math:`\pm(0.08984, -0.71266)`, value
    :math:`-1.0316284534898774` (refined to double precision by Newton's method).  Bounds
    :math:`[-2, 2] \times [-1, 1]`, where all six minima lie.
    """
    return _polished(Surface(
        "six_hump_camel", _camel, _camel_grad, bounds=((-2.0, 2.0), (-1.0, 1.0)), start=(-1.5, -0.6),
        d2f=_camel_hessian, minima=[(0.0898, -0.7126), (-0.0898, 0.7126)],
        latex=r"\left(4 - 2.1x^2 + \tfrac{x^4}{3}\right)x^2 + xy + \left(4y^2 - 4\right)y^2",
    ))


def saddle(scale: float = 1.0) -> Surface:
    r"""A saddle, :math:`f = \tfrac{s}{2}(x^2 - y^2)` with ``scale`` :math:`s > 0`.

    Unbounded below, so no minima (``min_value`` is None); its stationary point
    :math:`(0, 0)` is in ``stationary``.  It starts at :math:`(-1.5, 0.01)`, just off the
    stable direction: gradient descent slides towards the saddle and only slowly escapes.
    """
    s = check_scalar("scale", scale, _POSITIVE)
    return Surface(
        "saddle", lambda x, y: 0.5 * s * (x * x - y * y), lambda x, y: (s * x, -s * y),
        bounds=((-2.0, 2.0), (-2.0, 2.0)), start=(-1.5, 0.01), d2f=lambda x, y: (s, 0.0, -s),
        stationary=[(0.0, 0.0)], latex=r"\tfrac{s}{2}\left(x^2 - y^2\right)", settings={"scale": s},
    )


#: Every named surface by name; each value is its factory.
SURFACES: dict[str, Callable[..., Surface]] = {
    "quadratic": quadratic,
    "rosenbrock": rosenbrock,
    "beale": beale,
    "himmelblau": himmelblau,
    "rastrigin": rastrigin,
    "booth": booth,
    "six_hump_camel": six_hump_camel,
    "saddle": saddle,
}


def names() -> list[str]:
    """The names :func:`get` accepts, in registry order."""
    return list(SURFACES)


def get(name: str, **kwargs) -> Surface:
    """The surface ``name`` built with ``kwargs``: ``get("rosenbrock", b=10)``."""
    if name not in SURFACES:
        raise ValueError(f"unknown surface name {name!r}; known names: {', '.join(SURFACES)}")
    return SURFACES[name](**kwargs)


# ---------------------------------------------------------------------------
# The loss surface of a dataset
# ---------------------------------------------------------------------------

MODELS = ("linear", "logistic")
_CHUNK = 1 << 20  # entries of the (points, examples) prediction array evaluated at once


class EmpiricalRisk:
    r"""The empirical risk of a one-feature model as a function of its parameters :math:`(w, b)`.

    .. math::
        L(w, b) = \ell\bigl(y, \; w x + b\bigr)

    with ``y`` and ``w x + b`` passed to the loss as arrays of length :math:`n`, so an
    elementwise loss (every regression loss, binary cross-entropy) averages over the examples:
    :math:`L = \frac1n \sum_i \ell(y_i, w x_i + b)`.  The gradient is exact, by the chain rule:
    :math:`\partial L/\partial w = \sum_i g_i x_i`, :math:`\partial L/\partial b = \sum_i g_i`
    with :math:`g_i = \partial L / \partial \hat y_i`.  The methods take coordinate arrays
    ``w, b`` of any (common) shape and, optionally, the indices of a minibatch.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, loss: _losses.Loss, model: str) -> None:
        self.x, self.y, self.loss, self.model = x, y, loss, model
        self.n = x.size

    def __repr__(self) -> str:
        return f"EmpiricalRisk(n={self.n}, loss={self.loss!r}, model={self.model!r})"

    def _map(self, fn: Callable, w, b, idx) -> np.ndarray:
        """``fn(x, y, z)`` over chunks of the points, ``z`` the predictions, shape (points, examples).

        Points whose predictions overflow get NaN, so a diverging run reads as diverged.
        """
        x, y = (self.x, self.y) if idx is None else (self.x[idx], self.y[idx])
        w, b = np.broadcast_arrays(np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64))
        shape, w, b = w.shape, w.reshape(-1), b.reshape(-1)
        size = max(1, _CHUNK // x.size)
        parts = []
        for s in range(0, w.size, size):
            with np.errstate(over="ignore", invalid="ignore"):
                z = w[s:s + size, None] * x + b[s:s + size, None]
            bad = ~np.isfinite(z).all(axis=-1)
            z[bad] = 0.0
            part = fn(x, y, z)
            part[bad] = np.nan
            parts.append(part)
        out = np.concatenate(parts)
        return out.reshape(shape + out.shape[1:])

    def value(self, w, b, idx=None) -> np.ndarray:
        """:math:`L(w, b)` on all examples or on those in ``idx``."""
        return self._map(lambda x, y, z: self.loss.per_sample(np.broadcast_to(y, z.shape), z), w, b, idx)

    def grad(self, w, b, idx=None) -> tuple[np.ndarray, np.ndarray]:
        r""":math:`(\partial L/\partial w, \partial L/\partial b)` on all examples or on those in ``idx``."""
        def chain(x, y, z):
            g = self.loss.pointwise_grad(np.broadcast_to(y, z.shape), z)
            if self.loss.elementwise:  # the per-sample value is the mean over the examples
                g = g / z.shape[-1]
            return np.stack([g @ x, g.sum(axis=-1)], -1)

        g = self._map(chain, w, b, idx)
        return g[..., 0], g[..., 1]

    def curvature(self) -> Callable | None:
        r""":math:`d^2\ell/d\hat y^2` per example as a function of ``(y, z)``, where it is known in closed form.

        Mean squared error: 2.  Binary cross-entropy on logits without class weights:
        :math:`\sigma(z)(1 - \sigma(z))` (label smoothing does not change it).  None otherwise.
        """
        loss = self.loss
        if isinstance(loss, _losses.MeanSquaredError):
            return lambda y, z: np.full(z.shape, 2.0)
        if isinstance(loss, _losses.BinaryCrossentropy) and loss.from_logits and loss.class_weight is None:
            return lambda y, z: sigmoid(z) * sigmoid(-z)
        return None

    def hessian(self, w, b) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r"""Exact :math:`(L_{ww}, L_{wb}, L_{bb}) = \frac1n \sum_i \ell''_i\,(x_i^2, x_i, 1)` (needs :meth:`curvature`)."""
        second = self.curvature()

        def entries(x, y, z):
            c = second(y, z) / z.shape[-1]
            return np.stack([c @ (x * x), c @ x, c.sum(axis=-1)], -1)

        h = self._map(entries, w, b, None)
        return h[..., 0], h[..., 1], h[..., 2]


def _resolve_loss(loss, model: str) -> _losses.Loss:
    if loss is None:
        loss = "mse" if model == "linear" else "binary_crossentropy"
    instance = _losses.get(loss)
    if model == "logistic" and getattr(instance, "from_logits", True) is False:
        if isinstance(loss, _losses.Loss):
            raise ValueError(
                f"loss {loss!r} expects probabilities, but model='logistic' outputs logits w x + b; "
                f"pass {type(loss).__name__}(from_logits=True)"
            )
        instance = type(instance)(from_logits=True)
    return instance


def _minimize(f: Callable, g: Callable, hessian: Callable, centre: np.ndarray, radius: float,
              steps: int = 500) -> np.ndarray:
    """Minimizer of a convex ``f`` in the disc of ``radius`` around ``centre``.

    The ellipsoid method needs only a (sub)gradient, so it also finds the minimum of a kinked
    surface (mean absolute error); a few Newton steps then settle a smooth one to double precision.
    """
    x, P = centre.copy(), radius**2 * np.eye(2)
    best, f_best = x, f(x)
    for _ in range(steps):
        gx = g(x)
        Pg = P @ gx
        gPg = float(gx @ Pg)
        if not gPg > 1e-300:
            break
        d = Pg / math.sqrt(gPg)
        x = x - d / 3.0
        P = 4.0 / 3.0 * (P - 2.0 / 3.0 * np.outer(d, d))
        fx = f(x)
        if fx < f_best:
            best, f_best = x, fx
    x, fx, gx = best, f_best, g(best)
    for _ in range(20):
        try:
            step = np.linalg.solve(hessian(x), gx)
        except np.linalg.LinAlgError:
            break
        x_new = x - step
        f_new, g_new = f(x_new), g(x_new)
        # near the minimum f is flat to rounding, so a smaller gradient also counts as progress
        if not (f_new < fx or (f_new <= fx + 1e-14 * abs(fx) and np.linalg.norm(g_new) < np.linalg.norm(gx))):
            break
        x, fx, gx = x_new, f_new, g_new
    return x


def regression(x, y, loss=None, model: str = "linear", *, bounds=None, start=None) -> Surface:
    r"""The loss surface of a dataset over the parameters :math:`(w, b)` of a one-feature model.

    .. math::
        L(w, b) = \frac1n \sum_{i=1}^n \ell\bigl(y_i,\; w x_i + b\bigr)

    - ``model="linear"``: the prediction is :math:`w x_i + b`; ``loss`` is any loss of
      :mod:`lossbook.losses`, a name or an instance (default ``"mse"``).
    - ``model="logistic"``: ``y`` holds 0/1 labels and :math:`w x_i + b` is a logit; the default
      loss (``None`` or ``"binary_crossentropy"``) is ``BinaryCrossentropy(from_logits=True)``,
      a loss named by a string gets ``from_logits=True``, and a loss instance that expects
      probabilities is refused.  Margin losses (hinge) take the logit as the score.

    The loss is applied once to the whole vectors ``y`` and :math:`w x + b`, so its value is
    exactly ``loss(y, w * x + b)`` (an elementwise loss averages over the :math:`n` examples).
    ``grad`` is exact (chain rule through the loss's own derivative); ``hessian`` is exact for
    mean squared error and for binary cross-entropy on logits, and central differences of the
    gradient otherwise.  ``minima`` is the least-squares solution for mean squared error;
    for any other loss a minimizer found at construction by the ellipsoid method (which needs
    only subgradients, so kinks such as the mean absolute error's are fine) followed by
    Newton steps; it is empty, with ``min_value`` None, if the minimum is not attained
    (separable classes).  ``bounds`` default to the square of half-width
    :math:`2\max(1, |w^*|, |b^*|)` around the minimizer :math:`(w^*, b^*)`; ``start`` to the
    point :math:`(-0.75, -0.6)` half-widths away from it.
    """
    x = _as_vector("x", x)
    y = _as_vector("y", y)
    if x.size != y.size:
        raise ValueError(f"x and y must have the same length, got {x.size} and {y.size}")
    if np.ptp(x) == 0:
        raise ValueError("x must hold at least two distinct values, or (w, b) is not identifiable")
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(map(repr, MODELS))}, got {model!r}")
    if model == "logistic" and not np.all((y == 0) | (y == 1)):
        raise ValueError("y must hold 0/1 labels for model='logistic'")
    loss = _resolve_loss(loss, model)
    risk = EmpiricalRisk(x, y, loss, model)
    kind = "logit" if model == "logistic" else "prediction"
    surface = Surface(
        f"{model} model, {loss.name}", risk.value, risk.grad, bounds=((-1.0, 1.0), (-1.0, 1.0)), start=(0.0, 0.0),
        d2f=risk.hessian if risk.curvature() is not None else None,
        latex=(
            rf"L(w, b) = \frac{{1}}{{n}}\sum_{{i=1}}^{{n}} \ell(y_i, \hat y_i),\ "
            rf"\hat y_i = w x_i + b\ \text{{({kind})}},\ \ell(y, \hat y) = {loss.latex}"
        ),
        settings={"n": x.size, "loss": loss, "model": model}, risk=risk,
    )

    lstsq = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)[0]
    if isinstance(loss, _losses.MeanSquaredError):
        best = lstsq
    else:
        centre = lstsq if model == "linear" else np.zeros(2)
        sx, sy = float(np.std(x)), max(float(np.std(y)), 1e-12)
        radius = 100.0 * (1.0 + float(np.abs(centre).max()) + (sy + abs(float(np.mean(x)))) / sx)
        best = _minimize(surface.value, surface.grad, surface.hessian, centre, radius)
        if np.linalg.norm(best - centre) > 0.99 * radius:
            best = None
    where = lstsq if best is None else best
    if bounds is None:
        h = 2.0 * max(1.0, float(np.abs(where).max()))
        bounds = ((where[0] - h, where[0] + h), (where[1] - h, where[1] + h))
    bounds = _check_bounds(bounds)
    if start is None:
        (x0, x1), (y0, y1) = bounds
        start = (where[0] - 0.375 * (x1 - x0), where[1] - 0.3 * (y1 - y0))
    return replace(
        surface, bounds=bounds, start=start, minima=() if best is None else [best],
        min_value=None if best is None else surface.value(best),
    )


def _as_vector(name: str, a) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


# ---------------------------------------------------------------------------
# Stochastic gradients
# ---------------------------------------------------------------------------


class Minibatch:
    r"""A dataset surface whose gradient is that of the loss on the next minibatch.

    ``value(x)`` is the full-data loss (for plotting and reporting); ``grad(x)`` draws the next
    batch and returns :math:`\nabla L_B(x)`, the gradient of the loss on the examples of the batch
    :math:`B` only.  Without replacement, each epoch is a fresh permutation of the :math:`n`
    examples cut into consecutive batches of ``batch_size`` (the last one smaller when
    ``batch_size`` does not divide :math:`n`), as PyTorch's shuffled ``DataLoader`` does; with
    replacement every batch is ``batch_size`` independent uniform draws.  The sampler is
    seeded: :meth:`reset` restarts it, so two runs after ``reset()`` see the same batches.

    ``step`` counts the batches drawn since the last reset, ``epoch`` the completed epochs
    (``step // batches_per_epoch``, with ``batches_per_epoch`` :math:`= \lceil n / \text{batch\_size} \rceil`),
    ``batch`` holds the indices of the latest batch.  ``bounds``, ``minima``, ``min_value``,
    ``start``, ``name``, ``latex``, ``stationary``, ``dim`` and ``grid`` are the surface's.
    """

    _FORWARDED = ("name", "bounds", "minima", "min_value", "start", "latex", "stationary", "dim", "grid", "risk")

    def __init__(self, surface: Surface, batch_size: int, seed: int = 0, replace: bool = False) -> None:
        n = surface.risk.n
        if not isinstance(replace, (bool, np.bool_)):
            raise ValueError(f"replace must be True or False, got {replace!r}")
        self.replace = bool(replace)
        top = math.inf if self.replace else n
        self.batch_size = check_scalar("batch_size", batch_size, Interval(1, top), integer=True)
        self.seed = check_scalar("seed", seed, _NONNEG, integer=True)
        self.surface = surface
        self.batches_per_epoch = -(-n // self.batch_size)
        self.reset()

    def __getattr__(self, name: str):
        if name in Minibatch._FORWARDED:
            return getattr(self.surface, name)
        raise AttributeError(f"'Minibatch' object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"Minibatch({self.surface!r}, batch_size={self.batch_size}, seed={self.seed}, replace={self.replace})"

    @property
    def epoch(self) -> int:
        return self.step // self.batches_per_epoch

    def reset(self) -> None:
        """Restart the sampler: the next batches are those of a fresh object with the same seed."""
        self._rng = np.random.default_rng(self.seed)
        self._order = np.arange(0)
        self.step = 0
        self.batch: np.ndarray | None = None

    def next_batch(self) -> np.ndarray:
        """Indices of the next minibatch (advances the sampler)."""
        n, k = self.surface.risk.n, self.batch_size
        if self.replace:
            batch = self._rng.integers(0, n, size=k)
        else:
            i = self.step % self.batches_per_epoch
            if i == 0:
                self._order = self._rng.permutation(n)
            batch = self._order[i * k:(i + 1) * k]
        self.step += 1
        self.batch = batch
        return batch

    def value(self, x) -> np.ndarray:
        """The full-data loss at ``x`` (does not advance the sampler)."""
        return self.surface.value(x)

    def grad(self, x) -> np.ndarray:
        """The gradient at ``x`` (shape ``(..., 2)``) of the loss on the next minibatch; one batch for all points."""
        p = _points(x)
        return _stack(self.surface.risk.grad(p[..., 0], p[..., 1], self.next_batch()), p.shape[:-1])
