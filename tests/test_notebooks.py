"""The course notebooks (notebooks/*.ipynb), executed top to bottom as a student would.

nbclient runs each one in a fresh kernel of this environment: no cell may fail, each
drawing shows its slide's numbers as SVG, the player is HTML, the flat code prints, and
the sliders' update function redraws with new numbers when called in the same kernel.
The executed notebooks are rendered to HTML by nbconvert and opened in Debian's headless
Chromium (as tests/test_player_browser.py does); TENSORGRAPH_SCREENSHOTS=DIR keeps the
screenshots. The stored notebooks carry no outputs.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
from conftest import STRICT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
# The seed lecture's order.
TITLES = [
    "1. Image classification and the score function",
    "2. Loss functions and regularization",
    "3. Optimization and the numerical gradient",
    "4. Backpropagation, PyTorch and the computation graph",
]
# Each drawing cell (by tag) and the numbers its picture must show.
DRAWINGS = {
    "drawing-scores": [">-96.8<", ">437.9<", ">60.8<"],  # cs231n's cat image, Wx + b
    "drawing-svm": [">5.267<", ">grad 1<"],  # the mean hinge loss 5.27 of three examples
    "drawing-lecture": [">-20<", ">-12<", ">grad -8<", ">grad 6<", ">grad 2<", ">grad 0<"],
}
# Run after the notebook, in its kernel: the sliders' update, as a slider move calls it.
UPDATE = (
    "svg = panel.update(x=1, y=2, z=-3, w=5)\n"
    "print(bytes(panel.picture.value) == svg.encode(), '>14<' in svg, '>grad 4<' in svg)"
)


def paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict[str, object]:
    """Every notebook, executed (the last one with the update cell appended)."""
    work = tmp_path_factory.mktemp("notebooks")
    out = {}
    for path in paths():
        nb = nbformat.read(path, as_version=4)
        if any("interactive" in c.metadata.get("tags", []) for c in nb.cells):
            nb.cells.append(nbformat.v4.new_code_cell(UPDATE, metadata={"tags": ["update"]}))
        client = nbclient.NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}}
        )
        client.execute()  # raises CellExecutionError, naming the cell, if one fails
        out[path.name] = nb
    return out


def cells(nb, tag: str) -> list:
    return [c for c in nb.cells if tag in c.metadata.get("tags", [])]


def test_the_notebooks_follow_the_lecture() -> None:
    titles = [nbformat.read(p, as_version=4).cells[0].source.splitlines()[0] for p in paths()]
    assert titles == [f"# {t}" for t in TITLES]


def test_they_are_stored_without_outputs() -> None:
    for path in paths():
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name
                assert len(cell.source.splitlines()) <= 15, f"{path.name}: a long cell"


def test_no_cell_fails(executed) -> None:
    for name, nb in executed.items():
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                assert output.output_type != "error", (name, output.get("ename"))


def test_each_drawing_is_an_svg_with_its_numbers(executed) -> None:
    seen = set()
    for nb in executed.values():
        for tag, numbers in DRAWINGS.items():
            for cell in cells(nb, tag):
                seen.add(tag)
                svg = next(o.data["image/svg+xml"] for o in cell.outputs if "data" in o)
                text = html.unescape(svg)
                assert "<svg" in text
                for number in numbers:
                    assert number in text, (tag, number)
    assert seen == set(DRAWINGS)


def test_the_player_cell_is_html(executed) -> None:
    (cell,) = cells(executed["04_backpropagation.ipynb"], "player")
    page = cell.outputs[0].data["text/html"]
    assert page.startswith("<iframe srcdoc=") and "Backward" in html.unescape(page)


def test_the_flat_code_cell_prints_the_slide(executed) -> None:
    (cell,) = cells(executed["04_backpropagation.ipynb"], "flat-code")
    text = "".join(o.text for o in cell.outputs if o.output_type == "stream")
    assert "    q = np.maximum(z, w)  # 2\n" in text and "    dfdx = dfdp * y  # -8\n" in text


def test_the_sliders_redraw_when_moved(executed) -> None:
    nb = executed["04_backpropagation.ipynb"]
    (shown,) = cells(nb, "interactive")
    assert "application/vnd.jupyter.widget-view+json" in shown.outputs[0].data
    (update,) = cells(nb, "update")
    assert update.outputs[0].text.split() == ["True", "True", "True"]


def test_the_sliders_update_function_in_process() -> None:
    pytest.importorskip("ipywidgets")
    from viz.course.interactive import LectureSliders

    panel = LectureSliders()
    assert ">-20<" in html.unescape(panel.svg)
    assert bytes(panel.picture.value) == panel.svg.encode()
    svg = panel.update(z=4)  # f = 2·(-12 + max(4, -1)) = -16
    assert ">-16<" in html.unescape(svg) and panel.sliders["z"].value == 4
    panel.sliders["w"].value = 4.5  # a slider moving redraws by itself: now w wins the max
    assert ">-15<" in html.unescape(panel.svg) and ">grad 2<" in panel.svg
    with pytest.raises(TypeError, match="no slider named"):
        panel.update(v=1)


def test_the_executed_notebooks_render_in_a_browser(executed, tmp_path) -> None:
    """nbconvert's HTML of every executed notebook, in headless Chromium: the drawings
    are there, the player's frames run in their iframe, no script fails."""
    nbconvert = pytest.importorskip("nbconvert")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    if not os.path.exists("/usr/bin/chromium"):
        _missing("no /usr/bin/chromium (apt-get install chromium)")
    shots = Path(os.environ.get("TENSORGRAPH_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    exporter = nbconvert.HTMLExporter()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        # Offline, as CI is: the template's CDN scripts (MathJax, require.js) are refused.
        page.route(re.compile(r"^https?://"), lambda route: route.abort())
        for name, nb in executed.items():
            body, _ = exporter.from_notebook_node(nb)
            target = tmp_path / name.replace(".ipynb", ".html")
            target.write_text(body, encoding="utf-8")
            page.goto(target.as_uri())
            # nbconvert embeds each SVG output as an image: every one decoded and drawn.
            drawn = page.eval_on_selector_all(
                ".jp-RenderedSVG img", "imgs => imgs.map(i => i.complete && i.naturalWidth)"
            )
            assert len(drawn) >= len([t for t in DRAWINGS if cells(nb, t)]), name
            assert all(w and w > 100 for w in drawn), (name, drawn)
            page.screenshot(path=str(shots / f"{target.stem}.png"), full_page=True)
            if cells(nb, "player"):
                frame = page.frame_locator("iframe[title='backprop player']")
                frame.locator("#next").click()
                assert frame.locator("#counter").inner_text() == "2 / 11"
                assert frame.locator("#stage .frame:not([hidden]) svg").count() == 1
                page.locator("iframe").scroll_into_view_if_needed()
                page.screenshot(path=str(shots / "player_in_notebook.png"))
        browser.close()
    assert errors == []


def _missing(reason: str) -> None:
    if STRICT:
        pytest.fail(f"{reason} (TENSORGRAPH_STRICT=1: the browser test must run)")
    pytest.skip(reason)


def test_dev_py_notebooks_opens_jupyterlab_from_its_own_extra(monkeypatch) -> None:
    import importlib.util
    import tomllib

    root = NOTEBOOKS.parent
    spec = importlib.util.spec_from_file_location("dev", root / "dev.py")
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)
    calls: list[tuple] = []
    monkeypatch.setattr(dev, "install", lambda extras: calls.append(("install", extras)))
    monkeypatch.setattr(dev, "run", lambda *cmd: calls.append(tuple(str(c) for c in cmd)))
    assert dev.main(["notebooks", "--no-browser"]) == 0
    assert calls[0] == ("install", "notebooks")
    assert calls[1][0].endswith("jupyter") and calls[1][1:3] == ("lab", str(NOTEBOOKS))
    assert "--no-browser" in calls[1]
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert {d.split(">")[0] for d in extras["notebooks"]} == {"jupyterlab", "ipywidgets"}
    wanted = {"nbclient", "ipykernel", "nbformat", "nbconvert", "ipywidgets"}
    assert wanted <= {d.split(">")[0] for d in extras["test"]}


def test_animate_without_a_path_is_a_player_for_a_cell(tmp_path) -> None:
    import viz
    from viz.course.lecture import lecture_graph

    player = viz.animate(lecture_graph())
    assert isinstance(player, viz.Player) and player.frames == 11
    cell = player._repr_html_()
    # One iframe holding the whole page: its script and ids cannot meet the notebook's.
    assert cell.startswith("<iframe srcdoc=") and cell.count("<iframe") == 1
    assert html.unescape(cell.split('srcdoc="')[1].split('" title=')[0]) == player.html
    assert 400 < player.height <= 1200
    saved = player.save(tmp_path / "lecture.html")
    written = viz.animate(lecture_graph(), tmp_path / "again.html")
    assert saved.read_text(encoding="utf-8") == written.read_text(encoding="utf-8")
