"""The lecture's player in a real browser: Debian's chromium, headless, through Playwright.

CI installs ``chromium`` with apt and ``playwright`` from the test extra (we never run
``playwright install``: the browser is the system one). In strict mode a missing
browser fails the run instead of skipping it. Set TENSORGRAPH_SCREENSHOTS=DIR to keep
the screenshots somewhere to look at.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import STRICT

from viz.course.lecture import lecture_graph
from viz.player import animate
from viz.steps import steps

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing(reason: str) -> None:
    if STRICT:
        pytest.fail(f"{reason} (TENSORGRAPH_STRICT=1: the browser test must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    if not os.path.exists(CHROMIUM):
        _missing(f"no {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, tmp_path: Path):
    f = lecture_graph()
    path = animate(f, tmp_path / "lecture.html")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.goto(path.as_uri())
    pg.captions = [fr.caption for fr in steps(f)]  # type: ignore[attr-defined]
    yield pg
    # Nothing but the file itself (and inline data) was fetched; no script failed.
    assert all(u.startswith(("file://", "data:")) for u in requests), requests
    assert errors == []
    context.close()


def _frame(pg) -> int:
    index = int(pg.get_attribute("body", "data-frame"))
    visible = pg.locator("#stage .frame:not([hidden])")
    assert visible.count() == 1
    assert int(visible.get_attribute("data-index")) == index
    assert int(pg.input_value("#slider")) == index
    return index


def _check(pg, i: int) -> None:
    assert _frame(pg) == i
    assert pg.inner_text("#caption") == pg.captions[i]
    assert pg.inner_text("#counter") == f"{i + 1} / {len(pg.captions)}"


def _visible_text(pg) -> str:
    # Every SVG <text> of the frame on show, one per run of text the drawing wrote.
    texts = pg.locator("#stage .frame:not([hidden]) svg text").all_text_contents()
    return " | ".join(texts)


def _screenshot(pg, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    pg.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("TENSORGRAPH_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / name)
    return path


def test_keyboard_steps_through_every_frame(page, tmp_path: Path) -> None:
    n = len(page.captions)
    _check(page, 0)
    for i in range(1, n):
        page.keyboard.press("ArrowRight")
        _check(page, i)
    page.keyboard.press("ArrowRight")  # past the end: stays on the last frame
    _check(page, n - 1)
    text = _visible_text(page)
    for grad in ("grad -8", "grad 6", "grad 2", "grad 0"):
        assert grad in text
    assert "∂f/∂x = -8, ∂f/∂y = 6, ∂f/∂z = 2, ∂f/∂w = 0" in page.inner_text("#caption")
    _screenshot(page, tmp_path, "player_last.png")
    for i in range(n - 2, -1, -1):
        page.keyboard.press("ArrowLeft")
        _check(page, i)
    page.keyboard.press("End")
    _check(page, n - 1)
    page.keyboard.press("Home")
    _check(page, 0)
    assert "?" in _visible_text(page)  # f is not computed yet in the first frame


def test_buttons_and_slider(page, tmp_path: Path) -> None:
    n = len(page.captions)
    for i in range(1, n):
        page.click("#next")
        _check(page, i)
        if "2 × (-4) = -8" in page.captions[i]:
            _screenshot(page, tmp_path, "player_mul_gate.png")
            assert "-8" in _visible_text(page)
    for i in range(n - 2, -1, -1):
        page.click("#prev")
        _check(page, i)
    page.click("#last")
    _check(page, n - 1)
    page.click("#first")
    _check(page, 0)
    page.fill("#slider", "6")
    _check(page, 6)


def test_play_and_pause(page) -> None:
    assert page.get_attribute("#play", "aria-pressed") == "false"
    page.click("#play")
    assert page.get_attribute("#play", "aria-pressed") == "true"
    page.wait_for_function("document.body.dataset.frame === '2'", timeout=15_000)
    page.click("#play")  # pause
    assert page.get_attribute("#play", "aria-pressed") == "false"
    paused_at = _frame(page)
    page.wait_for_timeout(2500)  # longer than one step of the player
    assert _frame(page) == paused_at
    page.keyboard.press(" ")  # space plays too
    assert page.get_attribute("#play", "aria-pressed") == "true"
    page.keyboard.press("ArrowRight")  # a step by hand pauses
    assert page.get_attribute("#play", "aria-pressed") == "false"


# Names a student (or a hostile file) could give tensors: each once broke, or could break,
# the page's scripts (the captions are JSON inside <script>) or its markup.
HOSTILE = [
    "<!--",
    "<!--<script>",
    "</script><script>document.title='pwned'</script>",
    "a & b > c",
    "line\u2028sep\u2029para",
    "<img src=x onerror=\"document.title='pwned'\">",
]


def test_hostile_names_cannot_break_the_player(browser, tmp_path: Path) -> None:
    import tensorgraph as tg
    from viz.dot import xml_text

    xs = [tg.tensor(float(i + 1), requires_grad=True, name=n) for i, n in enumerate(HOSTILE)]
    f = xs[0]
    for x in xs[1:]:
        f = f * x
    f.name = "<!--f"
    title = "<!-- title </script> & \ud800 \ufffe"
    path = animate(f, tmp_path / "hostile.html", title=title)
    captions = [xml_text(fr.caption) for fr in steps(f)]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.goto(path.as_uri())
    # The captions parsed as JSON, the player script ran, no injected markup ran.
    assert pg.evaluate("document.getElementById('caption').textContent") == captions[0]
    assert pg.title() == "<!-- title </script> & ? ?"
    assert pg.inner_text("h1") == "<!-- title </script> & ? ?"
    assert pg.locator("img").count() == 0
    n = len(captions)
    for i in range(1, n):
        pg.keyboard.press("ArrowRight")
        assert pg.evaluate("document.getElementById('caption').textContent") == captions[i]
        assert _frame(pg) == i
    text = pg.evaluate("document.querySelector('#stage .frame:not([hidden])').textContent")
    for name in ("<!--", "a & b > c", "</script><script>"):
        assert name in text  # drawn as text in the SVG
    _screenshot(pg, tmp_path, "player_hostile.png")
    assert errors == [] and dialogs == []
    context.close()
