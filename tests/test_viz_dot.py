"""viz.dot and viz.draw: what the picture says, escaping, and the rendered files."""

from __future__ import annotations

import importlib
import math
import re
import shutil
import struct
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from conftest import STRICT
from hypothesis import given
from hypothesis import strategies as st

import tensorgraph as tg
import viz
from viz.backends import RendererNotFound, embedded_images
from viz.dot import escape, fmt_entries, fmt_number, to_dot

SVG_NS = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def lecture() -> tuple[tg.Tensor, list[tg.Tensor]]:
    xs = [
        tg.tensor(v, requires_grad=True, name=n)
        for v, n in zip((3.0, -4.0, 2.0, -1.0), "xyzw", strict=True)
    ]
    x, y, z, w = xs
    f = 2 * (x * y + tg.maximum(z, w))
    f.name = "f"
    return f, xs


@pytest.fixture(params=["dot", "pygraphviz"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path) -> str:
    """Each backend in turn; for pygraphviz the system `dot` is hidden from PATH."""
    if request.param == "dot":
        missing = shutil.which("dot") is None
    else:
        try:
            import pygraphviz  # noqa: F401

            missing = False
        except ImportError:
            missing = True
        empty = tmp_path / "empty-bin"
        empty.mkdir()
        monkeypatch.setenv("PATH", str(empty))
    if missing:
        if STRICT:
            pytest.fail(f"backend {request.param} is missing; required in strict mode")
        pytest.skip(f"backend {request.param} is missing")
    return request.param


def svg_texts(svg: bytes | str) -> list[str]:
    root = ET.fromstring(svg)  # also proves the SVG is well-formed XML
    return [t.text.strip() for t in root.iter(SVG_NS + "text") if t.text and t.text.strip()]


def svg_node_count(svg: bytes | str) -> int:
    root = ET.fromstring(svg)
    return sum(1 for g in root.iter(SVG_NS + "g") if g.get("class") == "node")


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


# ----------------------------------------------------------------------------- numbers


def test_numbers_are_concise() -> None:
    # the examples the issue gives
    assert fmt_number(-20.0) == "-20"
    assert fmt_number(0.5) == "0.5"
    assert fmt_number(3.1e-05) == "3.1e-05"
    assert fmt_number(-0.0) == "0"
    assert fmt_number(float("nan")) == "nan"
    assert fmt_number(float("-inf")) == "-inf"


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300))
def test_numbers_round_trip_to_four_digits(v: float) -> None:
    s = fmt_number(v)
    assert len(s) <= len("-1.234e-100")
    assert math.isclose(float(s), v, rel_tol=5e-4, abs_tol=1e-300)


@given(
    st.lists(
        st.floats(min_value=-1e4, max_value=1e4, allow_nan=False).filter(
            lambda v: v == 0 or abs(v) > 1e-2
        ),
        min_size=1,
        max_size=16,
    )
)
def test_grid_entries_share_decimals(values: list[float]) -> None:
    a = np.array(values)
    texts = fmt_entries(a)
    biggest = np.abs(a).max()
    for s, v in zip(texts, values, strict=True):
        assert math.isclose(float(s), v, rel_tol=0, abs_tol=max(biggest, 1) * 1e-3)
    decimals = {len(s.partition(".")[2]) for s, v in zip(texts, values, strict=True) if v != 0}
    assert len(decimals) <= 1  # one shared number of decimals, so columns line up


# ----------------------------------------------------------------------------- DOT text


def test_dot_holds_values_and_grads() -> None:
    f, _ = lecture()
    before = to_dot(f)
    assert "-20" in before and "-12" in before
    assert "run backward" in before and "grad -8" not in before
    f.backward()
    after = viz.draw(f).source
    for text in ("grad -8", "grad 6", "grad 2", "grad 0", "grad 1", "-20"):
        assert text in after
    assert "run backward" not in after
    assert "grad" not in to_dot(f, show_grad=False, legend=False)


def test_options() -> None:
    f, _ = lecture()
    assert 'rankdir="LR"' in to_dot(f)
    assert 'rankdir="TB"' in to_dot(f, rankdir="TB")
    assert "Lecture &amp; more" in to_dot(f, title="Lecture & more")
    with pytest.raises(ValueError, match="rankdir"):
        to_dot(f, rankdir="sideways")
    with pytest.raises(ValueError, match="max_entries"):
        to_dot(f, max_entries=0)
    legend = to_dot(f)
    for role in ("input (requires grad)", "constant", "computed", "output", "op gate"):
        assert role in legend
    assert "∂f/∂node" in legend


def test_gates_show_symbols_from_the_registry() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    f = tg.sum(tg.exp(x) @ x + tg.maximum(x, 0.5))
    src = to_dot(f)
    for op in ("exp", "matmul", "maximum", "add", "sum"):
        assert f"<B>{escape(tg.OPS[op].symbol)}</B>" in src


def test_small_tensor_shows_every_entry() -> None:
    rng = np.random.default_rng(0)
    W = tg.tensor(rng.normal(size=(4, 3)), requires_grad=True, name="W")
    loss = (W * W).sum()
    loss.backward()
    src = to_dot(loss)
    assert "4×3" in src
    for text in fmt_entries(W.data) + fmt_entries(W.grad):
        assert f">{text}<" in src


def test_large_tensor_shows_a_summary() -> None:
    rng = np.random.default_rng(1)
    X = tg.tensor(rng.normal(size=(50, 40)).astype(np.float32), requires_grad=True, name="X")
    loss = tg.mean(X * X)
    loss.backward()
    src = to_dot(loss, max_entries=16)
    assert "50×40" in src and "float32" in src
    data = X.data.astype(np.float64)
    for stat in (data.min(), data.max(), data.mean(), np.linalg.norm(data)):
        assert f">{fmt_number(stat, 3)}<" in src
    assert f">{fmt_number(np.linalg.norm(X.grad.astype(np.float64)), 3)}<" in src
    # ...and the entries themselves are not listed
    assert f">{fmt_number(data[0, 0])}<" not in src


def test_too_large_graph_becomes_a_summary_quickly() -> None:
    x = tg.tensor(1.0, requires_grad=True, name="x")
    y = x
    for _ in range(1500):
        y = y * 1.0
    src = to_dot(y, max_nodes=2000)
    assert "too large to draw" in src and "mul ×1500" in src
    assert src.count("->") == 0
    assert "<B>*</B>" in to_dot(y, max_nodes=10_000)  # the limit is a knob


@pytest.mark.parametrize(
    "name",
    [
        'a"]; b [label="pwn',
        "<b>x</b>|{y}",
        '}\\"\n&amp;\x01',
        # Characters XML forbids (Graphviz parses labels as XML): each failed the drawing.
        "a\ufffeb",
        "\uffff",
        "lone \ud800 surrogate",
        "undecodable byte \udcff",
    ],
)
def test_names_are_text_not_dot(name: str, backend: str) -> None:
    x = tg.tensor(2.0, requires_grad=True, name=name)
    y = tg.tensor(3.0, requires_grad=True, name="y")
    f = x * y
    f.name = name
    d = viz.draw(f, title=name, backend=backend)
    svg = d.pipe("svg")
    # Exactly the four nodes we drew: nothing injected.
    assert svg_node_count(svg) == 4
    drawn = re.sub("[\x01\ud800-\udfff\ufffe\uffff]", "?", name.replace("\n", " "))
    assert svg_texts(svg).count(drawn) == 3  # the title, x's label and f's label


# ----------------------------------------------------------------------------- rendering


def test_lecture_svg(backend: str) -> None:
    f, _ = lecture()
    f.backward()
    svg = viz.draw(f, backend=backend).pipe("svg")
    words = set(" ".join(svg_texts(svg)).split())
    assert {"-20", "-8", "6", "2", "0"} <= words
    assert svg_node_count(svg) == 13


def test_lecture_png(backend: str, tmp_path: Path) -> None:
    f, _ = lecture()
    f.backward()
    path = viz.render(f, tmp_path / "lecture.png", backend=backend)
    width, height = png_size(path.read_bytes())
    # 13 nodes left to right at 96 dpi: wider than tall, and not absurd
    assert 400 < width < 3000 and 250 < height < 2000 and width > height


def test_render_formats_from_suffix(tmp_path: Path) -> None:
    f, _ = lecture()
    svg = viz.render(f, tmp_path / "a" / "g.svg")
    assert svg.parent.name == "a" and svg_texts(svg.read_bytes())
    dot = viz.render(f, tmp_path / "g.gv")
    assert dot.read_text().startswith("digraph")
    png = viz.render(f, tmp_path / "noext", format="png")
    assert png.suffix == ".png" and png.read_bytes()[:8] == PNG_SIGNATURE
    with pytest.raises(ValueError, match="suffix"):
        viz.render(f, tmp_path / "g.jpeg")
    with pytest.raises(ValueError, match="format"):
        viz.render(f, tmp_path / "g", format="gif")


def test_pdf_with_system_dot(tmp_path: Path) -> None:
    if shutil.which("dot") is None:
        if STRICT:
            pytest.fail("Graphviz's dot is required in strict mode")
        pytest.skip("no system dot")
    f, _ = lecture()
    assert viz.render(f, tmp_path / "g.pdf").read_bytes()[:5] == b"%PDF-"


def test_jupyter_display(backend: str) -> None:
    f, _ = lecture()
    d = viz.draw(f, backend=backend)
    bundle = d._repr_mimebundle_()
    assert svg_texts(bundle["image/svg+xml"])
    assert d._repr_svg_() == bundle["image/svg+xml"]
    assert "viz.Drawing" in bundle["text/plain"]


@pytest.fixture
def no_renderer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setitem(sys.modules, "pygraphviz", None)


def test_without_a_renderer(no_renderer, tmp_path: Path) -> None:
    f, _ = lecture()
    d = viz.draw(f)
    bundle = d._repr_mimebundle_()
    assert set(bundle) == {"text/plain"}
    assert "pygraphviz" in bundle["text/plain"] and "dot" in bundle["text/plain"]
    assert d._repr_svg_() is None
    with pytest.raises(RendererNotFound, match=re.escape(str(tmp_path / "g.dot"))):
        viz.render(f, tmp_path / "g.png")
    assert (tmp_path / "g.dot").read_text() == d.source
    assert not (tmp_path / "g.png").exists()
    # DOT output needs no renderer at all
    assert viz.render(f, tmp_path / "h.dot").read_text() == d.source


def test_svg_is_rendered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    draw_module = importlib.import_module("viz.draw")  # viz.draw is the function
    real = draw_module.render_dot

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(draw_module, "render_dot", counting)
    d = viz.draw(lecture()[0])
    d._repr_mimebundle_()
    d._repr_svg_()
    assert len(calls) == 1


def test_thousand_node_graph_renders_svg() -> None:
    x = tg.tensor(np.ones(3), requires_grad=True, name="x")
    y = x
    for _ in range(120):
        y = tg.tanh(y * 0.9 + 0.1)
    y = y.sum()
    y.backward()
    assert viz.to_networkx(y).number_of_nodes() > 950
    svg = viz.draw(y).pipe("svg")
    assert svg_node_count(svg) == viz.to_networkx(y).number_of_nodes()


def test_each_role_has_its_own_colour() -> None:
    f, _ = lecture()
    g = viz.to_networkx(f)
    src = to_dot(g, legend=False)
    fills = {}
    for node, data in g.nodes(data=True):
        if data["kind"] == "tensor":
            line = next(li for li in src.splitlines() if li.strip().startswith(f"{node} ["))
            fills.setdefault(data["role"], set()).add(re.search(r'BGCOLOR="([^"]+)"', line)[1])
    assert set(fills) == {"input", "constant", "computed", "output"}
    assert all(len(colours) == 1 for colours in fills.values())  # one colour per role
    assert len({c for colours in fills.values() for c in colours}) == 4  # all different


def test_finite_values_beyond_the_float_range_still_draw(backend: str) -> None:
    # max - min of these finite entries overflows: the heatmap's colours and the
    # summary's mean and norm must not turn into garbage, warnings or inf.
    a = np.zeros((5, 10))
    a[0, 0], a[4, 9] = -1e308, 1e308
    W = tg.tensor(a, requires_grad=True, name="W")
    f = tg.sum(W * 1e-300)
    f.backward()
    with np.errstate(all="raise"):
        src = to_dot(f)
    assert len(embedded_images(src)) == 2  # W's value and W's gradient
    texts = svg_texts(viz.draw(f, backend=backend).pipe("svg"))
    i = texts.index("W")
    stats = dict(zip(texts[i + 2 : i + 10 : 2], texts[i + 3 : i + 10 : 2], strict=True))
    assert stats == {"min": "-1e+308", "max": "1e+308", "mean": "0", "norm": "1.41e+308"}


def test_empty_and_odd_tensors_still_draw(backend: str) -> None:
    e = tg.tensor(np.zeros((0, 3)), requires_grad=True, name="empty")
    h = tg.tensor(np.arange(8.0).reshape(2, 2, 2).astype(np.float16), requires_grad=True)
    n = tg.tensor([np.nan, 1.0, np.inf], requires_grad=True, name="n")
    f = (e * 2).sum() + (h * h).sum() + n.sum()
    f.backward()
    texts = svg_texts(viz.draw(f, backend=backend).pipe("svg"))
    assert "(no entries)" in texts and "float16" in " ".join(texts)
    assert {"nan", "inf", "49"} <= set(texts)


def test_overlays_restyle_without_changing_the_graph(backend: str) -> None:
    # The step-by-step player restyles nodes and edges through an `overlay` dict.
    f, _ = lecture()
    g = viz.to_networkx(f)
    out, x = g.graph["output"], _named(g, "x")
    g.nodes[out]["value"] = None  # not computed yet
    g.nodes[x]["overlay"] = {"border": "#7c3aed", "width": 3, "note": "<b>x</b> & more"}
    g.nodes[x]["grad"] = np.asarray(-8.0)
    g.nodes[x]["overlay"].update(grad_label="grad so far", grad_color="#d97706")
    gate = next(iter(g.successors(x)))
    g.nodes[gate]["overlay"] = {"fill": "#ede9fe", "note": "2 × 1 = 2"}
    edge = next(iter(g.out_edges(x, keys=True)))
    g.edges[edge]["overlay"] = {"color": "#dc2626", "penwidth": 2.5, "label": "-8 <"}
    g.graph["caption"] = ["Backward, * gate: <swaps>"]
    src = to_dot(g)
    svg = viz.Drawing(src, backend=backend).pipe("svg")
    texts = svg_texts(svg)
    assert "?" in texts and "<b>x</b> & more" in texts and "2 × 1 = 2" in texts
    assert "grad so far -8" in texts and "-8 <" in texts
    assert "Backward, * gate: <swaps>" in texts
    assert svg_node_count(svg) == g.number_of_nodes()
    assert 'BORDER="3"' in src and 'COLOR="#7c3aed"' in src and 'penwidth="2.5"' in src


def _named(g, name: str) -> str:
    return next(n for n, d in g.nodes(data=True) if d.get("name") == name)


def test_heatmaps_for_large_matrices_only() -> None:
    rng = np.random.default_rng(2)
    W = tg.tensor(rng.normal(size=(10, 30)), requires_grad=True, name="W")
    v = tg.tensor(rng.normal(size=40), name="v")  # large but 1-D: summary only
    loss = tg.sum(W @ v[:30]) + tg.sum(v)
    loss.backward()
    src = to_dot(loss)
    images = re.findall(r'<IMG SRC="([^"]+)"/>', src)
    assert len(images) == 2  # W's value and W's gradient
    # The pictures travel in the DOT text itself, not in files somewhere.
    carried = embedded_images(src)
    assert sorted(carried) == sorted(images)
    assert all(png[:8] == PNG_SIGNATURE for png in carried.values())
    assert not any(Path(name).exists() for name in images)
    assert "<IMG" not in to_dot(loss, heatmaps=False)
