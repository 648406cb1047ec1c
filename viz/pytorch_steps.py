"""The step-by-step frames of a PyTorch graph, from what ``viz.record_torch()`` saw.

:func:`viz.steps` hands a PyTorch tensor here. The frames are the same
:class:`viz.steps.Frame` objects as tensorgraph's, drawn by the same player: forward, the
leaves and then each op in the order it ran; backward, the seed and then each backward
node in the order PyTorch's engine ran it, with the gradient it received (its upstream),
what it sent each input and, from the node itself, its local gradient, so the caption
reads "upstream × local = downstream" as ours do ("∂f/∂x gets ..." where the node gave
no local gradient). The recorded hook data is the replay: nothing runs backward again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np

import tensorgraph as tg

from .pytorch import TorchGate, TorchGraph, TorchNode
from .steps import (
    MAX_GATES,
    Frame,
    NodeState,
    _backward_caption,
    _d,
    _factor,
    _names,
    fmt,
    show,
)
from .steps import _forward_caption as _tg_forward_caption

__all__ = ["torch_steps"]


def _iter_ran(gates: list[TorchGate]) -> Iterator[TorchGate]:
    """The gates whose backward the recorder saw run, in the engine's order."""
    ran = [g for g in gates if g.record is not None and g.record.order is not None]
    return iter(sorted(ran, key=lambda g: g.record.order))  # type: ignore[union-attr]


def torch_steps(t: Any, grad: Any = None, output_name: str | None = None) -> list[Any]:
    """The frames of :func:`viz.steps` for a PyTorch tensor, from what was recorded.

    Forward: the leaves, then each op in the order it ran. Backward: the seed, then
    each backward node in the order PyTorch's engine ran it (the recorder's hooks saw
    it), with the gradient it received, what it sent to each input and, where PyTorch's
    node gave it, its local gradient ("upstream × local = downstream"); a last frame
    lists the leaves' gradients. Needs ``backward()`` run inside
    ``with viz.record_torch():``.

    >>> import torch, viz
    >>> with viz.record_torch():
    ...     x = torch.tensor(3.0, requires_grad=True)
    ...     f = x * x
    ...     f.backward()
    >>> print(torch_steps(f)[3].caption.split("; ")[1])
    ∂f/∂x = upstream × local = 1 × 3 = 3, accumulates: 3 + 3 = 6. Final: x.
    """
    if grad is not None:
        raise ValueError(
            "steps: a PyTorch graph is replayed from its recorded backward pass; its seed "
            "is the gradient you passed to backward(), so grad= does not apply"
        )
    graph = TorchGraph(t, limit=4 * MAX_GATES)  # a film's size: read no further
    if graph.n_gates > MAX_GATES or not graph.complete:
        raise ValueError(
            f"steps: the graph has {graph.n_gates}{'' if graph.complete else '+'} backward "
            f"nodes, about "
            f"{2 * graph.n_gates} frames; step-by-step frames are for small graphs (at most "
            f"{MAX_GATES} gates). Draw the whole graph with viz.draw(t), or step "
            "through a smaller example."
        )
    nodes, gates = graph.nodes, graph.gates
    ran = list(_iter_ran(gates))
    if not gates or not ran:
        raise ValueError(
            "steps: PyTorch's backward pass of this graph was not recorded; run the "
            "forward pass and backward() inside `with viz.record_torch():`, then step "
            "through the result"
        )
    out = graph.output
    names = _names(nodes)  # the captions' names, made as for tensorgraph
    for n in nodes:  # an expression too long to name is called by its drawn id
        if not n.name and re.fullmatch(r"t\d+", names[id(n)]):
            names[id(n)] = n.id
    out_name = output_name or out.name or "f"
    names[id(out)] = out_name
    drawn = [n for n in nodes if n.drawn]

    value: dict[str, np.ndarray | None] = {n.id: None for n in drawn}
    grads: dict[str, np.ndarray] = {}
    gstate = {n.id: "none" for n in drawn}
    status = {n.id: "waiting" for n in drawn} | {g.id: "waiting" for g in gates}
    notes: dict[str, str] = {}
    frames: list[Frame] = []

    def snap(phase: str, caption: str, active: list[str], edges: list, labels=None) -> None:
        states = {
            n.id: NodeState(
                "tensor",
                status[n.id],
                value[n.id],
                grads.get(n.id),
                gstate[n.id],
                notes.get(n.id, ""),
            )
            for n in drawn
        }
        states |= {g.id: NodeState("op", status[g.id], note=notes.get(g.id, "")) for g in gates}
        frames.append(
            Frame(len(frames), phase, caption, tuple(active), tuple(edges), states, labels or {})
        )

    # ---- forward
    leaves = [n for n in drawn if n.gate is None]
    for n in leaves:
        value[n.id] = n.value
        status[n.id] = "active"
    given = [f"{names[id(n)]} = {show(n.data)}" for n in leaves]
    snap(
        "forward",
        "Forward pass (PyTorch). The leaves hold their values: " + ", ".join(given) + ".",
        [n.id for n in leaves],
        [],
    )
    for n in leaves:
        status[n.id] = "done"
    order = sorted(gates, key=lambda g: (g.record is None or g.record.seq is None, _seq(g)))
    for gate in order:
        made = [gate.outputs[nr] for nr in sorted(gate.outputs)]
        for m in made:
            value[m.id] = m.value
            status[m.id] = "active"
        status[gate.id] = "active"
        edges = [(inp.id, gate.id, k) for k, inp in enumerate(gate.inputs) if inp.drawn]
        edges += [(gate.id, m.id, 0) for m in made]
        snap(
            "forward",
            _forward_caption(gate, made[0], names),
            [gate.id, *(m.id for m in made)],
            edges,
        )
        status[gate.id] = "done"
        for m in made:
            status[m.id] = "done"

    # ---- backward, in the order the engine ran the nodes
    remaining: dict[int, int] = {}
    for gate in ran:
        for inp, g in zip(gate.inputs, _sent(gate), strict=True):
            if g is not None and inp.drawn:
                remaining[id(inp)] = remaining.get(id(inp), 0) + 1
    seed = out.grad
    status = dict.fromkeys(status, "waiting")
    grads[out.id] = seed
    gstate[out.id] = "final"
    status[out.id] = "active"
    missing = len(gates) - len(ran)
    snap(
        "backward",
        f"Backward pass (PyTorch's engine). Seed: ∂{out_name}/∂{out_name} = "
        f"{'?' if seed is None else show(seed)}. Each frame is a backward node, in the "
        "order the engine ran it."
        + (f" ({missing} node(s) ran unrecorded and are left out.)" if missing else ""),
        [out.id],
        [],
    )
    status[out.id] = "done"
    sums: dict[int, np.ndarray] = {}
    for gate in ran:
        rec = gate.record
        assert rec is not None and rec.upstream is not None
        notes.clear()
        sent = _sent(gate)
        before, after, edges, labels = [], [], [], {}
        for k, (inp, g) in enumerate(zip(gate.inputs, sent, strict=True)):
            old = sums.get(id(inp))
            if g is None or not inp.drawn:
                before.append(old)
                after.append(old)
                continue
            new = g if old is None else old + g
            sums[id(inp)] = new
            before.append(old)
            after.append(new)
            edges.append((inp.id, gate.id, k))
            if g.size == 1:
                labels[(inp.id, gate.id, k)] = fmt(g)
            grads[inp.id] = new
            remaining[id(inp)] -= 1
            gstate[inp.id] = "final" if remaining[id(inp)] == 0 else "pending"
            if old is not None and g.size == 1:
                notes[inp.id] = f"{fmt(old)} + {_factor(g)} = {fmt(new)}"
        first = next(iter(sorted(gate.outputs)))
        upstream = rec.upstream[first] if first < len(rec.upstream) else None
        if upstream is None:
            upstream = next((u for u in rec.upstream if u is not None), np.zeros(()))
        step = tg.BackwardStep(gate.outputs[first], upstream, sent, tuple(before), tuple(after))  # type: ignore[arg-type]
        caption = _backward_caption(
            step,
            names,
            out_name,
            remaining,
            local=rec.local,
            gate=f"{gate.symbol} gate, {gate.torch_name}",
        )
        touched = list(dict.fromkeys(e[0] for e in edges))
        status[gate.id] = "active"
        status.update(dict.fromkeys(touched, "active"))
        snap("backward", caption, [gate.id, *touched], edges, labels)
        status[gate.id] = "done"
        status.update(dict.fromkeys(touched, "done"))

    notes.clear()
    wanted = [n for n in leaves if id(n) in sums]
    listing = ", ".join(f"∂{out_name}/∂{_d(names[id(n)])} = {show(sums[id(n)])}" for n in wanted)
    snap(
        "backward",
        "Backward done: every gradient is final. " + (listing + "." if listing else ""),
        [n.id for n in wanted],
        [],
    )
    return frames


def _seq(gate: TorchGate) -> int:
    """Forward order: the recorded one, else the walk's (a valid order too)."""
    rec = gate.record
    return rec.seq if rec is not None and rec.seq is not None else int(gate.id[1:])


def _sent(gate: TorchGate) -> tuple[np.ndarray | None, ...]:
    """What the gate sent each input (None where nothing, or nothing recorded)."""
    rec = gate.record
    sent = rec.sent if rec is not None and rec.sent is not None else ()
    return tuple(sent[k] if k < len(sent) else None for k in range(len(gate.inputs)))


def _forward_caption(gate: TorchGate, made: TorchNode, names: dict[int, str]) -> str:
    """ "Forward, * gate (MulBackward0): p = x*y = 3 × (-4) = -12", where the numbers are
    known; else what is known."""
    label = f"{gate.symbol} gate, {gate.torch_name}"
    known = made.value is not None and all(i.value is not None for i in gate.inputs)
    if known and gate.op in tg.OPS and not gate.reversed:
        return _tg_forward_caption(made, names, gate=label)  # type: ignore[arg-type]
    head = f"Forward, {label}: {names[id(made)]}"
    if made.value is None:
        return f"{head}: value not recorded (wrap the code in `with viz.record_torch():`)"
    return f"{head} = {show(made.value)}"
