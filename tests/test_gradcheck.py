"""numerical_grad and gradcheck: right answers, broken backward rules caught, sparse
sampling, kink warnings, and the caller's data left alone."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator

import numpy as np
import pytest

import tensorgraph as tg
from tensorgraph.registry import Array, Forward, op
from tensorgraph.tensor import Tensor

# ----- numerical_grad -----


def test_numerical_grad_of_known_functions() -> None:
    x = np.array([[0.5, -1.0], [2.0, 0.3]])
    g = tg.numerical_grad(lambda v: float(np.sum(v**3)), x)
    np.testing.assert_allclose(g, 3 * x**2, rtol=1e-8)
    # The lecture's f(x, y) = x * y has gradient [y, x].
    np.testing.assert_allclose(
        tg.numerical_grad(lambda v: v[0] * v[1], np.array([3.0, -4.0])), [-4.0, 3.0]
    )


def test_numerical_grad_is_central() -> None:
    # For exp at 0, a forward difference is off by about h/2; a central one by h²/6.
    x = np.array([0.0])
    h = 1e-3
    g = tg.numerical_grad(lambda v: math.exp(v[0]), x, h=h)[0]
    assert abs(g - 1.0) < h**2  # forward: (e^h - 1)/h - 1 = 5e-4, far outside
    assert abs((math.exp(h) - 1) / h - 1.0) > 100 * h**2


def test_numerical_grad_restores_x_even_when_f_raises() -> None:
    x = np.array([1.0, 2.0, 3.0])
    before = x.copy()
    tg.numerical_grad(lambda v: float(v @ v), x)
    np.testing.assert_array_equal(x, before)

    calls = []

    def fails_on_third_call(v: np.ndarray) -> float:
        calls.append(v.copy())
        if len(calls) == 3:
            raise RuntimeError("boom")
        return float(v.sum())

    with pytest.raises(RuntimeError, match="boom"):
        tg.numerical_grad(fails_on_third_call, x)
    np.testing.assert_array_equal(x, before)
    assert not np.array_equal(calls[2], before)  # it really was moved in place


def test_numerical_grad_takes_a_tensor_and_returns_float64() -> None:
    t = tg.tensor(np.array([1.0, -2.0], dtype=np.float32))
    g = tg.numerical_grad(lambda v: tg.l2(tg.tensor(v)), t, h=1e-2)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, [2.0, -4.0], rtol=1e-4)


def test_numerical_grad_bad_input() -> None:
    with pytest.raises(TypeError, match="numerical_grad: x must be a floating-point numpy array"):
        tg.numerical_grad(lambda v: 0.0, np.array([1, 2]))
    with pytest.raises(TypeError, match="numerical_grad"):
        tg.numerical_grad(lambda v: 0.0, [1.0, 2.0])
    with pytest.raises(ValueError, match="h must be a positive number"):
        tg.numerical_grad(lambda v: 0.0, np.ones(2), h=0.0)
    with pytest.raises(ValueError, match="f must return one number"):
        tg.numerical_grad(lambda v: v * 2, np.ones(2))


# ----- gradcheck on correct ops -----


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((6, 5)), rng.integers(0, 4, 6)


def test_gradcheck_passes_correct_gates() -> None:
    X, y = _data()
    W = tg.tensor(np.random.default_rng(1).standard_normal((4, 5)), requires_grad=True)
    b = tg.tensor(np.zeros(4), requires_grad=True)

    def softmax_step(W: Tensor, b: Tensor) -> Tensor:
        return tg.softmax_loss(tg.tensor(X) @ W.T + b, y) + 0.1 * tg.l2(W)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a smooth function: no kink warning
        result = tg.gradcheck(softmax_step, W, b)
    assert result.ok and bool(result)
    assert len(result.errors) == 2 and max(result.errors) < 1e-6
    assert [len(c) for c in result.checked] == [20, 4]
    assert result.kinks == [[], []]
    assert "ok" in str(result)


def test_gradcheck_passes_the_svm_away_from_kinks() -> None:
    X, y = _data(3)
    W = tg.tensor(np.random.default_rng(4).standard_normal((4, 5)), requires_grad=True)

    def svm_step(W: Tensor) -> Tensor:
        return tg.svm_loss(tg.tensor(X) @ W.T, y, squared=False) + 0.5 * tg.l1(W)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = tg.gradcheck(svm_step, W)
    assert result.ok and result.errors[0] < 1e-6


def test_gradcheck_leaves_the_callers_tensors_alone() -> None:
    data = np.array([[0.3, -0.2]], dtype=np.float32)
    w = tg.tensor(data.copy(), requires_grad=True)
    result = tg.gradcheck(lambda t: tg.sum(tg.tanh(t)), w)
    assert result.ok
    np.testing.assert_array_equal(w.data, data)
    assert w.data.dtype == np.float32 and w.grad is None


# ----- gradcheck catches wrong backward rules -----


@pytest.fixture
def broken_cube() -> Iterator:
    """An op whose backward forgets the square: 3x instead of 3x²."""

    @op("x³?", "∂/∂x = 3x   (wrong on purpose)", kind="elementwise")
    def broken_cube(x: Array) -> Forward:
        return x**3, lambda g: (g * 3 * x,)

    yield broken_cube
    del tg.OPS["broken_cube"]  # keep the registry (and docs/derivatives.md) as it was


def test_gradcheck_finds_a_wrong_backward(broken_cube) -> None:
    x = tg.tensor([0.5, 2.0, -1.5], requires_grad=True)
    result = tg.gradcheck(lambda t: tg.sum(broken_cube(t)), x)
    assert not result.ok and not bool(result)
    assert result.errors[0] > 0.1
    np.testing.assert_allclose(result.numerical[0], 3 * x.data**2, rtol=1e-6)
    np.testing.assert_allclose(result.analytic[0], 3 * x.data)
    assert "MISMATCH" in str(result)


def test_gradcheck_points_at_the_wrong_input(broken_cube) -> None:
    a = tg.tensor([[0.4, -0.7]], requires_grad=True)
    b = tg.tensor([[1.3], [0.6]], requires_grad=True)
    result = tg.gradcheck(lambda a, b: tg.sum(a @ broken_cube(b)), a, b)
    assert not result.ok
    assert result.errors[0] < 1e-7 and result.errors[1] > 0.1


def test_gradcheck_catches_a_small_error() -> None:
    # A backward off by 1% must not pass the default tolerances.
    def slightly_off(x: Tensor) -> Tensor:
        xd = x.data
        return Tensor._make(np.sin(xd).sum(), "sin_sum", (x,), lambda g: (g * 1.01 * np.cos(xd),))

    assert not tg.gradcheck(slightly_off, tg.tensor([0.3, 1.1], requires_grad=True)).ok


# ----- sparse mode -----


def test_sparse_mode_samples_a_few_entries_reproducibly() -> None:
    rng = np.random.default_rng(7)
    big = tg.tensor(rng.standard_normal((50, 40)), requires_grad=True)
    small = tg.tensor(rng.standard_normal(3), requires_grad=True)

    def f(big: Tensor, small: Tensor) -> Tensor:
        return tg.sum(tg.sigmoid(big)) + tg.sum(small * small)

    r1 = tg.gradcheck(f, big, small, sparse=25, seed=1)
    r2 = tg.gradcheck(f, big, small, sparse=25, seed=1)
    r3 = tg.gradcheck(f, big, small, sparse=25, seed=2)
    assert r1.ok
    assert len(r1.checked[0]) == 25 and len(np.unique(r1.checked[0])) == 25
    assert np.all(r1.checked[0] < 2000)
    np.testing.assert_array_equal(r1.checked[1], [0, 1, 2])  # small inputs: every entry
    np.testing.assert_array_equal(r1.checked[0], r2.checked[0])
    assert not np.array_equal(r1.checked[0], r3.checked[0])
    s = 1 / (1 + np.exp(-big.data.reshape(-1)[r1.checked[0]]))
    np.testing.assert_allclose(r1.analytic[0], s * (1 - s), rtol=1e-12)


def test_sparse_mode_still_finds_a_wrong_backward(broken_cube) -> None:
    x = tg.tensor(np.random.default_rng(0).uniform(0.5, 2.0, 1000), requires_grad=True)
    result = tg.gradcheck(lambda t: tg.sum(broken_cube(t)), x, sparse=5)
    assert len(result.checked[0]) == 5 and not result.ok


# ----- kinks -----


@pytest.mark.parametrize(
    ("fn", "point"),
    [
        (lambda t: tg.sum(tg.relu(t)), [0.0, 1.0]),  # exactly on the kink
        (lambda t: tg.sum(tg.relu(t)), [4e-7, 1.0]),  # within h = 1e-6 of it
        (lambda t: tg.sum(tg.abs(t)), [1.0, -3e-7]),
        (lambda t: tg.l1(t), [0.0, 2.0]),
        (lambda t: tg.maximum(t[0], t[1]), [1.0, 1.0]),
        (lambda t: tg.minimum(t[0], t[1]) * 2, [1.0, 1.0 + 5e-7]),
        (lambda t: tg.max(t), [2.0, 2.0, -1.0]),
        (lambda t: tg.min(t.reshape(1, 3), axis=1).sum(), [0.5, 0.5 - 2e-7, 3.0]),
        # svm margin s_0 - s_1 + 1 = 0 at the point: the hinge's kink
        (lambda t: tg.svm_loss(t.reshape(1, 3), [1]), [1.0, 2.0, -5.0]),
    ],
    ids=[
        "relu-at-0",
        "relu-near-0",
        "abs",
        "l1",
        "maximum-tie",
        "minimum-near",
        "max",
        "min",
        "svm",
    ],
)
def test_kink_warning(fn, point) -> None:
    x = tg.tensor(point, requires_grad=True)
    with pytest.warns(tg.GradcheckKinkWarning, match="within h=1e-06 of a kink"):
        result = tg.gradcheck(fn, x)
    assert result.kinks[0], "the kink entries are listed"


def test_no_kink_warning_a_little_further_away() -> None:
    x = tg.tensor([1e-4, -1e-4, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = tg.gradcheck(lambda t: tg.sum(tg.relu(t)) + tg.max(t), x)
    assert result.ok and result.kinks == [[]]


def test_kink_warning_only_lists_the_entries_at_the_kink() -> None:
    x = tg.tensor([0.0, 1.0, -2.0, 0.0], requires_grad=True)
    with pytest.warns(tg.GradcheckKinkWarning, match=r"2 of input 0\): relu switches branch"):
        result = tg.gradcheck(lambda t: tg.sum(tg.relu(t)), x)
    assert result.kinks == [[0, 3]]


# ----- bad calls -----


def test_gradcheck_bad_calls() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="pass at least one tensor"):
        tg.gradcheck(lambda: tg.tensor(0.0))
    with pytest.raises(ValueError, match="one-element tensor, got shape \\(2,\\)"):
        tg.gradcheck(lambda t: t * 2, x)
    with pytest.raises(TypeError, match="fn must return a Tensor"):
        tg.gradcheck(lambda t: 1.0, x)
    with pytest.raises(ValueError, match="does not depend on any input"):
        tg.gradcheck(lambda t: tg.tensor(1.0), x)
    with pytest.raises(ValueError, match="h must be a positive number"):
        tg.gradcheck(lambda t: tg.sum(t), x, h=-1e-6)
    with pytest.raises(ValueError, match="sparse must be a positive number"):
        tg.gradcheck(lambda t: tg.sum(t), x, sparse=0)
    with pytest.raises(TypeError, match="sparse must be None or a positive int"):
        tg.gradcheck(lambda t: tg.sum(t), x, sparse=2.5)
