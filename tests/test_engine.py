"""The engine: the lecture example, the public API of issue 2, backward semantics,
no_grad, deep graphs, freeing, and error messages.

Expected numbers come from the lecture's hand calculation, from PyTorch, or from math;
never from tensorgraph itself.
"""

from __future__ import annotations

import gc
import math
import re
import sys
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pytest
import torch

import tensorgraph as tg


@contextmanager
def gc_disabled() -> Iterator[None]:
    """Reference counting alone must free our graphs: switch the cycle collector off."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def lecture() -> dict[str, tg.Tensor]:
    x = tg.tensor(3.0, requires_grad=True, name="x")
    y = tg.tensor(-4.0, requires_grad=True, name="y")
    z = tg.tensor(2.0, requires_grad=True, name="z")
    w = tg.tensor(-1.0, requires_grad=True, name="w")
    xy = x * y
    m = tg.maximum(z, w)
    s = xy + m
    f = 2 * s
    return dict(x=x, y=y, z=z, w=w, xy=xy, m=m, s=s, f=f)


# ----- the lecture example -----


def test_lecture_example_matches_the_hand_calculation() -> None:
    t = lecture()
    t["f"].backward()
    assert t["f"].item() == -20.0
    assert [t[k].grad.item() for k in "xyzw"] == [-8.0, 6.0, 2.0, 0.0]
    # The intermediates keep their values and their gradients (2 each: the * 2 gate).
    assert (t["xy"].item(), t["m"].item(), t["s"].item()) == (-12.0, 2.0, -10.0)
    assert [t[k].grad.item() for k in ("xy", "m", "s")] == [2.0, 2.0, 2.0]
    assert t["f"].grad.item() == 1.0


def test_lecture_example_matches_torch_at_every_node() -> None:
    t = lecture()
    t["f"].backward()
    x, y, z, w = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (3, -4, 2, -1))
    xy = x * y
    m = torch.maximum(z, w)
    s = xy + m
    f = 2 * s
    for node in (xy, m, s):
        node.retain_grad()
    f.backward()
    ref = dict(x=x, y=y, z=z, w=w, xy=xy, m=m, s=s)
    for name, r in ref.items():
        assert t[name].item() == r.item(), name
        assert t[name].grad.item() == r.grad.item(), name


def test_lecture_record() -> None:
    t = lecture()
    assert (t["xy"].op, t["m"].op, t["s"].op, t["f"].op) == ("mul", "maximum", "add", "mul")
    assert t["xy"].inputs[0] is t["x"] and t["xy"].inputs[1] is t["y"]
    assert t["s"].inputs == (t["xy"], t["m"])
    two = t["f"].inputs[0]
    assert two.op is None and not two.requires_grad and two.item() == 2.0
    assert t["f"].inputs[1] is t["s"]
    nodes = tg.graph_nodes(t["f"])
    assert {id(n) for n in nodes} == {id(n) for n in [*t.values(), two]}
    # Inputs come before the outputs that use them.
    position = {id(n): i for i, n in enumerate(nodes)}
    for n in nodes:
        assert all(position[id(i)] < position[id(n)] for i in n.inputs)


# ----- tg.tensor and the attributes -----


@pytest.mark.parametrize(
    "data, dtype",
    [
        (3, np.float64),
        (3.5, np.float64),
        (True, np.float64),
        ([1, 2, 3], np.float64),
        ([[1, 2], [3, 4]], np.float64),
        ([True, False], np.float64),
        (np.arange(4), np.float64),
        (np.arange(4, dtype=np.int32), np.float64),
        (np.array([1, 0], dtype=np.uint8), np.float64),
        (np.array([True, False]), np.float64),
        (np.ones(3, dtype=np.float32), np.float32),
        (np.float32(2.5), np.float32),
        (np.ones(2), np.float64),
    ],
)
def test_tensor_dtype_rules(data: object, dtype: type) -> None:
    t = tg.tensor(data)
    assert isinstance(t.data, np.ndarray)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, "float32", np.float16])
def test_tensor_dtype_argument_is_honoured(dtype: object) -> None:
    assert tg.tensor([1, 2], dtype=dtype).dtype == np.dtype(dtype)
    assert tg.tensor(np.ones(2, dtype=np.float32), dtype=dtype).dtype == np.dtype(dtype)
    assert tg.tensor(np.ones(2), dtype=dtype).dtype == np.dtype(dtype)


def test_tensor_dtype_int_is_honoured_without_grad() -> None:
    t = tg.tensor([1.0, 2.0], dtype=np.int64)
    assert t.dtype == np.int64 and not t.requires_grad
    with pytest.raises(TypeError, match="floating-point"):
        tg.tensor([1, 2], dtype=np.int64, requires_grad=True)


def test_attributes() -> None:
    data = np.arange(6.0).reshape(2, 3)
    x = tg.tensor(data, requires_grad=True, name="x")
    assert isinstance(x, tg.Tensor)
    np.testing.assert_array_equal(x.data, data)
    assert x.grad is None
    assert (x.shape, x.ndim, x.dtype, x.size) == ((2, 3), 2, np.float64, 6)
    assert x.name == "x" and x.requires_grad is True
    assert x.op is None and x.inputs == () and x.is_leaf
    assert isinstance(x.numpy(), np.ndarray)
    np.testing.assert_array_equal(x.numpy(), data)
    assert tg.tensor(data).requires_grad is False and tg.tensor(data).name is None

    y = x * 2
    assert y.op == "mul" and not y.is_leaf and y.name is None and y.requires_grad
    assert y.inputs[0] is x and y.inputs[1].op is None
    assert y.grad is None  # until a backward pass reaches it

    t = x.T
    assert t.op == "transpose" and t.shape == (3, 2) and t.inputs == (x,)
    np.testing.assert_array_equal(t.data, data.T)


def test_inputs_keep_duplicates() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    assert len(y.inputs) == 2 and y.inputs[0] is x and y.inputs[1] is x
    assert (x + x).inputs == (x, x)


def test_item() -> None:
    assert tg.tensor(2.5).item() == 2.5
    assert tg.tensor([[-1.5]]).item() == -1.5
    assert isinstance(tg.tensor(2).item(), float)
    with pytest.raises(ValueError, match=r"item.*\(2,\)"):
        tg.tensor([1.0, 2.0]).item()


def test_computed_zero_d_tensors_hold_arrays() -> None:
    # numpy returns scalars for 0-d arithmetic; the engine's .data and .grad stay arrays.
    t = lecture()
    t["f"].backward(retain_graph=True)
    t["f"].backward()
    for name, node in t.items():
        assert isinstance(node.data, np.ndarray), name
        assert isinstance(node.numpy(), np.ndarray), name
        assert isinstance(node.grad, np.ndarray) and node.grad.shape == (), name
    assert isinstance(tg.tensor([1.0, 2.0]).sum().data, np.ndarray)
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    assert isinstance((a @ a).data, np.ndarray)


def test_repr() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True, name="x")
    text = repr(x)
    assert text.startswith("tensor([1., 2.]") and "name='x'" in text
    assert "requires_grad=True" in text
    y = x * 3
    assert "op='mul'" in repr(y) and "3., 6." in repr(y)
    assert "dtype=float32" in repr(tg.tensor([1.0], dtype=np.float32))
    assert repr(tg.tensor(2.0)) == "tensor(2.)"
    big = repr(tg.tensor(np.arange(1000.0)))
    assert "..." in big and len(big) < 200


def test_gradient_shapes_and_dtypes_match_the_inputs() -> None:
    a = tg.tensor(np.ones((3, 1)), requires_grad=True)
    b = tg.tensor(np.ones(4, dtype=np.float64), requires_grad=True)
    c = tg.tensor(np.ones((2, 1, 1), dtype=np.float32), requires_grad=True)
    (a * b + c).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,) and c.grad.shape == (2, 1, 1)
    assert c.grad.dtype == np.float32
    np.testing.assert_array_equal(a.grad, np.full((3, 1), 8.0))
    np.testing.assert_array_equal(b.grad, np.full(4, 6.0))
    np.testing.assert_array_equal(c.grad, np.full((2, 1, 1), 12.0))


def test_record_of_reductions_and_index() -> None:
    x = tg.tensor(np.zeros((2, 3)), requires_grad=True)
    s = x.sum(axis=1, keepdims=True)
    assert s.op == "sum" and s.attrs == {"axis": 1, "keepdims": True}
    r = x.reshape(3, 2)
    assert r.attrs == {"shape": (3, 2)}
    i = x[np.arange(2), np.array([2, 0])]
    assert i.op == "index" and i.inputs == (x,)
    p = x**3
    assert p.attrs == {"exponent": 3}
    assert x.attrs == {}


def test_leaf_gradients_are_private_copies() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = tg.tensor([3.0, 4.0], requires_grad=True)
    (x + y).backward(np.ones(2))
    x.grad += 10  # the user may change a leaf's gradient in place
    np.testing.assert_array_equal(y.grad, [1.0, 1.0])
    seed = np.array([1.0, 1.0])
    x.zero_grad()
    x.backward(seed)
    assert x.grad is not seed
    x.grad *= 5
    np.testing.assert_array_equal(seed, [1.0, 1.0])


# ----- backward semantics -----


def test_seed_defaults_to_one_for_any_one_element_output() -> None:
    x = tg.tensor([[2.0]], requires_grad=True)
    y = x * 3
    y.backward()
    np.testing.assert_array_equal(y.grad, [[1.0]])
    np.testing.assert_array_equal(x.grad, [[3.0]])


def test_backward_of_a_larger_output_needs_grad() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward: the output has shape \(2,\); pass grad="):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but the output has shape \(2,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_with_a_list_seed() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward([1, -1])
    np.testing.assert_array_equal(x.grad, [2.0, -4.0])


def test_backward_of_a_leaf() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    x.backward([3.0, 4.0])
    t.backward(torch.tensor([3.0, 4.0], dtype=torch.float64))
    np.testing.assert_array_equal(x.grad, t.grad.numpy())


def _twice(lib: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Two backward passes over one graph; the leaf gradients after each pass."""
    a0, b0 = np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.25, 2.0])
    if lib == "torch":
        a, b = (torch.tensor(v, requires_grad=True) for v in (a0, b0))
        h = a * b + a
        out = (h * h).sum() + torch.amax(h)
        out.backward(retain_graph=True)
        first = [a.grad.numpy().copy(), b.grad.numpy().copy()]
        out.backward()
        return first, [a.grad.numpy().copy(), b.grad.numpy().copy()]
    a, b = (tg.tensor(v, requires_grad=True) for v in (a0, b0))
    h = a * b + a
    out = (h * h).sum() + tg.max(h)
    out.backward(retain_graph=True)
    first = [a.grad.copy(), b.grad.copy()]
    h_grad = h.grad.copy()
    out.backward()
    # A computed tensor's gradient starts afresh each pass: the same as after the first.
    np.testing.assert_array_equal(h.grad, h_grad)
    return first, [a.grad.copy(), b.grad.copy()]


def test_leaf_gradients_accumulate_like_torch_retain_graph() -> None:
    ours, theirs = _twice("tg"), _twice("torch")
    for mine, ref in zip(ours, theirs, strict=True):
        for g, r in zip(mine, ref, strict=True):
            np.testing.assert_allclose(g, r, rtol=1e-12)
    np.testing.assert_allclose(ours[1][0], 2 * ours[0][0], rtol=1e-12)


def test_accumulation_across_graphs_and_zero_grad() -> None:
    x = tg.tensor(2.0, requires_grad=True)
    (x * x).backward()
    (x * 3).backward()
    assert x.grad.item() == 4.0 + 3.0
    x.zero_grad()
    assert x.grad is None
    (x * 3).backward()
    assert x.grad.item() == 3.0


def test_intermediate_used_by_two_graphs_gets_each_graphs_gradient() -> None:
    x = tg.tensor(2.0, requires_grad=True)
    h = x * x  # shared by two losses
    (h * 3).backward(retain_graph=True)  # as in PyTorch: h's gate is used again
    assert h.grad.item() == 3.0
    (h * 5).backward()
    assert h.grad.item() == 5.0  # reset, not 8
    assert x.grad.item() == 3 * 4.0 + 5 * 4.0  # the leaf accumulates


def test_constants_get_no_gradient() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    c = tg.tensor([5.0, 7.0])
    y = x * c
    y.sum().backward()
    assert c.grad is None and y.inputs[1] is c
    np.testing.assert_array_equal(x.grad, [5.0, 7.0])


def test_backward_from_a_tensor_that_requires_no_grad() -> None:
    c = tg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="backward: this tensor does not require a gradient"):
        c.sum().backward()
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        tg.tensor(1.0).backward()
    x = tg.tensor(1.0, requires_grad=True)
    with tg.no_grad():
        y = x * 2
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


def test_detach() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad
    np.testing.assert_array_equal(d.data, [2.0, 4.0])


# ----- no_grad -----


def test_no_grad_records_nothing() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert tg.is_grad_enabled()
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = tg.exp(x * 2).sum()
        with tg.no_grad():
            pass
        assert not tg.is_grad_enabled()  # the inner block restored "off"
    assert tg.is_grad_enabled()
    assert y.op is None and y.inputs == () and not y.requires_grad
    np.testing.assert_allclose(y.item(), np.exp(2.0) + np.exp(4.0), rtol=1e-15)
    z = x * 2
    assert z.op == "mul" and z.requires_grad  # recording is back on


def test_no_grad_restores_after_an_exception() -> None:
    with pytest.raises(ZeroDivisionError), tg.no_grad():
        1 / 0  # noqa: B018
    assert tg.is_grad_enabled()


def test_no_grad_as_a_decorator_even_recursively() -> None:
    calls = []

    @tg.no_grad()
    def depth(n: int) -> None:
        calls.append(tg.is_grad_enabled())
        if n:
            depth(n - 1)

    depth(3)
    assert calls == [False] * 4
    assert tg.is_grad_enabled()
    ctx = tg.no_grad()  # one instance entered twice
    with ctx:
        with ctx:
            pass
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()


# ----- deep graphs and freeing -----


def test_chain_of_100000_ops_under_the_default_recursion_limit() -> None:
    assert sys.getrecursionlimit() < 100_000  # the test means something
    n, c = 100_000, 1.00001
    x = tg.tensor(0.5, requires_grad=True)
    y = x
    with gc_disabled():
        for _ in range(n // 2):
            y = (y * c) + 0.0
        y.backward()
        np.testing.assert_allclose(y.item(), 0.5 * c ** (n // 2), rtol=1e-9)
        np.testing.assert_allclose(x.grad.item(), c ** (n // 2), rtol=1e-9)
        deep = y
        for _ in range(n - 1):
            deep = deep.inputs[0]
        assert deep.op == "mul" and deep.inputs[0] is x  # exactly n ops deep
        last, first = weakref.ref(y), weakref.ref(deep)
        del deep
        probe = weakref.ref(x * 1.0)  # a node made now and dropped at once
        assert probe() is None
        del y
        # Reference counting alone frees the whole chain (no cycles, no recursion limit).
        assert last() is None and first() is None


def _graph_with_every_op() -> tuple[tg.Tensor, list[tg.Tensor]]:
    rng = np.random.default_rng(1)
    w = tg.tensor(rng.standard_normal((3, 4)), requires_grad=True, name="w")
    x = tg.tensor(rng.uniform(0.5, 2.0, (5, 3)), requires_grad=True, name="x")
    scores = x @ w
    h = tg.relu(scores) + tg.abs(scores) * tg.sigmoid(scores) - tg.tanh(scores)
    h = tg.maximum(h, 0.1) / tg.minimum(h, 3.0) ** 2
    h = tg.exp(-h) + tg.log(x.T.sum(axis=0, keepdims=True).T) + tg.sqrt(x).mean()
    picked = h[np.arange(5), np.array([0, 1, 1, 3, 0])]
    loss = -tg.max(picked) + tg.min(h.reshape(20)) + tg.mean(picked)
    # The ops PyTorch users reach for (issue 13), each once.
    both = tg.cat([x, w.T], axis=0).unsqueeze(0).squeeze(0).flatten()
    probs = tg.softmax(scores, axis=1) * tg.log_softmax(scores) + tg.logsumexp(scores, -1, True)
    spread = tg.var(scores, axis=0) + tg.std(scores) + tg.stack([w, w * 2]).sum()
    bent = tg.where(scores > 0, scores, tg.leaky_relu(scores)).clamp(-1.0, 1.0) + x.mean() ** w[0]
    loss = loss + both.sum() + probs.sum() + spread.sum() + bent.float().double().sum()
    # Every elementwise op of one input the registry has (a new one is covered at once).
    for info in tg.OPS.values():
        if info.kind == "elementwise" and len(info.inputs) == 1 and not info.attrs:
            loss = loss + info.function(x).sum()
    return loss, [w, x]


def test_graph_with_every_op_covers_the_core_ops() -> None:
    core = {name for name, info in tg.OPS.items() if info.function.__module__ == "tensorgraph.ops"}
    loss, _ = _graph_with_every_op()
    assert {n.op for n in tg.graph_nodes(loss)} - {None} == core


def test_no_reference_cycles() -> None:
    gc.collect()
    with gc_disabled():
        loss, leaves = _graph_with_every_op()
        loss.backward()
        refs = [weakref.ref(n) for n in tg.graph_nodes(loss)]
        assert len(refs) > 20
        del loss, leaves
        alive = [r() for r in refs if r() is not None]
        assert not alive, f"{len(alive)} tensors outlived their graph: {alive[:3]}"
        assert gc.collect() == 0  # nothing of ours was left for the cycle collector


def test_dropping_the_output_keeps_the_leaves() -> None:
    with gc_disabled():
        x = tg.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        out = weakref.ref(y)
        del y
        assert out() is None
        np.testing.assert_array_equal(x.grad, [2.0, 4.0])


# ----- errors -----


def test_matmul_shape_error() -> None:
    a, b = tg.tensor(np.ones((3, 4))), tg.tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match=re.escape("matmul: cannot multiply (3, 4) by (5, 2)")):
        a @ b
    with pytest.raises(ValueError, match=re.escape("matmul: cannot multiply (4,) by (3,)")):
        tg.matmul(np.ones(4), tg.tensor(np.ones(3)))


def test_matmul_of_a_0d_tensor() -> None:
    with pytest.raises(ValueError, match=r"matmul: .*\(\) and \(3,\).*use \*"):
        tg.tensor(2.0) @ tg.tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"matmul: .*\(3,\) and \(\)"):
        tg.tensor(np.ones(3)) @ 2.0


@pytest.mark.parametrize(
    "name, f",
    [
        ("add", lambda a, b: a + b),
        ("sub", lambda a, b: a - b),
        ("mul", lambda a, b: a * b),
        ("div", lambda a, b: a / b),
        ("maximum", tg.maximum),
        ("minimum", tg.minimum),
    ],
)
def test_broadcasting_error_names_the_op_and_both_shapes(name: str, f: Callable) -> None:
    a, b = tg.tensor(np.ones((2, 3))), tg.tensor(np.ones(4))
    with pytest.raises(ValueError, match=re.escape(f"{name}: shapes (2, 3) and (4,) cannot")):
        f(a, b)
    with pytest.raises(ValueError, match=re.escape(f"{name}: shapes (4,) and (2, 3) cannot")):
        f(np.ones(4), a)


@pytest.mark.parametrize(
    "bad, words",
    [
        ("abc", "string"),
        (b"abc", "string"),
        (["1", "2"], "expected numbers"),
        (object(), "expected numbers"),
        (None, "expected numbers"),
        ({"a": 1}, "expected numbers"),
        (1 + 2j, "complex"),
        ([1.0, 2j], "complex"),
        (np.array([1j]), "complex"),
        ([[1.0, 2.0], [3.0]], "cannot make a numeric tensor"),
    ],
)
def test_tensor_refuses_non_numbers(bad: object, words: str) -> None:
    with pytest.raises(TypeError, match=f"tensor: .*{words}"):
        tg.tensor(bad)


def test_tensor_refuses_complex_and_text_dtypes() -> None:
    with pytest.raises(TypeError, match="unsupported dtype complex128"):
        tg.tensor([1.0], dtype=complex)
    with pytest.raises(TypeError, match="unsupported dtype"):
        tg.tensor([1.0], dtype=str)


def test_operands_that_are_not_numbers_are_refused() -> None:
    x = tg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="add: expected numbers, got the string 'a'"):
        x + "a"
    with pytest.raises(TypeError, match="mul: expected numbers, got object"):
        x * object()
    with pytest.raises(
        TypeError, match=re.escape("mul: complex numbers are not supported (got 1j)")
    ):
        x * 1j
    with pytest.raises(TypeError, match="maximum: expected numbers"):
        tg.maximum(None, x)


def test_a_tensor_exponent_is_its_own_op_and_a_number_one_an_attribute() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert (x**2).op == "pow" and (x**2).attrs == {"exponent": 2}  # drawn x**2
    assert (x ** tg.tensor(2.0)).op == "power" and (2**x).op == "power"
    assert (np.ones(2) ** x).op == "power"  # numpy defers to Tensor.__rpow__
    with pytest.raises(TypeError, match="pow: the exponent must be a Python number"):
        tg.pow(x, tg.tensor(2.0))
    with pytest.raises(TypeError, match="pow: the exponent"):
        tg.pow(x, np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="pow: the exponent"):
        x**True


def test_shape_and_axis_errors_name_the_op() -> None:
    x = tg.tensor(np.ones((2, 3)))
    with pytest.raises(
        ValueError, match=re.escape("reshape: cannot reshape a tensor of shape (2, 3)")
    ):
        x.reshape(4, 2)
    for name in ("sum", "mean", "max", "min"):
        with pytest.raises(ValueError, match=f"{name}: axis 2 is out of range"):
            getattr(tg, name)(x, axis=2)
    with pytest.raises(ValueError, match=re.escape("transpose: axis (0, 0) names an axis twice")):
        x.transpose(0, 0)
    with pytest.raises(ValueError, match=re.escape("sum: axis (1, -1) names an axis twice")):
        x.sum(axis=(1, -1))
    with pytest.raises(IndexError, match=re.escape("index: ") + r".*\(2, 3\)"):
        x[5]
    with pytest.raises(IndexError, match="index: float index array holds non-integers"):
        x[np.array([0.5])]
    with pytest.raises(ValueError, match="max: cannot reduce an empty axis"):
        tg.max(tg.tensor(np.ones((0, 3))), axis=0)


def test_truth_value_and_len() -> None:
    assert bool(tg.tensor(1.0)) and not bool(tg.tensor([0.0]))
    with pytest.raises(ValueError, match=r"ambiguous"):
        bool(tg.tensor([1.0, 2.0]))
    assert len(tg.tensor(np.ones((4, 2)))) == 4
    with pytest.raises(TypeError, match="0-d"):
        len(tg.tensor(1.0))
    rows = list(tg.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert [r.op for r in rows] == ["index", "index"]
    np.testing.assert_array_equal(rows[1].data, [3.0, 4.0])


def test_sigmoid_neuron_of_the_course() -> None:
    # The sigmoid-neuron example of the course: at w = [2, -3, -3], x = [-1, -2] the
    # input of the sigmoid is 1; exact values from math, then the slide's rounding.
    w = tg.tensor([2.0, -3.0, -3.0], requires_grad=True)
    x = tg.tensor([-1.0, -2.0], requires_grad=True)
    f = tg.sigmoid(w[0] * x[0] + w[1] * x[1] + w[2])
    f.backward()
    s = 1 / (1 + math.exp(-1.0))
    assert math.isclose(f.item(), s, rel_tol=1e-15)
    np.testing.assert_allclose(w.grad, [-s * (1 - s), -2 * s * (1 - s), s * (1 - s)], rtol=1e-15)
    np.testing.assert_allclose(x.grad, [2 * s * (1 - s), -3 * s * (1 - s)], rtol=1e-15)
    assert round(f.item(), 2) == 0.73
    assert [round(v, 2) for v in w.grad] == [-0.2, -0.39, 0.2]
