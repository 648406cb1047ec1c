"""Every op of the registry can be drawn: its gate carries its symbol in the DOT text. The
ops of issue 13 can be stepped through too: the player's frames have a forward and a
backward caption (with the op's rule) for each of their gates."""

from __future__ import annotations

import numpy as np
import pytest
from test_engine import _graph_with_every_op

import tensorgraph as tg
import viz
from viz.dot import escape, to_dot


@pytest.fixture(scope="module")
def every_op() -> tg.Tensor:
    loss, _ = _graph_with_every_op()
    loss.backward()
    return loss


def test_the_graph_holds_every_op(every_op: tg.Tensor) -> None:
    assert {n.op for n in tg.graph_nodes(every_op)} >= set(tg.OPS) - {
        name for name, info in tg.OPS.items() if info.kind == "loss"
    }


def test_every_gate_is_drawn_with_its_symbol(every_op: tg.Tensor) -> None:
    src = to_dot(every_op, max_nodes=10_000)
    for op in {n.op for n in tg.graph_nodes(every_op)} - {None}:
        assert f"<B>{escape(tg.OPS[op].symbol, limit=12)}</B>" in src, op


def test_the_new_gates_have_a_forward_and_a_backward_caption() -> None:
    small = _small_graph_with_the_new_ops()
    frames = viz.steps(small)
    for op in {n.op for n in tg.graph_nodes(small)} - {None}:
        symbol = tg.OPS[op].symbol
        forward = [f for f in frames if f.caption.startswith(f"Forward, {symbol} gate")]
        backward = [f for f in frames if f.caption.startswith(f"Backward, {symbol} gate")]
        assert forward and backward, op
        assert tg.OPS[op].local in " ".join(f.caption for f in backward), op


def _small_graph_with_the_new_ops() -> tg.Tensor:
    """Each op of issue 13 once, in a graph small enough for the player."""
    x = tg.tensor([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]], requires_grad=True, name="x")
    y = tg.tensor([0.8, 1.2, 2.0], requires_grad=True, name="y")
    s = tg.softmax(x, axis=1) + tg.log_softmax(x) + tg.logsumexp(x, axis=1, keepdims=True)
    w = tg.where(x > 0, x, tg.zeros_like(x)).clamp(min=-2.0)
    both = tg.stack([tg.cat([s, w], axis=0), tg.ones(4, 3)]).flatten(1)
    v = tg.var(both, axis=0).unsqueeze(0).squeeze() + tg.std(both)
    p = tg.leaky_relu(y ** v[:3] - 2.0, 0.1).log1p().expm1()
    f = p.float().double().sum()
    f.name = "f"
    f.backward()
    return f


def test_the_small_graph_draws_to_a_picture() -> None:
    f = _small_graph_with_the_new_ops()
    assert np.isfinite(f.item())
    drawing = viz.draw(f)
    for op in ("where", "cat", "stack", "astype", "**"):
        assert f"<B>{escape(op)}</B>" in drawing.source
