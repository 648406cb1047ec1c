"""The lecture's example, built in one place: f = 2·(x·y + max(z, w)) at (3, -4, 2, -1).

The seed's backprop slide names every step, and so do we::

    p = x * y          -12
    q = max(z, w)        2
    v = p + q          -10
    f = 2 * v          -20        ∇f = [∂f/∂x, ∂f/∂y, ∂f/∂z, ∂f/∂w] = [-8, 6, 2, 0]

:func:`lecture_graph` builds it in tensorgraph, :func:`torch_lecture_example` in PyTorch
(when torch is installed). The ``tensorgraph demo`` command prints both
(:func:`lecture_demo`) and draws the graph before and after backward
(:func:`write_lecture_graphs`); the report shows it (:func:`lecture_graph_svg`) and links
its step-by-step player (:func:`lecture_player`). :func:`torch_slide` runs the slide's
PyTorch code, recorded, and :func:`torch_lecture_svgs` draws PyTorch's graph of it and
compares it with ours, for the report.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import tensorgraph as tg
from viz.backends import RendererNotFound
from viz.draw import render

__all__ = [
    "TITLE",
    "VALUES",
    "lecture_demo",
    "lecture_example",
    "lecture_graph",
    "lecture_graph_svg",
    "lecture_player",
    "torch_lecture_example",
    "torch_lecture_svgs",
    "torch_slide",
    "write_lecture_graphs",
]

VALUES = {"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0}
TITLE = "f = 2·(x·y + max(z, w))   at x = 3, y = -4, z = 2, w = -1"


def lecture_graph(**values: float) -> tg.Tensor:
    """The lecture's graph, built but not yet backpropagated: leaves x, y, z, w and the
    steps p = x*y, q = max(z, w), v = p + q, f = 2*v, each named as on the slide. At the
    slide's values, or at others given by name (``lecture_graph(z=-3.0)``).

    >>> f = lecture_graph()
    >>> f.item(), [t.name for t in tg.graph_nodes(f) if t.op is not None]
    (-20.0, ['p', 'q', 'v', 'f'])
    >>> lecture_graph(x=1, y=2, z=-3, w=5).item()
    14.0
    """
    unknown = set(values) - set(VALUES)
    if unknown:
        raise TypeError(f"lecture_graph: no input named {sorted(unknown)}; it has x, y, z, w")
    return _build({**VALUES, **values})[0]


def _build(values: dict[str, float] = VALUES) -> tuple[tg.Tensor, list[tg.Tensor]]:
    """f and its leaves [x, y, z, w]."""
    x, y, z, w = leaves = [tg.tensor(float(values[n]), requires_grad=True, name=n) for n in VALUES]
    p = x * y
    q = tg.maximum(z, w)
    v = p + q
    f = 2 * v
    for t, name in ((p, "p"), (q, "q"), (v, "v"), (f, "f")):
        t.name = name
    return f, leaves


def lecture_example() -> tuple[float, list[float]]:
    """f and its gradient [∂f/∂x, ∂f/∂y, ∂f/∂z, ∂f/∂w], by tensorgraph's backward.

    >>> lecture_example()
    (-20.0, [-8.0, 6.0, 2.0, 0.0])
    """
    f, leaves = _build()
    f.backward()
    return f.item(), [t.grad.item() for t in leaves]


def torch_lecture_example() -> tuple[float, list[float]] | None:
    """The same computation in PyTorch (``torch.maximum``, float64), or None when torch
    is not installed. torch is imported here, never when this module is.

    >>> result = torch_lecture_example()
    >>> result is None or result == (-20.0, [-8.0, 6.0, 2.0, 0.0])
    True
    """
    try:
        import torch
    except ImportError:
        return None
    x, y, z, w = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in VALUES.values())
    f = 2 * (x * y + torch.maximum(z, w))
    f.backward()
    return f.item(), [t.grad.item() for t in (x, y, z, w)]


def torch_slide(python_max: bool = True) -> Any:
    """The slide "PyTorch Implementation", run inside ``viz.record_torch()``: f, with
    every node's value and gradient recorded and the tensors named x y z w p q v f.

    As on the slide, ``q = max(z, w)`` is Python's built-in max: for two one-element
    tensors it returns z itself, so PyTorch records no max gate and w is not in the
    graph (``w.grad`` stays None, where the slide prints 0). ``python_max=False`` writes
    ``torch.maximum(z, w)``: the max gate, and ``w.grad`` 0, as in tensorgraph. Needs
    torch (ImportError, saying how to get it, without).

    >>> f = torch_slide()
    >>> f.item(), "MaximumBackward0" in str(f.grad_fn.next_functions)
    (-20.0, False)
    """
    from viz.pytorch import require_torch
    from viz.record import record_torch

    torch = require_torch("the PyTorch slide")
    maximum = max if python_max else torch.maximum
    with record_torch():
        # Forward pass
        x = torch.tensor(3.0, requires_grad=True)
        y = torch.tensor(-4.0, requires_grad=True)
        z = torch.tensor(2.0, requires_grad=True)
        w = torch.tensor(-1.0, requires_grad=True)
        p = x * y
        q = maximum(z, w)
        v = p + q
        f = 2 * v
        # Backward pass
        f.backward()
    return f


def torch_lecture_svgs(out: Path) -> tuple[Path, Path] | None:
    """PyTorch's graph of the lecture (``torch.maximum``: the same graph as ours) and
    the comparison of ours with the slide's own code (Python's max), as SVG in ``out``
    (``torch_graph.svg``, ``torch_compare.svg``); None when torch is not installed.

    >>> import tempfile
    >>> [p.name for p in torch_lecture_svgs(Path(tempfile.mkdtemp())) or ()]
    ['torch_graph.svg', 'torch_compare.svg']
    """
    try:
        graph = render(
            torch_slide(python_max=False),
            out / "torch_graph.svg",
            title=f"PyTorch Computation Graph: {TITLE}   (torch.maximum)",
        )
        ours = lecture_graph()
        ours.backward()
        from viz.compare import compare

        comparison = compare(
            ours, torch_slide(), title="tensorgraph and the slide's PyTorch code (Python's max)"
        )
    except ImportError:
        return None
    return graph, render(comparison, out / "torch_compare.svg")


def write_lecture_graphs(out: Path) -> list[Path]:
    """Draw the lecture graph before and after backward into ``out``:
    ``lecture_forward.svg/.png`` and ``lecture_backward.svg/.png``.

    Without a Graphviz renderer the DOT files are written and RendererNotFound raised.

    >>> import tempfile
    >>> [p.name for p in write_lecture_graphs(Path(tempfile.mkdtemp()))][:2]
    ['lecture_forward.svg', 'lecture_forward.png']
    """
    f = lecture_graph()
    paths = []
    for stage in ("forward", "backward"):
        if stage == "backward":
            f.backward()
        title = f"{TITLE}   ({'after backward' if stage == 'backward' else 'forward'})"
        for fmt in ("svg", "png"):
            paths.append(render(f, out / f"lecture_{stage}.{fmt}", title=title))
    return paths


def lecture_demo(out: Path) -> int:
    """The lecture part of ``tensorgraph demo``: print f and its gradient from tensorgraph
    and PyTorch, and draw the graph before and after backward into ``out``.

    Returns the command's exit code: 0, or 1 when no renderer could draw the pictures.

    >>> import tempfile
    >>> lecture_demo(Path(tempfile.mkdtemp()))  # doctest: +ELLIPSIS
    tensorgraph: f = -20, grad [x, y, z, w] = [-8.0, 6.0, 2.0, 0.0]
    ...
    0
    """
    f, grads = lecture_example()
    print(f"tensorgraph: f = {f:g}, grad [x, y, z, w] = {[round(g, 12) for g in grads]}")
    ref = torch_lecture_example()
    if ref is None:
        print(
            "pytorch:     not installed; to compare, run `python3 dev.py demo --with-torch` "
            "(or pip install torch==2.13.0)"
        )
    else:
        print(f"pytorch:     f = {ref[0]:g}, grad [x, y, z, w] = {ref[1]}")
    try:
        for path in write_lecture_graphs(out):
            print(f"wrote {path}")
    except RendererNotFound as err:
        print(f"could not draw the lecture graph: {err}", file=sys.stderr)
        return 1
    return 0


def lecture_graph_svg(out: Path, draw: bool = True) -> Path:
    """The lecture graph after backward as SVG in ``out``, for the report: drawn now
    (``lecture_graph.svg``), or with ``draw=False`` the ``lecture_backward.svg`` that
    :func:`write_lecture_graphs` drew, if it is there.

    >>> import tempfile
    >>> lecture_graph_svg(Path(tempfile.mkdtemp())).name
    'lecture_graph.svg'
    """
    drawn = out / "lecture_backward.svg"
    if not draw and drawn.exists():
        return drawn
    f = lecture_graph()
    f.backward()
    return render(f, out / "lecture_graph.svg", title=f"{TITLE}   (after backward)")


def lecture_player(out: Path) -> Path:
    """The lecture's forward and backward pass, gate by gate, as an HTML player in
    ``out`` (``lecture_backprop.html``).

    >>> import tempfile
    >>> lecture_player(Path(tempfile.mkdtemp())).name
    'lecture_backprop.html'
    """
    from viz.player import animate  # the player renders a dozen frames: only when asked

    return animate(
        lecture_graph(), out / "lecture_backprop.html", title=f"Backprop, step by step: {TITLE}"
    )
