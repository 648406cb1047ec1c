"""The graph that ends in a tensor, as a networkx MultiDiGraph.

The drawing code (``viz.dot``, ``viz.draw``) works on this form, built from the public
part of the engine's record only: ``t.op``, ``t.inputs``, ``t.attrs``, ``t.data``,
``t.grad``, ``t.name``, ``t.requires_grad``, ``t.is_leaf``, ``tg.graph_nodes(t)`` and
``tg.OPS``. The other modules of ``viz`` that read the tensors themselves read those
same public fields and nothing else: ``viz.dot`` counts a very large graph's nodes
straight from ``tg.graph_nodes`` (cheaper than building this graph), and the
step-by-step frames and the gradient check re-run the gates.

Nodes, in topological order (every input before the gate that reads it, every gate
before its output):

    tensor  "t0", "t1", ...   kind="tensor", name, shape, dtype, value, grad, leaf, role
    gate    "g3", ...         kind="op", op, symbol, commutative, attrs   (g3 makes t3)

Edges run input tensor -> gate with ``index`` (the input's position, so ``x*x`` has two
edges, keys 0 and 1) and gate -> output tensor.

A PyTorch tensor with a ``grad_fn`` gives the same form, read by :mod:`viz.pytorch` from
its autograd graph (gates are PyTorch's backward nodes, ``MulBackward0``). It is told
apart by duck typing (:func:`is_torch_tensor`), so ``import viz`` never imports torch.
"""

from __future__ import annotations

import sys
from typing import Any

import networkx as nx

import tensorgraph as tg


def role_of(t: tg.Tensor, is_output: bool) -> str:
    """Which colour a tensor gets: "output", "input", "constant" or "computed".

    "input" is a leaf that requires a gradient (a variable or parameter); "constant" is
    a leaf that does not (data, a number in the expression).

    >>> import tensorgraph as tg
    >>> role_of(tg.tensor(1.0, requires_grad=True), False), role_of(tg.tensor(1.0), False)
    ('input', 'constant')
    """
    if is_output:
        return "output"
    if t.is_leaf:
        return "input" if t.requires_grad else "constant"
    return "computed"


def is_torch_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a PyTorch tensor, without importing torch.

    Only a program that has imported torch can hold a torch tensor, so torch is looked
    up in ``sys.modules`` and never imported here.

    >>> import tensorgraph as tg
    >>> is_torch_tensor(tg.tensor(1.0)), is_torch_tensor(3.0)
    (False, False)
    """
    torch = sys.modules.get("torch")
    tensor = getattr(torch, "Tensor", None)
    return isinstance(tensor, type) and isinstance(obj, tensor)


def output_name(t: Any) -> str | None:
    """The name a drawing gives tensor ``t``: its own (tensorgraph), or the name
    ``viz.record_torch()`` gave it (PyTorch), or None.

    >>> import tensorgraph as tg
    >>> output_name(tg.tensor(1.0, name="f")), output_name(tg.tensor(1.0))
    ('f', None)
    """
    if is_torch_tensor(t):
        from .pytorch import recorded_name

        return recorded_name(t)
    return getattr(t, "name", None)


def to_networkx(t: tg.Tensor, copy: bool = False) -> nx.MultiDiGraph:
    """The graph that ends in ``t``: one node per tensor and one per op gate.

    ``t`` may also be a PyTorch tensor: its autograd graph is read by
    :func:`viz.pytorch.torch_to_networkx` into the same form.

    ``value`` and ``grad`` are the tensors' own arrays (no copy, so the graph of a large
    model costs no memory); pass ``copy=True`` to keep a snapshot that later training
    steps cannot change. Iterative throughout, so a 100,000-op chain works.

    >>> import tensorgraph as tg
    >>> x = tg.tensor(3.0, requires_grad=True, name="x")
    >>> g = to_networkx(x * x)
    >>> [g.nodes[n]["kind"] for n in g], g.number_of_edges()
    (['tensor', 'op', 'tensor'], 3)
    >>> sorted(d["index"] for _, _, d in g.in_edges("g1", data=True))
    [0, 1]
    """
    if is_torch_tensor(t):
        from .pytorch import torch_to_networkx  # PyTorch's graph: only when given one

        return torch_to_networkx(t, copy=copy)
    if not isinstance(t, tg.Tensor):
        raise TypeError(
            f"to_networkx: expected a tensorgraph or PyTorch tensor, got {type(t).__name__}"
        )
    nodes = tg.graph_nodes(t)
    ids = {id(node): i for i, node in enumerate(nodes)}
    g = nx.MultiDiGraph(output=f"t{len(nodes) - 1}")

    def arr(a):
        return None if a is None else (a.copy() if copy else a)

    for i, node in enumerate(nodes):
        tid = f"t{i}"
        if node.op is not None:
            gid = f"g{i}"
            info = tg.OPS.get(node.op)
            g.add_node(
                gid,
                kind="op",
                op=node.op,
                symbol=info.symbol if info is not None else node.op,
                # its inputs may be swapped, so the drawing need not say which is which
                commutative=info.commutative if info is not None else False,
                attrs=dict(node.attrs),
            )
            for k, inp in enumerate(node.inputs):
                g.add_edge(f"t{ids[id(inp)]}", gid, key=k, index=k)
        g.add_node(
            tid,
            kind="tensor",
            name=node.name,
            shape=tuple(node.shape),
            dtype=str(node.dtype),
            value=arr(node.data),
            grad=arr(node.grad),
            leaf=node.is_leaf,
            requires_grad=node.requires_grad,
            role=role_of(node, i == len(nodes) - 1),
        )
        if node.op is not None:
            g.add_edge(f"g{i}", tid, key=0)
    return g
