"""tg.compile: a function traced once, then run as generated numpy code.

Its values and gradients must be the engine's at every call (new numbers, new labels, new
batches), it must trace again for new shapes or flags, and it must refuse a function
whose graph depends on the values it is given instead of silently running a stale one.
"""

from __future__ import annotations

import numpy as np
import pytest

import tensorgraph as tg


def lecture(x, y, z, w):
    return 2 * (x * y + tg.maximum(z, w))


def engine(fn, wrt, *args):
    """fn's value and gradients by building the graph and calling backward."""
    leaves = [
        tg.tensor(a, requires_grad=n in wrt) if isinstance(a, float | np.ndarray) else a
        for n, a in zip(fn.__code__.co_varnames, args, strict=False)
    ]
    out = fn(*leaves)
    out.backward()
    names = fn.__code__.co_varnames[: len(args)]
    return out.item(), {n: t.grad for n, t in zip(names, leaves, strict=True) if n in wrt}


@pytest.mark.parametrize(
    "values", [(3.0, -4.0, 2.0, -1.0), (1.0, 2.0, -3.0, 5.0), (0.5, 0.25, 2.0, 2.0)]
)
def test_the_lecture_at_any_numbers(values) -> None:
    step = tg.compile(lecture)
    step(3.0, -4.0, 2.0, -1.0)  # traced here
    f, grads = step(*values)
    ref_f, ref = engine(lecture, "xyzw", *values)
    assert float(f) == ref_f
    assert {k: float(v) for k, v in grads.items()} == {k: v.item() for k, v in ref.items()}
    assert "q = np.maximum(z, w)  # 2" in step.code  # the lines of the first trace


def test_numbers_ints_arrays_and_tensors_give_the_same() -> None:
    step = tg.compile(lecture)
    ref = step(3.0, -4.0, 2.0, -1.0)[1]
    for args in [(3, -4, 2, -1), (np.float64(3), -4.0, 2.0, -1.0), (tg.tensor(3.0), -4, 2, -1)]:
        assert {k: float(v) for k, v in step(*args)[1].items()} == {
            k: float(v) for k, v in ref.items()
        }


def test_new_shapes_and_flags_trace_again() -> None:
    calls = []

    def fn(x, squared):
        calls.append(x.shape)
        return (x * x).sum() if squared else x.sum()

    step = tg.compile(fn)
    for shape in [(3,), (3,), (2, 2), (3,)]:
        x = np.arange(np.prod(shape), dtype=float).reshape(shape)
        np.testing.assert_array_equal(step(x, True)[1]["x"], 2 * x)
    np.testing.assert_array_equal(step(np.ones(3), False)[1]["x"], np.ones(3))
    # One trace per shape and flag, each calling fn three times (two to check it).
    assert calls == [(3,)] * 3 + [(2, 2)] * 3 + [(3,)] * 3
    assert "3 trace(s)" in repr(step)


def test_a_training_loop_with_new_batches_and_labels() -> None:
    """Minibatch SGD: each call gets another batch and other labels."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 5)), rng.integers(0, 3, 60)
    W, b = rng.normal(size=(3, 5)) * 0.1, np.zeros(3)

    def loss(W, b, X, y):
        return tg.svm_loss(X @ W.T + b, y) + 0.01 * tg.l2(W)

    step = tg.compile(loss, wrt=("W", "b"))
    for start in range(0, 60, 10):
        Xb, yb = X[start : start + 10], y[start : start + 10]
        value, grads = step(W, b, Xb, yb)
        ref_value, ref = engine(loss, ("W", "b"), W, b, Xb, yb)
        assert float(value) == pytest.approx(ref_value, rel=1e-12)
        np.testing.assert_allclose(grads["W"], ref["W"], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(grads["b"], ref["b"], rtol=1e-12, atol=1e-15)
        W = W - 0.1 * grads["W"]
        b = b - 0.1 * grads["b"]
    assert "1 trace(s)" in repr(step)
    assert set(grads) == {"W", "b"}  # wrt: no gradient for the batch X


def test_labels_are_checked_as_the_loss_gate_checks_them() -> None:
    def loss(S, y):
        return tg.softmax_loss(S, y)

    step = tg.compile(loss)
    S = np.zeros((2, 3))
    step(S, np.array([0, 2]))
    with pytest.raises(ValueError, match=r"softmax_loss: label y\[1\] = 3 is out of range"):
        step(S, np.array([0, 3]))
    with pytest.raises(ValueError, match=r"softmax_loss: label y\[0\] = -1 is out of range"):
        step(S, np.array([-1, 0]))


def test_labels_in_an_index_follow_the_argument() -> None:
    """scores[np.arange(N), y], the lecture's way of picking the true class's score."""

    def loss(S, y):
        return -S[np.arange(len(y)), y].sum()

    step = tg.compile(loss)
    S = np.arange(6.0).reshape(2, 3)
    for labels in ([0, 1], [2, 2], [1, 0]):
        grad = step(S, np.array(labels))[1]["S"]
        expected = np.zeros((2, 3))
        expected[[0, 1], labels] = -1
        np.testing.assert_array_equal(grad, expected)


def test_a_list_of_parameters_is_one_argument() -> None:
    def chain(x, cs):
        for i, c in enumerate(cs):
            x = x + c if i % 2 == 0 else x * c
        return x.sum()

    rng = np.random.default_rng(1)
    x, cs = rng.normal(size=4), [rng.normal(size=4) for _ in range(6)]
    value, grads = tg.compile(chain)(x, cs)
    leaves = [tg.tensor(c, requires_grad=True) for c in cs]
    xt = tg.tensor(x, requires_grad=True)
    out = chain(xt, leaves)
    out.backward()
    assert float(value) == pytest.approx(out.item(), rel=1e-14)
    np.testing.assert_allclose(grads["x"], xt.grad, rtol=1e-14)
    for g, t in zip(grads["cs"], leaves, strict=True):
        np.testing.assert_allclose(g, t.grad, rtol=1e-14)


def test_float32_stays_float32() -> None:
    step = tg.compile(lambda a, b: (tg.sigmoid(a @ b) * 2).mean())
    a, b = np.ones((2, 3), np.float32), np.full((3, 4), 0.5, np.float32)
    value, grads = step(a, b)
    assert value.dtype == np.float32 and grads["a"].dtype == grads["b"].dtype == np.float32


# ----- what compile refuses -----


def test_a_graph_that_depends_on_values_is_refused() -> None:
    """Python's max picks a branch by value: the slide's PyTorch trap, here refused."""
    step = tg.compile(lambda z, w: 2 * max(z, w))
    with pytest.raises(ValueError, match="compile: fn's graph depends on the values"):
        step(2.0, -1.0)
    baked = tg.compile(lambda x: x * float(x.item()))  # a value read into a constant
    with pytest.raises(ValueError, match="the constant of shape \\(\\) changed"):
        baked(3.0)


def test_labels_used_as_numbers_are_refused() -> None:
    step = tg.compile(lambda S, y: (S * tg.tensor(np.eye(3)[y])).sum())
    with pytest.raises(ValueError, match="graph depends on the values"):
        step(np.ones((2, 3)), np.array([0, 2]))


@pytest.mark.parametrize(
    ("fn", "args", "error", "message"),
    [
        (lambda x: x * x, (np.ones(2),), TypeError, "one-element tensor"),
        (lambda x: 3.0, (1.0,), TypeError, "got float"),
        (lambda *xs: xs[0], (1.0,), TypeError, "takes \\*xs"),
        (lambda x, y: (x * y).sum(), (np.ones(2), np.array([1, 2])), TypeError, "not a float"),
    ],
)
def test_what_compile_refuses_is_named(fn, args, error, message) -> None:
    with pytest.raises(error, match=message):
        wrt = ("x", "y") if len(args) == 2 else None
        tg.compile(fn, wrt=wrt)(*args)


def test_wrt_must_name_arguments() -> None:
    with pytest.raises(ValueError, match="wrt names 'v'"):
        tg.compile(lecture, wrt=("v",))
