"""In-place changes to ``.data`` between forward and backward: an error, never a wrong gradient.

A backward rule reads arrays its op kept from the forward pass (``mul`` keeps both inputs,
``exp`` its output). Change one of them in place before ``backward()`` and the gradient is
silently wrong. PyTorch guards against this with a version counter on every tensor. Here
the same idea is kept off the per-op path, so building a graph costs nothing extra:

- One clock orders everything. Each op takes a tick when it is made (``Tensor._seq``) and
  so does each in-place write made through tensorgraph.
- ``t.data`` (and ``t.numpy()``) hands out a :class:`TrackedArray`: the tensor's own
  memory, as a numpy array that logs the memory block it writes and the tick, whether the
  write is ``x.data[0] = 5``, ``W.data -= lr * W.grad``, ``np.copyto(x.data, v)``, ``out=x.data``
  or ``x.data.fill(0)``. The optimizer and the in-place operators (``W -= lr *
  W.grad`` under ``tg.no_grad()``) log their writes too.
- ``backward()`` calls :func:`check_unchanged`. When no write is newer than the graph's
  oldest op (the usual case: update, then build the next graph) that is one comparison.
  Otherwise it looks at the arrays each older op's backward rule really holds (the arrays
  in its closure) and raises :class:`ModifiedInPlaceError` if one lives in a block written
  since, naming the op, the input and the line of the write. Ops whose rule reads no data
  (``add``, ``reshape``) are never flagged, as in PyTorch.

What goes around the log (the README's "Known gaps" lists it, and a test pins each):
writes to an array a tensor shares (``tg.tensor(a, copy=False)``, as
``torch.from_numpy``) or an op took as an operand (``x * a`` keeps ``a``), and writes
that reach the memory around numpy's array interface: a generator's ``out=``,
``np.nditer``, a memoryview, ctypes, ``readinto``, or a plain array or torch tensor over
the same memory (``np.asarray(x.data)``, ``.view(np.ndarray)``, ``.base``,
``as_strided``, ``torch.from_numpy``). ``tg.detect_anomaly()`` compares copies of the
saved arrays and catches those as well.

    >>> import tensorgraph as tg
    >>> x = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> x.data[0] = 5.0
    >>> y.backward()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tensorgraph.anomaly.ModifiedInPlaceError: backward: input 0 of mul ... was modified in place ...

This module imports nothing from the rest of the engine but ``anomaly.py``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .anomaly import ModifiedInPlaceError, _describe, _where, caller

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["TrackedArray", "check_unchanged", "note_write"]

# The one clock: op creation order (Tensor._seq) and in-place writes share it. Ticks are
# unique across threads (next() on a count is atomic); writes are logged under _LOCK.
clock = itertools.count()
_LOCK = threading.Lock()

_SKIP = (
    os.path.dirname(os.path.abspath(__file__)) + os.sep,
    os.path.dirname(os.path.abspath(np.__file__)) + os.sep,
)


class _Writes:
    """The log: per memory block written, the tick and the place of its last write."""

    last = -1  # the tick of the newest write anywhere
    # id(root array) -> (tick, (file, line) of the write). The root is the array at the
    # end of the .base chain, which owns the memory every numpy view of it shares; one
    # entry per block keeps the log as small as the set of arrays ever written.
    by_root: dict[int, tuple[int, tuple[str, int] | None]] = {}


def _root(a: np.ndarray) -> np.ndarray:
    base = a.base
    while isinstance(base, np.ndarray):
        a, base = base, base.base
    return a


def note_write(a: np.ndarray) -> None:
    """Log that ``a``'s memory was just written in place.

    Called by :class:`TrackedArray` and the optimizer; call it yourself after writing a
    tensor's memory by a way tensorgraph cannot see. Kept to a few attribute reads: it
    runs on every ``W.data -= ...``, right after a backward pass has flushed the caches.

    >>> import numpy as np
    >>> note_write(np.zeros(3))
    """
    if not a.size:
        return
    place = caller(_SKIP)
    root = _root(a)
    key = id(root)
    # One write at a time: between taking a tick and storing it another thread could log
    # a newer write, and `last` would go back in time (a backward would then skip it).
    with _LOCK:
        if key not in _Writes.by_root:
            # Forget the block when its memory goes: no graph can read it any more.
            weakref.finalize(root, _Writes.by_root.pop, key, None)
        tick = next(clock)
        _Writes.by_root[key] = (tick, place)
        _Writes.last = tick


# ----- the check backward() runs -----


def check_unchanged(order: Sequence[Tensor]) -> None:
    """Raise if an array held by a backward rule of ``order`` was written after its op ran.

    ``order`` is sorted by creation (leaves, with ``_seq`` -1, first), as
    ``topological_order`` returns it.

    >>> import tensorgraph as tg
    >>> x = tg.tensor([1.0], requires_grad=True)
    >>> check_unchanged(tg.topological_order(x * 2))  # nothing written: no error
    """
    last = _Writes.last
    if last < 0:
        return  # nothing was ever written in place
    for node in order:  # leaves (_seq -1) come first, then ops oldest first
        if node._seq > last:
            return  # this op and every later one are newer than every write
        if node._seq >= 0:
            check_node(node)


def check_node(node: Tensor) -> None:
    """Raise if an array ``node``'s backward rule holds was written after ``node`` was made.

    >>> import tensorgraph as tg
    >>> check_node(tg.tensor([1.0], requires_grad=True) * 2)
    """
    if node._backward is None or node._seq > _Writes.last:
        return
    by_root = _Writes.by_root
    for arr in _held_arrays(node._backward):
        entry = by_root.get(id(_root(arr)))
        if entry is not None and entry[0] > node._seq:
            raise ModifiedInPlaceError(_message(node, arr, entry[1]))


def _held_arrays(rule: Callable) -> Iterator[np.ndarray]:
    """The arrays a backward rule closes over: exactly what it will read.

    Ops build their rule as a closure over input and output *arrays* (never tensors), so
    the closure cells are the saved state. Nested closures (``detect_anomaly``'s wrapper)
    and tuples or lists of arrays are walked too.
    """
    stack: list[Any] = [rule]
    seen: set[int] = set()
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            yield obj
        elif isinstance(obj, tuple | list):
            stack.extend(obj)
        elif callable(obj):
            for cell in getattr(obj, "__closure__", None) or ():
                with contextlib.suppress(ValueError):  # a cell not filled yet
                    stack.append(cell.cell_contents)
            stack.extend(getattr(obj, "__defaults__", None) or ())


def _message(node: Tensor, arr: np.ndarray, place: tuple[str, int] | None) -> str:
    op = node.op
    label = f"an array {op} saved"
    for i, inp in enumerate(node.inputs):
        if np.may_share_memory(arr, inp._data):
            label = f"input {i} of {op} ({_describe(inp)})"
            break
    else:
        if np.may_share_memory(arr, node._data):
            label = f"the output of {op} ({_describe(node)})"
    lines = [
        f"backward: {label} was modified in place after {op} used it, so its gradient "
        "would be wrong.",
        f"  the change was made at {_where(place)}",
    ]
    origin = getattr(node._backward, "origin", None)  # set under tg.detect_anomaly()
    if origin is not None:
        lines.append(f"  {op} was made at {_where(origin)}")
    lines.append(
        "  Change a tensor in place (.data, or under tg.no_grad()) only after backward(), "
        "then run the forward pass again."
    )
    return "\n".join(lines)


# ----- the array t.data hands out -----

# numpy functions whose first argument is written.
_WRITES_FIRST = {np.copyto, np.put, np.place, np.putmask, np.fill_diagonal, np.put_along_axis}


class TrackedArray(np.ndarray):
    """A tensor's own memory, as ``t.data`` hands it out: a numpy array that logs in-place
    writes, so ``backward()`` can refuse a graph whose saved arrays changed.

    Everything numpy does works as usual; results of arithmetic are plain arrays.

    >>> import tensorgraph as tg
    >>> x = tg.tensor([1.0, 2.0])
    >>> x.data
    array([1., 2.])
    >>> x.data * 2
    array([2., 4.])
    """

    def __repr__(self) -> str:
        return repr(self.view(np.ndarray))

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        # Compute on plain views (so results are plain arrays), then log what was written.
        out = kwargs.get("out")
        if out is not None and len(out) == 1 and out[0] is self and inputs[0] is self:
            # `a -= b` (`W.data -= lr * W.grad`), the common write, with as little Python
            # as possible: it runs right after backward, when every line of it is a cache
            # miss. One plain view serves as input and output: given two view objects of
            # the same memory numpy cannot prove the overlap harmless and copies first.
            plain = self.view(np.ndarray)
            rest = [x.view(np.ndarray) if isinstance(x, TrackedArray) else x for x in inputs[1:]]
            kwargs["out"] = (plain,)
            getattr(ufunc, method)(plain, *rest, **kwargs)
            note_write(self)
            return self
        args = [x.view(np.ndarray) if isinstance(x, TrackedArray) else x for x in inputs]
        if out is None:
            if method == "__call__":
                return ufunc(*args, **kwargs)
            result = getattr(ufunc, method)(*args, **kwargs)
            if method == "at" and isinstance(inputs[0], TrackedArray):  # np.add.at(a, i, v)
                note_write(inputs[0])
            return result
        # The same plain view for an array that is both input and output, as above.
        plain = {id(x): a for x, a in zip(inputs, args, strict=True) if a is not x}
        kwargs["out"] = tuple(
            (plain[id(o)] if id(o) in plain else o.view(np.ndarray))
            if isinstance(o, TrackedArray)
            else o
            for o in out
        )
        result = getattr(ufunc, method)(*args, **kwargs)
        for o in out:
            if isinstance(o, TrackedArray):
                note_write(o)
        # numpy returns the out arrays; hand back the caller's own (`a += 1` rebinds a).
        if isinstance(result, tuple):
            return tuple(o if o is not None else r for o, r in zip(out, result, strict=True))
        return out[0]

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        result = super().__array_function__(func, types, args, kwargs)
        written = [args[0]] if func in _WRITES_FIRST and args else []
        out = kwargs.get("out")
        written += list(out) if isinstance(out, tuple) else [out]
        for w in written:
            if isinstance(w, TrackedArray):
                note_write(w)
        return result

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        note_write(self)

    def fill(self, value: Any) -> None:
        super().fill(value)
        note_write(self)

    def put(self, *args: Any, **kwargs: Any) -> None:
        super().put(*args, **kwargs)
        note_write(self)

    def sort(self, *args: Any, **kwargs: Any) -> None:
        super().sort(*args, **kwargs)
        note_write(self)

    def partition(self, *args: Any, **kwargs: Any) -> None:
        super().partition(*args, **kwargs)
        note_write(self)

    def byteswap(self, inplace: bool = False) -> np.ndarray:
        result = super().byteswap(inplace)
        if inplace:
            note_write(self)
        return result

    def setfield(self, *args: Any, **kwargs: Any) -> None:
        super().setfield(*args, **kwargs)
        note_write(self)

    @property
    def flat(self) -> _Flat:  # type: ignore[override]
        return _Flat(self)


class _Flat:
    """``x.data.flat``: numpy's flat iterator, with writes logged."""

    def __init__(self, owner: TrackedArray) -> None:
        self._owner = owner
        self._flat = owner.view(np.ndarray).flat

    def __getitem__(self, key: Any) -> Any:
        return self._flat[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._flat[key] = value
        note_write(self._owner)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._flat)

    def __len__(self) -> int:
        return len(self._flat)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return np.asarray(self._flat.copy(), dtype=dtype)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._flat, name)
