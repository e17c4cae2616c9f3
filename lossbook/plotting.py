"""The book's look: one matplotlib style, one colour palette, one way to make a figure.

Chapters never style their own figures.  Every figure made through
:func:`figure` (and so every explorer) uses :data:`STYLE`; ordinary pyplot
figures pick it up after :func:`use_style`.

The palette is Okabe and Ito's, chosen so that lines stay distinguishable
for readers with the common forms of colour blindness.
"""
from __future__ import annotations

from typing import Any

__all__ = ["PALETTE", "STYLE", "figure", "style_context", "use_style"]

#: Okabe-Ito colours, in the order lines are drawn.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
    "#F0E442",  # yellow (last: weak on white)
)

#: rcParams applied to every figure of the book.
STYLE: dict[str, Any] = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.facecolor": "white",
    "figure.constrained_layout.use": True,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 10,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "axes.grid": True,
    "grid.color": "#d9d9d9",
    "grid.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#444444",
    "lines.linewidth": 2.0,
    "lines.markersize": 5,
    "legend.frameon": False,
    "image.cmap": "viridis",
}


def _cycler():
    from cycler import cycler

    return cycler(color=list(PALETTE))


def use_style() -> None:
    """Apply the book's style to matplotlib globally (pyplot figures included)."""
    import matplotlib as mpl

    mpl.rcParams.update(STYLE)
    mpl.rcParams["axes.prop_cycle"] = _cycler()


def style_context():
    """A context manager in which new figures, axes and artists take the book's style."""
    import matplotlib as mpl

    return mpl.rc_context({**STYLE, "axes.prop_cycle": _cycler()})


def figure(figsize: tuple[float, float] = (7.0, 4.0), dpi: float | None = None):
    """A new :class:`matplotlib.figure.Figure` in the book's style, on an Agg canvas.

    The figure is not registered with pyplot, so no backend displays it by
    itself: explorers decide when and how it is shown.  Create its axes and
    artists inside :func:`style_context` (explorers do) to style them too.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with style_context():
        fig = Figure(figsize=figsize, dpi=dpi or STYLE["figure.dpi"])
    FigureCanvasAgg(fig)
    return fig
