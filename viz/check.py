"""A gradient check of every node of a graph, for the drawing's overlay.

For each tensor n of the graph that requires a gradient, ``check_graph`` compares the
analytic ∂out/∂n (what ``backward()`` computes: ``tg.gradients``, the engine's own walk,
storing nothing) with central differences: n's value is moved by ±h, entry by entry, and
only the gates downstream of n are run again, from the public record
(``tg.OPS[op].call(inputs, t.attrs)``), in float64.

Each node is then "agree", "disagree" or "kink": a kink is a checked entry where some
gate downstream of n with a kink in the registry (max, minimum, relu, abs, l1, the
hinge) takes a different branch at n - h, n or n + h. There the numerical gradient
averages two slopes, so a mismatch is expected and means nothing (at relu(0) PyTorch
and we say 0, the central difference says ½).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import tensorgraph as tg

from .steps import node_ids

# Colours of the overlay, one per verdict.
CHECK_COLORS = {"agree": "#16a34a", "disagree": "#dc2626", "kink": "#d97706"}
CHECK_TEXT = {"agree": "✓ agrees", "disagree": "✗ disagrees", "kink": "≈ at a kink"}


@dataclass
class NodeCheck:
    """The verdict for one tensor node.

    ``status`` is "agree", "disagree" or "kink"; ``rel_error`` the worst relative error
    ``|a - n| / max(|a| + |n|, 1e-8)`` over the checked entries that are not at a kink
    (over all of them when every one is); ``checked`` the flat indices compared,
    ``analytic`` and ``numeric`` the two gradients there, ``kinks`` the flat indices at
    a kink.
    """

    status: str
    rel_error: float
    checked: np.ndarray
    analytic: np.ndarray
    numeric: np.ndarray
    kinks: list[int] = field(default_factory=list)

    @property
    def text(self) -> str:
        """One line for the drawing: the verdict and the relative error."""
        return f"{CHECK_TEXT[self.status]}  rel err {self.rel_error:.1e}"


def _call(node: tg.Tensor, args: list[tg.Tensor]) -> np.ndarray:
    """Run node's op again on new inputs, with its recorded attributes."""
    info = tg.OPS.get(node.op)
    if info is None:
        raise ValueError(f"check: op {node.op!r} is not in tg.OPS, so it cannot be re-run")
    return np.asarray(info.call(args, node.attrs).data, dtype=np.float64)


def _kink_signature(node: tg.Tensor, vals: dict[int, np.ndarray]) -> np.ndarray | None:
    """Which branch a gate takes for these input values (None: a smooth gate)."""
    info = tg.OPS.get(node.op)
    if info is None or info.kink is None:
        return None
    return info.kink([vals[id(i)] for i in node.inputs], node.attrs)


def check_graph(
    t: tg.Tensor,
    h: float = 1e-6,
    rtol: float = 1e-3,
    atol: float = 1e-5,
    max_entries: int = 16,
    seed: int = 0,
) -> dict[str, NodeCheck]:
    """Analytic against central-difference gradients at every node of t's graph.

    Returns a :class:`NodeCheck` per tensor node that requires a gradient, keyed by the
    node ids of :func:`viz.to_networkx`. An entry agrees when ``|a - n| <= atol + rtol *
    |n|`` (PyTorch's gradcheck defaults). Tensors with more than ``max_entries`` entries
    have that many sampled (with ``seed``). ``t`` must have one element.

    >>> import tensorgraph as tg
    >>> x = tg.tensor(0.0, requires_grad=True, name="x")
    >>> sorted((k, c.status) for k, c in check_graph(tg.relu(x) + x * x).items())
    [('t0', 'kink'), ('t1', 'agree'), ('t2', 'agree'), ('t3', 'agree')]
    """
    if not isinstance(t, tg.Tensor):
        raise TypeError(f"check_graph: expected a tensorgraph Tensor, got {type(t).__name__}")
    if t.data.size != 1:
        raise ValueError(f"check_graph: the output must have one element, it has shape {t.shape}")
    if not (isinstance(h, int | float) and math.isfinite(h) and h > 0):
        raise ValueError(f"check_graph: h must be a positive number, got {h!r}")
    nodes, ids = node_ids(t)
    analytic = tg.gradients(t) if t.requires_grad else {}

    # The forward pass again, in float64, from the leaves.
    base: dict[int, np.ndarray] = {}
    for n in nodes:
        if n.op is None:
            base[id(n)] = np.array(n.data, dtype=np.float64)
        else:
            base[id(n)] = _call(n, [tg.Tensor(base[id(i)]) for i in n.inputs])
    tol = 1e-4 if t.dtype == np.float64 else 1e-2
    if not np.allclose(base[id(t)], t.data, rtol=tol, atol=tol):
        raise ValueError(
            f"check_graph: re-running the graph gave {base[id(t)].item():.6g}, not the output "
            f"{t.item():.6g}; an op's attributes do not re-run it"
        )

    # Who reads whom: a node's descendants are re-run when it moves.
    consumers: dict[int, list[tg.Tensor]] = {}
    for n in nodes:
        for i in n.inputs:
            consumers.setdefault(id(i), []).append(n)
    position = {id(n): k for k, n in enumerate(nodes)}

    def downstream(n: tg.Tensor) -> list[tg.Tensor]:
        seen, stack = set(), [n]
        while stack:
            for c in consumers.get(id(stack.pop()), []):
                if id(c) not in seen:
                    seen.add(id(c))
                    stack.append(c)
        return sorted((m for m in nodes if id(m) in seen), key=lambda m: position[id(m)])

    base_sig = {id(m): _kink_signature(m, base) for m in nodes if m.op is not None}
    rng = np.random.default_rng(seed)
    results: dict[str, NodeCheck] = {}
    for n in nodes:
        if not n.requires_grad or n not in analytic:
            continue
        later = downstream(n)
        size = n.data.size
        picks = (
            np.arange(size)
            if size <= max_entries
            else np.sort(rng.choice(size, max_entries, replace=False))
        )
        numeric = np.empty(len(picks))
        kinks = []
        for k, j in enumerate(picks):
            outs, crossed = [], False
            for step in (h, -h):
                vals = dict(base)
                moved = base[id(n)].copy()
                moved.reshape(-1)[j] += step
                vals[id(n)] = moved
                for m in later:
                    vals[id(m)] = _call(m, [tg.Tensor(vals[id(i)]) for i in m.inputs])
                    sig = base_sig[id(m)]
                    if sig is not None and not np.array_equal(sig, _kink_signature(m, vals)):
                        crossed = True
                outs.append(float(vals[id(t)].reshape(-1)[0]))
            numeric[k] = (outs[0] - outs[1]) / (2 * h)
            if crossed:
                kinks.append(int(j))
        a = np.asarray(analytic[n], dtype=np.float64).reshape(-1)[picks]
        diff = np.abs(a - numeric)
        rel = diff / np.maximum(np.abs(a) + np.abs(numeric), 1e-8)
        smooth = ~np.isin(picks, kinks)
        bad = smooth & (diff > atol + rtol * np.abs(numeric))
        status = "disagree" if bad.any() else "kink" if kinks else "agree"
        err = rel[smooth] if smooth.any() else rel
        results[ids[id(n)]] = NodeCheck(
            status, float(err.max()) if err.size else 0.0, picks, a, numeric, kinks
        )
    return results


def check_summary(checks: dict[str, NodeCheck]) -> str:
    """A one-line tally for a title: "gradient check: 7 agree, 1 at a kink".

    >>> check_summary({})
    'gradient check: nothing to check'
    """
    if not checks:
        return "gradient check: nothing to check"
    counts = {s: sum(c.status == s for c in checks.values()) for s in CHECK_TEXT}
    words = {"agree": "agree", "disagree": "disagree", "kink": "at a kink"}
    return "gradient check: " + ", ".join(f"{n} {words[s]}" for s, n in counts.items() if n)


def overlay(checks: dict[str, NodeCheck]) -> dict[str, dict[str, Any]]:
    """The drawing's per-node overlay: a border colour and a line of text per checked node.

    >>> overlay({})
    {}
    """
    return {
        node: {"border": CHECK_COLORS[c.status], "width": 3, "note": c.text}
        for node, c in checks.items()
    }
