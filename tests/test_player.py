"""The player (viz.animate), numbered frames (viz.render_steps) and tensor heatmaps."""

from __future__ import annotations

import doctest
import json
import re
import struct
import xml.etree.ElementTree as ET
from io import BytesIO
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

import tensorgraph as tg
import viz
from viz.backends import render_dot
from viz.cli import main
from viz.course.lecture import lecture_graph
from viz.graph import to_networkx
from viz.heatmap import colorize, heatmap_png
from viz.player import animate, frame_sources, render_steps
from viz.steps import steps

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _external_refs(text: str) -> list[str]:
    """Every href / src in a document that does not point inside it (data: or #id)."""
    refs = re.findall(r'(?:href|src)\s*=\s*["\']([^"\']*)["\']', text)
    return [r for r in refs if not r.startswith(("data:", "#"))]


def test_animate_writes_one_self_contained_page(tmp_path: Path) -> None:
    f = lecture_graph()
    path = animate(f, tmp_path / "lecture.html")
    page = path.read_text(encoding="utf-8")
    n = len(steps(f))
    assert page.count('<div class="frame"') == n
    assert page.count("<svg") == n
    assert _external_refs(page) == []
    assert "http://" not in page.replace("http://www.w3.org", "")
    assert "https://" not in page
    for control in ('id="play"', 'id="prev"', 'id="next"', 'id="slider"', "keydown"):
        assert control in page
    # ids are unique across the inline SVGs (a clipPath of frame 3 must not serve frame 0)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_each_frame_svg_is_valid_and_shows_its_numbers(tmp_path: Path) -> None:
    f = lecture_graph()
    paths = render_steps(f, tmp_path, "svg")
    assert [p.name for p in paths] == [f"frame_{i:03d}.svg" for i in range(len(paths))]
    texts = []
    for p in paths:
        root = ET.fromstring(p.read_bytes())
        texts.append(" ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")))
    assert "?" in texts[0]  # the output is not computed yet
    assert "-20" in texts[4]  # the forward pass reached f
    last = texts[-1]
    for g in ("grad -8", "grad 6", "grad 2", "grad 0"):
        assert g in last


def test_png_frames(tmp_path: Path) -> None:
    x = tg.tensor(3.0, requires_grad=True, name="x")
    paths = render_steps(x * x, tmp_path, format="png")
    assert len(paths) == len(steps(x * x))
    for p in paths:
        data = p.read_bytes()
        assert data[:8] == PNG_SIGNATURE
        width, height = struct.unpack(">II", data[16:24])
        assert 100 < width < 3000 and 50 < height < 3000
    with pytest.raises(ValueError, match="format"):
        render_steps(x * x, tmp_path, format="gif")


def test_frames_style_pending_and_active(tmp_path: Path) -> None:
    x = tg.tensor(3.0, requires_grad=True, name="x")
    y = tg.tensor(-4.0, requires_grad=True, name="y")
    frames, sources = frame_sources(x * y + x)
    plus = next(i for i, fr in enumerate(frames) if fr.caption.startswith("Backward, + gate"))
    assert "grad so far 1" in sources[plus]  # x waits for the * gate
    assert "grad so far" not in sources[-1]
    assert "#7c3aed" in sources[plus]  # the active gate's border


def _layout(source: str) -> dict[str, tuple[str, str, str]]:
    """Each node's position and size as Graphviz lays the frame out."""
    objects = json.loads(render_dot(source, "json")).get("objects", [])
    return {o["name"]: (o["pos"], o["width"], o["height"]) for o in objects}


@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_nothing_moves_between_frames(rankdir: str) -> None:
    """Labels grow and shrink ("grad: — (not reached yet)" -> "grad 2"), captions wrap
    to 1-3 lines, edges gain gradient labels: every node keeps its place and size."""
    rng = np.random.default_rng(0)
    W = tg.tensor(rng.standard_normal((3, 4)), requires_grad=True, name="W")
    X = tg.tensor(rng.standard_normal((2, 4)), name="X")
    # A 10x30 matrix shows heatmaps: the pictures are measured with the rest.
    M = tg.tensor(rng.standard_normal((10, 30)), requires_grad=True, name="M")
    big = tg.sum(tg.relu(M @ tg.tensor(rng.standard_normal(30))))
    for f in (lecture_graph(), tg.svm_loss(X @ W.T, [0, 2]) + 0.1 * tg.l2(W), big):
        _, sources = frame_sources(f, rankdir=rankdir)
        first = _layout(sources[0])
        assert len(first) == len(to_networkx(f))
        for i, source in enumerate(sources[1:], 1):
            assert _layout(source) == first, f"frame {i} moved"
        # ... and the page is the same size in every frame
        sizes = {re.search(r'viewBox="([^"]+)"', render_dot(s, "svg").decode())[1] for s in sources}
        assert len(sizes) == 1, sizes


def test_frames_are_laid_out_as_before_without_a_renderer(monkeypatch) -> None:
    """No renderer: the DOT text is still right, only the sizes are not steadied."""

    def missing(*args, **kwargs):
        raise viz.RendererNotFound("none here")

    monkeypatch.setattr("viz.player.render_dot", missing)
    frames, sources = frame_sources(lecture_graph())
    assert len(sources) == len(frames) and "WIDTH=" not in sources[0]


def test_cli_animate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "lecture.html"
    code = main(["animate", "2*(x*y + max(z, w))", "x=3", "y=-4", "z=2", "w=-1", "-o", str(out)])
    assert code == 0
    page = out.read_text(encoding="utf-8")
    assert "2 × (-4) = -8" in page
    assert str(out) in capsys.readouterr().out
    assert main(["animate", "__import__('os')", "-o", str(tmp_path / "x.html")]) != 0
    assert not (tmp_path / "x.html").exists()


# ----------------------------------------------------------------------------- heatmaps


def test_heatmap_png_decodes_to_its_colours() -> None:
    a = np.array([[-2.0, 0.0, 1.0], [0.5, -1.0, 2.0]])
    png = heatmap_png(a, diverging=True, cell=4)
    img = matplotlib.image.imread(BytesIO(png))  # an independent PNG decoder
    assert img.shape == (8, 12, 3)
    expected = np.repeat(np.repeat(colorize(a, diverging=True), 4, 0), 4, 1)
    np.testing.assert_array_equal(np.rint(img * 255).astype(np.uint8), expected)
    # the diverging map: 0 is white, negative blue, positive red
    rgb = colorize(a, diverging=True)
    assert rgb[0, 1].tolist() == [255, 255, 255]
    assert rgb[0, 0, 2] > rgb[0, 0, 0] and rgb[1, 2, 0] > rgb[1, 2, 2]


def test_big_matrix_node_shows_heatmaps_and_stays_self_contained() -> None:
    rng = np.random.default_rng(0)
    W = tg.tensor(rng.normal(size=(10, 30)), requires_grad=True, name="W")
    x = tg.tensor(rng.normal(size=30))
    loss = tg.sum(tg.relu(W @ x))
    loss.backward()
    svg = viz.draw(loss).svg()
    ET.fromstring(svg.encode("utf-8"))
    images = re.findall(r"<image\b[^>]*>", svg)
    assert len(images) == 2  # W's value and W's gradient
    assert all("data:image/png;base64," in im for im in images)
    assert _external_refs(svg) == []
    small = viz.draw(loss, heatmaps=False).svg()
    assert "<image" not in small


def test_player_doctests() -> None:
    import viz.player

    result = doctest.testmod(viz.player)
    assert result.attempted > 0 and result.failed == 0


def test_hostile_names_stay_inside_the_page_json(tmp_path: Path) -> None:
    # "<!--" or "</script>" in a name (the captions are JSON inside <script>) stopped
    # every script after it; the browser test drives the same page in Chromium.
    x = tg.tensor(2.0, requires_grad=True, name="<!--<script>")
    y = tg.tensor(3.0, requires_grad=True, name="</script>\u2028&")
    f = x * y
    page = animate(f, tmp_path / "p.html").read_text(encoding="utf-8")
    blocks = re.findall(r'<script type="application/json" id="(\w+)">(.*?)</script>', page, re.S)
    assert [name for name, _ in blocks] == ["captions", "phases"]
    for _, body in blocks:
        assert not set(body) & set("<>&\u2028\u2029")
    captions = json.loads(blocks[0][1])
    assert captions == [fr.caption.replace("\u2028", " ") for fr in steps(f)]
    assert page.count("<script") == 3 and page.count("</script>") == 3


@pytest.mark.parametrize("bad", ["\ufffe", "\uffff", "\ud800", "\udcff", "\x00"])
def test_player_and_frames_draw_names_xml_forbids(tmp_path: Path, bad: str) -> None:
    # Each of these failed the render (Graphviz parses labels as XML) or the page's
    # write (a lone surrogate cannot be encoded): it is drawn as "?".
    x = tg.tensor(2.0, requires_grad=True, name=f"x{bad}")
    f = x * x
    f.name = f"f{bad}"
    page = animate(f, tmp_path / "p.html", title=f"title {bad}").read_text(encoding="utf-8")
    assert "<h1>title ?</h1>" in page and "x?" in page
    for path in render_steps(f, tmp_path / "frames", title=f"title {bad}"):
        root = ET.fromstring(path.read_bytes())  # well-formed XML
        texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert "x?" in texts


def test_heatmap_colours_of_values_beyond_the_float_range() -> None:
    # hi - lo of finite entries overflowed to inf: every colour came out wrong.
    a = np.array([[-1.0, -0.5, 0.0, 0.5, 1.0]])
    with np.errstate(all="raise"):
        for diverging in (False, True):
            expected = colorize(a, diverging)
            np.testing.assert_array_equal(colorize(1e308 * a, diverging), expected)
            np.testing.assert_array_equal(
                colorize(5e-324 * np.sign(a), diverging)[0, ::2], expected[0, ::2]
            )
        png = heatmap_png(np.full((300, 300), 1.7e308))  # block means of huge entries
    img = matplotlib.image.imread(BytesIO(png))
    assert (np.rint(img * 255) != 160).any()  # drawn, not the grey of non-finite entries


def test_player_draws_empty_tensors(tmp_path: Path) -> None:
    # The player's part for empty tensors: frames holding empty values and gradients
    # draw and play (steps() itself makes such frames once it accepts empty graphs).
    from viz.steps import Frame, NodeState

    e = tg.tensor(np.zeros((0, 3)), requires_grad=True, name="e")
    f = tg.sum(e * 2)
    g = to_networkx(f)
    frames = []
    for i, phase in enumerate(("forward", "backward")):
        nodes = {
            n: NodeState(
                d["kind"],
                value=np.asarray(d["value"]) if d["kind"] == "tensor" else None,
                grad=np.zeros_like(d["value"]) if d["kind"] == "tensor" and i else None,
            )
            for n, d in g.nodes(data=True)
        }
        frames.append(Frame(i, phase, f"frame {i}", ("t0",), (), nodes))
    svgs = [
        render_dot(viz.dot.to_dot(viz.player.frame_graph(g, fr)), "svg").decode() for fr in frames
    ]
    for svg in svgs:
        assert "(no entries)" in svg
    page = viz.player.player_html(svgs, [fr.caption for fr in frames], ["forward", "backward"], "e")
    assert page.count('<div class="frame"') == 2


def _fan_out_chain(loops: int) -> tg.Tensor:
    """x feeds every other gate: Graphviz lays such a graph out slowly (~1 s at 90 gates)."""
    x = tg.tensor(0.5, requires_grad=True, name="x")
    f = x
    for i in range(loops):
        f = f * 1.01 + x if i % 2 else tg.tanh(f)
    return f


def test_a_film_too_costly_is_refused_with_its_estimate(tmp_path: Path) -> None:
    # 90 gates, under the 100-gate limit of steps(): 183 frames took 4 minutes and 47 MB.
    f = _fan_out_chain(60)
    with pytest.raises(ValueError, match=r"animate: 183 frames.* would take about .* MB") as err:
        animate(f, tmp_path / "big.html")
    assert "max_seconds=60" in str(err.value) and "viz.draw(t)" in str(err.value)
    with pytest.raises(ValueError, match=r"render_steps: 183 frames"):
        render_steps(f, tmp_path / "frames", "png")
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the folder


def test_film_limits_are_parameters(tmp_path: Path) -> None:
    f = _fan_out_chain(4)
    with pytest.raises(ValueError, match=r"MB \(limits: max_seconds=None, max_megabytes=0.01\)"):
        animate(f, tmp_path / "a.html", max_seconds=None, max_megabytes=0.01)
    with pytest.raises(ValueError, match=r"max_seconds=1e-09"):
        render_steps(f, tmp_path / "frames", max_seconds=1e-9)
    path = animate(f, tmp_path / "b.html", max_seconds=None, max_megabytes=None)
    assert path.read_text(encoding="utf-8").count('<div class="frame"') == len(steps(f))


def test_film_budget_counts_the_captions(tmp_path: Path) -> None:
    # The page carries every caption; a huge name is in several of them.
    x = tg.tensor(2.0, requires_grad=True, name="x " * 200_000)
    with pytest.raises(ValueError, match="max_megabytes=1"):
        animate(x * x, tmp_path / "p.html", max_megabytes=1)
    assert not (tmp_path / "p.html").exists()
