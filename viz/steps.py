"""Backprop, one step at a time: the frames of a forward and a backward pass.

``steps(t)`` turns the graph that ends in ``t`` into a list of :class:`Frame` objects:

* forward: the leaves hold their values, then each gate, in topological order, computes
  its output ("x*y = 3 × (-4) = -12");
* backward: the output is seeded with 1, then each gate, in the order ``backward()``
  visits them (reverse topological), sends its upstream gradient to its inputs; the
  caption spells out the rule with the numbers ("∂f/∂x = upstream × local = 2 × (-4) =
  -8") and names the gate's pattern ("mul swaps"); a tensor used twice shows its
  gradient accumulating ("4 + 4 = 8");
* a last frame lists the final gradients.

Every frame carries the state of every node (value known or not; gradient none, pending
or final) so a drawing can show it. Node ids are those of :func:`viz.graph.to_networkx`
(``t3`` a tensor, ``g3`` the gate that made it); edges are ``(u, v, key)`` as there.

Nothing is mutated: the backward pass is the engine's own, replayed through
``tg.backward_steps`` (gate by gate, no ``.grad`` written), so ``steps`` works before or
after ``t.backward()`` and leaves every ``.grad`` alone. How an op is written (its
operator, its name in expressions) comes from the registry, ``tg.OPS``.

A PyTorch tensor gets the same frames from :func:`viz.pytorch_steps.torch_steps`: there the
replay is what ``viz.record_torch()`` saw PyTorch's engine do, node by node, in its order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

import tensorgraph as tg

from .dot import fmt_number
from .graph import is_torch_tensor

# How tightly Python's operators bind (for parentheses); which op uses which is tg.OPS's.
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2, "**": 4}
_SHOWN = {"*": "×"}  # how a caption writes an operator between two numbers
_MAX_NAME = 24  # longer expressions are called by their node id instead
# Every frame holds and draws the whole graph, so a film costs gates x nodes: 100 gates
# take seconds to animate, 1,000 about half an hour. Larger graphs are refused at once.
MAX_GATES = 100


@dataclass(frozen=True)
class NodeState:
    """What one node shows in one frame.

    ``status`` is "waiting", "active" (the gate or tensor this frame is about) or "done".
    Tensors also have ``value`` (None until the forward pass reaches them), ``grad``
    (the gradient accumulated so far, None before any arrives) and ``grad_state``:
    "none" (nothing yet), "pending" (some of its consumers have not sent theirs yet),
    "final", or "constant" (needs no gradient). ``note`` is an extra line of text.
    """

    kind: str
    status: str = "waiting"
    value: np.ndarray | None = None
    grad: np.ndarray | None = None
    grad_state: str = "none"
    note: str = ""


@dataclass(frozen=True)
class Frame:
    """One step of the animation: a caption, what is active, and every node's state."""

    index: int
    phase: str  # "forward" or "backward"
    caption: str
    active: tuple[str, ...]
    edges: tuple[tuple[str, str, int], ...]
    nodes: dict[str, NodeState] = field(repr=False)
    # The number a highlighted edge carries (backward: the gradient it sends), if scalar.
    edge_labels: dict[tuple[str, str, int], str] = field(default_factory=dict, repr=False)


# --------------------------------------------------------------------------- numbers, names


def fmt(x: Any) -> str:
    """A number the way a lecture slide writes it: -8, 0.5, 3.1e-05.

    >>> fmt(-8.0), fmt(0.5), fmt(np.array([3.1e-05]))
    ('-8', '0.5', '3.1e-05')
    """
    return fmt_number(np.asarray(x, dtype=np.float64).reshape(-1)[0])


def _factor(x: Any) -> str:
    """A number as a factor in a product: negative numbers in parentheses."""
    s = fmt(x)
    return f"({s})" if s.startswith("-") else s


def show(a: Any) -> str:
    """A value as a caption prints it: the number for a scalar, else a short summary.

    >>> show(np.array(-20.0)), show(np.array([1.0, 2.0])), show(np.zeros((2, 3)))
    ('-20', '[1, 2]', '[2×3: mean 0, norm 0]')
    """
    a = np.asarray(a)
    if a.size == 1:
        return fmt(a)
    if a.ndim == 1 and a.size <= 4:
        return "[" + ", ".join(fmt(v) for v in a) + "]"
    if a.ndim == 2 and a.size <= 4:
        return "[" + ", ".join(show(row) for row in a) + "]"
    shape = "×".join(str(n) for n in a.shape)
    if a.size == 0:
        return f"[{shape}: empty]"
    a64 = a.astype(np.float64, copy=False)
    mean, norm = a64.mean(), np.linalg.norm(a64)
    if abs(mean) < 1e-12 * np.abs(a64).max():
        mean = 0.0  # rounding noise of a mean that is 0, as a softmax gradient's is
    return f"[{shape}: mean {fmt(mean)}, norm {fmt(norm)}]"


def _infix(n: tg.Tensor) -> str:
    """The Python operator a binary op is written with ("+", "@"), or ""."""
    info = tg.OPS.get(n.op)
    return info.operator if info and len(n.inputs) == 2 and info.operator in _PRECEDENCE else ""


def _call_name(n: tg.Tensor) -> str:
    """The name an op is called by in an expression: "max" for maximum, "exp"."""
    info = tg.OPS.get(n.op)
    return (info.expr or info.name) if info else str(n.op)


def _names(nodes: list[tg.Tensor]) -> dict[int, str]:
    """Readable names for every tensor: its own name, a number, or a short expression."""
    names: dict[int, str] = {}
    prec: dict[int, int] = {}  # how tightly each name binds: 9 = atom
    for i, n in enumerate(nodes):
        key = id(n)
        prec[key] = 9
        if n.name:
            names[key] = n.name
            continue
        if n.op is None:
            names[key] = fmt(n.data) if n.data.size == 1 else f"t{i}"
            continue
        info = tg.OPS.get(n.op)
        operator = info.operator if info else ""
        args = [names[id(a)] for a in n.inputs]
        arg_prec = [prec[id(a)] for a in n.inputs]
        if _infix(n):
            p = _PRECEDENCE[operator]
            # ** groups to the right: (a**b)**c keeps its parentheses, a**b**c needs none.
            left = args[0] if arg_prec[0] > p or (arg_prec[0] == p != 4) else f"({args[0]})"
            # a - (b - c): the right operand of - and / keeps its parentheses.
            keep = arg_prec[1] > p or (
                arg_prec[1] == p and info is not None and (info.commutative or p == 4)
            )
            right = args[1] if keep else f"({args[1]})"
            text = f"{left}{operator}{right}" if p in (2, 4) else f"{left} {operator} {right}"
            prec[key] = p
        elif operator == "**":  # x ** p: the exponent is an attribute
            base = args[0] if arg_prec[0] >= 9 else f"({args[0]})"
            text = f"{base}**{fmt(n.attrs.get('exponent', 0))}"
            prec[key] = 4
        elif operator == "[]":
            text = f"{args[0]}[…]" if arg_prec[0] >= 9 else f"({args[0]})[…]"
        elif operator:  # a prefix operator: -x
            text = f"{operator}{args[0]}" if arg_prec[0] >= 3 else f"{operator}({args[0]})"
            prec[key] = 3
        elif info is not None and "T" in info.methods:  # written x.T
            text = f"{args[0]}ᵀ" if arg_prec[0] >= 9 else f"({args[0]})ᵀ"
        elif info is not None and info.variadic:  # cat([a, b])
            text = f"{_call_name(n)}([{', '.join(args)}])"
        elif info is not None and info.params[0] not in info.inputs:  # where(…, a, b)
            text = f"{_call_name(n)}(…, {', '.join(args)})"
        else:
            text = f"{_call_name(n)}({', '.join(args)})"
        if len(text) > _MAX_NAME:
            text, prec[key] = f"t{i}", 9
        names[key] = text
    return names


def _d(name: str) -> str:
    """A name as it stands after ∂: compound expressions in parentheses."""
    return name if re.fullmatch(r"[\w.\-\[\]…ᵀ]+", name) else f"({name})"


def node_ids(t: tg.Tensor) -> tuple[list[tg.Tensor], dict[int, str]]:
    """The graph's tensors in drawing order and their node ids ("t0", "t1", ...).

    The same numbering as :func:`viz.graph.to_networkx` (both follow ``tg.graph_nodes``).

    >>> import tensorgraph as tg
    >>> x = tg.tensor(2.0, requires_grad=True)
    >>> nodes, ids = node_ids(x * 3)
    >>> [ids[id(n)] for n in nodes]
    ['t0', 't1', 't2']
    """
    nodes = tg.graph_nodes(t)
    return nodes, {id(n): f"t{i}" for i, n in enumerate(nodes)}


def _gate(tid: str) -> str:
    return "g" + tid[1:]


# --------------------------------------------------------------------------- captions


def _forward_caption(n: tg.Tensor, names: dict[int, str], gate: str | None = None) -> str:
    """ "Forward, * gate: p = x*y = 3 × (-4) = -12"; ``gate`` names the gate otherwise
    than by its symbol (PyTorch's frames: "* gate, MulBackward0")."""
    info = tg.OPS.get(n.op)
    gate = gate or f"{info.symbol if info else n.op} gate"
    head = f"Forward, {gate}: {names[id(n)]} = "
    ins = n.inputs
    if n.data.size == 1 and all(i.data.size == 1 for i in ins):
        vals = [_factor(i.data) for i in ins]
        operator = info.operator if info else ""
        if _infix(n):
            expr = f"{vals[0]} {_SHOWN.get(operator, operator)} {vals[1]}"
        elif operator == "**":
            expr = f"{vals[0]} ** {fmt(n.attrs.get('exponent', 0))}"
        elif operator and operator != "[]":
            expr = f"{operator}{vals[0]}"
        else:
            expr = f"{_call_name(n)}({', '.join(fmt(i.data) for i in ins)})"
        if re.sub(r"[\s()]", "", expr.replace("×", "*")) == re.sub(r"[\s()]", "", names[id(n)]):
            head = f"Forward, {gate}: "  # "1 + 2 = 1 + 2 = 3" says it twice
        return f"{head}{expr} = {fmt(n.data)}"
    shapes = " and ".join(str(i.shape) for i in ins)
    return f"{head}{show(n.data)} (from {shapes})"


_ENGINE = object()  # _backward_caption's default: the local gradient from the engine


def _backward_caption(
    step: tg.BackwardStep,
    names: dict[int, str],
    out_name: str,
    remaining: dict[int, int],
    local: Any = _ENGINE,
    gate: str | None = None,
) -> str:
    """The caption of one backward gate. ``local`` (one array or None per input; None
    where unknown) replaces the engine's local gradient and ``gate`` the gate's name, for
    PyTorch's frames (viz.pytorch_steps), whose node computed its own."""
    node, upstream = step.node, step.upstream
    info = tg.OPS.get(node.op)
    gate = gate or f"{info.symbol if info else node.op} gate"
    pattern = f" ({info.pattern})" if info and info.pattern else ""
    scalar = upstream.size == 1 and all(i.data.size == 1 for i in node.inputs)
    if local is _ENGINE:
        # Every backward rule is linear in the upstream gradient, so the rule at upstream
        # 1 is the local gradient itself.
        local = tg.local_backward(node, np.ones_like(upstream))
    local = [None] * len(node.inputs) if local is None else local
    parts = []
    edges = zip(node.inputs, step.sent, step.before, step.after, local, strict=True)
    for inp, g, before, after, lk in edges:
        if g is None:
            continue
        d = f"∂{out_name}/∂{_d(names[id(inp)])}"
        if scalar and lk is not None:
            text = f"{d} = upstream × local = {_factor(upstream)} × {_factor(lk)} = {fmt(g)}"
        elif (
            lk is not None
            and g.size <= 4
            and g.shape == upstream.shape == lk.shape
            and np.allclose(g, upstream * lk)
        ):
            # An elementwise gate: the same rule, entry by entry (checked, not assumed).
            text = f"{d} = upstream ⊙ local = {show(upstream)} ⊙ {show(lk)} = {show(g)}"
        else:
            text = f"{d} gets {show(g)}"
        if before is not None:
            if scalar:
                text += f", accumulates: {fmt(before)} + {_factor(g)} = {fmt(after)}"
            else:
                text += f", accumulates to {show(after)}"
        parts.append(text)
    if not parts:
        parts.append("no input needs a gradient")
    rule = "" if scalar or info is None else f" Rule: {info.local}."
    unique = [i for i in dict.fromkeys(node.inputs) if i.requires_grad]
    finals = [names[id(i)] for i in unique if remaining.get(id(i)) == 0]
    pend = [names[id(i)] for i in unique if remaining.get(id(i), 0) > 0]
    tail = f" Final: {', '.join(finals)}." if finals else ""
    if pend:
        tail += f" Pending (used again, more to come): {', '.join(pend)}."
    return (
        f"Backward, {gate}{pattern}: upstream ∂{out_name}/∂{_d(names[id(node)])} = "
        f"{show(upstream)}.{rule} " + "; ".join(parts) + "." + tail
    )


# --------------------------------------------------------------------------- the frames


def steps(t: tg.Tensor, grad: Any = None, output_name: str | None = None) -> list[Frame]:
    """The frames of one forward and one backward pass over the graph of ``t``.

    ``grad`` seeds the backward pass (default 1 for a one-element ``t``); captions call
    the output ``output_name`` (default: its name, else "f"). There is one frame for the
    leaves, one per gate forward, one for the seed, one per gate backward and a last one
    with the final gradients.

    >>> import tensorgraph as tg
    >>> x = tg.tensor(3.0, requires_grad=True, name="x")
    >>> y = tg.tensor(-4.0, requires_grad=True, name="y")
    >>> frames = steps(x * y)
    >>> [f.phase for f in frames]
    ['forward', 'forward', 'backward', 'backward', 'backward']
    >>> print(frames[3].caption.replace("; ", ";\\n"))
    Backward, * gate (mul swaps): upstream ∂f/∂f = 1. ∂f/∂x = upstream × local = 1 × (-4) = -4;
    ∂f/∂y = upstream × local = 1 × 3 = 3. Final: x, y.
    """
    if is_torch_tensor(t):  # PyTorch's graph: replayed from what record_torch saw
        from .pytorch_steps import torch_steps

        return torch_steps(t, grad, output_name)
    if not isinstance(t, tg.Tensor):
        raise TypeError(f"steps: expected a tensorgraph or PyTorch tensor, got {type(t).__name__}")
    nodes, ids = node_ids(t)
    n_gates = sum(1 for n in nodes if n.op is not None)
    if n_gates > MAX_GATES:
        raise ValueError(
            f"steps: the graph has {n_gates} op gates, about {2 * n_gates} frames; "
            f"step-by-step frames are for small graphs (at most {MAX_GATES} gates). "
            "Draw the whole graph with viz.draw(t), or step through a smaller example."
        )
    # The engine's own backward pass, gate by gate (it checks the seed).
    replay = list(tg.backward_steps(t, grad)) if t.requires_grad else []
    seed = replay[0].upstream if replay and replay[0].node is t else None
    if t.requires_grad and seed is None:  # a leaf: no gate to step through
        seed = tg.gradients(t, grad)[t]
    names = _names(nodes)
    out_name = output_name or t.name or "f"
    names[id(t)] = out_name
    gates = [n for n in nodes if n.op is not None]

    value: dict[str, np.ndarray | None] = {ids[id(n)]: None for n in nodes}
    grads: dict[int, np.ndarray] = {}
    gstate = {ids[id(n)]: ("none" if n.requires_grad else "constant") for n in nodes}
    status = {ids[id(n)]: "waiting" for n in nodes}
    status.update({_gate(ids[id(n)]): "waiting" for n in gates})
    notes: dict[str, str] = {}
    frames: list[Frame] = []

    def snap(phase: str, caption: str, active: list[str], edges: list, labels=None) -> None:
        states = {}
        for n in nodes:
            tid = ids[id(n)]
            states[tid] = NodeState(
                "tensor", status[tid], value[tid], grads.get(id(n)), gstate[tid], notes.get(tid, "")
            )
        for n in gates:
            gid = _gate(ids[id(n)])
            states[gid] = NodeState("op", status[gid], note=notes.get(gid, ""))
        frames.append(
            Frame(len(frames), phase, caption, tuple(active), tuple(edges), states, labels or {})
        )

    # ---- forward: the leaves, then each gate in drawing order
    leaves = [n for n in nodes if n.op is None]
    for n in leaves:
        value[ids[id(n)]] = n.data
        status[ids[id(n)]] = "active"
    given = [f"{names[id(n)]} = {show(n.data)}" for n in leaves if names[id(n)] != fmt(n.data)]
    consts = [names[id(n)] for n in leaves if names[id(n)] == fmt(n.data)]
    caption = "Forward pass. The leaves hold their values" + (
        ": " + ", ".join(given) if given else ""
    )
    caption += f" (constants: {', '.join(consts)})." if consts else "."
    snap("forward", caption, [ids[id(n)] for n in leaves], [])
    for n in leaves:
        status[ids[id(n)]] = "done"

    for n in gates:
        tid = ids[id(n)]
        gid = _gate(tid)
        value[tid] = n.data
        status[tid] = status[gid] = "active"
        edges = [(ids[id(inp)], gid, k) for k, inp in enumerate(n.inputs)] + [(gid, tid, 0)]
        snap("forward", _forward_caption(n, names), [gid, tid], edges)
        status[tid] = status[gid] = "done"

    if not t.requires_grad:
        last = frames[-1]
        frames[-1] = replace(
            last, caption=last.caption + ". Nothing requires a gradient: no backward pass."
        )
        return frames

    # ---- backward: the seed, then gate by gate in the engine's order
    # How many contributions each tensor still waits for: one per edge that sends one.
    remaining: dict[int, int] = {}
    for step in replay:
        for inp, g in zip(step.node.inputs, step.sent, strict=True):
            if g is not None:
                remaining[id(inp)] = remaining.get(id(inp), 0) + 1

    root = ids[id(t)]
    grads[id(t)] = seed
    gstate[root] = "final"
    status = dict.fromkeys(status, "waiting")
    status[root] = "active"
    snap(
        "backward",
        f"Backward pass. Seed: ∂{out_name}/∂{out_name} = {show(seed)}. Gates run in reverse "
        "topological order: a gate runs once every gate that uses its output is done.",
        [root],
        [],
    )
    status[root] = "done"

    for step in replay:
        gid = _gate(ids[id(step.node)])
        notes.clear()
        edges, labels = [], {}
        pieces = zip(step.node.inputs, step.sent, step.before, step.after, strict=True)
        for k, (inp, g, before, after) in enumerate(pieces):
            if g is None:
                continue
            iid = ids[id(inp)]
            edges.append((iid, gid, k))
            if g.size == 1:
                labels[(iid, gid, k)] = fmt(g)
            grads[id(inp)] = after  # the engine's running sum
            remaining[id(inp)] -= 1
            gstate[iid] = "final" if remaining[id(inp)] == 0 else "pending"
            if before is not None and g.size == 1:
                notes[iid] = f"{fmt(before)} + {_factor(g)} = {fmt(after)}"
        caption = _backward_caption(step, names, out_name, remaining)
        touched = list(dict.fromkeys(e[0] for e in edges))
        status[gid] = "active"
        status.update(dict.fromkeys(touched, "active"))
        snap("backward", caption, [gid, *touched], edges, labels)
        status[gid] = "done"
        status.update(dict.fromkeys(touched, "done"))

    notes.clear()
    wanted = [n for n in nodes if n.is_leaf and n.requires_grad]
    listing = ", ".join(f"∂{out_name}/∂{_d(names[id(n)])} = {show(grads[id(n)])}" for n in wanted)
    snap(
        "backward",
        "Backward done: every gradient is final. " + (listing + "." if listing else ""),
        [ids[id(n)] for n in wanted],
        [],
    )
    return frames
