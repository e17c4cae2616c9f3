"""Ready-made explorers for the figures the chapters keep needing.

Each is a thin build function handed to :class:`~lossbook.explore.core.Explorer`:

- :func:`loss_curves`: loss against residual or margin, one curve per loss, its parameters as sliders;
- :func:`surface_trajectories`: contours of a surface with the paths of one or several optimizers;
- :func:`loss_vs_step`: the loss of one or several runs against the step;
- :func:`fit_over_data`: a fitted curve or decision boundary over the data.

:class:`TrajectoryArtist` is the piece that shows a run, and shows divergence
instead of crashing: the path stops at the last finite point, the end marker
turns into a cross and the axes say ``diverged at step k``.
"""
from __future__ import annotations

import inspect
from typing import Callable, Mapping, Sequence

import numpy as np

from ..params import Param
from ..plotting import PALETTE
from .core import Explorer

__all__ = ["TrajectoryArtist", "fit_over_data", "loss_curves", "loss_vs_step", "surface_trajectories"]


def _call(fn: Callable, values: Mapping[str, float], *args):
    """Call ``fn(*args, ...)`` with the slider values it names (all of them if it takes ``**kwargs``)."""
    sig = inspect.signature(fn).parameters
    if any(p.kind is p.VAR_KEYWORD for p in sig.values()):
        return fn(*args, **values)
    return fn(*args, **{k: v for k, v in values.items() if k in sig})


def finite_prefix(points: np.ndarray) -> int:
    """Number of leading rows of ``points`` (steps of a run) that are finite."""
    points = np.asarray(points, dtype=float)
    ok = np.isfinite(points.reshape(len(points), -1)).all(axis=1)
    return len(ok) if ok.all() else int(np.argmin(ok))


class TrajectoryArtist:
    """A run drawn on ``ax``: its path, its end point and, if it blew up, ``"<label>: diverged at step k"``.

    ``show(points, diverged)`` takes the iterates :math:`\\theta_0, \\theta_1, \\dots` as rows of
    ``points`` (2 columns for a path in the plane, or ``(step, loss)`` pairs).  The path keeps
    the finite prefix; a run counts as diverged when ``diverged`` is true or a row is not finite,
    and *k* is the first step that is not finite (or the last step of a run flagged as diverged).
    """

    def __init__(self, ax, label: str = "", color: str | None = None, slot: int = 0, markers: bool = True) -> None:
        color = color or PALETTE[slot % len(PALETTE)]
        self.label = label
        (self.path,) = ax.plot([], [], "-", marker="." if markers else None, ms=4, lw=1.8, color=color,
                               label=label or None)
        (self.end,) = ax.plot([], [], "o", ms=7, color=color, mec="white", mew=1.0, zorder=4)
        self.note = ax.text(0.02, 0.97 - 0.08 * slot, "", transform=ax.transAxes, ha="left", va="top",
                            color=color, fontsize=10, zorder=5,
                            bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="none", alpha=0.85))
        self.note.set_visible(False)

    def show(self, points, diverged: bool = False) -> int | None:
        """Draw the run; returns the step at which it diverged, or ``None``."""
        points = np.asarray(points, dtype=float)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"points must have shape (steps, 2), got {points.shape}")
        k = finite_prefix(points)
        blew_up = k < len(points) or bool(diverged)
        good = points[:k]
        self.path.set_data(good[:, 0], good[:, 1])
        self.end.set_data(good[-1:, 0], good[-1:, 1])
        self.end.set_marker("X" if blew_up else "o")
        step = (k if k < len(points) else len(points) - 1) if blew_up else None
        self.note.set_visible(blew_up)
        if blew_up:
            self.note.set_text(f"{self.label + ': ' if self.label else ''}diverged at step {step}")
        return step

    def show_run(self, run) -> int | None:
        """Draw a run of :func:`lossbook.optim.run` (anything with ``.points`` and ``.diverged``)."""
        return self.show(run.points, getattr(run, "diverged", False))


def _merge_params(groups: Sequence[Sequence[Param]]) -> list[Param]:
    merged: dict[str, Param] = {}
    for group in groups:
        for p in group:
            merged.setdefault(p.name, p)
    return list(merged.values())


def loss_curves(
    losses: Sequence, x: tuple[float, float] = (-3.0, 3.0), *, kind: str = "residual",
    ylim: tuple[float, float] | None = None, n: int = 301, params: Sequence[Param] | None = None, **kwargs,
) -> Explorer:
    r"""Loss against residual :math:`r = \hat y - y` (``kind="residual"``: :math:`\ell(0, r)`) or against
    margin :math:`m = y f(x)` (``kind="margin"``: :math:`\ell(1, m)`), one curve per loss.

    Each loss (class or instance) offers its declared ``params`` as sliders and is rebuilt as
    ``type(loss)(**values)`` for each slider position; losses sharing a parameter name share its
    slider.  ``ylim`` defaults to the range of the curves at the defaults.
    """
    if kind not in ("residual", "margin"):
        raise ValueError(f"kind must be 'residual' or 'margin', got {kind!r}")
    classes = [loss if isinstance(loss, type) else type(loss) for loss in losses]
    if not classes:
        raise ValueError("losses must name at least one loss")
    own = [tuple(getattr(c, "params", ())) for c in classes]
    sliders = list(params) if params is not None else _merge_params(own)
    if not sliders:
        raise ValueError("these losses declare no params: pass params=[Param(...)] to have sliders")
    grid = np.linspace(x[0], x[1], n)
    y_true = np.zeros_like(grid) if kind == "residual" else np.ones_like(grid)

    def curve(cls, mine, values):
        return np.asarray(cls(**{p.name: values[p.name] for p in mine}).pointwise(y_true, grid), dtype=float)

    def build(fig):
        ax = fig.add_subplot()
        defaults = {p.name: p.default for p in sliders}
        lines = []
        for i, (cls, mine) in enumerate(zip(classes, own)):
            (line,) = ax.plot(grid, curve(cls, mine, defaults), color=PALETTE[i % len(PALETTE)],
                              label=getattr(cls, "name", cls.__name__))
            lines.append(line)
        top = max(float(np.nanmax(line.get_ydata())) for line in lines)
        ax.set(xlim=x, ylim=ylim or (min(0.0, min(float(np.nanmin(l.get_ydata())) for l in lines)), 1.1 * top),
               xlabel="residual  $\\hat{y} - y$" if kind == "residual" else "margin  $y\\,f(x)$", ylabel="loss")
        ax.legend(loc="upper center")

        def update(**values):
            for line, cls, mine in zip(lines, classes, own):
                line.set_ydata(curve(cls, mine, values))

        return update

    kwargs.setdefault("name", "loss_curves")
    return Explorer(build, sliders, **kwargs)


def _surface_values(surface, n: int):
    (x0, x1), (y0, y1) = np.asarray(surface.bounds, dtype=float)
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    Z = np.asarray(surface.value(np.stack([X, Y], axis=-1)), dtype=float)
    return X, Y, Z, (x0, x1), (y0, y1)


def surface_trajectories(
    surface, runs: Mapping[str, Callable], params: Sequence[Param], *, n: int = 160, levels: int = 25,
    log_levels: bool = True, **kwargs,
) -> Explorer:
    r"""Filled contours of ``surface`` (its ``value`` over its ``bounds``) with the path of every run.

    ``runs`` maps a label to a function of the slider values (those it names) returning a run:
    ``.points`` of shape (steps + 1, 2) and ``.diverged``, e.g.
    ``{"SGD": lambda lr, steps: lb.optim.run(lb.optim.sgd(lr), surface, (-1.5, 2), steps)}``.
    Contours are spaced in :math:`\log(f - \min f + 10^{-3})` when ``log_levels``.
    """
    if not runs:
        raise ValueError("runs must map at least one label to a run function")

    def build(fig):
        ax = fig.add_subplot()
        X, Y, Z, xlim, ylim = _surface_values(surface, n)
        shown = np.log10(Z - np.nanmin(Z) + 1e-3) if log_levels else Z
        ax.contourf(X, Y, shown, levels=levels, cmap="Greys_r", alpha=0.55)
        ax.contour(X, Y, shown, levels=levels, colors="#555555", linewidths=0.4)
        ax.set(xlim=xlim, ylim=ylim, xlabel="$w_1$", ylabel="$w_2$", aspect="auto")
        ax.grid(False)
        paths = [TrajectoryArtist(ax, label, slot=i) for i, label in enumerate(runs)]
        ax.legend(loc="lower right", framealpha=0.9, frameon=True)

        def update(**values):
            for artist, fn in zip(paths, runs.values()):
                artist.show_run(_call(fn, values))

        return update

    kwargs.setdefault("name", "surface_trajectories")
    return Explorer(build, params, **kwargs)


def loss_vs_step(
    runs: Mapping[str, Callable], params: Sequence[Param], *, steps: int, ylim: tuple[float, float],
    log: bool = True, **kwargs,
) -> Explorer:
    """Loss against step for every run (``.values`` of length steps + 1), log scale by default.

    ``steps`` and ``ylim`` fix the axes once, so sliders never rescale them.
    """
    if not runs:
        raise ValueError("runs must map at least one label to a run function")

    def build(fig):
        ax = fig.add_subplot()
        curves = [TrajectoryArtist(ax, label, slot=i, markers=False) for i, label in enumerate(runs)]
        if log:
            ax.set_yscale("log")
        ax.set(xlim=(0, steps), ylim=ylim, xlabel="step", ylabel="loss")
        ax.legend(loc="upper right")

        def update(**values):
            for artist, fn in zip(curves, runs.values()):
                run = _call(fn, values)
                v = np.asarray(run.values, dtype=float)
                if log:
                    v = np.where(v > 0, v, np.nan) if np.isfinite(v).all() else v
                artist.show(np.column_stack([np.arange(len(v)), v]), getattr(run, "diverged", False))

        return update

    kwargs.setdefault("name", "loss_vs_step")
    return Explorer(build, params, **kwargs)


def fit_over_data(
    x, y, model: Callable, params: Sequence[Param], *, labels=None, xlim: tuple[float, float],
    ylim: tuple[float, float], n: int = 200, xlabel: str = "$x$", ylabel: str = "$y$", **kwargs,
) -> Explorer:
    r"""Data as points and ``model(t, **values)`` as a curve over :math:`t \in` ``xlim``.

    For regression the curve is the prediction :math:`\hat y(t)`; for a linear classifier on two
    features pass ``labels`` (colouring the points) and let ``model`` return the boundary
    :math:`x_2 = -(w_1 t + b) / w_2`.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-D of equal length, got shapes {x.shape} and {y.shape}")
    t = np.linspace(xlim[0], xlim[1], n)

    def build(fig):
        ax = fig.add_subplot()
        if labels is None:
            ax.scatter(x, y, s=18, color=PALETTE[0], alpha=0.8, label="data")
        else:
            lab = np.asarray(labels)
            for i, value in enumerate(np.unique(lab)):
                ax.scatter(x[lab == value], y[lab == value], s=18, color=PALETTE[i], label=f"class {value}")
        (line,) = ax.plot(t, np.zeros_like(t), color=PALETTE[1 if labels is None else 2], label="model")
        ax.set(xlim=xlim, ylim=ylim, xlabel=xlabel, ylabel=ylabel)
        ax.legend(loc="upper left")

        def update(**values):
            line.set_ydata(np.asarray(_call(model, values, t), dtype=float))

        return update

    kwargs.setdefault("name", "fit_over_data")
    return Explorer(build, params, **kwargs)
