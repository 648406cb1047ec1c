"""Drawings: a graph's DOT text plus ways to see it (Jupyter) and save it (files).

    viz.draw(f)                        shows inline in Jupyter, .source is the DOT
    viz.render(f, "lecture.png")       writes SVG, PNG, PDF or DOT (format from the suffix)

The DOT is built when you call ``draw``, so a drawing made before ``backward()`` keeps
showing the graph before backward. A PyTorch tensor is drawn the same way, from its
autograd graph (:mod:`viz.pytorch`; its values and gradients need ``viz.record_torch()``).
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

import tensorgraph as tg

from .backends import RendererNotFound, render_dot
from .dot import DEFAULT_MAX_NODES, drawn_nodes, to_dot
from .files import write_atomic
from .graph import is_torch_tensor, to_networkx

# Suffix -> format. ".gv" is Graphviz's other name for DOT files.
SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}


class Drawing:
    """A drawn graph: ``.source`` (DOT), ``.pipe(format)`` (bytes), ``.render(path)``.

    In Jupyter it displays itself as SVG with whatever Graphviz backend is available;
    without one it displays a text note saying how to get one.

    >>> import tensorgraph as tg
    >>> d = draw(tg.tensor(2.0, requires_grad=True, name="x") * 3)
    >>> d.source.startswith("digraph")
    True
    """

    def __init__(self, source: str, backend: str = "auto") -> None:
        self.source = source
        self.backend = backend
        self._svg: str | None = None

    def pipe(self, format: str = "svg") -> bytes:
        """The drawing rendered to ``format`` ("svg", "png", "pdf" or "dot") as bytes."""
        return render_dot(self.source, format, backend=self.backend)

    def svg(self) -> str:
        """The SVG text (rendered once, then remembered)."""
        if self._svg is None:
            self._svg = self.pipe("svg").decode("utf-8")
        return self._svg

    def _repr_svg_(self) -> str | None:
        try:
            return self.svg()
        except RendererNotFound:
            return None  # Jupyter then shows the text/plain repr, which explains

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        try:
            return {"image/svg+xml": self.svg(), "text/plain": repr(self)}
        except RendererNotFound as err:
            return {"text/plain": f"{self!r}\n{err}"}

    def __repr__(self) -> str:
        return "<viz.Drawing: .source has the DOT text, .render(path) saves it>"

    def render(self, path: str | Path, format: str | None = None) -> Path:
        """Write the drawing to ``path`` and return the path.

        The format comes from ``format`` or else the suffix (.svg, .png, .pdf, .dot,
        .gv); a path without a suffix gets one. When no renderer exists, the DOT text
        is written next to the requested file and :class:`RendererNotFound` says where.
        The file is replaced in one step (:func:`viz.files.write_atomic`): a render that
        fails leaves the old file as it was.
        """
        path = Path(path)
        if format is None:
            if path.suffix.lower() not in SUFFIXES:
                raise ValueError(
                    f"render: cannot tell the format of {str(path)!r} from its suffix; "
                    f"use one of {sorted(SUFFIXES)} or pass format="
                )
            fmt = SUFFIXES[path.suffix.lower()]
        else:
            fmt = format.lower().lstrip(".")
            if fmt == "gv":
                fmt = "dot"
            if fmt not in SUFFIXES.values():
                raise ValueError(f"render: unknown format {format!r}; use svg, png, pdf or dot")
            if not path.suffix:
                path = path.with_suffix("." + fmt)
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "dot":
            write_atomic(path, self.source)
            return path
        try:
            data = self.pipe(fmt)
        except RendererNotFound as err:
            fallback = path.with_suffix(".dot")
            write_atomic(fallback, self.source)
            raise RendererNotFound(f"{err}\nThe DOT text was written to {fallback}.") from err
        write_atomic(path, data)
        return path


def draw(
    t: tg.Tensor | nx.MultiDiGraph,
    *,
    show_grad: bool = True,
    rankdir: str = "LR",
    max_entries: int = 16,
    title: str | None = None,
    legend: bool = True,
    max_nodes: int = DEFAULT_MAX_NODES,
    heatmaps: bool = True,
    check: bool = False,
    backend: str = "auto",
) -> Drawing:
    """Draw the graph that ends in ``t`` with every value and gradient.

    ``t`` is a tensorgraph tensor, a networkx graph from :func:`viz.to_networkx`, or a
    PyTorch tensor with a ``grad_fn``: its backward nodes are the gates (``MulBackward0``
    under the symbol ``*``), and run inside ``with viz.record_torch():`` every node
    shows its value and gradient (:mod:`viz.pytorch`).

    Options: ``show_grad`` (the gradient row of each tensor; before ``backward()`` it
    says the gradient is not computed yet), ``rankdir`` ("LR" or "TB"), ``max_entries``
    (tensors with at most this many entries show them all, larger ones a summary),
    ``title``, ``legend``, ``max_nodes`` (larger graphs become a summary box),
    ``heatmaps`` (a large matrix also drawn as coloured blocks), ``check`` (compare
    every node's gradient with central differences, :mod:`viz.check`, and mark each
    node with the verdict) and ``backend`` ("auto", "dot" or "pygraphviz").

    >>> import tensorgraph as tg
    >>> x = tg.tensor(3.0, requires_grad=True, name="x")
    >>> f = x * x
    >>> f.backward()
    >>> "grad 6" in draw(f, title="x squared").source
    True
    """
    if not isinstance(t, tg.Tensor | nx.MultiDiGraph) and not is_torch_tensor(t):
        raise TypeError(
            f"draw: takes a tensorgraph (or PyTorch) tensor, the output of the graph to draw "
            f"(or its viz.to_networkx graph); got {type(t).__name__} {_short(t)}"
            + (": wrap numbers in tg.tensor(...) and compute with them" if _numeric(t) else "")
        )
    graph = t
    if check and not _beyond(t, max_nodes):
        # Above max_nodes the drawing is a summary box with no node to mark, and the
        # check grows with the square of the graph: skip it rather than stall.
        graph = _checked_graph(t, max_entries)
    source = to_dot(
        graph,
        show_grad=show_grad,
        rankdir=rankdir,
        max_entries=max_entries,
        title=title,
        legend=legend,
        max_nodes=max_nodes,
        heatmaps=heatmaps,
    )
    return Drawing(source, backend=backend)


def _short(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _numeric(value: object) -> bool:
    """A number or an array: data, not yet a graph."""
    return isinstance(value, int | float | complex | np.ndarray | np.number | list | tuple)


def _beyond(t: tg.Tensor | nx.MultiDiGraph, max_nodes: int) -> bool:
    """Whether the drawing of t has more than max_nodes nodes (tensors plus gates)."""
    if is_torch_tensor(t):
        return False  # _checked_graph refuses it with the reason
    if isinstance(t, tg.Tensor):
        return drawn_nodes(tg.graph_nodes(t)) > max_nodes
    return t.number_of_nodes() > max_nodes


def _checked_graph(t: tg.Tensor | nx.MultiDiGraph, max_entries: int) -> nx.MultiDiGraph:
    """The graph of ``t`` with each node's gradient-check verdict as an overlay."""
    if is_torch_tensor(t):
        raise TypeError(
            "draw: check=True re-runs tensorgraph's gates, and a PyTorch graph has none "
            "to re-run; to check PyTorch against tensorgraph use viz.compare(ours, theirs)"
        )
    if not isinstance(t, tg.Tensor):
        raise TypeError(
            "draw: check=True needs the tensor itself (the check re-runs its gates), "
            f"not a {type(t).__name__} such as a networkx graph"
        )
    from .check import check_graph, check_summary, overlay  # only when asked for

    g = to_networkx(t)
    checks = check_graph(t, max_entries=max_entries)
    for node, extra in overlay(checks).items():
        g.nodes[node]["overlay"] = {**(g.nodes[node].get("overlay") or {}), **extra}
    g.graph["caption"] = [*g.graph.get("caption", []), check_summary(checks)]
    return g


def render(
    t: tg.Tensor | nx.MultiDiGraph | Drawing,
    path: str | Path,
    format: str | None = None,
    **options: object,
) -> Path:
    """Draw ``t`` and write it to ``path`` (SVG, PNG, PDF or DOT); return the path.

    The format comes from the suffix unless ``format`` is given; ``options`` are those
    of :func:`draw`. PDF needs the system ``dot``. ``t`` may also be a drawing already
    made (a :class:`Drawing`, such as :func:`viz.compare` returns), written as it is.

    >>> import tensorgraph as tg, tempfile, os
    >>> x = tg.tensor(3.0, requires_grad=True, name="x")
    >>> p = render(x * x, os.path.join(tempfile.mkdtemp(), "square.dot"))
    >>> p.read_text().startswith("digraph")
    True
    """
    if isinstance(t, Drawing):
        if options:
            raise TypeError(
                f"render: a Drawing is drawn already; options {sorted(options)} do not apply"
            )
        return t.render(path, format=format)
    return draw(t, **options).render(path, format=format)  # type: ignore[arg-type]
