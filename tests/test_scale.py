"""Scale: a 100,000-op chain and a 10,000-input sum, forward, backward, freed, drawn.

Everything runs under Python's default recursion limit (1000), so any recursive walk
over the graph (building, backward, freeing, networkx export, drawing) would fail here.
Reference values come from plain Python floats, computed in the same order.
"""

from __future__ import annotations

import faulthandler
import functools
import gc
import math
import operator
import struct
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import tensorgraph as tg
import viz
from viz import cli
from viz.backends import available_backends
from viz.steps import MAX_GATES

CHAIN = 100_000  # ops in the deep chain (mul and add, alternating)
WIDE = 10_000  # inputs of the wide sum


@pytest.fixture(autouse=True, scope="module")  # module scope: the chain fixture runs under it
def default_recursion_limit_and_a_watchdog() -> Iterator[None]:
    """Python's default recursion limit; and never hang: a stuck test ends the run loudly."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    faulthandler.dump_traceback_later(300, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        sys.setrecursionlimit(old)


@pytest.fixture(scope="module")
def chain() -> tuple[tg.Tensor, tg.Tensor]:
    """y = (((x * a) + b) * a + b) ... for CHAIN ops; returns (x, y) after backward."""
    x = tg.tensor(0.5, requires_grad=True, name="x")
    y = x
    for _ in range(CHAIN // 2):
        y = y * 0.9999
        y = y + 0.0001
    y.backward()
    return x, y


def test_deep_chain_forward_and_backward(chain: tuple[tg.Tensor, tg.Tensor]) -> None:
    x, y = chain
    ref = 0.5
    for _ in range(CHAIN // 2):
        ref = ref * 0.9999 + 0.0001
    assert y.item() == ref  # same float64 operations in the same order
    # dy/dx is the product of the multipliers.
    np.testing.assert_allclose(x.grad, 0.9999 ** (CHAIN // 2), rtol=1e-9)
    assert len(tg.topological_order(y)) == CHAIN + 1  # x and every result


def test_deep_chain_backward_twice_accumulates() -> None:
    x = tg.tensor(2.0, requires_grad=True)
    y = x
    for _ in range(CHAIN // 2):
        y = y * 1.0
        y = y - 0.0
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 2.0


def test_deep_chain_is_freed_without_recursion() -> None:
    gc.disable()  # reference counting alone must free it (no cycles), without a crash
    try:
        x = tg.tensor(1.0, requires_grad=True)
        y = x
        for i in range(CHAIN):
            y = y + 1.0
            if i == CHAIN // 2:
                middle = weakref.ref(y)
        y.backward()
        del y
        assert middle() is None
    finally:
        gc.enable()


@pytest.fixture(scope="module")
def chain_graph(chain: tuple[tg.Tensor, tg.Tensor]) -> nx.MultiDiGraph:
    return viz.to_networkx(chain[1])


def test_deep_chain_to_networkx(chain_graph: nx.MultiDiGraph) -> None:
    g = chain_graph
    ops = [d["op"] for _, d in g.nodes(data=True) if d["kind"] == "op"]
    assert len(ops) == CHAIN and ops.count("mul") == ops.count("add") == CHAIN // 2
    # x, one constant per op, one result per op; each gate has 2 inputs and 1 output.
    assert g.number_of_nodes() == 1 + CHAIN + CHAIN + CHAIN
    assert g.number_of_edges() == 3 * CHAIN
    gates = [n for n, d in g.nodes(data=True) if d["kind"] == "op"]
    assert all(g.in_degree(n) == 2 and g.out_degree(n) == 1 for n in gates)


def test_deep_chain_draws_as_a_summary_quickly(chain_graph: nx.MultiDiGraph, tmp_path) -> None:
    drawing = viz.draw(chain_graph)
    src = drawing.source
    assert "too large to draw" in src
    assert f"{1 + 2 * CHAIN} tensors and {CHAIN} op gates" in src
    assert f"mul ×{CHAIN // 2}" in src and f"add ×{CHAIN // 2}" in src
    assert len(src) < 5000  # a summary card, not 300,001 nodes
    assert available_backends(), "no Graphviz renderer: install graphviz or pygraphviz"
    png = drawing.render(tmp_path / "huge.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width < 1500 and height < 600, (width, height)  # readable at a glance


def test_a_huge_tensor_gets_its_summary_without_building_networkx(
    chain: tuple[tg.Tensor, tg.Tensor], chain_graph: nx.MultiDiGraph, monkeypatch
) -> None:
    """From the tensor, the card is counted from the graph record alone (networkx for
    300,001 nodes costs seconds), and says exactly what the networkx path says."""
    from_graph = viz.draw(chain_graph).source

    def refuse(*args, **kwargs):
        raise AssertionError("to_networkx was called for a graph drawn as a summary")

    monkeypatch.setattr("viz.dot.to_networkx", refuse)
    assert viz.draw(chain[1]).source == from_graph


def test_size_threshold_is_exact() -> None:
    x = tg.tensor(1.0, requires_grad=True, name="x")
    y = x * 2.0  # x, the constant 2, the gate, y: 4 nodes
    assert "too large to draw" not in viz.draw(y, max_nodes=4).source
    assert "too large to draw" in viz.draw(y, max_nodes=3).source


def wide_sum(values: list[float]) -> tuple[list[tg.Tensor], tg.Tensor]:
    xs = [tg.tensor(v, requires_grad=True) for v in values]
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    return xs, total


def test_wide_sum_forward_backward_and_networkx() -> None:
    values = np.random.default_rng(0).standard_normal(WIDE).tolist()
    xs, total = wide_sum(values)
    total.backward()
    assert total.item() == functools.reduce(operator.add, values)  # same order, same floats
    assert all(x.grad.item() == 1.0 for x in xs)

    g = viz.to_networkx(total)
    kinds = [d["kind"] for _, d in g.nodes(data=True)]
    assert kinds.count("tensor") == WIDE + (WIDE - 1) and kinds.count("op") == WIDE - 1
    leaves = [n for n, d in g.nodes(data=True) if d["kind"] == "tensor" and d["leaf"]]
    assert len(leaves) == WIDE
    assert "too large to draw" in viz.draw(g).source


def test_one_input_used_ten_thousand_times() -> None:
    """Fan-out: x feeds WIDE products; its gradient is the sum of the multipliers."""
    cs = np.random.default_rng(1).uniform(-1, 1, WIDE)
    x = tg.tensor(3.0, requires_grad=True)
    total = x * float(cs[0])
    for c in cs[1:]:
        total = total + x * float(c)
    total.backward()
    np.testing.assert_allclose(x.grad, math.fsum(cs), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(total.item(), 3.0 * math.fsum(cs), rtol=1e-9, atol=1e-12)


def test_step_by_step_refuses_a_huge_graph_at_once(
    chain: tuple[tg.Tensor, tg.Tensor], tmp_path: Path
) -> None:
    """A film of 200,000 frames of a 300,000-node graph would never finish: refused."""
    _, y = chain
    for make in (viz.steps, lambda t: viz.animate(t, tmp_path / "film.html")):
        with pytest.raises(ValueError) as err:
            make(y)
        assert f"{CHAIN} op gates" in str(err.value) and "viz.draw" in str(err.value)
    assert not (tmp_path / "film.html").exists()


def test_step_by_step_limit_is_exact() -> None:
    x = tg.tensor(1.0, requires_grad=True, name="x")
    y = x
    for _ in range(MAX_GATES):
        y = y * 1.0
    assert len(viz.steps(y)) > 2 * MAX_GATES  # at the limit: every frame
    with pytest.raises(ValueError, match=f"{MAX_GATES + 1} op gates"):
        viz.steps(y * 1.0)


def test_cli_animate_of_a_big_expression_says_why(tmp_path: Path, capsys) -> None:
    expr = "x"
    while len(expr) < 900:  # a balanced sum: shallow enough for the parser, 255 gates
        expr = f"({expr}+{expr})"
    code = cli.main(["animate", expr, "x=1", "-o", str(tmp_path / "a.html")])
    err = capsys.readouterr().err
    assert code == 2 and "255 op gates" in err and "Traceback" not in err
