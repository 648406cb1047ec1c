"""The Tensor: a numpy array, its gradient, and the record of the op that made it.

This file knows no op. `ops.py` defines every op (forward and backward side by side)
and attaches the operator methods (`+`, `*`, `@`, ...) to `Tensor`, so the import
runs one way: ops -> tensor.

The record a computed tensor keeps is public and is all the visualizer reads:

    t.op      the op's name ("mul", "matmul", ...), None for a leaf
    t.inputs  the input tensors, in order, duplicates kept (so a*a has two)
    t.attrs   the op's attributes (axis, index, ...), a dict

Nodes hold no reference cycles: an output points at its inputs and at a backward
function that closes over input *arrays*, never over the output itself. A dropped graph
is freed by reference counting alone.
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .anomaly import _AnomalyMode, check_grads, check_seed, watch
from .inplace import TrackedArray, check_node, check_unchanged, clock

# A backward rule: upstream gradient in, one gradient (or None) per input out.
Backward = Callable[[np.ndarray], Sequence[np.ndarray | None]]

_EMPTY: dict[str, Any] = {}


class _GradMode:
    enabled = True


def is_grad_enabled() -> bool:
    """Whether ops record the graph now (False inside ``no_grad``).

    >>> import tensorgraph as tg
    >>> tg.is_grad_enabled()
    True
    """
    return _GradMode.enabled


class no_grad(contextlib.ContextDecorator):
    """Context manager (and decorator) under which ops record no graph.

    Results made inside are plain leaves that require no gradient, as in PyTorch.

    >>> import tensorgraph as tg
    >>> w = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> with tg.no_grad():
    ...     y = w * 2
    >>> y.requires_grad, y.op
    (False, None)
    """

    def __init__(self) -> None:
        # A stack, not one saved flag: as a decorator the same instance is entered again
        # by a recursive call, and each exit must restore what its own enter saw.
        self._prev: list[bool] = []

    def __enter__(self) -> no_grad:
        self._prev.append(_GradMode.enabled)
        _GradMode.enabled = False
        return self

    def __exit__(self, *exc: object) -> None:
        _GradMode.enabled = self._prev.pop()


def _as_array(data: Any, dtype: Any = None, where: str = "tensor") -> np.ndarray:
    """Turn user data into a float array (ints and bools become float64)."""
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
        arr = np.asarray(data, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{where}: cannot make a numeric tensor from {_short(data)}: {err}"
        ) from None
    if arr.dtype.kind == "c":
        raise TypeError(f"{where}: complex numbers are not supported (got {_short(data)})")
    if arr.dtype.kind in "OSUVMm":
        raise TypeError(f"{where}: expected numbers, got {arr.dtype} data {_short(data)}")
    if dtype is None and arr.dtype.kind in "iub":
        arr = arr.astype(np.float64)
    return arr


def _short(obj: Any, limit: int = 60) -> str:
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

    # numpy must not treat a Tensor as an array-like inside its own operators:
    # `ndarray + Tensor` then defers to Tensor.__radd__, which records the op.
    __array_ufunc__ = None

    _data: np.ndarray  # the engine's own handle on the values; users get .data
    grad: np.ndarray | None
    requires_grad: bool
    name: str | None
    op: str | None
    inputs: tuple[Tensor, ...]
    attrs: dict[str, Any]

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        name: str | None = None,
        dtype: Any = None,
    ) -> None:
        self._data = _as_array(data, dtype)
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(
                f"tensor: only floating-point tensors can require gradients, got {self._data.dtype}"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"tensor: name must be a string, got {_short(name)}")
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self.op = None
        self.inputs = ()
        self.attrs = _EMPTY
        self._backward = None
        self._seq = -1

    # ----- the record a computed tensor gets (ops.py calls this) -----

    @classmethod
    def _make(
        cls,
        data: np.ndarray,
        op: str,
        inputs: tuple[Tensor, ...],
        backward: Backward,
        attrs: dict[str, Any] | None = None,
    ) -> Tensor:
        """The result of an op. Inside ``no_grad`` it is a plain leaf."""
        t = object.__new__(cls)
        # numpy ufuncs and full reductions return numpy scalars; .data is always an array.
        t._data = data if type(data) is np.ndarray else np.asarray(data)
        t.grad = None
        t.name = None
        if _GradMode.enabled:
            requires_grad = False
            for i in inputs:  # a plain loop: any(<generator>) costs more for 1-2 inputs
                if i.requires_grad:
                    requires_grad = True
                    break
            t.requires_grad = requires_grad
            t.op = op
            t.inputs = inputs
            t.attrs = attrs if attrs is not None else _EMPTY
            t._backward = backward
            t._seq = next(clock)
        else:
            t.requires_grad = False
            t.op = None
            t.inputs = ()
            t.attrs = _EMPTY
            t._backward = None
            t._seq = -1
        if _AnomalyMode.enabled:  # tg.detect_anomaly() (anomaly.py); one flag read when off
            t._backward = watch(t, op, inputs, t._backward)
        return t

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

    # ----- backward -----

    def backward(self, grad: Any = None) -> None:
        """Backpropagate from this tensor, filling ``.grad`` on the graph.

        The seed ``grad`` defaults to 1 for a one-element tensor. Leaf gradients
        accumulate across calls, as in PyTorch (call ``zero_grad()`` to clear one);
        gradients of computed tensors are reset at the start of each call, so a second
        backward never double-counts an intermediate.

        >>> import tensorgraph as tg
        >>> x = tg.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        array([2., 4.])
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require a gradient: no input on its path was "
                "made with requires_grad=True"
                + (" (it was computed under tg.no_grad())" if self.op is None else "")
            )
        if grad is None:
            if self._data.size != 1:
                raise RuntimeError(
                    f"backward: the output has shape {self.shape}; pass grad= of that shape "
                    "(a seed of 1 only makes sense for a one-element output)"
                )
            seed = np.array(1, self._data.dtype).reshape(
                self._data.shape
            )  # C-level, unlike np.ones
        else:
            seed = _as_array(grad, self._data.dtype, where="backward")
            if seed.shape != self._data.shape:
                raise ValueError(
                    f"backward: grad has shape {seed.shape} but the output has shape {self.shape}"
                )
        if _AnomalyMode.enabled:  # tg.detect_anomaly(): the seed must be finite too
            check_seed(seed)

        order = topological_order(self)
        check_unchanged(order)  # no saved array changed in place since its op ran
        for node in order:
            if node._backward is not None:
                node.grad = None  # intermediates start afresh each pass
        _accumulate(self, seed)

        for node in reversed(order):
            backward = node._backward
            if backward is None or node.grad is None:
                continue
            grads = backward(node.grad)
            if _AnomalyMode.enabled:  # tg.detect_anomaly(): no NaN or inf flows on
                check_grads(node, grads)
            for inp, g in zip(node.inputs, grads, strict=True):
                if g is None or not inp.requires_grad:
                    continue
                if (
                    inp.grad is None
                    and inp._backward is not None
                    and type(g) is np.ndarray
                    and g.shape == inp._data.shape
                    and g.dtype == inp._data.dtype
                ):
                    # The common case, inlined: an intermediate's first gradient. It may be
                    # the very array another node holds (add passes g to both sides) or a
                    # read-only broadcast view; safe because gradients are never written in
                    # place (accumulation makes a new array), and leaves get their own copy.
                    inp.grad = g
                else:
                    _accumulate(inp, g)


def _accumulate(t: Tensor, g: np.ndarray) -> None:
    """Add gradient g into t.grad, summing away broadcast dimensions first."""
    shape = t._data.shape
    if g.shape != shape:
        g = unbroadcast(g, shape)
    if g.dtype != t._data.dtype:
        g = g.astype(t._data.dtype)
    if t.grad is None and t._backward is None:
        # A leaf's gradient is the user's to keep and change; never hand out an array
        # the backward pass shares with another node.
        t.grad = np.array(g)
        return
    if t.grad is not None:
        g = t.grad + g
    # numpy arithmetic on 0-d arrays returns scalars; .grad is always an array.
    t.grad = g if type(g) is np.ndarray else np.asarray(g)


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
    show each gate's contribution.

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

    This is the order the visualizer draws in.

    >>> import tensorgraph as tg
    >>> x = tg.tensor(3.0, requires_grad=True)
    >>> [t.op for t in graph_nodes(2 * x)]
    [None, None, 'mul']
    """
    return _postorder(root)


def _postorder(root: Tensor) -> list[Tensor]:
    """Depth-first post-order over the inputs, left to right, with an explicit stack.

    Each stack entry keeps an iterator over its node's inputs, so every edge is looked
    at once and no node is pushed twice. This is the drawing order (inputs left to
    right); backward uses the cheaper creation-order sort of ``topological_order``.
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
    t = Tensor(data, requires_grad=requires_grad, name=name, dtype=dtype)
    if copy and isinstance(data, np.ndarray | Tensor):
        source = data._data if isinstance(data, Tensor) else data
        if np.may_share_memory(t._data, source):
            t._data = t._data.copy()
    return t


def _is_number(x: object) -> bool:
    return isinstance(x, numbers.Number) and not isinstance(x, bool | complex)
