"""The built website, in a real browser with the network off: every slider does something.

Drives Debian's Chromium (never a downloaded browser) through Playwright.  Opens each
built chapter from ``file://``, moves every static explorer's sliders and checks that
the figure changed, that no page shows an empty widget area, and that nothing is
fetched from outside the site except MathJax.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

SITE = Path(os.environ.get("LOSSBOOK_SITE", Path(__file__).resolve().parents[2] / "_build" / "html"))
PAGES = sorted((SITE / "chapters").glob("*.html"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# The one resource a page may load from outside the site: MathJax (typesetting only).
ALLOWED_EXTERNAL = ("https://cdn.jsdelivr.net/npm/mathjax@",)


def _chromium() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    if executable is None:
        message = "the browser test needs Chromium: install it with 'apt-get install chromium' (Debian/Ubuntu)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def open_page(browser):
    """Open a built page offline; returns (page, external requests attempted)."""
    contexts = []

    def _open(path: Path):
        context = browser.new_context(offline=True, device_scale_factor=2)
        contexts.append(context)
        page = context.new_page()
        external: list[str] = []
        errors: list[str] = []
        page.on("request", lambda r: external.append(r.url) if urlparse(r.url).scheme in ("http", "https") else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri(), wait_until="load")
        return page, external, errors

    yield _open
    for context in contexts:
        context.close()


def _canvas_hash(page, index: int) -> str:
    data = page.evaluate(
        "i => document.querySelectorAll('.lossbook-explorer canvas')[i].toDataURL('image/png')", index
    )
    return hashlib.sha1(data.encode()).hexdigest()


def test_site_is_built():
    assert PAGES, f"no built chapters under {SITE / 'chapters'}: run 'make build' first"


def test_the_book_has_static_explorers():
    found = [p.name for p in PAGES if 'class="lossbook-explorer"' in p.read_text(encoding="utf-8")]
    assert found, "no chapter page carries a static explorer"


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_page_loads_nothing_external_and_has_no_empty_widget(open_page, path):
    page, external, errors = open_page(path)
    page.wait_for_timeout(300)
    outside = [u for u in external if not u.startswith(ALLOWED_EXTERNAL)]
    assert not outside, f"{path.name} requested resources outside the site: {outside}"
    html = page.content()
    assert "require.min.js" not in html and "embed-amd" not in html, f"{path.name} loads the widget manager"
    empty = page.evaluate("""() => Array.from(document.querySelectorAll(
        '.jupyter-widgets, [class*="widget-"], script[type="application/vnd.jupyter.widget-view+json"]'))
        .filter(el => el.tagName === 'SCRIPT' || el.innerText.trim() === '').length""")
    assert empty == 0, f"{path.name} shows {empty} empty widget area(s)"
    assert "Loading widget" not in page.inner_text("body")
    assert not errors, f"{path.name} raised JavaScript errors: {errors}"


@pytest.mark.parametrize(
    "path", [p for p in PAGES if 'class="lossbook-explorer"' in p.read_text(encoding="utf-8")],
    ids=lambda p: p.stem,
)
def test_static_sliders_change_the_figure(open_page, path):
    page, _, _ = open_page(path)
    count = page.locator(".lossbook-explorer").count()
    assert count > 0
    for i in range(count):
        root = page.locator(".lossbook-explorer").nth(i)
        root.scroll_into_view_if_needed()
        page.wait_for_function(
            "i => document.querySelectorAll('.lossbook-explorer')[i].getAttribute('data-ready') === '1'",
            arg=i, timeout=15000,
        )
        sliders = root.locator("input[type=range]")
        assert sliders.count() >= 1
        for k in range(sliders.count()):
            slider = sliders.nth(k)
            move = "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }"
            before, label_before = _canvas_hash(page, i), root.locator("output").nth(k).inner_text()
            start = slider.input_value()
            target = "0" if start != "0" else slider.get_attribute("max")
            slider.evaluate(move, target)
            after, label_after = _canvas_hash(page, i), root.locator("output").nth(k).inner_text()
            name = root.get_attribute("data-explorer")
            assert after != before, f"{path.name}: moving slider {k} of explorer {name!r} left the figure unchanged"
            assert label_after != label_before, f"{path.name}: slider {k} of explorer {name!r} kept its label"
            # Back to where it was, so each slider is tried from the explorer's own starting picture.
            slider.evaluate(move, start)
            assert _canvas_hash(page, i) == before, f"{path.name}: explorer {name!r} did not return to its picture"
