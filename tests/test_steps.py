"""viz.steps: the frames of forward and backward, checked against PyTorch and the lecture."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest
import torch

import tensorgraph as tg
from viz import to_networkx
from viz.steps import steps


def lecture():
    x, y, z, w = (
        tg.tensor(v, requires_grad=True, name=n)
        for v, n in zip((3.0, -4.0, 2.0, -1.0), "xyzw", strict=True)
    )
    return (x, y, z, w), 2 * (x * y + tg.maximum(z, w))


def torch_lecture():
    x, y, z, w = (
        torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (3.0, -4.0, 2.0, -1.0)
    )
    f = 2 * (x * y + torch.maximum(z, w))
    f.backward()
    return f.item(), [t.grad.item() for t in (x, y, z, w)]


def test_frame_count_and_phases() -> None:
    _, f = lecture()
    g = to_networkx(f)
    n_gates = sum(1 for _, d in g.nodes(data=True) if d["kind"] == "op")
    frames = steps(f)
    # leaves + one per gate forward; seed + one per gate backward + the summary
    assert len(frames) == (1 + n_gates) + (1 + n_gates + 1)
    assert [fr.phase for fr in frames] == ["forward"] * (1 + n_gates) + ["backward"] * (n_gates + 2)
    assert [fr.index for fr in frames] == list(range(len(frames)))


def test_node_ids_match_to_networkx() -> None:
    _, f = lecture()
    g = to_networkx(f)
    for frame in steps(f):
        assert set(frame.nodes) == set(g.nodes)
        for node in frame.active:
            assert node in g
        for u, v, k in frame.edges:
            assert g.has_edge(u, v, k)


def test_forward_fills_values_in_topological_order() -> None:
    _, f = lecture()
    frames = steps(f)
    g = to_networkx(f)
    known = [
        {n for n, s in fr.nodes.items() if s.kind == "tensor" and s.value is not None}
        for fr in frames
    ]
    leaves = {n for n, d in g.nodes(data=True) if d["kind"] == "tensor" and d["leaf"]}
    assert known[0] == leaves
    for before, after in zip(known, known[1:5], strict=False):
        assert before < after and len(after - before) == 1
        (new,) = after - before
        # every input of the new tensor's gate was known before
        (gate,) = g.predecessors(new)
        assert set(g.predecessors(gate)) <= before
    assert "x*y = 3 × (-4) = -12" in frames[1].caption
    assert "-20" in frames[4].caption


def test_lecture_mul_gate_caption_has_its_numbers() -> None:
    _, f = lecture()
    frames = steps(f)
    (mul,) = [
        fr for fr in frames if fr.phase == "backward" and "∂f/∂x = upstream × local" in fr.caption
    ]
    assert "2 × (-4) = -8" in mul.caption
    assert "2 × 3 = 6" in mul.caption
    assert "mul swaps" in mul.caption


def test_each_gate_pattern_is_named() -> None:
    _, f = lecture()
    captions = [fr.caption for fr in steps(f) if fr.phase == "backward"]
    max_caption = next(c for c in captions if c.startswith("Backward, max gate"))
    assert "max routes" in max_caption
    assert "2 × 1 = 2" in max_caption and "2 × 0 = 0" in max_caption
    add_caption = next(c for c in captions if c.startswith("Backward, + gate"))
    assert "add distributes" in add_caption


def test_final_gradients_match_pytorch() -> None:
    leaves, f = lecture()
    value, expected = torch_lecture()
    frames = steps(f)
    last = frames[-1]
    ids = {id(t): f"t{i}" for i, t in enumerate(tg.graph_nodes(f))}
    for leaf, want in zip(leaves, expected, strict=True):
        state = last.nodes[ids[id(leaf)]]
        assert state.grad_state == "final"
        np.testing.assert_allclose(state.grad, want, rtol=1e-10)
    for want in expected:
        assert f"= {want:g}" in last.caption
    np.testing.assert_allclose(last.nodes[ids[id(f)]].value, value, rtol=1e-10)


def test_steps_changes_no_gradient() -> None:
    leaves, f = lecture()
    steps(f)
    assert all(t.grad is None for t in leaves)
    f.backward()
    before = [t.grad.copy() for t in leaves]
    steps(f)
    assert all(np.array_equal(t.grad, b) for t, b in zip(leaves, before, strict=True))


def test_reused_tensor_accumulates() -> None:
    a = tg.tensor(1.0, requires_grad=True, name="a")
    b = a + a
    c = b * b
    frames = steps(c)
    ta = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    ((ta + ta) * (ta + ta)).backward()
    add = next(fr for fr in frames if fr.caption.startswith("Backward, + gate"))
    # c = (2a)^2: the + gate gets upstream 4 and sends 4 down each of its two edges.
    assert "accumulates: 4 + 4 = 8" in add.caption
    assert add.nodes["t0"].note == "4 + 4 = 8"
    assert len(add.edges) == 2 and {e[2] for e in add.edges} == {0, 1}
    assert add.nodes["t0"].grad.item() == ta.grad.item()
    mul = next(fr for fr in frames if fr.caption.startswith("Backward, * gate"))
    assert "accumulates: 2 + 2 = 4" in mul.caption


def test_pending_then_final_when_used_by_two_gates() -> None:
    x = tg.tensor(3.0, requires_grad=True, name="x")
    y = tg.tensor(-4.0, requires_grad=True, name="y")
    f = x * y + x
    frames = [fr for fr in steps(f) if fr.phase == "backward"]
    states = [fr.nodes["t0"].grad_state for fr in frames]
    # seed: nothing yet; + gate: pending (the * gate will add more); * gate: final.
    assert states[:3] == ["none", "pending", "final"]
    assert "Pending" in frames[1].caption and "x" in frames[1].caption
    assert frames[1].nodes["t0"].grad.item() == 1.0
    assert frames[2].nodes["t0"].grad.item() == -3.0  # 1 + y
    assert frames[-1].nodes["t0"].grad_state == "final"


def test_backward_order_is_the_engines() -> None:
    _, f = lecture()
    order = [n for n in reversed(tg.topological_order(f)) if n.op is not None]
    assert [step.node for step in tg.backward_steps(f)] == order


def test_backward_frames_highlight_the_gate_and_its_edges() -> None:
    _, f = lecture()
    g = to_networkx(f)
    for fr in steps(f):
        if fr.phase != "backward" or not fr.edges:
            continue
        gate = fr.active[0]
        assert g.nodes[gate]["kind"] == "op"
        assert fr.nodes[gate].status == "active"
        assert all(v == gate for _, v, _ in fr.edges)
        # the constant 2 needs no gradient: no edge from it is highlighted
        assert all(g.nodes[u]["requires_grad"] for u, _, _ in fr.edges)


def test_all_grads_match_engine_for_a_tensor_graph() -> None:
    rng = np.random.default_rng(0)
    W = tg.tensor(rng.normal(size=(3, 4)), requires_grad=True, name="W")
    X = tg.tensor(rng.normal(size=(5, 4)), name="X")
    b = tg.tensor(rng.normal(size=3), requires_grad=True, name="b")
    h = tg.relu(X @ W.T + b)
    loss = tg.mean(h * h) + tg.sum(W * W)
    grads = tg.gradients(loss)
    loss.backward()
    for t in tg.topological_order(loss):
        np.testing.assert_allclose(grads[t], t.grad, rtol=1e-12, atol=0)
    frames = steps(loss)
    matmul = next(fr for fr in frames if fr.caption.startswith("Backward, @ gate"))
    assert "G·Bᵀ" in matmul.caption  # the op's rule, from tg.OPS
    assert "5×3" in matmul.caption


def test_local_backward_is_one_gate_at_a_time() -> None:
    x = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = tg.tensor(np.array([[1.0], [2.0], [3.0]]), requires_grad=True)
    out = x * b  # broadcast to (3, 2)
    gx, gb = tg.local_backward(out, np.ones((3, 2)))
    assert gx.shape == (2,) and gb.shape == (3, 1)
    np.testing.assert_allclose(gx, [6.0, 6.0])
    np.testing.assert_allclose(gb, [[3.0], [3.0], [3.0]])
    assert x.grad is None and b.grad is None
    with pytest.raises(ValueError, match="leaf"):
        tg.local_backward(x, 1.0)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(TypeError, match="steps"):
        steps(3.0)  # type: ignore[arg-type]
    v = tg.tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        steps(v)
    frames = steps(v, grad=[1.0, 1.0])
    assert frames[-1].phase == "backward"


def test_no_backward_without_gradients() -> None:
    f = tg.tensor(2.0) * 3
    frames = steps(f)
    assert all(fr.phase == "forward" for fr in frames)
    assert "no backward" in frames[-1].caption


@pytest.mark.parametrize("module", ["viz.steps", "viz.check", "viz.heatmap"])
def test_doctests(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_small_elementwise_gate_spells_out_entries() -> None:
    M = tg.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True, name="M")
    frames = steps(tg.sum(tg.relu(M) * 2))
    tm = torch.tensor([[1.0, -2.0], [3.0, 0.5]], dtype=torch.float64, requires_grad=True)
    (torch.relu(tm) * 2).sum().backward()
    relu = next(fr for fr in frames if fr.caption.startswith("Backward, relu gate"))
    want = "[" + ", ".join("[" + ", ".join(f"{v:g}" for v in row) + "]" for row in tm.grad) + "]"
    assert "upstream ⊙ local = [[2, 2], [2, 2]] ⊙ [[1, 0], [1, 1]] = " + want in relu.caption
    assert "max routes" in relu.caption
