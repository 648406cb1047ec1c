"""viz.check: every node's gradient against central differences, and the drawing's overlay."""

from __future__ import annotations

import numpy as np
import pytest

import tensorgraph as tg
import viz
from tensorgraph.registry import OPS, Array, Forward, op
from viz.check import check_graph, check_summary


def lecture():
    x, y, z, w = (
        tg.tensor(v, requires_grad=True, name=n)
        for v, n in zip((3.0, -4.0, 2.0, -1.0), "xyzw", strict=True)
    )
    return 2 * (x * y + tg.maximum(z, w))


def test_a_correct_graph_agrees_everywhere() -> None:
    f = lecture()
    checks = check_graph(f)
    nodes = [t for t in tg.graph_nodes(f) if t.requires_grad]
    assert len(checks) == len(nodes) == 8
    assert {c.status for c in checks.values()} == {"agree"}
    assert max(c.rel_error for c in checks.values()) < 1e-8
    # d f / d x by hand: 2 * y
    np.testing.assert_allclose(checks["t1"].numeric, [-8.0], rtol=1e-8)
    assert check_summary(checks) == "gradient check: 8 agree"


def test_relu_exactly_at_zero_is_a_kink() -> None:
    x = tg.tensor(0.0, requires_grad=True, name="x")
    f = tg.relu(x) * 3
    checks = check_graph(f)
    # analytic 0 (PyTorch's convention), numeric (3h - 0) / 2h = 1.5: a kink, not a bug
    assert checks["t0"].status == "kink"
    np.testing.assert_allclose(checks["t0"].analytic, [0.0])
    np.testing.assert_allclose(checks["t0"].numeric, [1.5], rtol=1e-6)
    assert checks["t1"].status == "agree"  # relu's output is past the kink


def test_kink_only_where_the_tie_is() -> None:
    x = tg.tensor([[0.0, 1.5], [-2.0, 0.5]], requires_grad=True, name="x")
    f = tg.sum(tg.relu(x) * tg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    c = check_graph(f)["t0"]
    assert c.status == "kink" and c.kinks == [0]
    assert c.rel_error < 1e-8  # the other entries agree


def test_max_tie_is_a_kink() -> None:
    z = tg.tensor(2.0, requires_grad=True)
    w = tg.tensor(2.0, requires_grad=True)
    checks = check_graph(tg.maximum(z, w) * 1.0)
    assert checks["t0"].status == "kink" and checks["t1"].status == "kink"


def test_a_wrong_backward_rule_disagrees() -> None:
    @op("sq?", "∂/∂x = x (wrong: should be 2x)", kind="elementwise")
    def bad_square(x: Array) -> Forward:
        return x * x, lambda g: (g * x,)

    try:
        x = tg.tensor(3.0, requires_grad=True, name="x")
        f = bad_square(x) + x
        checks = check_graph(f)
        assert checks["t0"].status == "disagree"
        np.testing.assert_allclose(checks["t0"].numeric, [7.0], rtol=1e-6)  # 2x + 1
        np.testing.assert_allclose(checks["t0"].analytic, [4.0])  # x + 1
        assert checks["t0"].rel_error > 0.1
        assert checks["t1"].status == "agree"
        src = viz.draw(f, check=True).source
        assert "disagrees" in src and "1 disagree" in src
    finally:
        del OPS["bad_square"]


def test_tensor_graph_with_attributes_replays() -> None:
    rng = np.random.default_rng(1)
    W = tg.tensor(rng.normal(size=(3, 4)), requires_grad=True, name="W")
    X = tg.tensor(rng.normal(size=(5, 4)))
    s = X @ W.T
    loss = tg.mean(tg.max(s, axis=1) ** 2) + tg.sum(s.reshape(15)[[0, 3, 3]]) + tg.sum(W.T)
    checks = check_graph(loss, max_entries=6)
    assert checks and all(c.status == "agree" for c in checks.values())
    assert all(len(c.checked) <= 6 for c in checks.values())


def test_draw_check_marks_nodes_and_errors() -> None:
    f = lecture()
    f.backward()
    src = viz.draw(f, check=True).source
    assert src.count("✓ agrees") == 8
    assert "rel err" in src and "gradient check: 8 agree" in src
    x = tg.tensor(0.0, requires_grad=True, name="x")
    src = viz.draw(tg.relu(x) * 3, check=True).source
    assert "at a kink" in src


def test_check_refuses_what_it_cannot_check() -> None:
    with pytest.raises(ValueError, match="one element"):
        check_graph(tg.tensor([1.0, 2.0], requires_grad=True) * 2)
    with pytest.raises(ValueError, match="h must be"):
        check_graph(lecture(), h=0)
    with pytest.raises(TypeError, match="networkx"):
        viz.draw(viz.to_networkx(lecture()), check=True)


def test_draw_check_skips_graphs_drawn_as_a_summary(monkeypatch) -> None:
    x = tg.tensor(1.0, requires_grad=True, name="x")
    t = x
    for _ in range(40):
        t = t * 1.01
    t.backward()

    def fail(*args, **kwargs):
        raise AssertionError("the check ran on a graph drawn as a summary")

    monkeypatch.setattr("viz.check.check_graph", fail)
    src = viz.draw(t, check=True, max_nodes=50).source
    assert "gradient check" not in src and "rel err" not in src
    with pytest.raises(AssertionError, match="summary"):  # below the threshold it runs
        viz.draw(t, check=True, max_nodes=500)
