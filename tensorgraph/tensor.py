"""The Tensor: a numpy array, its gradient, and the record of the op that made it.

Every operator and method of the class is written in its body as a one-line delegation
to the op in ``ops.py`` (``a + b`` is ``ops.add(a, b)``), so a reader finds ``+`` here
and its forward and backward rule there. This file knows no backward rule; it walks the
graph (:func:`backward_steps`) and lets each op's rule do the arithmetic.

The record a computed tensor keeps is public and is all the visualizer reads:

    t.op      the op's name ("mul", "matmul", ...), None for a leaf
    t.inputs  the input tensors, in order, duplicates kept (so a*a has two)
    t.attrs   the op's attributes (axis, index, ...), a dict

Nodes hold no reference cycles: an output points at its inputs and at a backward
function that closes over input *arrays*, never over the output itself. A dropped graph
is freed by reference counting alone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .anomaly import ANOMALY, check_grads, check_seed, watch
from .inplace import TrackedArray, check_node, check_unchanged, clock
from .modes import GRAD_ENABLED

# A backward rule: upstream gradient in, one gradient (or None) per input out.
Backward = Callable[[np.ndarray], Sequence[np.ndarray | None]]
Axis = int | tuple[int, ...] | None

_EMPTY: dict[str, Any] = {}
# Held while backward() reads the leaves' .grad and adds this pass into them: two threads
# sharing a leaf would otherwise interleave the read and the write (numpy lets go of the
# GIL while it adds), and one pass's gradient would be lost. PyTorch accumulates under a
# lock too.
_ACCUMULATING = threading.RLock()
_SHELL: Any = object()  # Tensor.__new__ without data: an empty object for copy and pickle


def _as_array(data: Any, dtype: Any = None, where: str = "tensor") -> np.ndarray:
    """Turn user data into a numeric array (ints and bools become float64 unless ``dtype``).

    Whatever ``dtype`` says, the data is checked first: strings, objects, None and
    complex numbers are refused rather than parsed, turned into NaN or cut to their
    real part.
    """
    if dtype is None:  # fast paths for what ops and leaves pass most: float arrays and floats
        if type(data) is np.ndarray and data.dtype.kind == "f":
            return data
        if type(data) is float:
            return np.array(data)
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, str | bytes):
        raise TypeError(f"{where}: expected numbers, got the string {data!r}")
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind not in "fiub":
            raise TypeError(f"{where}: unsupported dtype {dtype}; use a float dtype")
    try:
        arr = np.asarray(data)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{where}: cannot make a numeric tensor from {_short(data)}: {err}"
        ) from None
    if arr.dtype.kind == "c":
        raise TypeError(f"{where}: complex numbers are not supported (got {_short(data)})")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{where}: expected numbers, got {arr.dtype} data {_short(data)}")
    if dtype is not None:
        return _cast(arr, dtype, where)
    if arr.dtype.kind in "iub":
        return arr.astype(np.float64)
    return arr


def _cast(arr: np.ndarray, dtype: np.dtype, where: str) -> np.ndarray:
    """``arr`` as ``dtype``, refusing values the cast would lose rather than wrapping or
    garbling them: NaN, inf or out-of-range values into an integer dtype (numpy and
    PyTorch refuse those too), finite values that would overflow to inf. Fractions are
    cut toward 0, as numpy and PyTorch do."""
    if arr.dtype == dtype:
        return arr
    bad = None
    if dtype.kind in "iu" and arr.dtype.kind in "fiu":
        low, high = np.iinfo(dtype).min, np.iinfo(dtype).max
        if arr.dtype.kind == "f":
            bad = ~np.isfinite(arr) | (np.trunc(arr) < low) | (arr >= high + 1)
        else:
            bad = (arr < low) | (arr > high)
        out = None if bad.any() else arr.astype(dtype)
    else:
        with np.errstate(over="ignore"):
            out = arr.astype(dtype)
        if dtype.kind == "f" and arr.dtype.kind in "fiu":
            bad = np.isinf(out) & ~np.isinf(arr)
    if bad is not None and bad.any():
        value = arr[np.unravel_index(int(np.argmax(bad)), arr.shape)].item()
        holds = (
            f"{np.iinfo(dtype).min} to {np.iinfo(dtype).max}"
            if dtype.kind in "iu"
            else f"finite values up to {np.finfo(dtype).max:.3g} in size"
        )
        raise ValueError(f"{where}: {value!r} does not fit in {dtype} (it holds {holds})")
    return out


def _axis_args(axis: Axis, keepdims: bool, torch_names: dict[str, Any]) -> tuple[Axis, bool]:
    """A reduction method's (axis, keepdims), with PyTorch's ``dim``/``keepdim`` as synonyms."""
    if not torch_names:
        return axis, keepdims
    given = {"axis": axis, "keepdims": keepdims}
    for key, value in torch_names.items():
        ours = {"dim": "axis", "keepdim": "keepdims"}.get(key)
        if ours is None:
            raise TypeError(f"got an unexpected keyword argument {key!r}")
        if given[ours] is not (None if ours == "axis" else False):
            raise TypeError(f"got both {ours} and {key}; give one")
        given[ours] = value
    return given["axis"], given["keepdims"]


# The ufuncs of numpy's operators, with the Tensor operator that records each one when the
# tensor is on the right (`ndarray + t` is np.add(ndarray, t): Tensor.__radd__) or left.
_OPERATOR_UFUNCS = {
    np.add: ("__add__", "__radd__"),
    np.subtract: ("__sub__", "__rsub__"),
    np.multiply: ("__mul__", "__rmul__"),
    np.true_divide: ("__truediv__", "__rtruediv__"),
    np.matmul: ("__matmul__", "__rmatmul__"),
    np.power: ("__pow__", "__rpow__"),
    np.less: ("__lt__", "__gt__"),
    np.less_equal: ("__le__", "__ge__"),
    np.greater: ("__gt__", "__lt__"),
    np.greater_equal: ("__ge__", "__le__"),
    np.equal: ("__eq__", "__eq__"),
    np.not_equal: ("__ne__", "__ne__"),
}
# numpy's name for a ufunc -> how tensorgraph writes it, where the names differ.
_UFUNC_NAMES = {
    "absolute": "tg.abs(t)",
    "fabs": "tg.abs(t)",
    "negative": "-t",
    "square": "t ** 2",
    "reciprocal": "1 / t",
    "exp2": "2 ** t",
}


def _numpy_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kw: dict) -> Any:
    """What a numpy ufunc does with a tensor among its operands (``Tensor.__array_ufunc__``).

    numpy's operators with an array on one side (``ndarray + t``, ``a < t``) record the op
    through the tensor's own operator, as if numpy had stepped aside. Every other use
    (``np.exp(t)``, ``np.maximum(z, w)``, ``out=``) raises a TypeError naming the
    tensorgraph op to use: numpy would compute numbers but record no gate, so no gradient.

    >>> import numpy as np, tensorgraph as tg
    >>> np.ones(2) + tg.tensor([1.0, 2.0], requires_grad=True)
    tensor([2., 3.], op='add', requires_grad=True)
    >>> np.exp(tg.tensor(0.0))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: np.exp on a tensorgraph tensor: ... use tg.exp(t) (...)
    """
    names = _OPERATOR_UFUNCS.get(ufunc)
    if names is not None and method == "__call__" and len(inputs) == 2:
        a, b = inputs
        # `array += t` is np.add(array, t, out=(array,)): as before numpy had a say, the
        # name is rebound to the recorded result (an array cannot hold a graph).
        if not kw or (kw.keys() == {"out"} and kw["out"][0] is a and not isinstance(a, Tensor)):
            return getattr(a, names[0])(b) if isinstance(a, Tensor) else getattr(b, names[1])(a)
    name = ufunc.__name__
    data = "t.data" if len(inputs) == 1 else "a.data, b.data" if len(inputs) == 2 else "..."
    if method != "__call__" or kw:
        shown = f"np.{name}.{method}" if method != "__call__" else f"np.{name}(..., {_kw_list(kw)})"
        hint = "use tensorgraph's ops on the tensor (t.sum(), tg.max(t, axis), ...)"
    else:
        shown = f"np.{name}"
        args = "t" if len(inputs) == 1 else ", ".join("abcd"[: len(inputs)])
        info = ops.OPS.get(name)
        spelled = f"tg.{name}({args})" if info is not None else _UFUNC_NAMES.get(name)
        hint = (
            f"use {spelled}" if spelled else f"tensorgraph has no {name} op; build it from tg ops"
        )
    raise TypeError(
        f"{shown} on a tensorgraph tensor: numpy would compute the numbers but record no gate, "
        f"so no gradient flows back; {hint} (np.{name}({data}) for the numbers alone)"
    )


def _kw_list(kw: dict[str, Any]) -> str:
    """``out=..., dtype=...``: the keywords of a call, for a message."""
    return ", ".join(f"{k}=..." for k in kw)


def _short(obj: Any, limit: int = 60) -> str:
    """``repr(obj)``, cut to ``limit`` characters for an error message."""
    text = repr(obj)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Tensor:
    """An n-dimensional array that records how it was computed.

    Make one with :func:`tensorgraph.tensor`. Arithmetic on tensors builds a graph;
    ``backward()`` fills ``.grad`` on every tensor of the graph that requires one.

    >>> import tensorgraph as tg
    >>> x = tg.tensor(3.0, requires_grad=True)
    >>> y = x * x + 1
    >>> y.backward()
    >>> y.item(), x.grad.item()
    (10.0, 6.0)
    """

    __slots__ = ("_data", "grad", "requires_grad", "name", "op", "inputs", "attrs", "_backward")
    # _seq: creation order of computed tensors, a tick of inplace.clock. Inputs always exist
    # before the ops that use them, so sorting a graph by _seq is a topological order
    # (backward relies on it); in-place writes tick the same clock (inplace.py).
    __slots__ += ("_seq", "__weakref__")
    # _freed: a backward() without retain_graph has run through this gate; a second one
    # is refused, as PyTorch refuses it (the arrays stay: replays through
    # backward_steps and gradients still work).
    __slots__ += ("_freed",)

    # numpy must not treat a Tensor as an array-like inside its own ufuncs: `ndarray +
    # Tensor` goes to Tensor.__radd__, which records the op, and np.exp(t) raises, saying
    # to use tg.exp (_numpy_ufunc). (numpy calls this for every ufunc a tensor meets.)
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return _numpy_ufunc(ufunc, method, inputs, kwargs)

    _data: np.ndarray  # the engine's own handle on the values; users get .data
    grad: np.ndarray | None
    requires_grad: bool
    name: str | None
    op: str | None
    inputs: tuple[Tensor, ...]
    attrs: dict[str, Any]

    def __new__(
        cls,
        data: Any = _SHELL,
        requires_grad: bool = False,
        name: str | None = None,
        dtype: Any = None,
    ) -> Tensor:
        if data is _SHELL:  # copy.copy and pickle make the object, then fill in its slots
            return object.__new__(cls)
        return _leaf(cls, data, requires_grad, name, dtype)

    @classmethod
    def _make(
        cls,
        data: np.ndarray,
        op: str | None,
        inputs: tuple[Tensor, ...],
        backward: Backward | None,
        attrs: dict[str, Any] | None = None,
    ) -> Tensor:
        """The result of an op (ops.py calls this through the registry): see ``_new``."""
        return _new(cls, data, op, inputs, backward, attrs)

    # ----- the values -----

    @property
    def data(self) -> np.ndarray:
        """The values, as a numpy array sharing the tensor's memory.

        Write to it freely (``W.data -= lr * W.grad``): it is a :class:`TrackedArray`,
        which logs in-place writes, so a ``backward()`` through a graph built *before*
        the write raises ``ModifiedInPlaceError`` instead of giving a wrong gradient.
        Assigning a new array (``x.data = a``) rebinds the tensor; graphs already built
        keep the values they computed with, so their gradients stay right (PyTorch
        would read the new values in backward).

        >>> import tensorgraph as tg
        >>> x = tg.tensor([1.0, 2.0])
        >>> x.data[0] = 5.0
        >>> x.data
        array([5., 2.])
        """
        return self._data.view(TrackedArray)

    @data.setter
    def data(self, value: Any) -> None:
        old = self._data
        if (
            isinstance(value, TrackedArray)
            and value.base is old
            and value.shape == old.shape
            and value.strides == old.strides
            and value.dtype == old.dtype
        ):
            # `x.data -= v`: numpy already wrote (and logged) in place. (A view of old with
            # old's shape and strides starts where old starts; a view this test misses is
            # rebound below, which is equally right, just slower.)
            return
        new = _as_array(value, where="data")  # integers become float64, as in tg.tensor
        if self.grad is not None and self.grad.shape != new.shape:
            raise ValueError(
                f"data: the new values have shape {new.shape} but .grad has shape "
                f"{self.grad.shape}; call zero_grad() first"
            )
        self._data = new

    # ----- array-like attributes -----

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``data``."""
        return self._data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions of ``data``."""
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype of ``data``."""
        return self._data.dtype

    @property
    def size(self) -> int:
        """The number of entries of ``data``."""
        return self._data.size

    @property
    def is_leaf(self) -> bool:
        """True for a tensor no op made (an input, a parameter or a constant)."""
        return self.op is None

    def item(self) -> float:
        """The value of a one-element tensor as a Python number.

        >>> import tensorgraph as tg
        >>> tg.tensor([[2.5]]).item()
        2.5
        """
        if self._data.size != 1:
            raise ValueError(
                f"item: only one-element tensors have an item, this one is {self.shape}"
            )
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The data as a numpy array (shared, not copied, as in PyTorch): ``.data``.

        >>> import tensorgraph as tg
        >>> tg.tensor([1, 2]).numpy()
        array([1., 2.])
        """
        return self._data.view(TrackedArray)

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, cut from the graph.

        >>> import tensorgraph as tg
        >>> x = tg.tensor(2.0, requires_grad=True)
        >>> (x * 3).detach().requires_grad
        False
        """
        return Tensor(self._data, name=self.name)

    def zero_grad(self) -> None:
        """Forget this tensor's gradient (leaf gradients otherwise accumulate).

        >>> import tensorgraph as tg
        >>> x = tg.tensor(2.0, requires_grad=True)
        >>> (x * x).backward(); x.zero_grad(); x.grad is None
        True
        """
        self.grad = None

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        # np.asarray(t) is for reading: a read-only view, because a write through it would
        # bypass the in-place log (inplace.py). Write through t.data instead.
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)
        if copy:
            return self._data.copy()
        view = self._data.view()
        view.flags.writeable = False
        return view

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; "
                "use .any() or .all() on .data"
            )
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    @classmethod
    def __torch_function__(
        cls, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None
    ) -> Any:
        # PyTorch's protocol for tensor-like objects: a tg.Tensor handed to a torch function
        # arrives as a torch tensor (a copy, without gradient), so torch_model.
        # load_state_dict(tg_model.state_dict()) works as it stands (interop.py).
        from .interop import torch_function

        return torch_function(func, args, kwargs)

    # Hashing by identity (as torch does) keeps tensors usable as dict keys even though
    # == compares elementwise.
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self._data, precision=4, separator=", ", threshold=20, edgeitems=2)
        body = body.replace("\n", "\n       ")
        extras = []
        if self._data.dtype != np.float64:
            extras.append(f"dtype={self._data.dtype}")
        if self.name is not None:
            extras.append(f"name={self.name!r}")
        if self.op is not None and self.requires_grad:  # as torch shows grad_fn
            extras.append(f"op={self.op!r}")
        if self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # ----- operators and methods: each one line, the op itself is in ops.py -----

    def __add__(self, other: Operand) -> Tensor:
        return ops.add(self, other)

    def __radd__(self, other: Operand) -> Tensor:
        return ops.add(other, self)

    def __sub__(self, other: Operand) -> Tensor:
        return ops.sub(self, other)

    def __rsub__(self, other: Operand) -> Tensor:
        return ops.sub(other, self)

    def __mul__(self, other: Operand) -> Tensor:
        return ops.mul(self, other)

    def __rmul__(self, other: Operand) -> Tensor:
        return ops.mul(other, self)

    def __truediv__(self, other: Operand) -> Tensor:
        return ops.div(self, other)

    def __rtruediv__(self, other: Operand) -> Tensor:
        return ops.div(other, self)

    def __matmul__(self, other: Operand) -> Tensor:
        return ops.matmul(self, other)

    def __rmatmul__(self, other: Operand) -> Tensor:
        return ops.matmul(other, self)

    def __pow__(self, exponent: Operand) -> Tensor:
        return ops.raise_to(self, exponent)

    def __rpow__(self, base: Operand) -> Tensor:
        return ops.power(base, self)

    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __abs__(self) -> Tensor:
        return ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        return ops.index(self, index)

    # In place, as in PyTorch: under no_grad the tensor's own memory changes (W -= lr * g).
    def __iadd__(self, other: Operand) -> Tensor:
        return ops.update_in_place(self, "+=", other)

    def __isub__(self, other: Operand) -> Tensor:
        return ops.update_in_place(self, "-=", other)

    def __imul__(self, other: Operand) -> Tensor:
        return ops.update_in_place(self, "*=", other)

    def __itruediv__(self, other: Operand) -> Tensor:
        return ops.update_in_place(self, "/=", other)

    # Comparisons give bool tensors that carry no gradient.
    def __lt__(self, other: Operand) -> Tensor:  # type: ignore[override]
        return ops.compare(np.less, self, other)

    def __le__(self, other: Operand) -> Tensor:  # type: ignore[override]
        return ops.compare(np.less_equal, self, other)

    def __gt__(self, other: Operand) -> Tensor:  # type: ignore[override]
        return ops.compare(np.greater, self, other)

    def __ge__(self, other: Operand) -> Tensor:  # type: ignore[override]
        return ops.compare(np.greater_equal, self, other)

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return ops.compare(np.equal, self, other)

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return ops.compare(np.not_equal, self, other)

    def sum(self, axis: Axis = None, keepdims: bool = False, **dim: Any) -> Tensor:
        """``tg.sum(self, axis, keepdims)``; PyTorch's ``dim``, ``keepdim`` work too."""
        return ops.sum(self, *_axis_args(axis, keepdims, dim))

    def mean(self, axis: Axis = None, keepdims: bool = False, **dim: Any) -> Tensor:
        """``tg.mean(self, axis, keepdims)``; PyTorch's ``dim``, ``keepdim`` work too."""
        return ops.mean(self, *_axis_args(axis, keepdims, dim))

    def max(self, axis: Axis = None, keepdims: bool = False, **dim: Any) -> Tensor:
        """``tg.max(self, axis, keepdims)``, the reduction (``tg.maximum`` is the gate)."""
        return ops.max(self, *_axis_args(axis, keepdims, dim))

    def min(self, axis: Axis = None, keepdims: bool = False, **dim: Any) -> Tensor:
        """``tg.min(self, axis, keepdims)``, the reduction (``tg.minimum`` is the gate)."""
        return ops.min(self, *_axis_args(axis, keepdims, dim))

    def exp(self) -> Tensor:
        """``tg.exp(self)``."""
        return ops.exp(self)

    def log(self) -> Tensor:
        """``tg.log(self)``."""
        return ops.log(self)

    def sqrt(self) -> Tensor:
        """``tg.sqrt(self)``."""
        return ops.sqrt(self)

    def tanh(self) -> Tensor:
        """``tg.tanh(self)``."""
        return ops.tanh(self)

    def sigmoid(self) -> Tensor:
        """``tg.sigmoid(self)``."""
        return ops.sigmoid(self)

    def relu(self) -> Tensor:
        """``tg.relu(self)``."""
        return ops.relu(self)

    def abs(self) -> Tensor:
        """``tg.abs(self)``."""
        return ops.abs(self)

    def log1p(self) -> Tensor:
        """``tg.log1p(self)``."""
        return ops.log1p(self)

    def expm1(self) -> Tensor:
        """``tg.expm1(self)``."""
        return ops.expm1(self)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        """``tg.clamp(self, min, max)``."""
        return ops.clamp(self, min, max)

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:  # noqa: A002
        """``tg.clip(self, min, max)``: numpy's name for ``clamp``."""
        return ops.clamp(self, min, max)

    def softmax(self, *axis: Any, **dim: Any) -> Tensor:
        """``tg.softmax(self, axis=-1)``; PyTorch's ``dim`` works too."""
        return ops.softmax(self, *axis, **dim)

    def log_softmax(self, *axis: Any, **dim: Any) -> Tensor:
        """``tg.log_softmax(self, axis=-1)``; PyTorch's ``dim`` works too."""
        return ops.log_softmax(self, *axis, **dim)

    def logsumexp(self, *axis: Any, **dim: Any) -> Tensor:
        """``tg.logsumexp(self, axis=None, keepdims=False)``; ``dim``, ``keepdim`` too."""
        return ops.logsumexp(self, *axis, **dim)

    def var(self, *axis: Any, **dim: Any) -> Tensor:
        """``tg.var(self, axis=None, correction=1, keepdims=False)``, as ``torch.var``."""
        return ops.var(self, *axis, **dim)

    def std(self, *axis: Any, **dim: Any) -> Tensor:
        """``tg.std(self, axis=None, correction=1, keepdims=False)``, as ``torch.std``."""
        return ops.std(self, *axis, **dim)

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """``tg.reshape(self, shape)``; ``t.reshape(2, 3)`` and ``t.reshape((2, 3))`` alike."""
        return ops.reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: int | tuple[int, ...]) -> Tensor:
        """``tg.transpose(self, axes)``: numpy's axis permutation (none: reverse them).

        ``x.transpose(0, 1)`` on a 2-D tensor, numpy's identity but PyTorch's transpose,
        is refused: write ``x.T``, ``x.t()`` or ``x.swapaxes(0, 1)``."""
        return ops.transpose(self, ops._method_axes(self, axes))

    def t(self) -> Tensor:
        """PyTorch's ``t()``: a tensor of at most 2 dimensions with its axes reversed."""
        return ops.transpose(self, ops._t_axes(self))

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """``tg.swapaxes(self, axis1, axis2)``: PyTorch's ``transpose(dim0, dim1)``."""
        return ops.swapaxes(self, axis1, axis2)

    def squeeze(self, *axis: Any, **dim: Any) -> Tensor:
        """``tg.squeeze(self, axis=None)``: drop axes of size 1."""
        return ops.squeeze(self, *axis, **dim)

    def unsqueeze(self, *axis: Any, **dim: Any) -> Tensor:
        """``tg.unsqueeze(self, axis)``: a new axis of size 1."""
        return ops.unsqueeze(self, *axis, **dim)

    def flatten(self, *start_end: Any, **dims: Any) -> Tensor:
        """``tg.flatten(self, start=0, end=-1)``; ``start_dim``, ``end_dim`` work too."""
        return ops.flatten(self, *start_end, **dims)

    def astype(self, dtype: Any) -> Tensor:
        """``tg.astype(self, dtype)``: a differentiable cast to another float dtype."""
        return ops.astype(self, dtype)

    def float(self) -> Tensor:
        """``self.astype(np.float32)``, as ``torch.Tensor.float``."""
        return ops.astype(self, np.float32)

    def double(self) -> Tensor:
        """``self.astype(np.float64)``, as ``torch.Tensor.double``."""
        return ops.astype(self, np.float64)

    @property
    def T(self) -> Tensor:
        """The tensor with its axes reversed (a transpose op)."""
        return ops.transpose(self, None)

    # ----- backward -----

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Backpropagate from this tensor, filling ``.grad`` on the graph.

        The seed ``grad`` defaults to 1 for a one-element tensor. Leaf gradients
        accumulate across calls, as in PyTorch (call ``zero_grad()`` to clear one);
        gradients of computed tensors are reset at the start of each call.

        As in PyTorch, a graph is backpropagated through once: a second ``backward()``
        through any gate an earlier one went through raises a RuntimeError (it would
        add the same gradients to every leaf's ``.grad`` again), unless that earlier
        call passed ``retain_graph=True``. For the next step, call ``zero_grad()`` and
        build the graph anew. ``tg.backward_steps`` and ``tg.gradients`` (and the
        drawings that replay through them) store nothing and work any number of times.

        >>> import tensorgraph as tg
        >>> x = tg.tensor([1.0, 2.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> y.backward(retain_graph=True)
        >>> y.backward()  # twice on purpose: the gradients add up
        >>> x.grad
        array([4., 8.])
        """
        order, seed = _start(self, grad, "backward")
        for node in order:
            if node._freed:
                raise _freed_error(node)
        freed = not retain_graph
        with _ACCUMULATING:  # passes in other threads may share a leaf (W): one at a time
            sums: dict[Tensor, np.ndarray] = {}
            for node in order:
                if node._backward is not None:
                    node.grad = None  # intermediates start afresh each pass
                    node._freed = freed
                elif node.grad is not None:
                    sums[node] = node.grad  # leaf gradients accumulate across passes
            if self._backward is None:  # backward() of a leaf: its gradient is the seed
                seed = np.array(seed) if self.grad is None else np.asarray(self.grad + seed)
            sums[self] = self.grad = seed
            _backprop(order, sums, store=True)


# What an op or operator accepts: a tensor, a number or an array.
Operand = Tensor | float | int | np.ndarray


def _leaf(
    cls: type[Tensor], data: Any, requires_grad: bool, name: str | None, dtype: Any
) -> Tensor:
    """A leaf from user data, checked: what ``Tensor(...)`` and ``tg.tensor(...)`` make."""
    data = _as_array(data, dtype)
    if requires_grad and data.dtype.kind != "f":
        raise TypeError(
            f"tensor: only floating-point tensors can require gradients, got {data.dtype}"
        )
    if name is not None and not isinstance(name, str):
        raise TypeError(f"tensor: name must be a string, got {_short(name)}")
    t = _new(cls, data, None, (), None, None)
    t.requires_grad = bool(requires_grad)
    t.name = name
    return t


def _new(
    cls: type[Tensor],
    data: np.ndarray,
    op: str | None,
    inputs: tuple[Tensor, ...],
    backward: Backward | None,
    attrs: dict[str, Any] | None,
) -> Tensor:
    """A new tensor: the result of an op, or with ``op`` None a leaf. This is the one place
    every field is set. Where grad mode is off (``no_grad``) an op's result is a plain
    leaf too."""
    t = object.__new__(cls)
    # numpy ufuncs and full reductions return numpy scalars; .data is always an array.
    t._data = data if type(data) is np.ndarray else np.asarray(data)
    t.grad = None
    t.name = None
    t._freed = False
    if op is not None and GRAD_ENABLED.get():
        requires_grad = False
        for i in inputs:  # a plain loop: any(<generator>) costs more for 1-2 inputs
            if i.requires_grad:
                requires_grad = True
                break
        t.requires_grad = requires_grad
        t.op = op
        t.inputs = inputs
        t.attrs = attrs or _EMPTY
        t._backward = backward
        t._seq = next(clock)
        if ANOMALY.value:  # tg.detect_anomaly() (anomaly.py); one flag read when off
            t._backward = watch(t, op, inputs, backward)
    else:
        t.requires_grad = False
        t.op = None
        t.inputs = ()
        t.attrs = _EMPTY
        t._backward = None
        t._seq = -1
        if op is not None and ANOMALY.value:  # the forward is checked under no_grad too
            watch(t, op, inputs, None)
    return t


@dataclass(frozen=True)
class BackwardStep:
    """One gate of a backward pass, as :func:`backward_steps` yields it.

    ``node`` is the gate's output tensor and ``upstream`` its whole gradient ∂out/∂node
    (complete: every consumer of a tensor runs before its maker). Per input, in order
    (duplicates kept): ``sent`` is what the gate sends it (summed to the input's shape;
    None where the input needs no gradient), ``before`` its running gradient before this
    edge and ``after`` the sum after it (``before + sent``; None where nothing arrived).

    >>> import tensorgraph as tg
    >>> x = tg.tensor(2.0, requires_grad=True)
    >>> step = next(tg.backward_steps(x * x))
    >>> float(step.upstream), [float(g) for g in step.sent], step.before[0] is None
    (1.0, [2.0, 2.0], True)
    """

    node: Tensor
    upstream: np.ndarray
    sent: tuple[np.ndarray | None, ...]
    before: tuple[np.ndarray | None, ...]
    after: tuple[np.ndarray | None, ...]


def backward_steps(root: Tensor, grad: Any = None) -> Iterator[BackwardStep]:
    """The backward pass of ``root``, gate by gate in the engine's order, storing nothing.

    The same walk ``root.backward()`` makes (it is the same code), but no ``.grad``
    changes: each step says what reached the gate, what it sends to each input and the
    running sums. The step-by-step player and the gradient-check overlay replay
    backward through this.

    >>> import tensorgraph as tg
    >>> x = tg.tensor(3.0, requires_grad=True, name="x")
    >>> [(s.node.op, [float(g) for g in s.sent]) for s in backward_steps(x * x)]
    [('mul', [3.0, 3.0])]
    >>> [float(g) for g in next(backward_steps(x * x)).after]
    [3.0, 6.0]
    """
    order, seed = _start(root, grad, "backward_steps")
    sums = {root: seed}
    steps: list[BackwardStep] = []
    _backprop(order, sums, steps)
    yield from steps


def gradients(root: Tensor, grad: Any = None) -> dict[Tensor, np.ndarray]:
    """∂root/∂t for every tensor t of root's graph that requires a gradient, storing nothing.

    The numbers ``root.backward()`` would put in each ``.grad`` (intermediates too, and a
    leaf's share of this pass alone), as a dict keyed by tensor; ``.grad`` is untouched.

    >>> import tensorgraph as tg
    >>> x = tg.tensor(3.0, requires_grad=True)
    >>> float(gradients(x * x)[x]), x.grad is None
    (6.0, True)
    """
    order, seed = _start(root, grad, "gradients")
    sums = {root: seed}
    _backprop(order, sums)
    return sums


class SeedError(RuntimeError, ValueError):
    """The gradient a backward pass should start from is missing or has the wrong shape.

    A RuntimeError, as PyTorch raises, and a ValueError (a bad argument), so either
    ``except`` catches it.

    >>> import tensorgraph as tg
    >>> try:
    ...     tg.tensor([1.0, 2.0], requires_grad=True).backward()
    ... except ValueError as err:
    ...     print(str(err)[:40])
    backward: the output has shape (2,); pas
    """


def _start(root: Tensor, grad: Any, where: str) -> tuple[list[Tensor], np.ndarray]:
    """What every backward pass checks before any gradient moves: the graph's order, the
    seed, and that no array its rules hold was changed in place since its op ran."""
    seed = _seed(root, grad, where)
    order = topological_order(root)
    check_unchanged(order)
    return order, seed


def _seed(root: Tensor, grad: Any, where: str) -> np.ndarray:
    """The gradient a backward pass starts from: ``grad``, or 1 for a one-element output."""
    if not isinstance(root, Tensor):
        raise TypeError(f"{where}: expected a tensorgraph Tensor, got {type(root).__name__}")
    if not root.requires_grad:
        raise RuntimeError(
            f"{where}: this tensor does not require a gradient: no input on its path was "
            "made with requires_grad=True"
            + (" (it was computed under tg.no_grad())" if root.op is None else "")
        )
    data = root._data
    if grad is None:
        if data.size != 1:
            raise SeedError(
                f"{where}: the output has shape {root.shape}; pass grad= of that shape "
                "(a seed of 1 only makes sense for a one-element output)"
            )
        seed = np.array(1, data.dtype).reshape(data.shape)  # C-level, unlike np.ones
    else:
        seed = _as_array(grad, data.dtype, where=where)
        if seed.shape != data.shape:
            raise SeedError(
                f"{where}: grad has shape {seed.shape} but the output has shape {root.shape}"
            )
    if ANOMALY.value:  # tg.detect_anomaly(): the seed must be finite too
        check_seed(seed)
    return seed


def _freed_error(node: Tensor) -> RuntimeError:
    """The error of a second ``backward()`` through ``node``, a gate an earlier one freed."""
    what = f"{node.op} (output {node.name!r}, " if node.name else f"{node.op} (output "
    return RuntimeError(
        f"backward: this graph was already backpropagated through: an earlier backward() "
        f"went through its gate {what}shape {node.shape}), and a second pass would add "
        "the same gradients to every leaf's .grad again. For a new step, call zero_grad() "
        "and build the graph again (a new forward pass); to go through the same graph "
        "twice on purpose (two losses sharing a part, say), pass retain_graph=True to "
        "every backward() but the last, as in PyTorch"
    )


def _backprop(
    order: list[Tensor],
    sums: dict[Tensor, np.ndarray],
    steps: list[BackwardStep] | None = None,
    store: bool = False,
) -> None:
    """The backward pass, written once: every gate of ``order`` in reverse, each sending
    its upstream gradient through its rule to its inputs, summed into ``sums``. (The
    callers check the graph first, with :func:`_start`.)

    ``sums`` starts with the seed of the root (and, for ``backward()``, the leaves'
    gradients of earlier passes) and ends with every tensor's gradient. Given a list
    ``steps``, a :class:`BackwardStep` per gate is appended to it; with ``store`` each
    sum is also written to the tensor's ``.grad`` as it is made (``backward()``).
    """
    anomaly = ANOMALY.value
    recording = steps is not None
    record: list[tuple[Any, Any, Any]] = []
    get = sums.get
    ndarray = np.ndarray
    for node in reversed(order):
        rule = node._backward
        if rule is None:
            continue
        upstream = get(node)
        if upstream is None:
            continue
        sent = rule(upstream)
        if anomaly:  # tg.detect_anomaly(): no NaN or inf flows on
            check_grads(node, upstream, sent)
        if recording:
            record = []
        for inp, g in zip(node.inputs, sent, strict=True):
            if g is None or not inp.requires_grad:
                if recording:
                    record.append((None, get(inp), get(inp)))
                continue
            data = inp._data
            if type(g) is not ndarray:
                g = np.asarray(g)  # numpy returns scalars for 0-d arithmetic
            if g.shape != data.shape:
                g = unbroadcast(g, data.shape)
            if g.dtype != data.dtype:
                g = g.astype(data.dtype)
            old = get(inp)
            if old is None:
                # A leaf's gradient becomes the user's array: never one the walk shares with
                # another node (add sends g to both sides), so it is copied on arrival.
                new = g if inp._backward is not None else np.array(g)
            else:
                # Never written in place: a gradient array may be shared (add sends g to
                # both sides), so a sum is always a new array.
                new = old + g
                if type(new) is not ndarray:  # 0-d + 0-d gives a numpy scalar
                    new = np.asarray(new)
            sums[inp] = new
            if store:
                inp.grad = new
            if recording:
                record.append((g, old, new))
        if recording:
            sent_, before, after = zip(*record, strict=True) if record else ((), (), ())
            steps.append(BackwardStep(node, upstream, sent_, before, after))


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` down to ``shape``, undoing numpy broadcasting.

    >>> unbroadcast(np.ones((2, 3)), (3,))
    array([2., 2., 2.])
    """
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def topological_order(root: Tensor) -> list[Tensor]:
    """Every tensor of root's graph that requires a gradient, inputs before outputs.

    Iterative (a worklist and a sort by creation order, no recursion), so graphs of any
    depth work.

    >>> import tensorgraph as tg
    >>> a = tg.tensor(1.0, requires_grad=True)
    >>> [t.op for t in topological_order(a + a)]
    [None, 'add']
    """
    # Collect what needs a gradient (any order), then sort by creation: cheaper than a
    # depth-first post-order, and just as iterative.
    nodes = [root]
    seen = {id(root)}
    for node in nodes:  # the list grows while we walk it
        for inp in node.inputs:
            if inp.requires_grad and id(inp) not in seen:
                seen.add(id(inp))
                nodes.append(inp)
    nodes.sort(key=_creation_order)
    return nodes


def _creation_order(t: Tensor) -> int:
    return t._seq


def local_backward(t: Tensor, upstream: Any) -> list[np.ndarray]:
    """What t's gate sends back to each of its inputs for the upstream gradient ``upstream``.

    One array per input (in order, duplicates kept), summed down to the input's shape,
    exactly as ``backward()`` adds it. Nothing is stored: no ``.grad`` changes. This is
    the one public door to an op's backward rule; the step-by-step player uses it to
    show each gate's local gradient.

    >>> import tensorgraph as tg
    >>> x, y = tg.tensor(3.0, requires_grad=True), tg.tensor(-4.0, requires_grad=True)
    >>> [float(g) for g in local_backward(x * y, 2.0)]
    [-8.0, 6.0]
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"local_backward: expected a Tensor, got {type(t).__name__}")
    if t._backward is None:
        raise ValueError(
            "local_backward: this tensor has no backward rule (it is a leaf"
            + (f", op {t.op!r} recorded without one" if t.op is not None else "")
            + ")"
        )
    check_node(t)
    g = _as_array(upstream, t._data.dtype, where="local_backward")
    if g.shape != t._data.shape:
        try:
            g = np.broadcast_to(g, t._data.shape)
        except ValueError:
            raise ValueError(
                f"local_backward: upstream has shape {g.shape} but the {t.op} output has "
                f"shape {t.shape}"
            ) from None
    out = []
    for inp, gi in zip(t.inputs, t._backward(g), strict=True):
        if gi is None:
            gi = np.zeros_like(inp._data)
        gi = np.asarray(gi)
        if gi.shape != inp._data.shape:
            gi = unbroadcast(gi, inp._data.shape)
        out.append(gi.astype(inp._data.dtype, copy=False))
    return out


def graph_nodes(root: Tensor) -> list[Tensor]:
    """Every tensor of root's graph (constants too), inputs before outputs.

    A depth-first post-order over the inputs, left to right, with an explicit stack (each
    entry keeps an iterator over its node's inputs, so every edge is looked at once).
    This is the order the visualizer draws in; backward uses the cheaper creation-order
    sort of :func:`topological_order`.

    >>> import tensorgraph as tg
    >>> x = tg.tensor(3.0, requires_grad=True)
    >>> [t.op for t in graph_nodes(2 * x)]
    [None, None, 'mul']
    """
    order: list[Tensor] = []
    seen = {id(root)}
    stack = [(root, iter(root.inputs))]
    while stack:
        node, inputs = stack[-1]
        for inp in inputs:
            if id(inp) not in seen:
                seen.add(id(inp))
                stack.append((inp, iter(inp.inputs)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def tensor(
    data: Any,
    requires_grad: bool = False,
    name: str | None = None,
    dtype: Any = None,
    copy: bool = True,
) -> Tensor:
    """Make a leaf tensor from a number, a nested list, a numpy array or a tensor.

    Integer and bool data become float64 unless ``dtype`` is given; float32 stays
    float32. Strings, objects and complex numbers are refused. The data is copied, as
    ``np.array`` and ``torch.tensor`` do, so later changes to your array do not reach
    the tensor (nor its gradients); ``copy=False`` shares a float array's memory instead,
    as ``np.asarray`` and ``torch.from_numpy`` do.

    >>> import numpy as np, tensorgraph as tg
    >>> x = tg.tensor([[1, 2], [3, 4]], requires_grad=True, name="x")
    >>> x.shape, x.dtype
    ((2, 2), dtype('float64'))
    >>> a = np.zeros(2)
    >>> np.shares_memory(tg.tensor(a).data, a), np.shares_memory(tg.tensor(a, copy=False).data, a)
    (False, True)
    """
    t = _leaf(Tensor, data, requires_grad, name, dtype)
    if copy and isinstance(data, np.ndarray | Tensor):
        source = data._data if isinstance(data, Tensor) else data
        if np.may_share_memory(t._data, source):
            t._data = t._data.copy()
    return t


# Last, because ops.py imports this module: the methods above look ops up when called.
from . import ops  # noqa: E402
