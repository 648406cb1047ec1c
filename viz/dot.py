"""The networkx graph from `viz.graph` as DOT text: labels, colours, legend, escaping.

Every label is an HTML-like label (``label=<...>``) that both backends (system ``dot``
and pygraphviz) render. User text (tensor names, the title) is always HTML-escaped, and
node ids are ours ("t0", "g3"), so a name is drawn as text and can never become DOT.

What a tensor node shows: its name, its shape (and dtype when not float64), its value and
its gradient. Small tensors show every entry; large ones a summary (min / mean / max and
the norm). Gates are round nodes with the op's symbol from ``tg.OPS``.
"""

from __future__ import annotations

import html
import math
import re
from collections import Counter
from typing import Any

import networkx as nx
import numpy as np

import tensorgraph as tg

from .backends import embed_image
from .graph import is_torch_tensor, to_networkx

# The font Graphviz measures every label with (the bundled DejaVu Sans, viz/backends.py),
# then faces a browser may use instead where DejaVu Sans is not installed: the SVG keeps
# this list as its font-family. Each fallback is narrower than DejaVu Sans, so text set
# in it stays inside the box Graphviz measured.
FONT = "DejaVu Sans,Bitstream Vera Sans,Liberation Sans,Arial,Helvetica,sans-serif"

# One colour per role: (fill, border). Blue leaves that want a gradient and a green
# output follow torchviz's legend; constants are grey because nothing flows back to them.
ROLE_COLORS = {
    "input": ("#dbeafe", "#2563eb"),
    "constant": ("#f3f4f6", "#9ca3af"),
    "computed": ("#ffffff", "#6b7280"),
    "output": ("#dcfce7", "#16a34a"),
}
ROLE_NAMES = {
    "input": "input (requires grad)",
    "constant": "constant",
    "computed": "computed",
    "output": "output",
}
GATE_COLORS = ("#fef3c7", "#d97706")
VALUE_COLOR = "#111827"
GRAD_COLOR = "#dc2626"  # cs231n draws gradients in red
MUTED = "#6b7280"
HEATMAP_BORDER = "#9ca3af"
NOTE_COLOR = "#374151"
EDGE_COLOR = "#4b5563"

MAX_NAME = 40  # characters of a name drawn before it is cut with an ellipsis
DEFAULT_MAX_NODES = 2000

# What XML 1.0 forbids (control characters, surrogates, U+FFFE and U+FFFF), and DEL.
_NOT_XML = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: Any) -> str:
    r"""``str(text)`` with every character XML forbids (and DEL) replaced by ``?``.

    Graphviz parses labels as XML and an SVG file is XML, so one such character (a
    control character, a lone surrogate as Python makes from undecodable bytes, or
    U+FFFE / U+FFFF) would fail the whole drawing. Line breaks and tabs become spaces.

    >>> xml_text("a\ufffeb\udcffc\x00d\ne")
    'a?b?c?d e'
    """
    return _NOT_XML.sub("?", str(text).translate(_SPACES))


_SPACES = str.maketrans(dict.fromkeys("\n\r\t\u2028\u2029", " "))


def escape(text: Any, limit: int | None = MAX_NAME) -> str:
    """User text made safe for an HTML-like label: drawn literally, never parsed.

    Characters XML forbids become ``?`` (:func:`xml_text`); long text is cut to
    ``limit`` characters.

    >>> escape('a"]; b [label="pwn')
    'a&quot;]; b [label=&quot;pwn'
    >>> escape("<b>x</b>|{y}")
    '&lt;b&gt;x&lt;/b&gt;|{y}'
    """
    s = xml_text(text)
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "…"
    return html.escape(s, quote=True)


def fmt_number(x: float, digits: int = 4) -> str:
    """A number as short as it can be read: -20, 0.5, 3.1e-05, 0.3333.

    >>> [fmt_number(v) for v in (-20.0, 0.5, 3.1e-05, 1 / 3, -0.0, float("inf"))]
    ['-20', '0.5', '3.1e-05', '0.3333', '0', 'inf']
    """
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0"  # never "-0"
    if x == round(x) and abs(x) < 1e6:
        return str(int(x))
    return f"{x:.{digits}g}"


def fmt_shape(shape: tuple[int, ...]) -> str:
    """A shape as the figure writes it: "4×3", "5" for a vector, "" for a scalar.

    >>> fmt_shape((4, 3)), fmt_shape((5,)), fmt_shape(())
    ('4×3', '5', '')
    """
    return "×".join(str(n) for n in shape)


# ----------------------------------------------------------------------------- labels


def _font(text: str, color: str | None = None, size: float | None = None) -> str:
    attrs = ""
    if color:
        attrs += f' COLOR="{color}"'
    if size:
        attrs += f' POINT-SIZE="{size:g}"'
    return f"<FONT{attrs}>{text}</FONT>" if attrs else text


def fmt_entries(a: np.ndarray) -> list[str]:
    """The entries of an array with one shared number of decimals, so a column lines up.

    Integers stay integers and exact zeros read "0"; very large or very small entries
    fall back to :func:`fmt_number` one by one.

    >>> fmt_entries(np.array([1.3, 0.95, -0.7, 0.0]))
    ['1.30', '0.95', '-0.70', '0']
    >>> fmt_entries(np.array([2.0, -8.0]))
    ['2', '-8']
    """
    flat = a.astype(np.float64, copy=False).ravel()
    finite = flat[np.isfinite(flat)]
    biggest = float(np.abs(finite).max()) if finite.size else 0.0
    if finite.size == 0 or np.all(finite == np.round(finite)) and biggest < 1e6:
        return [fmt_number(v) for v in flat]
    if biggest >= 1e5 or biggest < 1e-3:
        return [fmt_number(v, 3) for v in flat]
    # 4 significant digits for the largest entry, then drop decimals all entries share as 0.
    decimals = min(4, max(0, 3 - math.floor(math.log10(biggest))))
    while decimals > 0 and np.allclose(
        np.round(finite, decimals - 1), np.round(finite, decimals), rtol=0, atol=1e-12
    ):
        decimals -= 1
    return [fmt_number(v) if v == 0 or not math.isfinite(v) else f"{v:.{decimals}f}" for v in flat]


def _grid(a: np.ndarray, color: str) -> str:
    """Every entry of a small array as a right-aligned table (rows x columns)."""
    rows = a.reshape(1, -1) if a.ndim <= 1 else a.reshape(-1, a.shape[-1])
    texts = fmt_entries(rows)
    ncol = rows.shape[1]
    body = "".join(
        "<TR>"
        + "".join(
            f'<TD ALIGN="RIGHT">{_font(t, color)}</TD>' for t in texts[r * ncol : (r + 1) * ncol]
        )
        + "</TR>"
        for r in range(rows.shape[0])
    )
    # CELLSPACING keeps "-0.40 -0.06" from running together into one number.
    return f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="1">{body}</TABLE>'


def _summary(a: np.ndarray, color: str) -> str:
    """min / max, mean / norm of a large array, on two lines."""
    if a.size == 0:
        return _font("empty", color)
    with np.errstate(all="ignore"):
        a64 = a.astype(np.float64, copy=False)
        lo, hi = a64.min(), a64.max()
        # Mean and norm of entries scaled to at most 1, then scaled back: finite entries
        # near the float limit (1e308) would overflow a plain sum to inf.
        big = max(abs(lo), abs(hi))
        scale = big if np.isfinite(big) and big > 0 else 1.0
        unit = a64.ravel() / scale
        stats = {
            "min": lo,
            "max": hi,
            "mean": unit.mean() * scale,
            "norm": np.linalg.norm(unit) * scale,
        }
    cells = [
        f'<TD ALIGN="RIGHT">{_font(k, MUTED, 10)}</TD>'
        f'<TD ALIGN="LEFT">{_font(fmt_number(v, 3), color)}</TD>'
        for k, v in stats.items()
    ]
    rows = f"<TR>{cells[0]}{cells[1]}</TR><TR>{cells[2]}{cells[3]}</TR>"
    return f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">{rows}</TABLE>'


def _heatmap(a: np.ndarray, diverging: bool, images: dict[str, str]) -> str:
    """An image cell: the matrix as coloured blocks (viz.heatmap), so its shape shows.

    The PNG travels in the DOT text itself (``images`` collects the comment line that
    carries it, :func:`viz.backends.embed_image`); no file is written.
    """
    from .heatmap import heatmap_png  # numpy + zlib only; imported when first needed

    rows = a.reshape(-1, a.shape[-1])
    png = heatmap_png(rows, diverging=diverging)
    name, line = embed_image(png)
    images[name] = line
    # A thin frame, tight around the picture: a gradient that is mostly 0 is mostly white,
    # and without one its blocks would float on the white node like a glitch. Graphviz
    # sets an image's pixels at 96 per inch (0.75 pt each); a fixed-size cell keeps the
    # frame from stretching to the width of the node.
    w, h = (math.ceil(0.75 * int.from_bytes(png[i : i + 4], "big")) + 2 for i in (16, 20))
    frame = f'BORDER="1" COLOR="{HEATMAP_BORDER}" FIXEDSIZE="TRUE" WIDTH="{w}" HEIGHT="{h}"'
    return (
        '<TABLE BORDER="0" CELLPADDING="2"><TR>'
        f'<TD {frame} CELLPADDING="0"><IMG SRC="{name}"/></TD>'
        "</TR></TABLE>"
    )


def _array_block(
    a: np.ndarray,
    color: str,
    max_entries: int,
    big: bool = False,
    heatmap: str | None = None,
    images: dict[str, str] | None = None,
) -> str:
    """Every entry, or a summary; ``heatmap`` ("sequential"/"diverging") adds a picture
    of a large matrix under its summary (collected in ``images``)."""
    if a.size == 0:
        return _font("(no entries)", MUTED, 10)  # an empty table is not valid DOT
    if a.ndim == 0 or a.size == 1:
        return _font(fmt_number(a.reshape(-1)[0]), color, 14 if big else None)
    if a.size <= max_entries:
        return _grid(a, color)
    if heatmap and a.ndim >= 2 and images is not None:
        picture = _heatmap(a, heatmap == "diverging", images)
        return (
            '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">'
            f"<TR><TD>{_summary(a, color)}</TD></TR><TR><TD>{picture}</TD></TR></TABLE>"
        )
    return _summary(a, color)


def _color(value: Any) -> str:
    """A colour from an overlay, safe inside a quoted attribute."""
    return html.escape(str(value), quote=True)


def tensor_label(
    data: dict[str, Any],
    show_grad: bool = True,
    max_entries: int = 16,
    heatmaps: bool = False,
    images: dict[str, str] | None = None,
) -> str:
    """The HTML-like label of one tensor node (its networkx attributes in ``data``).

    An optional ``overlay`` dict changes how the node looks without changing the graph
    (the step-by-step player uses it): ``fill``, ``border``, ``width`` (border width),
    ``grad_none`` (text while there is no gradient), ``grad_label`` and ``grad_color``
    (how the gradient is labelled), ``note`` (an extra line). A ``value`` of None is
    drawn as "?" (not computed yet). ``heatmaps`` adds a picture of each large matrix;
    pass a dict as ``images`` to collect the DOT lines that carry those pictures (put
    them in the DOT text; :func:`to_dot` does), else there are no pictures. A node may
    say why it has no value or gradient (``missing_value``, ``missing_grad``: PyTorch's
    intermediates when nothing recorded them).

    >>> import tensorgraph as tg
    >>> g = to_networkx(tg.tensor(3.0, requires_grad=True, name="x"))
    >>> "grad" in tensor_label(g.nodes["t0"])
    True
    """
    ov = data.get("overlay") or {}
    fill, border = ROLE_COLORS[data["role"]]
    fill, border = ov.get("fill", fill), ov.get("border", border)
    rows = []
    header = []
    if data.get("name"):
        header.append(f"<B>{escape(data['name'])}</B>")
    details = [fmt_shape(data["shape"])] if data["shape"] else []
    if data["dtype"] != "float64":
        details.append(escape(data["dtype"]))
    if details:
        header.append(_font(" ".join(details), MUTED, 10))
    if header:
        rows.append("  ".join(header))
    value = data["value"]
    if value is None and data.get("missing_value"):  # PyTorch's unrecorded intermediates
        rows.append(_font(escape(data["missing_value"]), MUTED, 10))
    elif value is None:
        rows.append(_font("?", MUTED, 14))
    else:
        value_map = "sequential" if heatmaps else None
        rows.append(
            _array_block(np.asarray(value), VALUE_COLOR, max_entries, True, value_map, images)
        )
    grad_row = None
    if show_grad and data.get("requires_grad", True):
        grad = data["grad"]
        grad_map = "diverging" if heatmaps else None  # the sign of each entry shows
        word = escape(ov.get("grad_label", "grad"))
        color = _color(ov.get("grad_color", GRAD_COLOR))
        if grad is None:
            missing = data.get("missing_grad") or "grad: —  (run backward)"
            grad_row = _font(escape(ov.get("grad_none", missing)), MUTED, 10)
        elif np.asarray(grad).size == 1:
            grad_row = _font(f"{word} {fmt_number(np.asarray(grad).reshape(-1)[0])}", color)
        else:
            block = _array_block(np.asarray(grad), color, max_entries, False, grad_map, images)
            grad_row = (
                '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">'
                f"<TR><TD>{_font(word, color, 10)}</TD></TR>"
                f"<TR><TD>{block}"
                "</TD></TR>"
                "</TABLE>"
            )
    width = int(ov.get("width", 1))
    # The player gives a node its largest size over all frames, so nothing moves. The
    # cells get the width (less the border) so text stays centred and the rule spans.
    td, size = "<TD>", ""
    if ov.get("min_width"):
        td = f'<TD WIDTH="{max(1, math.ceil(ov["min_width"]) - 2 * width)}">'
    if ov.get("min_height"):
        size = f' HEIGHT="{math.ceil(ov["min_height"])}"'
    cells = "".join(f"<TR>{td}{r}</TD></TR>" for r in rows)
    if grad_row is not None:
        cells += f"<HR/><TR>{td}{grad_row}</TD></TR>"
    if ov.get("note"):
        cells += f"<TR>{td}{_font(escape(ov['note'], limit=80), NOTE_COLOR, 10)}</TD></TR>"
    return (
        # CELLPADDING 6, not 4: a browser showing the SVG may set the text a few pixels
        # wider than Graphviz measured it (another font), and it must not touch the border.
        f'<TABLE BORDER="{width}" CELLBORDER="0" CELLSPACING="0" CELLPADDING="6" '
        f'STYLE="rounded" BGCOLOR="{_color(fill)}" COLOR="{_color(border)}"{size}>{cells}</TABLE>'
    )


def _attr_value_text(val: Any) -> str:
    """An attribute value in a few characters: 1, [0 2 1 ...], (1, 0), 0:2."""
    if isinstance(val, bool | np.bool_):
        return str(bool(val))
    if isinstance(val, int | float | np.number):
        return fmt_number(val)
    if isinstance(val, np.ndarray):
        return np.array2string(val, threshold=6, edgeitems=2).replace("\n", "")
    if isinstance(val, tuple | list):
        inner = ", ".join(_attr_value_text(v) for v in val)
        return f"({inner})" if isinstance(val, tuple) else f"[{inner}]"
    if isinstance(val, slice):
        parts = (val.start, val.stop, val.step)
        return ":".join("" if p is None else _attr_value_text(p) for p in parts).rstrip(":") or ":"
    return repr(val)


def _attr_text(attrs: dict[str, Any]) -> str:
    """The attributes worth printing on a gate, one per line (defaults left out)."""
    lines = []
    for key, val in attrs.items():
        if val is None or val is False or (isinstance(val, np.bool_) and not val):
            continue  # keepdims=False, squared=False: the defaults are noise
        text = key if val is True else f"{key}={_attr_value_text(val)}"
        lines.append(escape(text, limit=28))
    return "<BR/>".join(lines[:4])


def gate_label(data: dict[str, Any]) -> str:
    """The HTML-like label of a gate: its symbol, PyTorch's name of the node if it is
    one (``torch_name``), and small attributes (axis=1) if any.

    >>> gate_label({"kind": "op", "op": "mul", "symbol": "*", "attrs": {}})
    '<B>*</B>'
    """
    # PyTorch's gates are ellipses already (their node's name goes under the symbol), so
    # a longer symbol fits: multi_margin_loss.
    label = f"<B>{escape(data['symbol'], limit=24 if data.get('torch_name') else 12)}</B>"
    if data.get("torch_name"):  # PyTorch's name of the node: MulBackward0
        label += "<BR/>" + _font(escape(data["torch_name"], limit=28), MUTED, 9)
    extra = _attr_text(data.get("attrs") or {})
    if extra:
        label += "<BR/>" + _font(extra, MUTED, 9)
    note = (data.get("overlay") or {}).get("note")
    if note:
        label += "<BR/>" + _font(escape(note, limit=80), NOTE_COLOR, 10)
    return label


def caption_line(text: str) -> str:
    """One line of a graph's caption as label markup (the player measures it too).

    >>> caption_line("x < 1")
    '<FONT COLOR="#374151">x &lt; 1</FONT>'
    """
    return _font(escape(text, limit=120), NOTE_COLOR)


def _legend(
    roles: set[str],
    show_grad: bool,
    title: str | None,
    out_name: str,
    legend: bool = True,
    caption: list[str] = (),
    caption_width: float | None = None,
) -> str:
    """The graph's label: the title, caption lines, then one swatch per colour in use.

    ``caption_width`` (points) is the least width of the caption's cells: the player
    gives every frame the width of its widest caption, so the drawing under it stays put.
    """
    swatches = []
    for role in ("input", "constant", "computed", "output"):
        if role in roles:
            fill, border = ROLE_COLORS[role]
            swatches.append(
                f'<TD BORDER="1" COLOR="{border}" BGCOLOR="{fill}" STYLE="rounded">'
                f"{_font(ROLE_NAMES[role], size=10)}</TD>"
            )
    fill, border = GATE_COLORS
    swatches.append(
        f'<TD BORDER="1" COLOR="{border}" BGCOLOR="{fill}" STYLE="rounded">'
        f"{_font('op gate', size=10)}</TD>"
    )
    if show_grad:
        grad = f"grad = ∂{escape(out_name, limit=12)}/∂node"
        swatches.append(f"<TD>{_font(grad, GRAD_COLOR, 10)}</TD>")
    # The swatches sit in a table of their own, so a long title cannot stretch them.
    key = (
        '<TABLE BORDER="0" CELLSPACING="6" CELLPADDING="5"><TR>'
        + "".join(swatches)
        + "</TR></TABLE>"
    )
    rows = f"<TR><TD><B>{escape(title, limit=120)}</B></TD></TR>" if title else ""
    td = f'<TD WIDTH="{math.ceil(caption_width)}">' if caption_width else "<TD>"
    rows += "".join(f"<TR>{td}{caption_line(c)}</TD></TR>" for c in caption)
    if legend:
        rows += f"<TR><TD>{key}</TD></TR>"
    return f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="2">{rows}</TABLE>'


# ----------------------------------------------------------------------------- DOT


HTML_LABELS = ("label", "headlabel", "taillabel")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attrs(**attrs: Any) -> str:
    """A DOT attribute list; values starting with "<" are HTML labels, the rest quoted."""
    parts = []
    for key, val in attrs.items():
        if isinstance(val, str) and val.startswith("<") and key in HTML_LABELS:
            parts.append(f"{key}=<{val}>")
        else:
            parts.append(f"{key}={_quote(str(val))}")
    return "[" + ", ".join(parts) + "]"


def _header(rankdir: str) -> list[str]:
    return [
        "digraph tensorgraph {",
        "  "
        + "graph "
        + _attrs(
            rankdir=rankdir,
            fontname=FONT,
            bgcolor="white",
            pad="0.25",
            nodesep="0.3",
            ranksep="0.45",
            # At most 2 x nodes network-simplex steps to place nodes across: the same
            # layout for the graphs of a lecture, and 20x faster for a wide fan-out (a
            # tensor feeding 30 gates took 1.3 s a frame).
            nslimit="2",
        ),
        "  node " + _attrs(fontname=FONT, fontsize="12", fontcolor=VALUE_COLOR),
        "  edge " + _attrs(color=EDGE_COLOR, arrowsize="0.7", fontname=FONT, fontsize="9"),
    ]


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 21st: how an edge names its operand.

    >>> [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd']
    """
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _tooltip(g: nx.MultiDiGraph, node: str) -> str:
    """What a browser shows over a node: the tensor's name and shape, or the gate's op,
    never our internal ids ("t3", "g3").

    >>> import tensorgraph as tg
    >>> x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    >>> g = to_networkx(x * 2)
    >>> _tooltip(g, "t0"), _tooltip(g, "g2"), _tooltip(g, "t1")
    ('x (2)', 'mul gate (*)', 'constant')
    """
    data = g.nodes[node]
    if data["kind"] == "op":
        return xml_text(f"{data['op']} gate ({data['symbol']})")
    shape = fmt_shape(data["shape"])
    name = data.get("name") or ROLE_NAMES[data["role"]]
    return xml_text(f"{name} ({shape})" if shape else name)[: MAX_NAME + 20]


def drawn_nodes(tensors: list[tg.Tensor]) -> int:
    """How many nodes a drawing of these tensors has: one per tensor, one per op gate.

    >>> import tensorgraph as tg
    >>> x = tg.tensor(3.0, requires_grad=True)
    >>> drawn_nodes(tg.graph_nodes(x * x))
    3
    """
    return len(tensors) + sum(t.op is not None for t in tensors)


def _too_large(
    g: nx.MultiDiGraph | list[tg.Tensor], max_nodes: int, title: str | None, rankdir: str
) -> str:
    """Instead of a picture nobody can read (and minutes of layout): a summary card.

    ``g`` is a networkx graph, or the tensors of ``tg.graph_nodes`` (output last): for a
    tensor the card is made without building the networkx graph, which for 300,000
    nodes costs seconds.
    """
    if isinstance(g, list):
        n_tensors = len(g)
        ops = Counter(t.op for t in g if t.op is not None)
        last = g[-1]
        out = {"name": last.name, "shape": tuple(last.shape), "value": last.data}
    else:
        n_tensors = sum(d["kind"] == "tensor" for _, d in g.nodes(data=True))
        ops = Counter(d["op"] for _, d in g.nodes(data=True) if d["kind"] == "op")
        out = g.nodes[g.graph["output"]]
    return summary_card(n_tensors, ops, out, max_nodes, title, rankdir)


def summary_card(
    n_tensors: int,
    ops: Counter[str],
    out: dict[str, Any],
    max_nodes: int,
    title: str | None,
    rankdir: str,
    complete: bool = True,
) -> str:
    """The DOT text of the card a graph too large to draw becomes, from its counts:
    tensors, gates by op, and the output (``name``, ``shape``, ``value``). Counts that
    stop where reading stopped (``complete=False``, PyTorch's larger graphs) say "more
    than".

    >>> summary_card(3, Counter(mul=2), {"name": "f", "shape": (), "value": 1.0}, 2, None, "LR")[:7]
    'digraph'
    """
    n_nodes = n_tensors + sum(ops.values())
    value = np.asarray(out["value"])
    more = "" if complete else "more than "
    lines = [
        f"<B>{escape(title or 'graph', limit=120)}: too large to draw</B>",
        f"{more}{n_tensors} tensors and {sum(ops.values())} op gates "
        f"({more}{n_nodes} nodes; the limit is max_nodes={max_nodes})",
        ("ops: " if complete else "ops (of the nodes read): ")
        + escape(", ".join(f"{name} ×{n}" for name, n in ops.most_common(8)), limit=200)
        + (", …" if len(ops) > 8 else ""),
        f"output {escape(out.get('name') or '')} "
        + (fmt_shape(out["shape"]) if out["shape"] else "")
        + (f" = {fmt_number(value.reshape(-1)[0])}" if value.size == 1 else ""),
        "Draw a smaller graph (one example, one step), raise max_nodes,",
        "or analyse it with viz.to_networkx(t) (counts, depth, topological order).",
    ]
    label = (
        '<TABLE BORDER="1" CELLBORDER="0" CELLPADDING="6" STYLE="rounded" COLOR="#9ca3af" '
        'BGCOLOR="#f9fafb">'
        + "".join(f'<TR><TD ALIGN="LEFT">{line}</TD></TR>' for line in lines)
        + "</TABLE>"
    )
    return "\n".join([*_header(rankdir), "  summary " + _attrs(shape="plain", label=label), "}"])


def to_dot(
    graph: nx.MultiDiGraph | tg.Tensor,
    *,
    show_grad: bool = True,
    rankdir: str = "LR",
    max_entries: int = 16,
    title: str | None = None,
    legend: bool = True,
    max_nodes: int = DEFAULT_MAX_NODES,
    heatmaps: bool = True,
) -> str:
    """DOT text for a graph from :func:`viz.to_networkx` (or for a tensor directly,
    tensorgraph's or PyTorch's).

    ``show_grad`` adds each tensor's gradient (or says it is not computed yet);
    ``rankdir`` is "LR" (left to right) or "TB"; tensors with at most ``max_entries``
    entries show all of them, larger ones a summary (and, with ``heatmaps``, a matrix as
    coloured blocks: values sequential, gradients blue-white-red around 0); ``title`` is
    drawn above the legend. A graph of more than ``max_nodes`` nodes becomes a one-box
    summary instead.

    >>> import tensorgraph as tg
    >>> x = tg.tensor(3.0, requires_grad=True, name="x")
    >>> src = to_dot(2 * x)
    >>> src.startswith("digraph") and "<B>x</B>" in src
    True
    """
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"to_dot: rankdir must be 'LR' or 'TB', got {rankdir!r}")
    if not isinstance(max_entries, int) or max_entries < 1:
        raise ValueError(f"to_dot: max_entries must be a positive int, got {max_entries!r}")
    if isinstance(graph, tg.Tensor):
        nodes = tg.graph_nodes(graph)  # counting first is ~15x cheaper than networkx
        if drawn_nodes(nodes) > max_nodes:
            return _too_large(nodes, max_nodes, title, rankdir)
        g = to_networkx(graph)
    elif is_torch_tensor(graph):  # PyTorch's graph: walked once, counted before it is read
        from .pytorch import MAX_NODES, TorchGraph

        walked = TorchGraph(graph, limit=min(max_nodes, MAX_NODES))
        if not walked.complete or walked.drawn_nodes() > max_nodes:
            return summary_card(*walked.summary(), max_nodes, title, rankdir, walked.complete)
        g = walked.to_networkx()
    else:
        g = graph
    if g.number_of_nodes() > max_nodes:
        return _too_large(g, max_nodes, title, rankdir)

    lines = _header(rankdir)
    roles = set()
    images: dict[str, str] = {}  # the heatmaps' PNGs, carried as DOT comment lines
    # Nodes with a "cluster" attribute are drawn in a labelled box per cluster
    # (g.graph["clusters"]: cluster -> label), e.g. the two sides of viz.compare.
    clusters: dict[str, list[str]] = {c: [] for c in g.graph.get("clusters") or {}}
    for node, data in g.nodes(data=True):
        body = clusters.get(data.get("cluster"), lines)  # type: ignore[arg-type]
        if data["kind"] == "tensor":
            roles.add(data["role"])
            label = tensor_label(data, show_grad, max_entries, heatmaps, images)
            tip = _tooltip(g, node)
            body.append(f"  {node} " + _attrs(shape="plain", label=label, tooltip=tip))
        else:
            ov = data.get("overlay") or {}
            fill, border = GATE_COLORS
            # Circles for the short symbols (+ * max @), as in the lecture's circuits;
            # an ellipse keeps "reshape" or "sum / axis=1" from making a huge circle.
            short = (
                len(data["symbol"]) <= 3
                and not _attr_text(data.get("attrs") or {})
                and not ov.get("note")
                and not data.get("torch_name")
            )
            body.append(
                f"  {node} "
                + _attrs(
                    shape="circle" if short else "ellipse",
                    style="filled",
                    fillcolor=ov.get("fill", fill),
                    color=ov.get("border", border),
                    penwidth=ov.get("width", 1),
                    fontsize="14" if len(data["symbol"]) <= 2 else "12",
                    margin="0.04",
                    label=gate_label(data),
                    tooltip=_tooltip(g, node),
                    # inches; a minimum, set by the player to the largest over its frames
                    **{k: ov[f"min_{k}"] / 72 for k in ("width", "height") if ov.get(f"min_{k}")},
                )
            )
    for k, (cluster, body) in enumerate(clusters.items()):
        label = f"<B>{escape(g.graph['clusters'][cluster], limit=80)}</B>"
        style = _attrs(label=label, style="rounded", color="#d1d5db", fontsize="14")
        lines += [f"  subgraph cluster_{k} {{", f"    graph {style}"]
        lines += ["  " + line for line in body] + ["  }"]
    for u, v, data in g.edges(data=True):
        attrs = {"tooltip": f"{_tooltip(g, u)} → {_tooltip(g, v)}"}
        if "index" in data and not g.nodes[v].get("commutative") and g.in_degree(v) > 1:
            # a - b, A @ B: the order matters, so the edge says which operand it is (in
            # words: letters would clash with tensors named a or b).
            attrs.update(label=ordinal(data["index"] + 1), fontcolor=MUTED)
        ov = data.get("overlay") or {}
        if ov:
            color = ov.get("color", EDGE_COLOR)
            attrs.update(color=color, fontcolor=color, penwidth=ov.get("penwidth", 1))
            # dir="back": the arrowhead at the input, for a gradient flowing back to it
            # (Graphviz lays the edge out as before: only the arrowhead moves).
            back = ov.get("dir") == "back"
            if back:
                attrs.update(dir="back", arrowsize="0.9")
            if ov.get("label"):
                # An HTML label, so the text is escaped like every other; placed after
                # layout (so a frame that labels an edge is laid out like the rest) beside
                # the arrowhead: at the gate going forward, at the input going back.
                where = "taillabel" if back else "headlabel"
                attrs[where] = _font(escape(ov["label"], limit=60), _color(color))
                # Turned towards the gate's side of the arrowhead, clear of the box.
                angle = "35" if back else "-35"
                attrs.update(labelfontsize="11", labeldistance="2.2", labelangle=angle)
        lines.append(f"  {u} -> {v} " + _attrs(**attrs) if attrs else f"  {u} -> {v}")
    caption_lines = g.graph.get("caption") or []
    if isinstance(caption_lines, str):
        caption_lines = [caption_lines]
    if legend or title or caption_lines:
        out_name = g.nodes[g.graph["output"]].get("name") or "output"
        width = g.graph.get("caption_width")
        caption = _legend(roles, show_grad, title, out_name, legend, caption_lines, width)
        lines.append("  graph " + _attrs(labelloc="t", labeljust="c", label=caption))
    lines.extend(images.values())
    lines.append("}")
    return "\n".join(lines) + "\n"
