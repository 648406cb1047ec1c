"""viz.to_networkx: the structure, values and gradients of the graph, against PyTorch."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

import tensorgraph as tg
import viz

LECTURE = {"x": 3.0, "y": -4.0, "z": 2.0, "w": -1.0}


def lecture() -> tuple[tg.Tensor, dict[str, tg.Tensor]]:
    xs = {n: tg.tensor(v, requires_grad=True, name=n) for n, v in LECTURE.items()}
    f = 2 * (xs["x"] * xs["y"] + tg.maximum(xs["z"], xs["w"]))
    return f, xs


def torch_lecture() -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    xs = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in LECTURE.items()}
    f = 2 * (xs["x"] * xs["y"] + torch.maximum(xs["z"], xs["w"]))
    f.backward()
    return f, xs


def tensors(g: nx.MultiDiGraph) -> list[str]:
    return [n for n, d in g.nodes(data=True) if d["kind"] == "tensor"]


def gates(g: nx.MultiDiGraph) -> list[str]:
    return [n for n, d in g.nodes(data=True) if d["kind"] == "op"]


def by_name(g: nx.MultiDiGraph) -> dict[str, dict]:
    return {d["name"]: d for _, d in g.nodes(data=True) if d["kind"] == "tensor" and d["name"]}


def test_lecture_counts_and_kinds() -> None:
    f, _ = lecture()
    g = viz.to_networkx(f)
    # 4 variables, the constant 2, x*y, max(z, w), their sum, f; gates *, max, +, *.
    assert len(tensors(g)) == 9
    assert sorted(g.nodes[n]["op"] for n in gates(g)) == ["add", "maximum", "mul", "mul"]
    # every gate: one edge per input and one to its output
    assert g.number_of_edges() == 4 * 3
    for gate in gates(g):
        assert g.out_degree(gate) == 1
        assert sorted(d["index"] for _, _, d in g.in_edges(gate, data=True)) == [0, 1]
        assert g.nodes[gate]["symbol"] == tg.OPS[g.nodes[gate]["op"]].symbol
    assert g.nodes[gates(g)[0]]["attrs"] == {}


def test_node_order_is_topological_and_ends_in_the_output() -> None:
    f, _ = lecture()
    g = viz.to_networkx(f)
    position = {n: i for i, n in enumerate(g.nodes)}
    assert all(position[u] < position[v] for u, v in g.edges())
    assert nx.is_directed_acyclic_graph(g)
    assert list(g.nodes)[-1] == g.graph["output"]
    assert g.out_degree(g.graph["output"]) == 0
    # the leaves are exactly the nodes nothing flows into
    leaves = {n for n in tensors(g) if g.nodes[n]["leaf"]}
    assert leaves == {n for n in g.nodes if g.in_degree(n) == 0}
    # longest path: x -> * -> x*y -> + -> sum -> * -> f
    assert nx.dag_longest_path_length(g) == 6


def test_ids_are_stable() -> None:
    f1, _ = lecture()
    f2, _ = lecture()
    g1, g2 = viz.to_networkx(f1), viz.to_networkx(f2)
    assert list(g1.nodes) == list(g2.nodes)
    assert list(g1.edges(keys=True)) == list(g2.edges(keys=True))


def test_values_and_grads_match_pytorch() -> None:
    f, xs = lecture()
    g_before = viz.to_networkx(f)
    assert all(g_before.nodes[n]["grad"] is None for n in tensors(g_before))
    f.backward()
    g = viz.to_networkx(f)
    tf, txs = torch_lecture()
    named = by_name(g)
    for n in LECTURE:
        np.testing.assert_allclose(named[n]["value"], txs[n].item(), rtol=1e-10)
        np.testing.assert_allclose(named[n]["grad"], txs[n].grad.item(), rtol=1e-10)
    out = g.nodes[g.graph["output"]]
    np.testing.assert_allclose(out["value"], tf.item(), rtol=1e-10)
    np.testing.assert_allclose(out["grad"], 1.0)
    # The intermediate x*y: value 3*-4, and its gradient is d f / d(xy) = 2.
    mul_gate = next(
        n for n in gates(g) if {u for u, _ in g.in_edges(n)} == {_id(g, "x"), _id(g, "y")}
    )
    xy = next(iter(g.successors(mul_gate)))
    assert g.nodes[xy]["value"] == LECTURE["x"] * LECTURE["y"]
    assert g.nodes[xy]["grad"] == 2.0


def _id(g: nx.MultiDiGraph, name: str) -> str:
    return next(n for n, d in g.nodes(data=True) if d.get("name") == name)


def test_roles() -> None:
    f, _ = lecture()
    g = viz.to_networkx(f)
    roles = {n: g.nodes[n]["role"] for n in tensors(g)}
    assert [roles[_id(g, n)] for n in LECTURE] == ["input"] * 4
    assert roles[g.graph["output"]] == "output"
    constants = [n for n in tensors(g) if roles[n] == "constant"]
    assert len(constants) == 1 and g.nodes[constants[0]]["value"] == 2
    assert sum(r == "computed" for r in roles.values()) == 3


def test_x_times_x_has_two_edges() -> None:
    x = tg.tensor(3.0, requires_grad=True, name="x")
    g = viz.to_networkx(x * x)
    assert g.number_of_nodes() == 3
    assert g.number_of_edges("t0", "g1") == 2
    assert sorted(g["t0"]["g1"]) == [0, 1]  # edge keys are the input positions


def test_reused_intermediate_keeps_one_node() -> None:
    # micrograd's classic trap: a = 1; b = a + a; c = b + b
    a = tg.tensor(1.0, requires_grad=True, name="a")
    b = a + a
    c = b + b
    c.backward()
    g = viz.to_networkx(c)
    assert len(tensors(g)) == 3 and len(gates(g)) == 2
    assert by_name(g)["a"]["grad"] == 4.0


def test_matrix_shapes_dtypes_and_attrs() -> None:
    X = tg.tensor(np.ones((2, 3), np.float32), name="X")
    W = tg.tensor(np.ones((4, 3), np.float32), requires_grad=True, name="W")
    s = tg.sum(X @ W.T, axis=1)
    g = viz.to_networkx(s)
    named = by_name(g)
    assert named["X"]["shape"] == (2, 3) and named["X"]["dtype"] == "float32"
    assert named["X"]["role"] == "constant" and named["W"]["role"] == "input"
    assert g.nodes[g.graph["output"]]["shape"] == (2,)
    ops = [g.nodes[n] for n in gates(g)]
    assert [o["op"] for o in ops] == ["transpose", "matmul", "sum"]
    assert ops[2]["attrs"]["axis"] == 1


def test_copy_keeps_a_snapshot() -> None:
    w = tg.tensor([1.0, 2.0], requires_grad=True, name="w")
    f = (w * w).sum()
    f.backward()
    shared, snap = viz.to_networkx(f), viz.to_networkx(f, copy=True)
    w.data -= 1.0  # an optimizer step, in place
    w.grad[:] = 0.0
    assert np.array_equal(by_name(shared)["w"]["value"], [0.0, 1.0])
    assert np.array_equal(by_name(snap)["w"]["value"], [1.0, 2.0])
    assert np.array_equal(by_name(snap)["w"]["grad"], [2.0, 4.0])


def test_deep_chain_no_recursion() -> None:
    x = tg.tensor(1.0, requires_grad=True, name="x")
    y = x
    for _ in range(50_000):
        y = -y
    g = viz.to_networkx(y)
    assert g.number_of_nodes() == 100_001
    assert g.graph["output"] == list(g.nodes)[-1]


def test_refuses_non_tensors() -> None:
    with pytest.raises(TypeError, match="to_networkx"):
        viz.to_networkx(np.ones(3))
