"""Rendering backends: system `dot` and in-process pygraphviz, fonts, PNG cap, images.

Both paths run: the system-dot tests need Debian's graphviz (CI installs it; in strict
mode its absence fails the run); the in-process tests hide `dot` from PATH.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import struct
import subprocess
import sys
import textwrap
import warnings
import xml.etree.ElementTree as ET
from io import BytesIO
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from conftest import STRICT

from viz import backends
from viz.backends import RendererNotFound, RenderError, available_backends, render_dot

REPO = Path(__file__).resolve().parents[1]
SVG_NS = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# A node of the lecture graph, as the drawing layer writes it.
TINY = """digraph {
  rankdir=LR;
  node [fontname="DejaVu Sans,sans-serif", fontsize=14];
  x [shape=record, label="{ x | data 3.0000 | grad -8.0000 }"];
  mul [shape=circle, label="*"];
  x -> mul;
}"""


def _need_dot() -> None:
    if shutil.which("dot") is None:
        message = "Graphviz's `dot` is not on PATH (apt-get install graphviz)"
        if STRICT:
            pytest.fail(message + "; required in strict mode")
        pytest.skip(message)


def _need_pygraphviz() -> None:
    try:
        import pygraphviz  # noqa: F401
    except ImportError:
        if STRICT:
            pytest.fail("pygraphviz is not installed; required in strict mode")
        pytest.skip("pygraphviz is not installed")


@pytest.fixture
def no_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH without any `dot` on it (the machine of a pip-only user)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None


@pytest.fixture
def no_pygraphviz(monkeypatch: pytest.MonkeyPatch) -> None:
    """`import pygraphviz` fails, as on a platform without wheels."""
    monkeypatch.setitem(sys.modules, "pygraphviz", None)


@pytest.fixture(params=["dot", "pygraphviz"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path) -> str:
    """Each backend in turn; for pygraphviz, `dot` is hidden so "auto" must pick it."""
    if request.param == "dot":
        _need_dot()
    else:
        _need_pygraphviz()
        empty = tmp_path / "empty-bin"
        empty.mkdir()
        monkeypatch.setenv("PATH", str(empty))
    return request.param


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def _svg_size_pt(svg: bytes) -> tuple[float, float]:
    root = ET.fromstring(svg)
    return tuple(float(root.get(k).removesuffix("pt")) for k in ("width", "height"))


def _texts(svg: bytes) -> list[str]:
    return [t.text.strip() for t in ET.fromstring(svg).iter(SVG_NS + "text") if t.text]


def _chain(n: int) -> str:
    nodes = "\n".join(f'n{i} [shape=box, label="tensor {i}: data {i}.5"];' for i in range(n))
    edges = " -> ".join(f"n{i}" for i in range(n))
    return f'digraph {{ rankdir=LR; node [fontname="DejaVu Sans"];\n{nodes}\n{edges}; }}'


# --------------------------------------------------------------------------- both paths


def test_svg_is_valid_xml_with_the_labels(backend: str) -> None:
    svg = render_dot(TINY, "svg")  # "auto" picks the backend under test
    assert ET.fromstring(svg).tag == SVG_NS + "svg"
    texts = _texts(svg)
    for label in ("x", "data 3.0000", "grad -8.0000", "*"):
        assert label in texts
    assert svg == render_dot(TINY, "svg", backend=backend)


def test_png_signature_and_size_follow_the_layout(backend: str) -> None:
    width_pt, height_pt = _svg_size_pt(render_dot(TINY, "svg", backend=backend))
    for dpi in (96, 192):
        width, height = _png_size(render_dot(TINY, "png", backend=backend, dpi=dpi))
        # 72 pt per inch: the bitmap is the layout scaled to dpi, within rounding
        assert width == pytest.approx(width_pt * dpi / 72, abs=2)
        assert height == pytest.approx(height_pt * dpi / 72, abs=2)


def test_pdf(backend: str) -> None:
    assert render_dot(TINY, "pdf", backend=backend).startswith(b"%PDF-")


def test_dot_format_needs_no_renderer(no_dot, no_pygraphviz) -> None:
    assert render_dot(TINY, "dot") == TINY.encode()


def test_png_cap_holds_and_has_a_knob(backend: str) -> None:
    src = _chain(12)  # ~2,400 px wide at 96 dpi: fast, yet larger than the caps below
    full = _png_size(render_dot(src, "png", backend=backend, max_png_side=None))
    assert max(full) > 1000
    for cap in (300, 1000):
        size = _png_size(render_dot(src, "png", backend=backend, max_png_side=cap))
        assert max(size) <= cap
        assert max(size) >= cap - 10  # scaled down to the cap, not below it
        # the aspect ratio survives the scaling
        assert size[0] / size[1] == pytest.approx(full[0] / full[1], rel=0.1)
    # The DOT's own size and dpi cannot lift the cap.
    greedy = src.replace("rankdir=LR;", 'rankdir=LR; size="500,500!"; dpi=300;')
    assert max(_png_size(render_dot(greedy, "png", backend=backend, max_png_side=300))) <= 300


def test_default_cap_on_a_long_chain(backend: str) -> None:
    src = _chain(45)  # ~9,000 px wide at 96 dpi uncapped
    size = _png_size(render_dot(src, "png", backend=backend))
    assert max(size) <= backends.DEFAULT_MAX_PNG_SIDE
    width_pt, _ = _svg_size_pt(render_dot(src, "svg", backend=backend))
    assert width_pt * 96 / 72 > backends.DEFAULT_MAX_PNG_SIDE  # so the cap did act


def test_images_are_inlined(backend: str, tmp_path: Path) -> None:
    picture = tmp_path / "heat & map.png"
    buffer = BytesIO()
    matplotlib.image.imsave(buffer, np.arange(16.0).reshape(4, 4), format="png")
    picture.write_bytes(buffer.getvalue())
    src = f'digraph {{ a [shape=box, label="", image="{picture}"]; a -> b; }}'
    svg = render_dot(src, "svg", backend=backend).decode()
    assert str(tmp_path) not in svg
    hrefs = re.findall(r'href="data:image/png;base64,([^"]*)"', svg)
    assert len(hrefs) == 1
    assert base64.b64decode(hrefs[0]) == picture.read_bytes()


def test_bad_dot_raises_with_graphviz_message_and_next_render_works(backend: str) -> None:
    with pytest.raises(RenderError, match="syntax error"):
        render_dot("digraph { a -> }", "svg", backend=backend)
    assert "x" in _texts(render_dot(TINY, "svg", backend=backend))


def test_graphviz_warnings_become_python_warnings(backend: str) -> None:
    with pytest.warns(RuntimeWarning, match="nosuchshape"):
        render_dot('digraph { a [shape="nosuchshape"]; }', "svg", backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean graph renders without any warning
        render_dot(TINY, "png", backend=backend)


def test_dot_subprocess_timeout() -> None:
    _need_dot()
    with pytest.raises(RenderError, match="took longer than"):
        render_dot(_chain(40), "png", backend="dot", timeout=1e-6)


# --------------------------------------------------------------------------- choosing


def test_available_backends_in_auto_order(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    _need_dot()
    _need_pygraphviz()
    assert available_backends() == ["dot", "pygraphviz"]
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert available_backends() == ["pygraphviz"]
    monkeypatch.setitem(sys.modules, "pygraphviz", None)
    assert available_backends() == []


def test_auto_prefers_the_system_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    _need_dot()
    _need_pygraphviz()
    calls = []
    real = subprocess.run

    def spy(args, *a, **kw):
        calls.append(args[0])
        return real(args, *a, **kw)

    monkeypatch.setattr(backends.subprocess, "run", spy)
    render_dot(TINY, "svg")
    assert calls and Path(calls[0]).name.startswith("dot")


def test_no_renderer_names_both_ways(no_dot, no_pygraphviz) -> None:
    with pytest.raises(RendererNotFound) as caught:
        render_dot(TINY, "svg")
    message = str(caught.value)
    assert isinstance(caught.value, RuntimeError)
    assert "apt-get install graphviz" in message
    assert "pip install" in message and "pygraphviz>=2.0.4" in message


def test_forced_backend_that_is_missing(no_dot, no_pygraphviz) -> None:
    with pytest.raises(RendererNotFound, match="no `dot` program"):
        render_dot(TINY, "svg", backend="dot")
    with pytest.raises(RendererNotFound, match="pygraphviz is not installed"):
        render_dot(TINY, "svg", backend="pygraphviz")


def test_forcing_pygraphviz_when_dot_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    _need_dot()
    _need_pygraphviz()

    def no_subprocess(*args, **kwargs):
        raise AssertionError("the pygraphviz backend must not run a subprocess")

    monkeypatch.setattr(backends.subprocess, "run", no_subprocess)
    assert "x" in _texts(render_dot(TINY, "svg", backend="pygraphviz"))


def test_unknown_backend_and_format() -> None:
    with pytest.raises(ValueError, match="'cairo'.*dot.*pygraphviz"):
        render_dot(TINY, "svg", backend="cairo")
    with pytest.raises(ValueError, match="'gif'.*svg.*png"):
        render_dot(TINY, "gif")
    with pytest.raises(TypeError, match="str"):
        render_dot(TINY.encode(), "svg")


# --------------------------------------------------------------------------- inline_images


def test_inline_images_variants(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a&b.png").write_bytes(PNG_SIGNATURE + b"rest")
    data = base64.b64encode(PNG_SIGNATURE + b"rest").decode()
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<image xlink:href="a&amp;b.png" width="1"/>'  # relative, XML-escaped
        f'<image xlink:href="file://{tmp_path}/a%26b.png"/>'  # file URL, percent-escaped
        '<image xlink:href="missing.png"/>'
        '<image href="https://example.org/x.png"/>'
        '<a xlink:href="a&amp;b.png"><text>not an image</text></a>'
        "</svg>"
    )
    out = backends.inline_images(svg)
    ET.fromstring(out)  # still XML
    assert out.count(f'xlink:href="data:image/png;base64,{data}"') == 2
    assert '<image xlink:href="missing.png"/>' in out
    assert '<image href="https://example.org/x.png"/>' in out
    assert '<a xlink:href="a&amp;b.png">' in out  # only <image> tags are touched


# --------------------------------------------------------------------------- fonts


def test_fonts_conf_adds_bundled_fonts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(backends, "_FONTS_CONF", None)
    conf = backends.fonts_conf()
    root = ET.parse(conf).getroot()
    include = root.find("include")
    assert include.text == "/etc/fonts/fonts.conf" and include.get("ignore_missing") == "yes"
    font_dir = Path(root.find("dir").text)
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf"):
        assert (font_dir / name).read_bytes() == (REPO / "viz" / "fonts" / name).read_bytes()
    cache = Path(root.find("cachedir").text)
    assert tmp_path in cache.parents  # writable, never the package directory
    assert (REPO / "viz" / "fonts" / "LICENSE-DejaVu.txt").read_text().count("Bitstream") > 3

    monkeypatch.delenv("FONTCONFIG_FILE", raising=False)
    assert backends._font_env()["FONTCONFIG_FILE"] == str(conf)
    monkeypatch.setenv("FONTCONFIG_FILE", "/users/own.conf")  # the user's choice wins
    assert backends._font_env()["FONTCONFIG_FILE"] == "/users/own.conf"


# Text is drawn with the bundled fonts when the system has none. A bare machine is
# simulated by pointing the include of the system configuration at a missing file, so
# fontconfig knows no font but ours. "IIII" and "WWWW" in equal fixed-size boxes must
# then differ in pixels; drawn as tofu (no font at all) they are identical empty boxes,
# which the control run with an empty configuration checks.
_GLYPHS = """digraph {{ node [shape=box, fixedsize=true, width=1.5, height=0.6,
    fontname="DejaVu Sans", fontsize=20]; a [label="{}"]; }}"""

_RENDER_IN_FRESH_PROCESS = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    from viz import backends
    backends._SYSTEM_FONTS_CONF = sys.argv[2]
    for label, path in (("IIII", sys.argv[4]), ("WWWW", sys.argv[5])):
        src = sys.argv[3].replace("LABEL", label)
        open(path, "wb").write(backends.render_dot(src, "png", backend="pygraphviz"))
    """
)


def _pixels(path: Path) -> np.ndarray:
    return matplotlib.image.imread(path)


def _empty_conf(tmp_path: Path) -> Path:
    conf = tmp_path / "empty.conf"
    conf.write_text("<?xml version='1.0'?>\n<fontconfig></fontconfig>\n")
    return conf


@pytest.mark.parametrize("control", [False, True], ids=["bundled-fonts", "no-fonts-control"])
def test_text_legible_without_system_fonts_in_process(tmp_path: Path, control: bool) -> None:
    _need_pygraphviz()
    env = {k: v for k, v in os.environ.items() if k != "FONTCONFIG_FILE"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    if control:
        env["FONTCONFIG_FILE"] = str(_empty_conf(tmp_path))
    i_png, w_png = tmp_path / "i.png", tmp_path / "w.png"
    subprocess.run(
        [sys.executable, "-c", _RENDER_IN_FRESH_PROCESS, str(REPO), str(tmp_path / "none.conf")]
        + [_GLYPHS.format("LABEL"), str(i_png), str(w_png)],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    same = np.array_equal(_pixels(i_png), _pixels(w_png))
    assert same == control


@pytest.mark.parametrize("control", [False, True], ids=["bundled-fonts", "no-fonts-control"])
def test_text_legible_without_system_fonts_system_dot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, control: bool
) -> None:
    _need_dot()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(backends, "_FONTS_CONF", None)
    monkeypatch.setattr(backends, "_SYSTEM_FONTS_CONF", str(tmp_path / "none.conf"))
    if control:
        monkeypatch.setenv("FONTCONFIG_FILE", str(_empty_conf(tmp_path)))
    else:
        monkeypatch.delenv("FONTCONFIG_FILE", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the control makes fontconfig complain
        i_png, w_png = (
            render_dot(_GLYPHS.format(label), "png", backend="dot") for label in ("IIII", "WWWW")
        )
    same = np.array_equal(_pixels(BytesIO(i_png)), _pixels(BytesIO(w_png)))
    assert same == control
