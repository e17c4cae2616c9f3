"""The explorer: a figure drawn once, named parameters, and an update that moves artists in place.

A chapter gives a *build* function and its :class:`~lossbook.params.Param` list::

    def build(fig):
        ax = fig.add_subplot()
        ax.scatter(x, y)
        (line,) = ax.plot(x, x)
        ax.set(xlim=(0, 4), ylim=(-1, 6))

        def update(slope, intercept):
            line.set_ydata(slope * x + intercept)

        return update

    lb.Explorer(build, [lb.Param("slope", 1.0, -1, 3, 0.1), lb.Param("intercept", 0.0, -2, 2, 0.1)])

``build`` draws everything once (and fixes the axis limits); ``update`` only
changes artists' data (``set_data``, ``set_offsets``, ``set_text``,
``set_visible``...).  The explorer then knows which artists move and can

- redraw only those over a cached background (live sliders, ipywidgets), and
- export them, over a grid of slider values, as data drawn by a few lines of
  inline JavaScript over a background image (the static website, no kernel).
"""
from __future__ import annotations

import math
import os
import struct
import zlib
from typing import Callable, Iterable, Mapping

import numpy as np

from ..params import Param
from ..plotting import figure, style_context

__all__ = ["Explorer", "STATIC_ENV"]

#: Set to ``1`` when building the website: explorers then also emit their kernel-free HTML.
STATIC_ENV = "LOSSBOOK_STATIC"
#: Set to a file path by ``python -m lossbook.bench``: displayed explorers time themselves there.
BENCH_ENV = "LOSSBOOK_BENCH"

_PLAY_WORDS = ("step", "epoch", "iter")


def _content_artists(fig) -> list:
    """Artists an update may change: everything a chapter adds, not ticks or spines."""
    out = []
    for ax in fig.axes:
        out += [*ax.lines, *ax.collections, *ax.patches, *ax.texts, *ax.images, *ax.artists]
        out += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
    out += [*fig.lines, *fig.patches, *fig.texts, *fig.images]
    if getattr(fig, "_suptitle", None) is not None:
        out.append(fig._suptitle)
    return out


def _artist_count(fig) -> int:
    return sum(
        len(ax.lines) + len(ax.collections) + len(ax.patches) + len(ax.texts) + len(ax.images) + len(ax.artists)
        for ax in fig.axes
    ) + len(fig.axes) + len(fig.lines) + len(fig.patches) + len(fig.texts) + len(fig.images)


def _limits(fig) -> list:
    return [(ax.get_xlim(), ax.get_ylim()) for ax in fig.axes]


def png_bytes(rgba: np.ndarray) -> bytes:
    """Encode an ``(h, w, 4)`` uint8 image as an RGB PNG, for speed: no row filter, zlib level 1.

    About twice as fast as Pillow's adaptive filtering for a figure, at a similar size.
    """
    h, w = rgba.shape[:2]
    rows = np.empty((h, w * 3 + 1), dtype=np.uint8)
    rows[:, 0] = 0  # filter type "none" on every row
    rows[:, 1:] = rgba[..., :3].reshape(h, w * 3)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) \
        + chunk(b"IEND", b"")


class Explorer:
    r"""A figure with sliders: drawn once by ``build``, then updated in place.

    Parameters
    ----------
    build
        ``build(fig) -> update``: draws the figure once (fixing every axis'
        limits) and returns ``update(**values)``, which changes artists' data
        in place for one value of each parameter.
    params
        The sliders, as :class:`~lossbook.params.Param` (range, step, default, scale).
    figsize, dpi
        Figure size in inches and resolution (pixels per inch).
    static
        Names of the (at most two) parameters the kernel-free website version
        offers as sliders; the others stay at their defaults there.  Default:
        the first two.
    grid
        Number of values per static slider, ``{name: n}``; default 41 for one
        slider (or the slider's own steps if fewer), 15 each for two.
    play
        Names of the parameters that get a play button; default: integer
        parameters whose name speaks of steps, epochs or iterations.
    name
        A short name shown by ``repr`` and ``make bench``.
    budget_kb
        Largest static payload allowed; grids are coarsened until it fits.

    An update at slider values :math:`\theta` costs one call of ``update`` plus
    drawing the artists that move over a cached background, instead of
    re-running ``build``.
    """

    def __init__(
        self,
        build: Callable,
        params: Iterable[Param],
        *,
        figsize: tuple[float, float] = (7.0, 4.0),
        dpi: float | None = None,
        static: Iterable[str] | None = None,
        grid: Mapping[str, int] | None = None,
        play: Iterable[str] | None = None,
        name: str | None = None,
        budget_kb: float = 400.0,
    ) -> None:
        if not callable(build):
            raise TypeError(f"build must be callable, got {type(build).__name__}")
        self.params: tuple[Param, ...] = tuple(params)
        if not self.params:
            raise ValueError("params must name at least one Param")
        for p in self.params:
            if not isinstance(p, Param):
                raise TypeError(f"params must be Param objects, got {type(p).__name__}")
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"params must have distinct names, got {names}")
        self._by_name = {p.name: p for p in self.params}
        self.static = tuple(static) if static is not None else tuple(names[:2])
        if not 1 <= len(self.static) <= 2:
            raise ValueError(f"static must name one or two parameters, got {list(self.static)}")
        self.play = tuple(play) if play is not None else tuple(
            p.name for p in self.params if p.integer and any(w in p.name.lower() for w in _PLAY_WORDS)
        )
        self.grid = dict(grid or {})
        for key in [*self.static, *self.play, *self.grid]:
            if key not in self._by_name:
                raise ValueError(f"unknown parameter {key!r}: the explorer's parameters are {names}")
        self.name = name or getattr(build, "__name__", "explorer")
        self.budget_kb = float(budget_kb)
        self._build = build
        self.values = {p.name: p.default for p in self.params}

        self.fig = figure(figsize, dpi)
        with style_context():
            self._update = build(self.fig)
        if not callable(self._update):
            raise TypeError(f"build must return the update function, got {type(self._update).__name__}")
        self._count = _artist_count(self.fig)
        self._limits = _limits(self.fig)
        self._apply(self.values)
        # The layout is settled once, so the background never shifts under moving artists.
        self.fig.canvas.draw()
        self.fig.set_layout_engine("none")
        self._dynamic: list = []
        self._background = None
        self._widget = None
        self._arrays: dict[int, bytes] = {}  # colour data of colour-mapped artists, as last seen
        self._probe()

    # -- updates -----------------------------------------------------------

    def _check_values(self, values: Mapping[str, float]) -> dict:
        unknown = set(values) - set(self._by_name)
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)}: the explorer's parameters are {list(self._by_name)}")
        merged = dict(self.values)
        for k, v in values.items():
            merged[k] = self._by_name[k].check(v)
        return merged

    def _apply(self, values: Mapping[str, float]) -> None:
        """Call the chapter's update and check that it changed data only."""
        with style_context():
            self._update(**values)
        if _artist_count(self.fig) != self._count:
            raise ValueError(
                f"update of explorer {self.name!r} added or removed artists: create every artist in build "
                "and change it in update (set_data, set_offsets, set_text, set_visible)"
            )
        if _limits(self.fig) != self._limits:
            raise ValueError(
                f"update of explorer {self.name!r} changed axis limits: fix them in build "
                "(ax.set_xlim, ax.set_ylim) and do not autoscale in update"
            )
        self.values = dict(values)

    def update(self, **values: float) -> None:
        """Move the figure to new parameter values (unnamed ones keep their current value)."""
        self._apply(self._check_values(values))

    def _stale(self) -> list:
        found = []
        seen = self._arrays
        for a in _content_artists(self.fig):
            moved = a.stale
            array = a.get_array() if hasattr(a, "get_array") else None
            if array is not None:
                # matplotlib does not mark a collection stale on set_array: compare the colour data itself.
                key = np.asarray(array).tobytes()
                moved = moved or seen.get(id(a), key) != key
                if moved:
                    a.update_scalarmappable()
                seen[id(a)] = key
            if moved:
                found.append(a)
                a.stale = False
        return found

    def _probe(self) -> None:
        """Find the moving artists by moving every slider to both ends."""
        self._stale()
        moving: dict[int, object] = {}
        defaults = {p.name: p.default for p in self.params}
        for p in self.params:
            for v in (p.low, p.high):
                self._apply({**defaults, p.name: v})
                moving.update((id(a), a) for a in self._stale())
        self._apply(defaults)
        self._stale()
        self._set_dynamic(list(moving.values()))

    def _set_dynamic(self, artists: list) -> None:
        order = {id(a): i for i, a in enumerate(_content_artists(self.fig))}
        for a in self._dynamic:
            a.set_animated(False)
        self._dynamic = sorted(artists, key=lambda a: (a.get_zorder(), order[id(a)]))
        for a in self._dynamic:
            a.set_animated(True)
        self._background = None

    # -- rendering -----------------------------------------------------------

    def render(self) -> bytes:
        """The current figure as PNG: cached background plus the moving artists."""
        canvas = self.fig.canvas
        known = {id(a) for a in self._dynamic}
        new = [a for a in self._stale() if id(a) not in known]
        if new:
            self._set_dynamic(self._dynamic + new)
        if self._background is None:
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
        else:
            canvas.restore_region(self._background)
        for a in self._dynamic:
            self.fig.draw_artist(a)
        return png_bytes(np.asarray(canvas.buffer_rgba()))

    def render_naive(self, **values: float) -> bytes:
        """The same image the ordinary way: clear, rebuild, update, draw everything (for comparison)."""
        values = self._check_values(values)
        fig = figure(tuple(self.fig.get_size_inches()), self.fig.dpi)
        with style_context():
            update = self._build(fig)
            update(**values)
        fig.canvas.draw()
        return png_bytes(np.asarray(fig.canvas.buffer_rgba()))

    def snapshot(self) -> np.ndarray:
        """The full figure, drawn from scratch with every artist, as an RGBA array (for tests)."""
        for a in self._dynamic:
            a.set_animated(False)
        try:
            self.fig.canvas.draw()
            return np.asarray(self.fig.canvas.buffer_rgba()).copy()
        finally:
            for a in self._dynamic:
                a.set_animated(True)
            self._background = None

    # -- live widget ---------------------------------------------------------

    @property
    def widget(self):
        """The ipywidgets view: one slider per parameter over the rendered figure."""
        if self._widget is None:
            self._widget = self._make_widget()
        return self._widget

    def _make_widget(self):
        import ipywidgets as w

        self.sliders = {p.name: _slider(w, p) for p in self.params}
        rows = []
        for p in self.params:
            s = self.sliders[p.name]
            if p.name in self.play and isinstance(s, w.SelectionSlider):
                play = w.Play(value=s.index, min=0, max=len(s.options) - 1, interval=80,
                              description=f"play {p.display}")
                w.jslink((play, "value"), (s, "index"))
                rows.append(w.HBox([play, s]))
            elif p.name in self.play:
                play = w.Play(value=int(p.default), min=int(p.low), max=int(p.high),
                              step=int(p.step or 1), interval=80, description=f"play {p.display}")
                w.jslink((play, "value"), (s, "value"))
                rows.append(w.HBox([play, s]))
            else:
                rows.append(s)
            s.observe(self._on_slider, names="value")
        width, height = (int(round(v)) for v in self.fig.bbox.size)
        self.image = w.Image(format="png", layout=w.Layout(width=f"{width}px", max_width="100%", height="auto"))
        if not _static_build():
            self.image.value = self.render()
        return w.VBox([w.VBox(rows), self.image])

    def _on_slider(self, change) -> None:
        self.set(**{self._slider_names[id(change["owner"])]: change["new"]})

    def set(self, **values: float) -> bytes:
        """Update to ``values`` and show the result in the live widget (if shown); returns the PNG."""
        self.update(**values)
        png = self.render()
        if self._widget is not None:
            self.image.value = png
        return png

    @property
    def _slider_names(self) -> dict[int, str]:
        return {id(s): name for name, s in self.sliders.items()}

    # -- display ---------------------------------------------------------

    def __repr__(self) -> str:
        args = ", ".join(f"{p.name}={self.values[p.name]:g}" for p in self.params)
        return f"Explorer {self.name}({args})"

    def _repr_mimebundle_(self, include=None, exclude=None):
        bench = os.environ.get(BENCH_ENV)
        if bench:
            from ..bench import record

            record(self, bench)
        data = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude))
        data["text/plain"] = repr(self)
        if _static_build():
            data["text/html"] = self.static_html()
        return data

    def static_html(self) -> str:
        """The kernel-free version: a self-contained HTML fragment (inline image, data and script)."""
        from .static import static_html

        return static_html(self)


def _static_build() -> bool:
    return os.environ.get(STATIC_ENV, "") not in ("", "0")


def _slider(w, p: Param):
    common = dict(description=p.display, continuous_update=True, style={"description_width": "initial"},
                  layout=w.Layout(width="420px"))
    if p.scale == "log" and p.integer:
        # Whole numbers spaced geometrically: a slider over that list, so every value it sends is valid.
        n = min(41, int(p.high) - int(p.low) + 1)
        options = sorted({int(round(v)) for v in np.geomspace(p.low, p.high, n)} | {int(p.default)})
        return w.SelectionSlider(options=options, value=int(p.default), **common)
    if p.scale == "log":
        lo, hi = math.log10(p.low), math.log10(p.high)
        return w.FloatLogSlider(value=p.default, base=10, min=lo, max=hi, step=(hi - lo) / 100,
                                readout_format=".3g", **common)
    if p.integer:
        return w.IntSlider(value=int(p.default), min=int(p.low), max=int(p.high), step=int(p.step or 1), **common)
    step = p.step or (p.high - p.low) / 100
    return w.FloatSlider(value=p.default, min=p.low, max=p.high, step=step, readout_format=".3g", **common)
