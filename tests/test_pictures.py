"""The first hour's pictures without blemishes (issue 16, item 8): operand labels that
cannot clash with names, framed heatmaps, tooltips with names, the direction of the
gradient in the player, a readable training-step figure, and the plots' details.
(Fonts in a browser without DejaVu Sans: tests/test_fonts_browser.py.)"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import tensorgraph as tg
import viz
from viz.course import demo, plots
from viz.course.lecture import lecture_graph
from viz.dot import FONT, HEATMAP_BORDER, to_dot
from viz.player import frame_sources

SVG = "{http://www.w3.org/2000/svg}"


def _linear_step() -> tg.Tensor:
    rng = np.random.default_rng(0)
    X = tg.tensor(rng.standard_normal((4, 30)), name="X")
    W = tg.tensor(rng.standard_normal((3, 30)), requires_grad=True, name="W")
    b = tg.tensor(np.zeros(3), requires_grad=True, name="b")
    a = tg.tensor(1.0, requires_grad=True, name="a")
    loss = tg.svm_loss(a * (X @ W.T) + b, [0, 1, 2, 0])
    loss.backward()
    return loss


def test_operands_are_named_by_position_not_by_letters_a_and_b() -> None:
    source = to_dot(_linear_step())
    labels = re.findall(r"->\s*g\d+ \[[^\]]*\blabel=\"([^\"]*)\"", source)
    assert sorted(labels) == ["1st", "2nd"]  # the @ gate's; + and * commute
    assert not re.search(r'label="[ab]"', source)  # no clash with the tensors a and b
    # sub is not commutative either: its operands are labelled the same way.
    x, y = tg.tensor(1.0, requires_grad=True), tg.tensor(2.0, requires_grad=True)
    assert sorted(re.findall(r'label="(\d\w\w)"', to_dot(x - y))) == ["1st", "2nd"]


def test_heatmaps_are_framed_tightly() -> None:
    source = to_dot(_linear_step())
    frames = re.findall(
        rf'<TD BORDER="1" COLOR="{HEATMAP_BORDER}" FIXEDSIZE="TRUE" WIDTH="(\d+)" '
        r'HEIGHT="(\d+)" CELLPADDING="0"><IMG SRC="(tg-\w+\.png)"/></TD>',
        source,
    )
    assert len(frames) >= 4  # X, W and their gradients, ...
    images = viz.backends.embedded_images(source)
    for width, height, name in frames:
        png = images[name]
        px = [int.from_bytes(png[i : i + 4], "big") for i in (16, 20)]
        # Graphviz sets a pixel at 0.75 pt: the frame is the picture plus its 1 pt border.
        assert [int(width), int(height)] == [-(-3 * n // 4) + 2 for n in px]


def test_a_mostly_zero_gradient_has_a_visible_frame(tmp_path: Path) -> None:
    """The frame is drawn: the SVG has a grey rectangle around every heatmap image."""
    svg = viz.draw(_linear_step()).svg()
    root = ET.fromstring(svg)
    boxes = [
        p
        for p in root.iter(f"{SVG}polygon")
        if p.get("stroke") == HEATMAP_BORDER and p.get("fill") == "none"
    ]
    assert len(boxes) == len(list(root.iter(f"{SVG}image"))) >= 4


def test_tooltips_show_names_not_ids() -> None:
    svg = viz.draw(_linear_step()).svg()
    titles = re.findall(r"<title>([^<]*)</title>", svg)
    ids = [t for t in titles if re.fullmatch(r"[tg]\d+(&#45;&gt;[tg]\d+)?", t)]
    assert ids == [] and "W (3×30)" in titles and "matmul gate (@)" in titles
    assert "X (4×30) → matmul gate (@)" in titles
    assert "a" in titles and "a → mul gate (*)" in titles  # a 0-d tensor: its name alone


def test_svgs_name_a_font_list_with_fallbacks() -> None:
    svg = viz.draw(lecture_graph()).svg()
    families = set(re.findall(r'font-family="([^"]*)"', svg))
    assert families == {FONT}
    first, *rest = FONT.split(",")
    assert first == "DejaVu Sans" and rest[-1] == "sans-serif" and "Arial" in rest


def test_backward_arrows_point_the_way_the_gradient_flows() -> None:
    frames, sources = frame_sources(lecture_graph())
    for frame, source in zip(frames, sources, strict=True):
        highlighted = re.findall(r"  (t\d+ -> g\d+ \[[^\n]*penwidth[^\n]*)", source)
        assert len(highlighted) == len(frame.edges) or frame.phase == "forward"
        for line in highlighted:
            assert ('dir="back"' in line) == (frame.phase == "backward"), line
            if frame.phase == "backward" and "label" in line:
                assert "taillabel=<" in line and "headlabel" not in line  # at the arrowhead
    assert any(f.phase == "backward" and f.edges for f in frames)


def test_the_report_draws_the_lecture_with_p_q_v_and_a_readable_training_step(
    tmp_path: Path,
) -> None:
    index = demo.run_demo(tmp_path, quick=True)
    page = index.read_text(encoding="utf-8")
    lecture = (tmp_path / "lecture_graph.svg").read_text(encoding="utf-8")
    for name in "pqv":  # named as in the player and on the slide
        assert re.search(rf'font-weight="bold"[^>]*>{name}</text>', lecture), name
    # The training step is drawn top to bottom, narrow enough for the page (1200 px at
    # most) at full size: no number shrunk to a third.
    step = (tmp_path / "svm_step.svg").read_text(encoding="utf-8")
    width_pt = float(re.search(r'<svg width="(\d+)pt"', step).group(1))
    assert width_pt * 96 / 72 <= 1200 - 32
    assert "rankdir" not in page and "svm_step.svg" in page
    # grid_search's own HTML table, the best row in bold.
    assert page.count("<b>") >= 2 and "every setting tried" in page


@pytest.mark.parametrize(
    ("name", "expected"), [("8", "an 8"), ("5", "a 5"), ("Ankle boot", "an Ankle boot")]
)
def test_class_names_get_the_right_article(name: str, expected: str) -> None:
    assert demo.with_article(name) == expected


# ----- the plots -----


@pytest.fixture
def figures(monkeypatch) -> list:
    """The matplotlib figures the plots save, to look at what is on them."""
    saved = []
    real = plots._save

    def keep(fig, path):
        saved.append(fig)
        return real(fig, path)

    monkeypatch.setattr(plots, "_save", keep)
    return saved


def test_the_running_mean_starts_where_the_loss_does(tmp_path, figures) -> None:
    loss = np.concatenate([np.linspace(9.0, 0.5, 30), np.full(470, 0.2)])
    plots.loss_curve({"loss": loss}, tmp_path / "l.png")
    ax = figures[0].axes[0]
    raw, smooth = ax.lines[:2]
    assert smooth.get_xdata()[0] == raw.get_xdata()[0] == 1
    assert smooth.get_ydata()[0] == loss[0]  # not the mean of the first 20, at step 20
    np.testing.assert_allclose(smooth.get_ydata()[-1], 0.2)
    np.testing.assert_allclose(plots.running_mean(np.arange(5.0), 3), [0, 0.5, 1, 2, 3])


def test_the_last_accuracies_are_in_the_legend_not_on_the_curve(tmp_path, figures) -> None:
    h = {"loss": [2.3, 1.0], "train_accuracy": [0.8, 0.99], "val_accuracy": [0.7, 0.97]}
    plots.loss_curve(h, tmp_path / "l.png")
    ax2 = figures[0].axes[1]
    assert len(ax2.texts) == 0  # no free-floating text box the curve can run through
    labels = [t.get_text() for t in ax2.get_legend().get_texts()]
    assert labels == ["train (last 0.990)", "validation (last 0.970)"]


def test_the_probability_axis_stops_at_100(tmp_path, figures) -> None:
    plots.pixel_view(np.arange(16).reshape(4, 4), [0.9, 0.06, 0.04], tmp_path / "p.png")
    ax2 = figures[0].axes[1]
    assert max(ax2.get_xticks()) == 100
    assert ax2.spines["bottom"].get_bounds() == (0, 100)


def test_templates_have_a_colour_bar(tmp_path, figures) -> None:
    W = np.random.default_rng(0).normal(size=(10, 64))
    plots.templates(W, (8, 8), tmp_path / "W.png", tg.data.DIGITS_CLASSES)
    fig = figures[0]
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 1
    ticks = [t.get_text() for t in bars[0].get_yticklabels()]
    assert ticks == ["−max", "0", "+max"]
    label = bars[0].get_ylabel()
    assert "red raises the score, blue lowers it" in label and "largest |weight|" in label
    # Each template is scaled to its own largest |weight|: all reach ±1 on the bar.
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 10
    assert all(np.isclose(np.abs(im.get_array()).max(), 1.0) for im in images)


def test_grid_search_shows_a_table_in_jupyter() -> None:
    X, y = np.array([[1.0, 0.0], [0.0, 1.0]] * 4), np.array([0, 1] * 4)
    result = tg.tune.grid_search(tg.LinearSVM, {"reg": [0.0, 0.1]}, X, y, X, y, epochs=5)
    page = result._repr_html_()
    root = ET.fromstring(f"<div>{page}</div>")  # well-formed
    header = [th.text for th in root.iter("th")]
    assert header == ["reg", "val_accuracy", "train_accuracy", "fit_seconds"]
    rows = list(root.iter("tr"))[1:]
    assert len(rows) == 2 and rows[0].find("td/b") is not None  # the best, in bold
    assert "GridSearchResult(2 settings" in repr(result) and "best_model=" not in repr(result)
