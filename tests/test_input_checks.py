"""The same checks whatever the door (issue 12, item 15 and "Also").

``dtype=`` and ``backward(grad)`` go through the checks of ``tg.tensor``: strings are
never parsed, None never becomes NaN, complex numbers never lose their imaginary part,
whatever the dtype; and a cast never wraps or garbles a value (NaN into an integer, 300
into int8, 1e300 into float32), as numpy and PyTorch refuse those too. Axis errors are
numpy's AxisError (both a ValueError and an IndexError) for every op with an axis,
found from the registry, so an op added later is covered; an axis that is not an integer
is a TypeError, as in numpy.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg

torch = pytest.importorskip("torch")

DTYPES = [np.float64, np.float32, "float64", np.int64, int, bool, np.int8]

# data, words the message must hold
NOT_NUMBERS: list[tuple[Any, list[str]]] = [
    ("1.5", ["string", "'1.5'"]),
    (b"1", ["string"]),
    (["1", "2"], ["<U1"]),
    ([1.0, "2"], ["'2'"]),
    (np.array(["1.0"]), ["<U3"]),
    (None, ["None"]),
    ([None, 1.0], ["object", "None"]),
    (np.array([1.0, 2.0], dtype=object), ["object"]),
    (1 + 2j, ["complex", "(1+2j)"]),
    ([1j, 2.0], ["complex", "1j"]),
    (np.ones(2, complex), ["complex"]),
    (object(), ["object"]),
    ({"a": 1}, ["{'a': 1}"]),
    ([[1.0], [2.0, 3.0]], ["cannot make a numeric tensor"]),
    (np.datetime64("2020-01-01"), ["datetime64"]),
]


def _refused(make: Callable[[], Any], where: str, parts: list[str]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning, no RuntimeWarning on the way
        with pytest.raises(TypeError) as err:
            make()
    text = str(err.value)
    assert text.startswith(f"{where}: "), text
    for part in parts:
        assert part in text, (part, text)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize(("data", "parts"), NOT_NUMBERS, ids=lambda v: repr(v)[:20])
def test_tensor_with_a_dtype_checks_the_data_first(data: Any, parts: list[str], dtype: Any) -> None:
    _refused(lambda: tg.tensor(data, dtype=dtype), "tensor", parts)
    _refused(lambda: tg.Tensor(data, dtype=dtype), "tensor", parts)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=str)
@pytest.mark.parametrize(("data", "parts"), NOT_NUMBERS, ids=lambda v: repr(v)[:20])
def test_backward_checks_its_grad_like_tensor(data: Any, parts: list[str], dtype: Any) -> None:
    if data is None:
        return  # backward(None) is the default seed of a one-element output
    x = tg.tensor([1.0, 2.0], dtype=dtype, requires_grad=True)
    y = x * 2
    _refused(lambda: y.backward(data), "backward", parts)
    _refused(lambda: tg.gradients(y, data), "gradients", parts)
    _refused(lambda: list(tg.backward_steps(y, data)), "backward_steps", parts)
    _refused(lambda: tg.local_backward(y, data), "local_backward", parts)
    assert x.grad is None


@pytest.mark.parametrize("dtype", [complex, "complex64", "U3", object, "S3", "M8", "V8"])
def test_dtypes_that_are_not_real_numbers_are_refused(dtype: Any) -> None:
    with pytest.raises(TypeError, match="tensor: unsupported dtype"):
        tg.tensor([1.0], dtype=dtype)


def test_backward_accepts_what_torch_accepts() -> None:
    # numbers of any real dtype, bools, lists and tensors, cast to the output's dtype
    for seed in ([1, 2], [True, False], np.ones(2, np.float32), tg.tensor([1.0, 2.0]), (3, 4)):
        x = tg.tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
        u = torch.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).backward(seed)
        given = seed.data if isinstance(seed, tg.Tensor) else seed
        (u * 2).backward(torch.tensor(np.asarray(given, dtype=np.float32)))
        assert x.grad.dtype == np.float32
        np.testing.assert_array_equal(x.grad, u.grad.numpy())


# ----- casts that would lose the value -----


@pytest.mark.parametrize(
    ("data", "dtype", "shown"),
    [
        (300, np.int8, "300 does not fit in int8 (it holds -128 to 127)"),
        (-1, np.uint8, "-1 does not fit in uint8"),
        (2**63, np.int64, "9223372036854775808 does not fit in int64"),
        (2.0**63, np.int64, "9.223372036854776e+18 does not fit in int64"),
        (float("nan"), np.int64, "nan does not fit in int64"),
        ([1.0, float("inf")], np.int32, "inf does not fit in int32"),
        (np.array([-129.0]), np.int8, "-129.0 does not fit in int8"),
        (1e300, np.float32, "1e+300 does not fit in float32"),
        ([[1.0, -1e39]], np.float32, "-1e+39 does not fit in float32"),
        (70000, np.float16, "70000 does not fit in float16"),
    ],
)
def test_a_cast_that_would_lose_the_value_is_refused(data: Any, dtype: Any, shown: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's cast warnings never reach the user
        with pytest.raises(ValueError, match=f"^tensor: {re.escape(shown)}"):
            tg.tensor(data, dtype=dtype)


def test_torch_refuses_integer_overflow_too() -> None:
    with pytest.raises(RuntimeError, match="overflow"):
        torch.tensor(300, dtype=torch.int8)


def test_a_seed_that_overflows_the_output_dtype_is_refused() -> None:
    x = tg.tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    with pytest.raises(ValueError, match=r"^backward: 1e\+300 does not fit in float32"):
        (x * 2).backward(np.array([1e300, 1.0]))


@pytest.mark.parametrize(
    ("data", "dtype", "torch_dtype"),
    [
        ([1.7, -1.7, 127.9, -128.9], np.int8, torch.int8),  # cut toward 0, as torch
        ([-(2.0**63), 2.0**62], np.int64, torch.int64),  # the ends that fit
        ([0.0, 2.5, np.nan, -np.inf], bool, torch.bool),  # nonzero is True
        ([np.inf, -np.inf, np.nan], np.float32, torch.float32),  # already not finite
        ([1, 2**24 + 1], np.float32, torch.float32),  # rounding is not overflow
    ],
)
def test_casts_that_keep_the_value_match_torch(data: Any, dtype: Any, torch_dtype: Any) -> None:
    ours = tg.tensor(data, dtype=dtype).data
    theirs = torch.tensor(np.asarray(data, dtype=np.float64)).to(torch_dtype).numpy()
    np.testing.assert_array_equal(ours, theirs)
    assert ours.dtype == theirs.dtype


# ----- axis errors: AxisError (ValueError and IndexError) everywhere -----


def _axis_ops() -> list[str]:
    return sorted(n for n, info in tg.OPS.items() if {"axis", "axes"} & set(info.attrs))


REDUCTIONS = ["sum", "mean", "max", "min"]


def _call(name: str, x: tg.Tensor, axis: Any, how: str) -> Any:
    """Call the op ``name`` on x (or [x, x] for an op of a list) with ``axis``: as the
    function with its own keyword, with PyTorch's ``dim=``, or as the Tensor method."""
    info = tg.OPS[name]
    key = "axis" if "axis" in info.attrs else "axes"
    if key == "axes" and not isinstance(axis, tuple):
        axis = (axis, *range(1, x.ndim))  # a permutation names every axis
    operand = [x, x] if info.variadic else x
    method = next((m for m in info.methods if m.isidentifier() and m != "T"), None)
    if how == "method" and method is not None and not info.variadic:
        return getattr(x, method)(axis)
    if how == "dim" and key == "axis":
        return info.function(operand, dim=axis)
    return info.function(operand, **{key: axis})


def test_the_axis_ops_are_found() -> None:
    assert {*REDUCTIONS, "transpose"} <= set(_axis_ops())


@pytest.mark.parametrize("how", ["function", "method", "dim"])
@pytest.mark.parametrize("name", _axis_ops())
@pytest.mark.parametrize("axis", [7, -8])
def test_an_axis_out_of_range_is_both_value_and_index_error(name: str, axis: int, how: str) -> None:
    # Every op with an axis, as the registry lists them: ops added later are tried too.
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(np.exceptions.AxisError) as err:
        _call(name, x, axis, how)
    assert isinstance(err.value, ValueError) and isinstance(err.value, IndexError)
    assert str(err.value).startswith(f"{name}: "), str(err.value)


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", [2, -3, (0, 5), (0, -3)], ids=str)
def test_a_reduction_axis_out_of_range_names_it(name: str, axis: Any) -> None:
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(np.exceptions.AxisError) as err:
        _call(name, x, axis, "function")
    text = str(err.value)
    assert text.startswith(f"{name}: axis {axis!r} is out of range"), text
    assert "2 dimension" in text


@pytest.mark.parametrize("name", _axis_ops())
@pytest.mark.parametrize("axis", [1.0, "a"], ids=repr)
def test_an_axis_that_is_not_an_integer_is_a_type_error(name: str, axis: Any) -> None:
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(TypeError) as err:
        _call(name, x, axis, "function")
    assert str(err.value).startswith(f"{name}: "), str(err.value)
    if name in (*REDUCTIONS, "transpose"):
        assert "axis must be an int or a tuple of ints" in str(err.value)
    with pytest.raises(TypeError):
        np.sum(np.ones((2, 3)), axis=1.0)  # numpy agrees


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x.swapaxes(0, 2),
        lambda x: tg.swapaxes(x, -3, 0),
        lambda x: tg.tensor(1.0).sum(0),
        lambda x: tg.tensor(1.0, requires_grad=True).max(axis=0),
        lambda x: x.sum(np.int64(5)),
        lambda x: x.mean(dim=(0, 2), keepdim=True),
    ],
)
def test_other_axis_errors(make: Callable[[tg.Tensor], Any]) -> None:
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(np.exceptions.AxisError) as err:
        make(x)
    assert isinstance(err.value, IndexError) and isinstance(err.value, ValueError)


@pytest.mark.parametrize("axis", [1.0, "a", (0, 1)], ids=repr)
def test_swapaxes_of_something_not_an_axis_is_a_type_error(axis: Any) -> None:
    x = tg.tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match="^swapaxes: axis must be an int"):
        x.swapaxes(0, axis)


def test_except_index_error_catches_index_and_axis_errors_alike() -> None:
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    for make in (lambda: x[2], lambda: x[:, [0, 3]], lambda: x.sum(2), lambda: x.T.max(5)):
        try:
            make()
        except IndexError:
            continue
        raise AssertionError("no IndexError")
