"""The explorer abstraction: grids, in-place updates, divergence, the kernel-free HTML, display."""
from __future__ import annotations

import base64
import io
import json
import re
import zlib
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from lossbook.explore import (
    Explorer, TrajectoryArtist, fit_over_data, loss_curves, loss_vs_step, surface_trajectories,
)
from lossbook.explore.core import png_bytes
from lossbook.explore.static import static_grid
from lossbook.params import Interval, Param

X = np.linspace(0.0, 4.0, 25)
Y = 1.5 * X + 0.5 + np.random.default_rng(0).normal(0.0, 0.5, X.size)
SLOPE = Param("slope", 1.0, -1.0, 3.0, 0.1)
INTERCEPT = Param("intercept", 0.0, -2.0, 2.0, 0.1)


def line_build(fig):
    ax = fig.add_subplot()
    ax.scatter(X, Y, label="data")
    (line,) = ax.plot(X, X, label="fit")
    text = ax.text(0.02, 0.95, "", transform=ax.transAxes, va="top")
    ax.set(xlim=(0, 4), ylim=(-3, 9), xlabel="x", ylabel="y")

    def update(slope, intercept):
        line.set_ydata(slope * X + intercept)
        text.set_text(f"MSE {np.mean((slope * X + intercept - Y) ** 2):.2f}")

    return update


@pytest.fixture()
def ex():
    return Explorer(line_build, [SLOPE, INTERCEPT], name="line")


def decode(html: str):
    spec = json.loads(re.search(r'<script type="application/json" class="lbx-data">(.*?)</script>', html).group(1))
    data = json.loads(zlib.decompress(base64.b64decode(spec["data"])))
    return spec, data


def undelta(segment):
    pts = np.cumsum(np.asarray(segment, dtype=float).reshape(-1, 2), axis=0) / 10
    return pts


# -- parameters and grids ---------------------------------------------------


def test_one_static_slider_uses_the_slider_steps_and_the_current_value():
    e = Explorer(line_build, [SLOPE, INTERCEPT], static=["slope"])
    (values,) = static_grid(e)
    assert len(values) <= 42 and values[0] == SLOPE.low and values[-1] == SLOPE.high
    assert np.any(np.isclose(values, SLOPE.default))
    # on the slider's 0.1 lattice, so labels read as the live slider would
    assert np.allclose(np.round(values * 10), values * 10)


def test_two_static_sliders_make_a_product_grid(ex):
    a, b = static_grid(ex)
    assert 15 <= len(a) <= 16 and 15 <= len(b) <= 16
    spec, data = decode(ex.static_html())
    assert len(data["frames"]) == len(spec["params"][0]["labels"]) * len(spec["params"][1]["labels"])


def test_log_and_integer_params_get_matching_grids():
    lr = Param("lr", 0.01, 1e-3, 1.0, scale="log")
    steps = Param("steps", 20, 0, 50, 1, integer=True)

    def build(fig):
        ax = fig.add_subplot()
        (line,) = ax.plot([0, 1], [0, 0])
        ax.set(xlim=(0, 60), ylim=(-4, 1))

        def update(lr, steps):
            line.set_data([0, steps], [0, np.log10(lr)])

        return update

    e = Explorer(build, [lr, steps])
    g_lr, g_steps = static_grid(e)
    ratios = g_lr[1:] / g_lr[:-1]
    assert ratios.max() / ratios.min() < 3  # geometric, up to the inserted default
    assert np.all(g_steps == np.round(g_steps))
    assert e.play == ("steps",)


def test_unknown_and_invalid_parameters_are_named(ex):
    with pytest.raises(ValueError, match="unknown parameter.*'slop'"):
        ex.update(slop=1.0)
    bounded = Param("delta", 1.0, 0.1, 3.0, 0.1, domain=Interval(0, np.inf, False, True))

    def build(fig):
        ax = fig.add_subplot()
        (line,) = ax.plot([0, 1], [0, 1])
        ax.set(xlim=(0, 1), ylim=(0, 3))
        return lambda delta: line.set_ydata([0, delta])

    e = Explorer(build, [bounded])
    with pytest.raises(ValueError, match="delta must lie in"):
        e.update(delta=-1.0)
    with pytest.raises(ValueError, match="static must name one or two"):
        Explorer(line_build, [SLOPE, INTERCEPT], static=[])
    with pytest.raises(TypeError, match="build must return the update function"):
        Explorer(lambda fig: None, [SLOPE])


# -- updates in place ---------------------------------------------------------


def test_update_changes_data_in_place_and_only_the_fit_moves(ex):
    line = ex.fig.axes[0].lines[0]
    n_artists = len(ex.fig.axes[0].get_children())
    ex.update(slope=2.0, intercept=-1.0)
    assert np.allclose(line.get_ydata(), 2.0 * X - 1.0)
    assert len(ex.fig.axes[0].get_children()) == n_artists
    kinds = sorted(type(a).__name__ for a in ex._dynamic)
    assert kinds == ["Line2D", "Text"]  # the scatter of data stays in the background


def test_blitted_frame_equals_a_full_redraw(ex):
    ex.update(slope=2.5, intercept=1.0)
    fast = np.asarray(Image.open(io.BytesIO(ex.render())))
    full = ex.snapshot()[..., :3]
    assert fast.shape == full.shape
    # Moving artists are drawn last: only where they cross a spine (drawn above lines) may pixels differ.
    differing = (np.abs(fast.astype(int) - full).max(axis=-1) > 1).sum()
    assert differing <= 30
    ex.update(slope=-0.5)
    assert not np.array_equal(np.asarray(Image.open(io.BytesIO(ex.render()))), fast)


def test_naive_render_draws_the_same_picture(ex):
    ex.update(slope=0.5)
    fast = np.asarray(Image.open(io.BytesIO(ex.render()))).astype(int)
    naive = np.asarray(Image.open(io.BytesIO(ex.render_naive(slope=0.5, intercept=0.0)))).astype(int)
    assert (np.abs(fast - naive).max(axis=-1) > 1).sum() <= 30


def test_update_that_creates_artists_or_rescales_is_refused():
    def adds(fig):
        ax = fig.add_subplot()
        ax.set(xlim=(0, 1), ylim=(0, 1))
        return lambda slope: ax.plot([0, 1], [0, slope])

    with pytest.raises(ValueError, match="added or removed artists"):
        Explorer(adds, [SLOPE])

    def rescales(fig):
        ax = fig.add_subplot()
        (line,) = ax.plot([0, 1], [0, 1])

        def update(slope):
            line.set_ydata([0, slope])
            ax.relim()
            ax.autoscale_view()

        return update

    with pytest.raises(ValueError, match="changed axis limits"):
        Explorer(rescales, [SLOPE])


def test_png_bytes_is_lossless():
    rgba = np.random.default_rng(1).integers(0, 256, (7, 5, 4), dtype=np.uint8)
    back = np.asarray(Image.open(io.BytesIO(png_bytes(rgba))))
    assert np.array_equal(back, rgba[..., :3])


# -- divergence ---------------------------------------------------------------


def _traj_fig():
    from lossbook.plotting import figure

    fig = figure()
    ax = fig.add_subplot()
    ax.set(xlim=(-5, 5), ylim=(-5, 5))
    return TrajectoryArtist(ax, "SGD")


def test_a_trajectory_that_blows_up_stops_and_says_so():
    t = _traj_fig()
    points = np.array([[0, 0], [1, 1], [3, 3], [np.inf, 9], [np.nan, np.nan]], dtype=float)
    assert t.show(points) == 3
    assert np.array_equal(t.path.get_xydata(), points[:3])
    assert np.array_equal(t.end.get_xydata(), points[2:3])
    assert t.note.get_visible() and t.note.get_text() == "SGD: diverged at step 3"
    assert t.end.get_marker() == "X"


def test_a_run_flagged_as_diverged_and_a_healthy_run():
    t = _traj_fig()
    big = np.array([[0, 0], [10, 10], [1e9, 1e9]])
    assert t.show_run(SimpleNamespace(points=big, diverged=True)) == 2
    assert t.note.get_text().endswith("diverged at step 2")
    assert t.show(np.array([[0, 0], [0.5, 0.5]])) is None
    assert not t.note.get_visible() and t.end.get_marker() == "o"
    with pytest.raises(ValueError, match=r"points must have shape \(steps, 2\)"):
        t.show(np.zeros(3))


class Bowl:
    """A stand-in surface: f(w) = w1^2 + 4 w2^2."""

    bounds = ((-2.0, 2.0), (-2.0, 2.0))

    def value(self, w):
        w = np.asarray(w)
        return w[..., 0] ** 2 + 4 * w[..., 1] ** 2

    def grad(self, w):
        return np.array([2 * w[0], 8 * w[1]])


def gd(lr, steps, start=(1.5, 1.5)):
    """Stand-in for lossbook.optim.run: plain gradient descent that stops when it blows up."""
    w = np.array(start, dtype=float)
    points, values = [w.copy()], [Bowl().value(w)]
    for _ in range(int(steps)):
        w = w - lr * Bowl().grad(w)
        if np.abs(w).max() > 1e6:
            points.append(np.full(2, np.nan))
            values.append(np.nan)
            return SimpleNamespace(points=np.array(points), values=np.array(values), diverged=True)
        points.append(w.copy())
        values.append(Bowl().value(w))
    return SimpleNamespace(points=np.array(points), values=np.array(values), diverged=False)


LR = Param("lr", 0.05, 0.01, 0.5, 0.01)
STEPS = Param("steps", 20, 0, 40, 1, integer=True)


def test_surface_explorer_shows_divergence_live_and_static():
    e = surface_trajectories(Bowl(), {"GD": gd}, [LR, STEPS])
    note = e.fig.axes[0].texts[0]
    assert not note.get_visible()
    e.update(lr=0.4, steps=40)  # 1 - 8 * 0.4 = -2.2: the w2 coordinate explodes
    assert note.get_visible() and note.get_text().startswith("GD: diverged at step")
    spec, data = decode(e.static_html())
    texts = {s.get("s") for s in data["styles"] if s.get("t") == "t" and s.get("v")}
    assert any(t and "diverged" in t for t in texts)


def test_loss_vs_step_marks_divergence():
    e = loss_vs_step({"GD": gd}, [LR, STEPS], steps=40, ylim=(1e-8, 1e3))
    e.update(lr=0.45, steps=40)
    assert e.fig.axes[0].texts[0].get_visible()
    e.update(lr=0.05)
    assert not e.fig.axes[0].texts[0].get_visible()


# -- the kernel-free version --------------------------------------------------


def test_static_html_is_self_contained_small_and_scripted(ex):
    html = ex.static_html()
    assert not re.search(r"https?://", html)
    assert len(html.encode()) <= 400 * 1024
    assert "<canvas" in html and "DecompressionStream" in html and 'type="range"' in html
    assert "<script src" not in html and "@import" not in html
    spec, _ = decode(html)
    assert spec["bg"].startswith("data:image/png;base64,")


def test_static_frames_carry_the_moving_line_in_pixels(ex):
    spec, data = decode(ex.static_html())
    slopes = [float(v) for v in spec["params"][0]["labels"]]
    intercepts = [float(v) for v in spec["params"][1]["labels"]]
    i, j = len(slopes) - 3, 2
    slope, intercept = slopes[i], intercepts[j]
    frame = data["frames"][i * len(intercepts) + j]
    line_records = [rec for rec in frame if data["styles"][rec[0]].get("t") == "l"]
    assert len(line_records) == 1
    (segment,) = line_records[0][1]
    ax = ex.fig.axes[0]
    expected = ax.transData.transform(np.column_stack([X, slope * X + intercept]))
    expected[:, 1] = ex.fig.bbox.height - expected[:, 1]
    assert np.abs(undelta(segment) - expected).max() <= 0.051
    texts = [data["styles"][rec[0]]["s"] for rec in frame if data["styles"][rec[0]].get("t") == "t"]
    assert texts == [f"MSE {np.mean((slope * X + intercept - Y) ** 2):.2f}"]


def test_background_leaves_out_the_moving_artists(ex):
    spec, _ = decode(ex.static_html())
    bg = np.asarray(Image.open(io.BytesIO(base64.b64decode(spec["bg"].split(",", 1)[1]))).convert("RGB"))
    blue = np.array([0, 114, 178])  # the fit's colour, also the data's: count pixels along the line only
    ax = ex.fig.axes[0]
    x_px, y_px = ax.transData.transform(np.column_stack([[1.0, 3.0], [1.0, 1.0]])).T * 2  # slope 1, intercept 0
    y_img = bg.shape[0] - y_px
    samples = [bg[int(round(yy)), int(round(xx))] for xx, yy in zip(np.linspace(*x_px, 9), np.linspace(*y_img, 9))]
    on_line = sum(np.abs(s.astype(int) - blue).max() < 40 for s in samples)
    assert on_line <= 2  # a scatter point may sit on the path; the line itself is absent


def test_a_tight_budget_coarsens_the_grid_or_fails_clearly():
    big = Explorer(line_build, [SLOPE, INTERCEPT], budget_kb=400)
    html = big.static_html()
    spec, data = decode(html)
    roomy = len(data["frames"])
    tight_kb = (len(html.encode()) - 0.5 * len(spec["data"])) / 1024  # half the frame data must go
    tight = Explorer(line_build, [SLOPE, INTERCEPT], budget_kb=tight_kb)
    assert len(decode(tight.static_html())[1]["frames"]) < roomy
    with pytest.raises(ValueError, match="over its budget of 1 KB"):
        Explorer(line_build, [SLOPE, INTERCEPT], budget_kb=1).static_html()


def test_static_version_restores_the_current_values(ex):
    ex.update(slope=2.0)
    before = ex.fig.axes[0].lines[0].get_ydata().copy()
    ex.static_html()
    assert ex.values["slope"] == 2.0
    assert np.array_equal(ex.fig.axes[0].lines[0].get_ydata(), before)


# -- display --------------------------------------------------------------------


def test_mimebundle_carries_the_static_html_only_for_the_book_build(ex, monkeypatch):
    monkeypatch.delenv("LOSSBOOK_STATIC", raising=False)
    monkeypatch.delenv("LOSSBOOK_BENCH", raising=False)
    live = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in live and "text/html" not in live
    assert live["text/plain"] == "Explorer line(slope=1, intercept=0)"
    monkeypatch.setenv("LOSSBOOK_STATIC", "1")
    built = ex._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in built
    assert built["text/html"].startswith('<div class="lossbook-explorer"')


def test_sliders_drive_the_image(ex):
    widget = ex.widget
    assert widget is ex.widget
    first = ex.image.value
    ex.sliders["slope"].value = 2.5
    assert ex.values["slope"] == 2.5 and ex.image.value != first


# -- ready-made kinds -------------------------------------------------------------


class Scaled:
    """A stand-in loss with one parameter: c * r^2."""

    params = (Param("c", 1.0, 0.5, 2.0, 0.1),)
    name = "scaled square"

    def __init__(self, c=1.0):
        self.c = c

    def pointwise(self, y_true, y_pred):
        return self.c * (y_pred - y_true) ** 2


def test_loss_curves_uses_each_loss_params():
    e = loss_curves([Scaled], x=(-2, 2), ylim=(0, 10))
    assert [p.name for p in e.params] == ["c"]
    e.update(c=2.0)
    line = e.fig.axes[0].lines[0]
    assert np.allclose(line.get_ydata(), 2.0 * line.get_xdata() ** 2)
    with pytest.raises(ValueError, match="kind must be 'residual' or 'margin'"):
        loss_curves([Scaled], kind="ratio")


def test_fit_over_data_moves_the_model_line():
    e = fit_over_data(X, Y, lambda t, slope, intercept: slope * t + intercept, [SLOPE, INTERCEPT],
                      xlim=(0, 4), ylim=(-3, 9))
    e.update(slope=1.5, intercept=0.5)
    line = e.fig.axes[0].lines[0]
    assert np.allclose(line.get_ydata(), 1.5 * line.get_xdata() + 0.5)
    with pytest.raises(ValueError, match="x and y must be 1-D of equal length"):
        fit_over_data(X, Y[:-1], lambda t, slope: t, [SLOPE], xlim=(0, 1), ylim=(0, 1))


def test_colour_mapped_points_move_live_and_static():
    # set_array does not mark a collection stale in matplotlib; the explorer must still see it move.
    t = np.linspace(0.0, 1.0, 12)

    def build(fig):
        ax = fig.add_subplot()
        points = ax.scatter(t, t, c=t, cmap="viridis", vmin=0.0, vmax=1.0)
        ax.set(xlim=(0, 1), ylim=(0, 1))

        def update(a):
            points.set_array(t * a)

        return update

    ex = Explorer(build, [Param("a", 1.0, 0.0, 1.0, 0.5)])
    assert ex.set(a=0.0) != ex.set(a=1.0)
    from lossbook.explore.static import _frames
    frames = _frames(ex, static_grid(ex))
    colours = [style["fc"] for frame in frames for style, _ in frame]
    assert len(colours) == 3
    assert isinstance(colours[0], str)            # a = 0: every point the same colour
    assert len(set(colours[-1])) == t.size        # a = 1: every point its own colour


def test_an_integer_log_slider_only_sends_whole_numbers():
    def build(fig):
        ax = fig.add_subplot()
        (line,) = ax.plot([0, 1], [0, 0])
        ax.set(xlim=(0, 1), ylim=(0, 1000))

        def update(epoch):
            assert isinstance(epoch, int)
            line.set_ydata([0, epoch])

        return update

    ex = Explorer(build, [Param("epoch", 10, 1, 1000, scale="log", integer=True)])
    slider = ex.widget and ex.sliders["epoch"]
    assert all(isinstance(v, int) for v in slider.options) and slider.options[0] == 1 and slider.options[-1] == 1000
    before = ex.snapshot().copy()
    slider.value = slider.options[-3]            # what a drag sends
    assert ex.values["epoch"] == slider.options[-3]
    assert not np.array_equal(before, ex.snapshot())
    assert "epoch" in ex.play


def test_a_stepped_line_is_exported_as_its_staircase():
    from lossbook.explore.static import _line

    t = np.array([0.0, 1.0, 2.0])

    def build(fig):
        ax = fig.add_subplot()
        (line,) = ax.plot(t, t, drawstyle="steps-post")
        ax.set(xlim=(0, 2), ylim=(0, 2))

        def update(a):
            line.set_ydata(a * t)

        return update

    ex = Explorer(build, [Param("a", 1.0, 0.0, 1.0, 0.5)])
    line = ex.fig.axes[0].lines[0]
    _, segments = _line(line, 1.0, ex.fig.bbox.height)
    vertices = sum(len(s) for s in segments) // 2
    assert vertices == 5  # steps-post: (0,0) (1,0) (1,1) (2,1) (2,2)


def test_bench_moves_are_values_each_slider_accepts_and_all_change_the_figure(tmp_path):
    import json as _json
    from lossbook.bench import _moves, record

    def build(fig):
        ax = fig.add_subplot()
        (line,) = ax.plot([0, 1], [0, 0])
        ax.set(xlim=(0, 1), ylim=(-3, 1000))

        def update(k, epoch, a):
            line.set_ydata([k, epoch * a])

        return update

    params = [Param("k", 0, -2, 2, 1, integer=True), Param("epoch", 10, 1, 1000, scale="log", integer=True),
              Param("a", 0.5, 0.0, 1.0, 0.1)]
    ex = Explorer(build, params)
    ex.widget
    moves = _moves(ex, 15)
    assert [v for p, v in moves if p.name == "k"] == [-2, -1, 0, 1, 2]
    assert all(v in ex.sliders["epoch"].options for p, v in moves if p.name == "epoch")
    row = record(ex, str(tmp_path / "bench.jsonl"))
    assert row["update_ms"] > 0 and np.isfinite(row["ratio"])
    assert _json.loads((tmp_path / "bench.jsonl").read_text())["explorer"] == ex.name
    assert ex.values == {"k": 0, "epoch": 10, "a": 0.5}  # sliders put back
