"""Backprop as a film: the frames of :mod:`viz.steps`, drawn, and a player for them.

    viz.animate(f, "lecture.html")           one self-contained HTML file: every frame's
                                             SVG inline, play / pause, previous / next,
                                             a slider, arrow keys, a caption per frame
    viz.animate(f)                           the same player, shown in a notebook cell
    viz.render_steps(f, "frames/", "png")    frame_000.png, frame_001.png, ... for slides

The HTML player needs no network and no server (it works from ``file://``): its
script, style and pictures are all in the one file.

How a frame looks: the node the step is about has a thick purple border; a tensor the
forward pass has not reached shows "?"; the edges a gate writes are coloured (blue
forward, red backward with the arrowhead turned round, towards the input the gradient
flows to, labelled with the gradient they carry); a gradient still waiting
for more contributions reads "grad so far" in orange, a final one "grad" in red.
"""

from __future__ import annotations

import contextlib
import html
import itertools
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx

import tensorgraph as tg

from .backends import RendererNotFound, render_dot
from .dot import _header, caption_line, to_dot, xml_text
from .files import replace_all, write_atomic, write_beside
from .graph import output_name, to_networkx
from .steps import Frame, steps

ACTIVE = "#7c3aed"  # the node a frame is about
FORWARD_EDGE = "#2563eb"
BACKWARD_EDGE = "#dc2626"
PENDING = "#d97706"
WAITING_FILL = "#f9fafb"


def frame_graph(g: nx.MultiDiGraph, frame: Frame) -> nx.MultiDiGraph:
    """A copy of ``g`` (from :func:`viz.to_networkx`) showing the state of one frame.

    Tensor nodes get the frame's value and gradient; every node and the edges the frame
    is about get an ``overlay`` (border, fill, note; edge colour and label) that
    :func:`viz.dot.to_dot` draws.
    """
    out = g.copy()
    active = set(frame.active)
    for node, state in frame.nodes.items():
        data = out.nodes[node]
        ov: dict[str, Any] = {}
        if state.kind == "tensor":
            data["value"] = state.value
            data["grad"] = state.grad
            # The frame says what is known when; a PyTorch node's "not recorded" stands
            # only once the pass has reached it (before, it reads "?", as ours do).
            data.pop("missing_grad", None)
            if state.status == "waiting":
                data.pop("missing_value", None)
            if state.value is None:
                ov["fill"] = WAITING_FILL
            if frame.phase == "backward" and state.grad is None:
                ov["grad_none"] = "grad: —  (not reached yet)"
            if state.grad_state == "pending":
                ov["grad_label"] = "grad so far"
                ov["grad_color"] = PENDING
        if node in active:
            ov["border"] = ACTIVE
            ov["width"] = 3
            if state.kind == "op":
                ov["fill"] = "#ede9fe"
        if state.note:
            ov["note"] = state.note
        if ov:
            data["overlay"] = ov
    color = BACKWARD_EDGE if frame.phase == "backward" else FORWARD_EDGE
    for u, v, k in frame.edges:
        edge_ov: dict[str, Any] = {"color": color, "penwidth": 2.5}
        if frame.phase == "backward":
            edge_ov["dir"] = "back"  # the arrow points the way the gradient flows
        if (u, v, k) in frame.edge_labels:
            edge_ov["label"] = frame.edge_labels[(u, v, k)]
        out.edges[u, v, k]["overlay"] = edge_ov
    return out


def frame_sources(
    t: tg.Tensor,
    rankdir: str = "LR",
    max_entries: int = 16,
    title: str | None = None,
    captions: bool = True,
    grad: Any = None,
    backend: str = "auto",
) -> tuple[list[Frame], list[str]]:
    """The frames of ``t`` and the DOT text of each (with its caption, if ``captions``).

    ``grad`` seeds the backward pass, as in :func:`viz.steps.steps`. Every node gets,
    in every frame, the largest size it takes in any frame (measured once with
    ``backend``), and captions are padded to one height, so the drawing does not move
    from frame to frame; without a renderer the frames are left at their own sizes.

    >>> import tensorgraph as tg
    >>> x = tg.tensor(3.0, requires_grad=True, name="x")
    >>> frames, sources = frame_sources(x * x)
    >>> len(frames) == len(sources), sources[0].startswith("digraph")
    (True, True)
    """
    frames = steps(t, grad=grad)
    g = to_networkx(t)
    graphs = [frame_graph(g, frame) for frame in frames]
    if captions:
        wrapped = [_wrap(frame.caption) for frame in frames]
        height = max(len(lines) for lines in wrapped)
        for fg, lines in zip(graphs, wrapped, strict=True):
            fg.graph["caption"] = lines + ["\u00a0"] * (height - len(lines))  # blank lines

    def source(fg: nx.MultiDiGraph) -> str:
        return to_dot(fg, rankdir=rankdir, max_entries=max_entries, title=title)

    with contextlib.suppress(RendererNotFound):
        _steady_sizes(graphs, [source(fg) for fg in graphs], rankdir, backend)
    return frames, [source(fg) for fg in graphs]


_NODE_LINE = re.compile(r"^  (\w+) (\[.*\])$", re.M)
_IMAGE_LINE = "// tensorgraph-image "


def _steady_sizes(
    graphs: list[nx.MultiDiGraph], sources: list[str], rankdir: str, backend: str
) -> None:
    """Set every node's ``min_width``/``min_height`` overlay (points) to its largest size.

    Graphviz lays each frame out afresh, so a label that widens ("grad: — (not reached
    yet)" becomes "grad 2") would shift the whole drawing. One probe graph holds each
    distinct look of each node (a handful per node, not one per frame), laid out once;
    its JSON gives the sizes.
    """
    looks: dict[str, int] = {}  # a node statement's attributes -> its probe node
    owners: list[set[str]] = []  # probe node -> the graph nodes that take that look
    for text in sources:
        for node, attrs in _NODE_LINE.findall(text):
            if node in ("graph", "node", "edge"):
                continue
            k = looks.setdefault(attrs, len(looks))
            if k == len(owners):
                owners.append(set())
            owners[k].add(node)
    # The heatmaps a node shows travel as comment lines of the DOT (viz.backends.embed_image).
    images = dict.fromkeys(
        line for text in sources for line in text.splitlines() if line.startswith(_IMAGE_LINE)
    )
    # Each distinct caption line too: a frame whose caption is wider than the drawing
    # would widen the whole picture and shift every node sideways.
    lines = list(dict.fromkeys(line for fg in graphs for line in fg.graph.get("caption", [])))
    probe = [
        *_header(rankdir),
        *(f"  p{k} {attrs}" for attrs, k in looks.items()),
        *(
            f"  c{k} [shape=plain, fontsize=14, label=<{caption_line(c)}>]"
            for k, c in enumerate(lines)
        ),
        *images,
        "}",
    ]
    layout = json.loads(render_dot("\n".join(probe), "json", backend=backend))
    size: dict[str, tuple[float, float]] = {}
    caption_width = 0.0
    for obj in layout.get("objects", []):
        w, h = float(obj["width"]) * 72, float(obj["height"]) * 72
        if obj["name"].startswith("c"):
            caption_width = max(caption_width, w)
            continue
        for node in owners[int(obj["name"][1:])]:
            old = size.get(node, (0.0, 0.0))
            size[node] = (max(old[0], w), max(old[1], h))
    if caption_width:
        for fg in graphs:
            fg.graph["caption_width"] = caption_width + 4  # the cell's padding, 2 a side
    for fg in graphs:
        for node, (w, h) in size.items():
            data = fg.nodes[node]
            if data["kind"] == "tensor":
                # 8 points to spare: a browser may set the text a little wider than
                # Graphviz measured it, and the widest look of a box is the one to touch.
                w += 8
            data["overlay"] = {**(data.get("overlay") or {}), "min_width": w, "min_height": h}


def _wrap(text: str, width: int = 72) -> list[str]:
    """Break a caption into lines of at most ``width`` characters, at spaces.

    72 characters stay narrower than the legend, which a wider line would stretch.
    """
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line] if line else lines


# What one film may cost. Every frame is a full Graphviz layout of the whole graph, so a
# film costs frames x (layout of the graph): 95 gates took 187 s and 45 MB. The cost is
# measured on the first frames drawn and the film refused, with the estimate, at once.
MAX_SECONDS = 60.0
MAX_MEGABYTES = 25.0


def _drawn_frames(
    sources: list[str],
    fmt: str,
    backend: str,
    max_seconds: float | None,
    max_megabytes: float | None,
    where: str,
    extra_bytes: int = 0,
) -> Iterator[bytes]:
    """Each frame drawn, in order; after the first two, refuse a film over budget.

    The estimate is the number of frames times the faster of the first two frames (the
    first pays for starting Graphviz, loading fonts) and times their mean size, plus
    ``extra_bytes`` (what the page adds: its captions).
    """
    n = len(sources)
    sample: list[tuple[float, int]] = []
    for i, source in enumerate(sources):
        start = time.perf_counter()
        data = render_dot(source, fmt, backend=backend)
        if i < 2:
            sample.append((time.perf_counter() - start, len(data)))
            if len(sample) == min(2, n):
                seconds = n * min(t for t, _ in sample)
                megabytes = (n * sum(b for _, b in sample) / len(sample) + extra_bytes) / 1e6
                slow = max_seconds is not None and seconds > max_seconds
                big = max_megabytes is not None and megabytes > max_megabytes
                if slow or big:
                    raise ValueError(
                        f"{where}: {n} frames, each a drawing of the whole graph "
                        f"({min(t for t, _ in sample):.2g} s and "
                        f"{sample[0][1] / 1e3:.0f} KB for one), would take about "
                        f"{_duration(seconds)} and {megabytes:.0f} MB (limits: "
                        f"max_seconds={max_seconds}, max_megabytes={max_megabytes}). Step "
                        "through a smaller example, draw the whole graph once with "
                        "viz.draw(t), or raise the limits"
                    )
        yield data


def _duration(seconds: float) -> str:
    """1.5 s, 40 s, 3 min, 2.1 h.

    >>> _duration(1.5), _duration(187.0), _duration(7600.0)
    ('1.5 s', '3 min', '2.1 h')
    """
    if seconds < 90:
        return f"{seconds:.2g} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def render_steps(
    t: tg.Tensor,
    folder: str | Path,
    format: str = "svg",
    backend: str = "auto",
    max_seconds: float | None = MAX_SECONDS,
    max_megabytes: float | None = MAX_MEGABYTES,
    **options: Any,
) -> list[Path]:
    """Write every frame of ``t``'s forward and backward pass as a numbered file.

    ``format`` is "svg" or "png"; files are ``frame_000.svg``, ``frame_001.svg``, ...
    in ``folder`` (created). Each frame carries its caption. ``options``: ``rankdir``,
    ``max_entries``, ``title``, ``grad`` (the seed of backward for a non-scalar ``t``).

    All or nothing: every frame is drawn before any file is replaced, so a failure
    leaves the folder as it was. Frames of an earlier, longer film in the same format
    (``frame_NNN`` not in the new one) are deleted, so the folder holds one film.

    A film whose frames would take more than ``max_seconds`` to draw or more than
    ``max_megabytes`` in all (estimated from the first two frames) is refused with the
    estimate, before the rest is drawn; None lifts a limit.

    >>> import tensorgraph as tg, tempfile
    >>> x = tg.tensor(3.0, requires_grad=True, name="x")
    >>> paths = render_steps(x * x, tempfile.mkdtemp())
    >>> [p.name for p in paths][:2]
    ['frame_000.svg', 'frame_001.svg']
    """
    fmt_ = format.lower().lstrip(".")
    if fmt_ not in ("svg", "png"):
        raise ValueError(f"render_steps: format must be 'svg' or 'png', got {format!r}")
    folder = Path(folder)
    _, sources = frame_sources(t, backend=backend, **options)
    digits = max(3, len(str(len(sources) - 1)))
    paths = [folder / f"frame_{i:0{digits}d}.{fmt_}" for i in range(len(sources))]
    drawn = _drawn_frames(sources, fmt_, backend, max_seconds, max_megabytes, "render_steps")
    first = list(itertools.islice(drawn, 2))  # a film over budget is refused here
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for path, data in zip(paths, itertools.chain(first, drawn), strict=True):
            staged.append((write_beside(path, data), path))
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    replace_all(staged)
    current = {p.name for p in paths}
    for old in folder.glob(f"frame_*.{fmt_}"):
        if re.fullmatch(rf"frame_\d{{3,}}\.{fmt_}", old.name) and old.name not in current:
            old.unlink(missing_ok=True)
    return paths


# --------------------------------------------------------------------------- the HTML player

# The buttons use only characters DejaVu Sans has (no emoji font needed): |◀ ◀ ▶ ❚❚ ▶|.


def _scoped_svg(svg: str, prefix: str) -> str:
    """An SVG ready to sit next to others in one page: no XML prolog, unique ids."""
    svg = svg[svg.index("<svg") :]
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if ids:
        svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
        svg = re.sub(
            r"url\(#([^)]+)\)",
            lambda m: f"url(#{prefix}{m.group(1)})" if m.group(1) in ids else m.group(0),
            svg,
        )
        svg = re.sub(
            r'href="#([^"]+)"',
            lambda m: f'href="#{prefix}{m.group(1)}"' if m.group(1) in ids else m.group(0),
            svg,
        )
    return svg


_STYLE = """
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif;
       margin: 0; color: #111827; }
header, #controls, #caption { max-width: 1100px; margin: 0 auto; padding: 0 16px; }
header h1 { font-size: 20px; margin: 14px 0 4px; }
header p { margin: 0 0 8px; color: #6b7280; font-size: 13px; }
#controls { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
#controls button { font-size: 15px; padding: 4px 12px; cursor: pointer; }
#slider { flex: 1; min-width: 160px; }
#counter { font-variant-numeric: tabular-nums; min-width: 70px; text-align: right; }
.phase { font-size: 12px; padding: 2px 8px; border-radius: 10px; color: white; }
.phase.forward { background: #2563eb; } .phase.backward { background: #dc2626; }
#caption { font-size: 17px; min-height: 3.2em; margin-top: 10px; line-height: 1.45; }
#stage { text-align: center; padding: 8px; }
#stage .frame svg { max-width: 100%; height: auto; }
"""

_SCRIPT = """
(function () {
  var frames = document.querySelectorAll("#stage .frame");
  var captions = JSON.parse(document.getElementById("captions").textContent);
  var phases = JSON.parse(document.getElementById("phases").textContent);
  var slider = document.getElementById("slider");
  var caption = document.getElementById("caption");
  var counter = document.getElementById("counter");
  var phase = document.getElementById("phase");
  var play = document.getElementById("play");
  var current = 0, timer = null;
  function show(i) {
    current = Math.max(0, Math.min(frames.length - 1, i));
    for (var k = 0; k < frames.length; k++) frames[k].hidden = (k !== current);
    slider.value = current;
    caption.textContent = captions[current];
    counter.textContent = (current + 1) + " / " + frames.length;
    phase.textContent = phases[current];
    phase.className = "phase " + phases[current];
    document.body.setAttribute("data-frame", current);
  }
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.textContent = "\\u25B6 Play";
    play.setAttribute("aria-pressed", "false");
  }
  function start() {
    if (current === frames.length - 1) show(0);
    timer = setInterval(function () {
      if (current >= frames.length - 1) { stop(); return; }
      show(current + 1);
    }, 1600);
    play.textContent = "\\u275A\\u275A Pause";
    play.setAttribute("aria-pressed", "true");
  }
  play.addEventListener("click", function () { timer === null ? start() : stop(); });
  function on(id, go) {
    document.getElementById(id).addEventListener("click", function () { stop(); go(); });
  }
  on("prev", function () { show(current - 1); });
  on("next", function () { show(current + 1); });
  on("first", function () { show(0); });
  on("last", function () { show(frames.length - 1); });
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
  document.addEventListener("keydown", function (e) {
    // The slider would also move on its own arrow keys: one step per key press, ours.
    var arrow = e.key === "ArrowLeft" || e.key === "ArrowRight";
    if (arrow && e.target === slider) e.preventDefault();
    if (e.key === "ArrowRight") { stop(); show(current + 1); }
    else if (e.key === "ArrowLeft") { stop(); show(current - 1); }
    else if (e.key === "Home") { stop(); show(0); }
    else if (e.key === "End") { stop(); show(frames.length - 1); }
    else if (e.key === " ") { e.preventDefault(); timer === null ? start() : stop(); }
    else return;
  });
  show(0);
})();
"""


# Inside <script>, "</script" ends the element and "<!--" switches the HTML parser into a
# mode where a later "<script" swallows the real end tag: every script after it dies. In
# a JSON string, \u003c is the same "<"; > and & go too, and U+2028/U+2029 (line breaks
# to older JavaScript), so no text from a tensor name or title can be read as markup.
_SCRIPT_SAFE = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def script_json(obj: object) -> str:
    r"""JSON to embed in an HTML ``<script>`` element: no character of it can end the
    element or start markup, whatever the strings hold.

    >>> print(script_json(["</script><!--", "a & b"]))
    ["\u003c/script\u003e\u003c!--", "a \u0026 b"]
    >>> import json; json.loads(script_json(["</script><!--"]))
    ['</script><!--']
    """
    return json.dumps(obj, ensure_ascii=False).translate(_SCRIPT_SAFE)


def player_html(svgs: list[str], captions: list[str], phases: list[str], title: str) -> str:
    """The player page for already-drawn frames (one SVG text per frame).

    >>> page = player_html(["<svg></svg>"], ["hello"], ["forward"], "demo")
    >>> page.startswith("<!DOCTYPE html>") and "hello" in page
    True
    """
    if not (len(svgs) == len(captions) == len(phases)) or not svgs:
        raise ValueError(
            f"player_html: need as many SVGs ({len(svgs)}), captions ({len(captions)}) and "
            f"phases ({len(phases)}), at least one"
        )

    captions = [xml_text(c) for c in captions]  # no lone surrogate can fail the write
    frames = "\n".join(
        f'<div class="frame" data-index="{i}"{" hidden" if i else ""}>'
        f"{_scoped_svg(svg, f'f{i}-')}</div>"
        for i, svg in enumerate(svgs)
    )
    esc = html.escape(xml_text(title))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc}</title>
<style>{_STYLE}</style>
</head>
<body data-frame="0">
<header>
<h1>{esc}</h1>
<p>Step through backprop: ← → keys or the buttons, space plays and pauses.</p>
</header>
<div id="controls">
<button id="first" title="first frame (Home)">|◀</button>
<button id="prev" title="previous frame (←)">◀ Prev</button>
<button id="play" aria-pressed="false" title="play / pause (space)">▶ Play</button>
<button id="next" title="next frame (→)">Next ▶</button>
<button id="last" title="last frame (End)">▶|</button>
<input id="slider" type="range" min="0" max="{len(svgs) - 1}" value="0" step="1"
 aria-label="frame">
<span id="counter">1 / {len(svgs)}</span>
<span id="phase" class="phase {html.escape(phases[0])}">{html.escape(phases[0])}</span>
</div>
<p id="caption" aria-live="polite">{html.escape(captions[0])}</p>
<div id="stage">
{frames}
</div>
<script type="application/json" id="captions">{script_json(captions)}</script>
<script type="application/json" id="phases">{script_json(phases)}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""


class Player:
    """A backward pass as an HTML player, kept in memory: what ``viz.animate(f)`` returns
    without a path. In a notebook cell it shows itself (in an iframe, so that its script,
    ids and style stay its own); ``.save(path)`` writes the page, ``.html`` is its text.

    >>> import tensorgraph as tg
    >>> player = animate(tg.tensor(3.0, requires_grad=True, name="x") ** 2)
    >>> player, "<iframe" in player._repr_html_()
    (<viz.Player: 5 frames; .save('backprop.html') writes the page>, True)
    """

    def __init__(self, html_text: str, frames: int, height: int) -> None:
        self.html = html_text
        self.frames = frames
        self.height = height  # pixels: the tallest frame, the controls and the caption

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" title="backprop player" '
            f'style="width: 100%; height: {self.height}px; border: 0"></iframe>'
        )

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (one self-contained HTML file); return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, self.html)
        return path

    def __repr__(self) -> str:
        return f"<viz.Player: {self.frames} frames; .save('backprop.html') writes the page>"


def _page_height(svgs: list[str]) -> int:
    """The iframe height a player needs: its tallest frame (Graphviz writes heights in
    points), plus the title, the controls and the caption above it."""
    points = [float(h) for svg in svgs for h in re.findall(r'<svg[^>]*\sheight="([\d.]+)pt"', svg)]
    return min(int(max(points, default=300) * 4 / 3) + 200, 1200)


def animate(
    t: tg.Tensor,
    path: str | Path | None = None,
    title: str | None = None,
    backend: str = "auto",
    max_seconds: float | None = MAX_SECONDS,
    max_megabytes: float | None = MAX_MEGABYTES,
    **options: Any,
) -> Path | Player:
    """Write a self-contained HTML player of ``t``'s forward and backward pass.

    One file, no network: every frame's SVG is inline, with play / pause, previous /
    next, a slider, the arrow keys and a caption per frame. ``t`` may be a PyTorch
    tensor whose forward and ``backward()`` ran inside ``with viz.record_torch():``: its
    frames follow the order PyTorch's engine ran its backward nodes in. ``options``: ``rankdir``,
    ``max_entries``, ``grad`` (the seed of backward for a non-scalar ``t``). Returns
    the path; without a ``path``, a :class:`Player` that shows itself in a notebook
    cell. Each frame is a drawing of the whole graph: a film estimated (from its
    first two frames) to take more than ``max_seconds`` or to weigh more than
    ``max_megabytes`` is refused with the estimate at once (None lifts a limit).

    >>> import tensorgraph as tg, tempfile, os
    >>> x = tg.tensor(3.0, requires_grad=True, name="x")
    >>> p = animate(x * x, os.path.join(tempfile.mkdtemp(), "square.html"))
    >>> "Backward" in p.read_text(encoding="utf-8")
    True
    """
    # The page prints each caption itself, in HTML, above the drawing.
    frames, sources = frame_sources(t, captions=False, backend=backend, **options)
    captions = sum(len(f.caption.encode("utf-8", "replace")) for f in frames)
    drawn = _drawn_frames(sources, "svg", backend, max_seconds, max_megabytes, "animate", captions)
    svgs = [svg.decode("utf-8") for svg in drawn]
    page = player_html(
        svgs,
        [f.caption for f in frames],
        [f.phase for f in frames],
        title or f"Backprop, step by step: {output_name(t) or 'f'}",
    )
    player = Player(page, len(svgs), _page_height(svgs))
    return player if path is None else player.save(path)
