"""tensorgraph's graph beside PyTorch's, matched node by node: ``viz.compare(ours, theirs)``.

    c = viz.compare(f, f_torch)      # a drawing, like viz.draw: inline in Jupyter
    c.ok, c.differences, c.divergences
    viz.render(c, "compare.svg")

Both graphs are read into viz's networkx form (:func:`viz.to_networkx`) and matched by
structure, from the outputs back: two tensors match when the gates that made them are
the same op (PyTorch's ``MulBackward0`` is tensorgraph's ``mul``, :mod:`viz.pytorch`)
and their inputs match in order (either order for a gate whose inputs commute). An input
that needs no gradient matches one PyTorch keeps no node for. Where the structures part,
the walk notes where and why, then picks up again at tensors of the same name (the names
``viz.record_torch()`` gives PyTorch's tensors from your variables).

Every matched value and gradient is compared (``rtol``, ``atol``, as ``numpy.allclose``):
one that differs is marked red on both sides, each node showing its own number and, in
its note, the other side's. Nodes only one graph has are marked amber, and the caption
says where the graphs part ("q: tensorgraph has a max gate; PyTorch's graph has the leaf
z there, with no gate").
"""

from __future__ import annotations

import textwrap
from collections import deque
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

import tensorgraph as tg

from .dot import DEFAULT_MAX_NODES, GRAD_COLOR
from .draw import Drawing, draw
from .graph import is_torch_tensor, to_networkx
from .steps import show

__all__ = ["Comparison", "Difference", "compare"]

DIVERGE_COLOR = "#d97706"  # nodes only one graph has
MAX_LINES = 8  # divergences listed in the caption; the rest are counted


@dataclass(frozen=True)
class Difference:
    """A number the two graphs disagree on.

    ``name`` is the node's name (or id), ``what`` "value" or "grad", ``ours`` and
    ``theirs`` the two arrays (None where one side has none), ``ours_node`` and
    ``theirs_node`` the node ids in each side's :func:`viz.to_networkx` graph.

    >>> Difference("w", "grad", np.array(0.0), None, "t4", "t3").what
    'grad'
    """

    name: str
    what: str
    ours: np.ndarray | None
    theirs: np.ndarray | None
    ours_node: str
    theirs_node: str

    def __str__(self) -> str:
        def text(a: np.ndarray | None) -> str:
            return "None" if a is None else show(a)

        return f"{self.name}: {self.what} {text(self.ours)} (ours) vs {text(self.theirs)} (theirs)"


class Comparison(Drawing):
    """The drawing :func:`compare` returns, with what it found.

    ``matches`` maps each matched node of ours to its partner (ids of each side's
    :func:`viz.to_networkx` graph), ``differences`` lists every value and gradient
    that differs (:class:`Difference`), ``divergences`` says in words where the
    structures part; ``ok`` is true when there is neither.

    >>> import tensorgraph as tg
    >>> x = tg.tensor(2.0, requires_grad=True, name="x")
    >>> c = compare(x * 3, x * 4)
    >>> c.ok, [str(d) for d in c.differences]
    (False, ['t2: value 6 (ours) vs 8 (theirs)'])
    """

    def __init__(
        self,
        source: str,
        backend: str,
        matches: dict[str, str],
        differences: list[Difference],
        divergences: list[str],
    ) -> None:
        super().__init__(source, backend=backend)
        self.matches = matches
        self.differences = differences
        self.divergences = divergences

    @property
    def ok(self) -> bool:
        """No number differs and the structures agree."""
        return not self.differences and not self.divergences

    def __repr__(self) -> str:
        verdict = (
            "the graphs agree"
            if self.ok
            else (
                f"{len(self.differences)} number(s) differ, "
                f"{len(self.divergences)} structural difference(s)"
            )
        )
        return f"<viz.Comparison: {len(self.matches)} nodes matched, {verdict}>"


def _maker(g: nx.MultiDiGraph, node: str) -> str | None:
    """The gate that made tensor ``node``, or None for a leaf."""
    return next((u for u in g.predecessors(node) if g.nodes[u]["kind"] == "op"), None)


def _inputs(g: nx.MultiDiGraph, gate: str) -> list[str | None]:
    """A gate's inputs by position; None where PyTorch keeps no node (a constant)."""
    edges = [(d["index"], u) for u, _, d in g.in_edges(gate, data=True)]
    slots = g.nodes[gate].get("slots") or (max(k for k, _ in edges) + 1 if edges else 0)
    inputs: list[str | None] = [None] * slots
    for k, u in edges:
        inputs[k] = u
    if g.nodes[gate].get("reversed"):  # PyTorch's rsub(a, b) is tensorgraph's b - a
        inputs.reverse()
    return inputs


def _needs_grad(g: nx.MultiDiGraph, node: str | None) -> bool:
    return node is not None and g.nodes[node].get("role") != "constant"


def _label(g: nx.MultiDiGraph, node: str) -> str:
    """A tensor as the caption calls it: its name, else its gate's symbol and id."""
    data = g.nodes[node]
    if data.get("name"):
        return str(data["name"])
    gate = _maker(g, node)
    if gate is None:
        return f"the leaf {node}"
    return f"the output {node} of {g.nodes[gate].get('torch_name') or g.nodes[gate]['symbol']}"


def _gate_text(g: nx.MultiDiGraph, gate: str) -> str:
    """ "a max gate (maximum)" or PyTorch's "MaximumBackward0"."""
    data = g.nodes[gate]
    if data.get("torch_name"):
        return data["torch_name"]
    return f"a {data['symbol']} gate ({data['op']})"


_HINTS = {
    "maximum": " (Python's built-in max(z, w) returns one of the two tensors and records "
    "no gate; torch.maximum(z, w) records one)",
    "minimum": " (Python's built-in min returns one of the two tensors and records no gate; "
    "torch.minimum records one)",
}


class _Matcher:
    """Match graph ``a`` (ours) with graph ``b`` (theirs), recording what it finds."""

    def __init__(self, a: nx.MultiDiGraph, b: nx.MultiDiGraph, sides: tuple[str, str]):
        self.a, self.b, self.sides = a, b, sides
        self.a2b: dict[str, str] = {}
        self.b2a: dict[str, str] = {}
        self.divergences: list[str] = []
        self.marked_a: dict[str, str] = {}  # node -> note (amber: structure)
        self.marked_b: dict[str, str] = {}

    def run(self, rtol: float, atol: float) -> None:
        pairs = deque([(self.a.graph["output"], self.b.graph["output"])])
        while pairs:
            while pairs:
                self._pair(*pairs.popleft(), pairs)
            pairs.extend(self._by_name() or self._by_value(rtol, atol))
        self._leftovers()

    def _diverge(
        self,
        text: str,
        a: str | None = None,
        b: str | None = None,
        note_a: str = "",
        note_b: str = "",
    ) -> None:
        """Note a structural difference; mark node ``a`` of ours and ``b`` of theirs
        with what the other side has there."""
        self.divergences.append(text)
        ours, theirs = self.sides
        if a is not None:
            self.marked_a.setdefault(a, note_a or f"not in {theirs}'s graph")
        if b is not None:
            self.marked_b.setdefault(b, note_b or f"not in {ours}'s graph")

    def _pair(self, a: str, b: str, pairs: deque[tuple[str, str]]) -> None:
        A, B = self.a, self.b
        ours, theirs = self.sides
        if a in self.a2b or b in self.b2a:
            if self.a2b.get(a) != b:
                self._diverge(
                    f"{_label(A, a)}: used in more places of one graph than of the other", a, b
                )
            return
        ga, gb = _maker(A, a), _maker(B, b)
        if ga is None and gb is not None:
            self._diverge(
                f"{_label(A, a)}: a leaf in {ours}'s graph; {theirs}'s graph computes it "
                f"with {_gate_text(B, gb)}",
                a,
                b,
                f"{theirs}: made by {_gate_text(B, gb)}",
                f"{ours}: the leaf {_label(A, a)}",
            )
            return
        if ga is not None and gb is None:
            hint = _HINTS.get(A.nodes[ga]["op"], "")
            self._diverge(
                f"{_label(A, a)}: {ours} computes it with {_gate_text(A, ga)}; {theirs}'s "
                f"graph has the leaf {_label(B, b)} there, with no gate{hint}",
                a,
                b,
                f"{theirs}: the leaf {_label(B, b)} here",
                f"{ours}: {_label(A, a)}, made by {_gate_text(A, ga)}",
            )
            return
        self.a2b[a], self.b2a[b] = b, a
        if ga is None or gb is None:
            return
        if A.nodes[ga]["op"] != B.nodes[gb]["op"]:
            self._diverge(
                f"{_label(A, a)}: {ours} has {_gate_text(A, ga)}, {theirs} {_gate_text(B, gb)}",
                ga,
                gb,
                f"{theirs}: {_gate_text(B, gb)}",
                f"{ours}: {_gate_text(A, ga)}",
            )
            return
        self.a2b[ga], self.b2a[gb] = gb, ga
        ia, ib = _inputs(A, ga), _inputs(B, gb)
        if len(ia) != len(ib):
            self._diverge(
                f"{_label(A, a)}: its gate takes {len(ia)} inputs in {ours}, {len(ib)} in {theirs}",
                ga,
                gb,
            )
            return

        def fit(xs: list[str | None]) -> int:
            pairs = zip(xs, ib, strict=True)
            return sum(_needs_grad(A, x) == _needs_grad(B, y) for x, y in pairs)

        if A.nodes[ga].get("commutative") and len(ia) == 2 and fit(ia[::-1]) > fit(ia):
            ia = ia[::-1]  # 2 * v in tensorgraph, v * 2 in PyTorch
        for k, (x, y) in enumerate(zip(ia, ib, strict=True)):
            if not _needs_grad(A, x) and not _needs_grad(B, y):
                continue  # a constant on both sides (PyTorch keeps no node for it)
            if not _needs_grad(B, y):
                assert x is not None
                self._diverge(
                    f"{_label(A, x)}: {ours} sends it a gradient through input {k + 1} of "
                    f"{_label(A, a)}'s gate; to {theirs} that input is a constant",
                    x,
                    gb,
                    f"{theirs}: a constant here",
                    f"{ours}: input {k + 1} needs a gradient",
                )
            elif not _needs_grad(A, x):
                self._diverge(
                    f"{_label(B, y)}: {theirs} sends it a gradient through input {k + 1} of "
                    f"{_label(A, a)}'s gate; to {ours} that input is a constant",
                    ga,
                    y,
                    f"{theirs}: input {k + 1} needs a gradient",
                    f"{ours}: a constant here",
                )
            else:
                assert x is not None and y is not None
                pairs.append((x, y))

    def _by_name(self) -> list[tuple[str, str]]:
        """Unmatched tensors of the same name on both sides (each name once per side)."""

        def named(g: nx.MultiDiGraph, matched: dict[str, str]) -> dict[str, str]:
            seen: dict[str, list[str]] = {}
            for node, d in g.nodes(data=True):
                if d["kind"] == "tensor" and d.get("name") and node not in matched:
                    seen.setdefault(str(d["name"]), []).append(node)
            return {name: nodes[0] for name, nodes in seen.items() if len(nodes) == 1}

        na, nb = named(self.a, self.a2b), named(self.b, self.b2a)
        return [(na[name], nb[name]) for name in na if name in nb]

    def _by_value(self, rtol: float, atol: float) -> list[tuple[str, str]]:
        """Unmatched computed tensors with the same value on both sides, where exactly one
        tensor of each side has it (the input of a gate PyTorch splits in two)."""

        def open_(g: nx.MultiDiGraph, matched: dict[str, str]) -> list[str]:
            return [
                n
                for n, d in g.nodes(data=True)
                if d["kind"] == "tensor"
                and n not in matched
                and d.get("value") is not None
                and not d.get("leaf")
                and _needs_grad(g, n)
            ]

        def same(x: str, y: str) -> bool:
            u, v = self.a.nodes[x]["value"], self.b.nodes[y]["value"]
            return np.shape(u) == np.shape(v) and np.allclose(
                np.asarray(u, np.float64), np.asarray(v, np.float64), rtol, atol
            )

        ours, theirs = open_(self.a, self.a2b), open_(self.b, self.b2a)
        found = []
        for x in ours:
            hits = [y for y in theirs if same(x, y)]
            if len(hits) == 1 and sum(same(z, hits[0]) for z in ours) == 1:
                found.append((x, hits[0]))
        return found

    def _leftovers(self) -> None:
        """Say which nodes one graph has and the other has not."""
        A, B = self.a, self.b
        ours, theirs = self.sides
        for node, d in A.nodes(data=True):
            if node in self.a2b or node in self.marked_a:
                continue
            if d["kind"] == "tensor" and _needs_grad(A, node):
                if d.get("leaf"):
                    grad = "" if d.get("grad") is None else f" ({ours}: {show(d['grad'])})"
                    self._diverge(
                        f"{_label(A, node)}: only in {ours}'s graph; {theirs}'s graph does not "
                        f"reach it, so its gradient there stays None{grad}",
                        node,
                        note_a=f"not in {theirs}'s graph: grad None there",
                    )
                else:
                    self._diverge(f"{_label(A, node)}: only in {ours}'s graph", node)
            elif d["kind"] == "op":
                self.marked_a.setdefault(node, f"not in {theirs}'s graph")
        for node, d in B.nodes(data=True):
            if node in self.b2a or node in self.marked_b:
                continue
            if d["kind"] == "op":
                self._diverge(f"{_gate_text(B, node)}: only in {theirs}'s graph", None, node)
            else:
                self.marked_b.setdefault(node, f"not in {ours}'s graph")


def _numbers(
    m: _Matcher, rtol: float, atol: float
) -> tuple[list[Difference], dict[str, str], dict[str, str]]:
    """Every value and gradient of matched tensors, compared; notes for both sides."""
    A, B = m.a, m.b
    ours, theirs = m.sides
    diffs: list[Difference] = []
    notes_a: dict[str, str] = {}
    notes_b: dict[str, str] = {}
    for a, b in m.a2b.items():
        da, db = A.nodes[a], B.nodes[b]
        if da["kind"] != "tensor":
            continue
        for what in ("value", "grad"):
            x, y = da.get(what), db.get(what)
            if x is None and y is None:
                continue
            if x is None or y is None:
                # An unrecorded PyTorch intermediate is no difference; a missing gradient
                # of a leaf is (a .grad of None where the other side has one).
                if what == "value" or not (da.get("leaf") and db.get("leaf")):
                    continue
            elif np.shape(x) == np.shape(y) and np.allclose(
                np.asarray(x, np.float64), np.asarray(y, np.float64), rtol, atol, equal_nan=True
            ):
                continue
            name = str(da.get("name") or db.get("name") or a)
            diffs.append(Difference(name, what, x, y, a, b))
            notes_a[a] = _join(notes_a.get(a), f"{theirs}: {what} {_show(y)}")
            notes_b[b] = _join(notes_b.get(b), f"{ours}: {what} {_show(x)}")
    return diffs, notes_a, notes_b


def _show(a: Any) -> str:
    return "None" if a is None else show(np.asarray(a))


def _join(old: str | None, new: str) -> str:
    return new if not old else f"{old}; {new}"


def compare(
    ours: Any,
    theirs: Any,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    title: str | None = None,
    rankdir: str = "LR",
    max_entries: int = 16,
    show_grad: bool = True,
    legend: bool = True,
    max_nodes: int = DEFAULT_MAX_NODES,
    backend: str = "auto",
) -> Comparison:
    """Draw tensorgraph's graph of ``ours`` and PyTorch's of ``theirs``, matched.

    Returns a :class:`Comparison`: a drawing (``.source``, ``.svg()``, inline in
    Jupyter, ``viz.render(c, path)``) of both graphs, each in its own labelled box, where
    every value or gradient that differs beyond ``rtol``/``atol`` is red on both sides
    with both numbers, and nodes only one graph has are amber; its caption says where
    the structures part. ``c.ok``, ``c.differences`` and ``c.divergences`` say the same
    in data. Record the PyTorch code with ``viz.record_torch()`` to compare its
    intermediates too (else only what PyTorch keeps is compared: leaves and output).
    Either side may be a tensorgraph or a PyTorch tensor.

    >>> import tensorgraph as tg
    >>> x = tg.tensor(3.0, requires_grad=True, name="x")
    >>> f = x * x
    >>> f.backward()
    >>> compare(f, f).ok
    True
    """
    for side, t in (("ours", ours), ("theirs", theirs)):
        if not (isinstance(t, tg.Tensor) or is_torch_tensor(t)):
            raise TypeError(
                f"compare: {side} must be a tensorgraph or PyTorch tensor, got {type(t).__name__}"
            )
    ga, gb = to_networkx(ours), to_networkx(theirs)
    sides = _side_names(ga, gb)
    m = _Matcher(ga, gb, sides)
    m.run(rtol, atol)
    diffs, notes_a, notes_b = _numbers(m, rtol, atol)

    # Graphviz stacks the cluster written last first (on top, or left with rankdir TB):
    # ours is written last, to be read first.
    g = nx.MultiDiGraph(output="a" + ga.graph["output"], clusters={"b": sides[1], "a": sides[0]})
    for prefix, src, marked, notes, partner in (
        ("a", ga, m.marked_a, notes_a, m.a2b),
        ("b", gb, m.marked_b, notes_b, m.b2a),
    ):
        other = gb if prefix == "a" else ga
        for node, data in src.nodes(data=True):
            data = dict(data, cluster=prefix)
            if data["kind"] == "tensor" and not data.get("name") and node in partner:
                data["name"] = other.nodes[partner[node]].get("name")  # show who is who
            if node in notes:
                data["overlay"] = {"border": GRAD_COLOR, "width": 3, "note": notes[node]}
            elif node in marked:
                data["overlay"] = {"border": DIVERGE_COLOR, "width": 3, "note": marked[node]}
            g.add_node(prefix + node, **data)
        for u, v, k, data in src.edges(keys=True, data=True):
            g.add_edge(prefix + u, prefix + v, key=k, **data)

    matched = sum(ga.nodes[n]["kind"] == "tensor" for n in m.a2b)
    total = sum(d["kind"] == "tensor" and _needs_grad(ga, n) for n, d in ga.nodes(data=True))
    caption = [f"{sides[0]} and {sides[1]}: {matched} of {total} tensors matched by structure"]
    if diffs:
        caption.append(
            f"{len(diffs)} value(s) or gradient(s) differ beyond rtol={rtol:g}, atol={atol:g}: "
            "red, with the other side's number in the note"
        )
    else:
        caption.append(f"every matched value and gradient agrees (rtol={rtol:g}, atol={atol:g})")
    caption += m.divergences[:MAX_LINES]
    if len(m.divergences) > MAX_LINES:
        caption.append(f"... and {len(m.divergences) - MAX_LINES} more structural differences")
    if any(d.get("missing_value") for _, d in gb.nodes(data=True)):
        caption.append(
            f"{sides[1]}'s intermediates were not recorded (viz.record_torch()): only what it "
            "kept is compared"
        )
    # Lines of at most 72 characters: a wider caption would stretch the legend under it.
    g.graph["caption"] = [line for text in caption for line in textwrap.wrap(text, 72)]
    options = {"show_grad": show_grad, "rankdir": rankdir, "max_entries": max_entries}
    drawing = draw(g, title=title, legend=legend, max_nodes=max_nodes, **options)  # type: ignore[arg-type]
    matches = {a: b for a, b in m.a2b.items() if ga.nodes[a]["kind"] == "tensor"}
    return Comparison(drawing.source, backend, matches, diffs, list(m.divergences))


def _side_names(ga: nx.MultiDiGraph, gb: nx.MultiDiGraph) -> tuple[str, str]:
    """What the two sides are called: "tensorgraph" and "PyTorch" (or ours / theirs)."""
    a = "PyTorch" if ga.graph.get("engine") == "torch" else "tensorgraph"
    b = "PyTorch" if gb.graph.get("engine") == "torch" else "tensorgraph"
    if a == b:
        return f"{a} (ours)", f"{b} (theirs)"
    return a, b
