"""tg.zeros, ones, full, zeros_like, ones_like, arange, eye, rand, randn: new leaves.

Shapes as numpy and PyTorch write them, float64 unless dtype= says otherwise, seeded
random numbers equal to numpy's Generator's, requires_grad and name as tg.tensor has
them, and a clear error naming the function for bad arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import tensorgraph as tg

RNG = np.random.default_rng(0)
SHAPED = {
    "zeros": (tg.zeros, np.zeros, 0.0),
    "ones": (tg.ones, np.ones, 1.0),
    "rand": (tg.rand, None, None),
    "randn": (tg.randn, None, None),
}


def test_every_creation_function_is_exported() -> None:
    names = {"zeros", "ones", "full", "zeros_like", "ones_like", "arange", "eye", "rand", "randn"}
    assert set(tg.creation.__all__) == names
    for name in names:
        assert getattr(tg, name) is getattr(tg.creation, name) and name in tg.__all__


@pytest.mark.parametrize("name", SHAPED)
@pytest.mark.parametrize(
    ("args", "shape"),
    [((2, 3), (2, 3)), (((2, 3),), (2, 3)), (([4],), (4,)), ((), ()), ((0, 2), (0, 2))],
)
def test_shapes_as_torch_or_as_numpy(name: str, args: tuple, shape: tuple) -> None:
    make = SHAPED[name][0]
    t = make(*args)
    assert isinstance(t, tg.Tensor) and t.shape == shape and t.dtype == np.float64
    assert t.is_leaf and not t.requires_grad and t.name is None


@pytest.mark.parametrize("name", ["zeros", "ones"])
def test_constants_hold_their_value_in_any_dtype(name: str) -> None:
    make, np_make, value = SHAPED[name]
    for dtype in (np.float32, "float64", np.int64, bool):
        t = make(3, 2, dtype=dtype)
        assert t.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(t.data, np_make((3, 2), dtype))
    assert torch.tensor(make(2, dtype=np.float32).data).dtype == torch.zeros(2).dtype


def test_full_eye_and_arange_equal_numpys() -> None:
    np.testing.assert_array_equal(tg.full((2, 3), 0.5).data, np.full((2, 3), 0.5))
    assert tg.full(3, 7).data.tolist() == [7.0, 7.0, 7.0] and tg.full(3, 7).dtype == np.float64
    assert tg.full([2], -1.5, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(tg.eye(3).data, np.eye(3))
    np.testing.assert_array_equal(tg.eye(2, 4).data, np.eye(2, 4))
    for args in [(5,), (2, 7), (1, 2, 0.25), (5, 0, -1), (0,), (3, 3)]:
        np.testing.assert_array_equal(tg.arange(*args).data, np.arange(*args, dtype=np.float64))
    assert tg.arange(4, dtype=np.float32).dtype == np.float32
    assert tg.arange(3, dtype=np.int64).data.tolist() == [0, 1, 2]
    # torch's arange makes the same numbers (as int64 for whole numbers; here floats)
    np.testing.assert_array_equal(tg.arange(1, 2, 0.25).data, torch.arange(1, 2, 0.25).numpy())


def test_like_takes_shape_and_float_dtype_and_nothing_of_the_graph() -> None:
    x = tg.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = x * 2
    for like, value in ((tg.zeros_like, 0.0), (tg.ones_like, 1.0)):
        z = like(y)
        assert z.shape == (2, 3) and z.dtype == np.float32 and np.all(z.data == value)
        assert z.is_leaf and not z.requires_grad
        assert like(np.arange(4)).dtype == np.float64  # an integer array: float64
        assert like(np.zeros((2, 2), np.float32), dtype=np.float64).dtype == np.float64
        w = like(x, requires_grad=True, name="w")
        assert w.requires_grad and w.name == "w" and not np.shares_memory(w.data, x.data)


@pytest.mark.parametrize(("make", "draw"), [(tg.rand, "random"), (tg.randn, "standard_normal")])
def test_random_numbers_are_numpys_generators_and_reproducible(make: Callable, draw: str) -> None:
    a, b = make(3, 4, seed=7), make((3, 4), seed=7)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.data, getattr(np.random.default_rng(7), draw)((3, 4)))
    assert not np.array_equal(a.data, make(3, 4, seed=8).data)
    assert not np.array_equal(make(3, 4).data, make(3, 4).data)  # no seed: fresh entropy
    # rng= draws from your Generator, which moves on as numpy's own calls would.
    rng, ref = np.random.default_rng(3), np.random.default_rng(3)
    first, second = make(5, rng=rng), make(5, rng=rng)
    np.testing.assert_array_equal(first.data, getattr(ref, draw)(5))
    np.testing.assert_array_equal(second.data, getattr(ref, draw)(5))
    f32 = make(2, 2, seed=1, dtype=np.float32)
    assert f32.dtype == np.float32
    want = getattr(np.random.default_rng(1), draw)((2, 2), dtype=np.float32)
    np.testing.assert_array_equal(f32.data, want)
    assert make(3, seed=0, dtype=np.float16).dtype == np.float16


def test_rand_lies_in_the_unit_interval_and_randn_looks_normal() -> None:
    u = tg.rand(10_000, seed=0).data
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.02
    n = tg.randn(10_000, seed=0).data
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1.0) < 0.05


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: tg.zeros(2, 3, **kw),
        lambda **kw: tg.ones((2, 3), **kw),
        lambda **kw: tg.full((2, 3), 1.5, **kw),
        lambda **kw: tg.zeros_like(np.ones((2, 3)), **kw),
        lambda **kw: tg.ones_like(tg.tensor(np.ones((2, 3))), **kw),
        lambda **kw: tg.arange(6, **kw).reshape(2, 3),
        lambda **kw: tg.eye(2, 3, **kw),
        lambda **kw: tg.rand(2, 3, seed=0, **kw),
        lambda **kw: tg.randn(2, 3, seed=0, **kw),
    ],
)
def test_a_created_tensor_is_a_parameter_ready_to_train(make: Callable) -> None:
    w = make(requires_grad=True, name="W")
    w = w if w.is_leaf else w.inputs[0]  # arange(6).reshape(2, 3): the leaf is arange's
    assert w.is_leaf and w.requires_grad and w.name == "W"
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, 2 * w.data)
    t = torch.tensor(w.data, requires_grad=True)
    (t * t).sum().backward()
    np.testing.assert_array_equal(w.grad, t.grad.numpy())


@pytest.mark.parametrize(
    ("call", "error", "parts"),
    [
        (lambda: tg.zeros(2, -1), ValueError, ["zeros:", "negative dimension -1", "(2, -1)"]),
        (lambda: tg.ones(2.5), TypeError, ["ones:", "whole numbers", "2.5"]),
        (lambda: tg.zeros((2, "3")), TypeError, ["zeros:", "'3'"]),
        (lambda: tg.zeros(True), TypeError, ["zeros:", "True"]),
        (lambda: tg.full((2,), "x"), TypeError, ["full:", "fill_value", "'x'"]),
        (lambda: tg.zeros(2, dtype="foo"), TypeError, ["zeros:", "'foo'"]),
        (lambda: tg.zeros(2, dtype=complex), TypeError, ["zeros:", "complex"]),
        (lambda: tg.ones(2, dtype=int, requires_grad=True), TypeError, ["ones:", "int64"]),
        (lambda: tg.zeros(2, name=3), TypeError, ["zeros:", "name", "string"]),
        (lambda: tg.randn(2, seed=1, rng=RNG), ValueError, ["randn:", "not both"]),
        (lambda: tg.rand(2, rng=3), TypeError, ["rand:", "numpy.random.Generator", "int"]),
        (lambda: tg.randn(2, rng=np.random), TypeError, ["randn:", "Generator"]),
        (lambda: tg.randn(2, seed=1.5), TypeError, ["randn:", "seed", "1.5"]),
        (lambda: tg.rand(2, seed=-1), ValueError, ["rand:", "non-negative", "-1"]),
        (lambda: tg.rand(2, dtype=np.int32), TypeError, ["rand:", "int32"]),
        (lambda: tg.arange(0, 1, 0), ValueError, ["arange:", "step", "0"]),
        (lambda: tg.arange(0, np.inf), ValueError, ["arange:", "stop", "finite"]),
        (lambda: tg.arange("5"), TypeError, ["arange:", "stop", "'5'"]),
        (lambda: tg.arange(0, 1e300), ValueError, ["arange:"]),
        (lambda: tg.zeros(10**8, 10**8), MemoryError, ["zeros:"]),
        (lambda: tg.eye(-2), ValueError, ["eye:", "negative"]),
        (lambda: tg.zeros_like([1.0, 2.0]), TypeError, ["zeros_like:", "list"]),
    ],
)
def test_bad_arguments_name_the_function(call: Callable, error: type, parts: list[str]) -> None:
    with pytest.raises(error) as err:
        call()
    for part in parts:
        assert part in str(err.value), (part, str(err.value))


def test_numpy_integers_are_whole_numbers_too() -> None:
    n: Any = np.int64(3)
    assert tg.zeros(n, np.int32(2)).shape == (3, 2) and tg.randn(n, seed=np.int64(1)).shape == (3,)
