"""Indexing read as numpy reads it, with gradients equal to PyTorch's (issue 12, item 1).

A list, tuple, array, tensor or any other sequence *inside* an index is an integer (or
boolean) array: ``x[(0, 0), :]`` picks row 0 twice, so the gradient of row 0 is 2, not 1
(it was 1 when the inner tuple was read as basic indexing). Every form below is run in
tensorgraph and in PyTorch with a random upstream gradient: values and gradients must
agree. Where PyTorch reads an index differently from numpy (a non-tuple list of lists,
advanced indices split by a slice, negative steps, uint8 arrays), the PyTorch side is
written out as the numpy meaning.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tensorgraph as tg

torch = pytest.importorskip("torch")

X0 = np.arange(1.0, 25.0).reshape(2, 3, 4)  # distinct entries, none 0


def _torch_index(index: Any) -> Any:
    """The same index for torch, every array part as a long (or bool) tensor."""
    if isinstance(index, tuple):
        return tuple(_torch_index(part) for part in index)
    if isinstance(index, list | tuple | np.ndarray | range):
        arr = np.array(index)
        if arr.dtype.kind == "b":
            return torch.from_numpy(arr.copy())
        return torch.from_numpy(arr.astype(np.int64))
    return index


# (index, how torch writes it: None = the same index)
FORMS: dict[str, tuple[Any, Callable[[Any], Any] | None]] = {
    # the six
    "x[(0, 0), :]": (((0, 0), slice(None)), None),
    "x[:, (2, 2, 2)]": ((slice(None), (2, 2, 2)), None),
    "x[..., (1, 1)]": ((Ellipsis, (1, 1)), None),
    "x[(0, 0), (1, 1)]": (((0, 0), (1, 1)), None),
    "x[0, (1, 1), :]": ((0, (1, 1), slice(None)), None),
    "x[((0, 0),)]": ((((0, 0),),), None),
    # nested lists and tuples: 2-d index arrays
    "x[[[0, 0], [1, 1]]]": ([[0, 0], [1, 1]], lambda u: u[torch.tensor([[0, 0], [1, 1]])]),
    "x[([[0, 0], [1, 1]],)]": (([[0, 0], [1, 1]],), None),
    "x[((0, 1), (1, 0)),]": ((((0, 1), (1, 0)),), None),
    "x[:, [[0], [2]], [1, 1]]": ((slice(None), [[0], [2]], [1, 1]), None),
    "x[(0, 1), :, (1, 1)]": (((0, 1), slice(None), (1, 1)), None),
    "x[(0,), (1,), (2,)]": (((0,), (1,), (2,)), None),
    # bool tuples and lists: masks
    "x[(True, False),]": (((True, False),), None),
    "x[[True, False]]": ([True, False], None),
    "x[:, (True, False, True)]": ((slice(None), (True, False, True)), None),
    "x[x > 5]": (X0 > 5, None),
    "x[x[:, :, 0] > 15, (1, 1)]": ((X0[:, :, 0] > 15, (1, 1)), None),
    # negative repeats
    "x[(-1, -1),]": (((-1, -1),), None),
    "x[:, (-1, -1, -3)]": ((slice(None), (-1, -1, -3)), None),
    "x[[-2, 0, -2]]": ([-2, 0, -2], None),
    # None / np.newaxis mixed in
    "x[None, (0, 0)]": ((None, (0, 0)), None),
    "x[(0, 0), None, :]": (((0, 0), None, slice(None)), None),
    "x[np.newaxis, ..., (1, 1)]": ((np.newaxis, Ellipsis, (1, 1)), None),
    "x[(1, 1), np.newaxis, :, None]": (((1, 1), None, slice(None), None), None),
    # empty index lists
    "x[[]]": ([], None),
    "x[([],)]": (([],), None),
    "x[:, []]": ((slice(None), []), None),
    "x[np.array([], int)]": (np.array([], dtype=int), None),
    "x[(), ...]": (((), Ellipsis), lambda u: u[torch.tensor([], dtype=torch.long)]),
    # arrays of other integer types, 0-d arrays, numpy integers
    "x[np.array([1, 1], np.uint8)]": (
        np.array([1, 1], dtype=np.uint8),
        lambda u: u[torch.tensor([1, 1])],
    ),
    "x[np.array(1), np.array(0)]": ((np.array(1), np.array(0)), None),
    "x[(np.int64(1), np.int64(1)),]": (((np.int64(1), np.int64(1)),), None),
    "x[[np.int64(0), 0]]": ([np.int64(0), 0], None),
    "x[range(2), 0]": ((range(2), 0), None),
    # a whole-number float tensor (what tg.tensor makes of ints) and a bool tensor
    "x[tg.tensor([1, 1])]": (tg.tensor([1, 1]), lambda u: u[torch.tensor([1, 1])]),
    "x[np.array([1.0, -1.0])]": (  # whole-number floats: accepted, unlike numpy
        np.array([1.0, -1.0]),
        lambda u: u[torch.tensor([1, -1])],
    ),
    "x[tg.tensor(x) > 5]": (tg.tensor(X0) > 5, lambda u: u[torch.from_numpy(X0 > 5)]),
    # numpy's meaning where torch's differs
    "x[0, :, (1, 1)]": (  # advanced indices split by a slice: their axis goes first
        (0, slice(None), (1, 1)),
        lambda u: u[0][:, [1, 1]].T,
    ),
    "x[::-1, (0, 0)]": (  # negative steps, which torch refuses
        (slice(None, None, -1), (0, 0)),
        lambda u: u.flip(0)[:, [0, 0]],
    ),
    "x[np.True_]": (np.True_, lambda u: u[None]),
    "x[True, (0, 0)]": ((True, (0, 0)), None),
    "x[(0, 0), True]": (((0, 0), True), None),
    "x[False]": (False, None),
}


def _run(x0: np.ndarray, index: Any, torch_form: Callable[[Any], Any] | None) -> None:
    x = tg.tensor(x0, requires_grad=True)
    u = torch.tensor(x0, requires_grad=True)
    y = x[index]
    v = torch_form(u) if torch_form is not None else u[_torch_index(index)]
    assert y.shape == tuple(v.shape), (y.shape, tuple(v.shape))
    np.testing.assert_array_equal(y.data, v.detach().numpy())
    if isinstance(index, tg.Tensor | np.ndarray) and index.dtype.kind == "f":
        index = np.asarray(index).astype(int)
    elif isinstance(index, tg.Tensor):
        index = index.data
    assert y.shape == x0[index].shape  # numpy's reading
    seed = np.random.default_rng(0).standard_normal(y.shape)
    (y * seed).sum().backward()
    (v * torch.from_numpy(seed)).sum().backward()
    np.testing.assert_allclose(x.grad, u.grad.numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("form", list(FORMS))
def test_index_form_matches_torch(form: str) -> None:
    index, torch_form = FORMS[form]
    _run(X0, index, torch_form)


def test_repeated_rows_add_up() -> None:
    # The first example, spelled out: half torch's gradient before the fix.
    x = tg.tensor(np.ones((2, 3)), requires_grad=True)
    x[(0, 0), :].sum().backward()
    assert x.grad.tolist() == [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]]


@pytest.mark.parametrize(
    ("index", "numpy_index"),
    [
        pytest.param(lambda: torch.tensor([0, 0, 2]), [0, 0, 2], id="torch tensor"),
        pytest.param(lambda: deque([0, 0, 2]), [0, 0, 2], id="deque"),
        pytest.param(
            lambda: (slice(None), torch.tensor([1, 1])), (slice(None), [1, 1]), id="torch in tuple"
        ),
        pytest.param(lambda: np.array([[0, 0]]).view(np.recarray), [[0, 0]], id="array subclass"),
    ],
)
def test_any_sequence_in_an_index_is_an_array(index: Callable[[], Any], numpy_index: Any) -> None:
    # numpy reads any sequence (or object with __array__) as an index array; these were
    # passed through as basic indexing, so repeated entries overwrote each other.
    x0 = np.arange(1.0, 7.0).reshape(3, 2)
    x = tg.tensor(x0, requires_grad=True)
    y = x[index()]
    np.testing.assert_array_equal(y.data, x0[numpy_index])
    y.sum().backward()
    counts = np.zeros_like(x0)
    np.add.at(counts, numpy_index, 1)
    np.testing.assert_array_equal(x.grad, counts)


def test_the_recorded_index_is_a_read_only_copy() -> None:
    rows = np.array([0, 0, 1])
    x = tg.tensor(np.ones((2, 2)), requires_grad=True)
    y = x[rows, (1, 1, 0)]
    kept_rows, kept_cols = y.attrs["index"]
    assert not np.shares_memory(kept_rows, rows)
    assert kept_cols.tolist() == [1, 1, 0] and kept_cols.dtype == np.intp
    with pytest.raises(ValueError, match="read-only"):
        kept_rows[0] = 1  # the record cannot be changed under backward's feet
    y.sum().backward()
    assert x.grad.tolist() == [[0.0, 2.0], [1.0, 0.0]]


def test_slice_bounds_are_read_when_the_op_runs() -> None:
    stop = np.array(1)  # a 0-d array bound, later changed
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x[:stop]
    stop[()] = 3
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 0.0, 0.0]
    assert y.attrs["index"] == slice(None, 1, None)


# ----- errors: IndexError (as numpy and torch), naming the op and the shape -----


@pytest.mark.parametrize(
    ("index", "parts"),
    [
        (5, ["index 5 is out of bounds", "(2, 3)"]),
        ((0, 5), ["index 5", "(2, 3)"]),
        ((0, 0, 0), ["too many indices", "(2, 3)"]),
        ([[0, 1], [0]], ["cannot read [[0, 1], [0]] as an index array"]),
        ([None, 0], ["only integers or booleans", "[None, 0]"]),
        ([slice(None), 0], ["only integers or booleans"]),
        ([2**70], ["only integers or booleans"]),
        ((0, [2**70]), ["only integers or booleans"]),
        ([1.5], ["non-integers", "1.5"]),
        (tg.tensor([np.nan]), ["non-integers", "nan"]),
        (np.array(["a"]), ["dtype <U1"]),
        (np.array([1 + 1j]), ["dtype complex128"]),
        ([[True, False, True]], ["boolean index did not match"]),
        ((Ellipsis, Ellipsis), ["single ellipsis"]),
        ((slice(None), (0, 3)), ["index 3 is out of bounds", "(2, 3)"]),
        (((0, 0), (1, 1, 1)), ["shape mismatch"]),
        (1.0, ["only integers"]),
        ("a", ["only integers"]),
        ({"a": 1}, ["only integers"]),
    ],
)
def test_bad_indices_raise_index_error(index: Any, parts: list[str]) -> None:
    x = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    with pytest.raises(IndexError) as err:
        x[index]
    text = str(err.value)
    assert text.startswith("index: "), text
    for part in parts:
        assert part in text, (part, text)


def test_a_float_slice_bound_is_a_type_error_as_in_numpy() -> None:
    x = tg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"index: slice indices must be integers"):
        x[0.5:]
    with pytest.raises(TypeError):
        np.zeros(2)[0.5:]  # numpy agrees
