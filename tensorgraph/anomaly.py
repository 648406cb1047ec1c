"""``tg.detect_anomaly()``: stop at the first op that makes a NaN or an inf, and say where.

Off by default, and then nearly free: the engine reads one flag per op and one per
backward step. Inside the block, every op that is run

- checks that its output is finite (the forward pass),
- remembers the file and line of *your* code that called it,
- keeps a copy of the arrays its backward rule will read (its inputs and output),

and ``backward()`` checks every gradient it computes. The first NaN or inf raises
:class:`AnomalyError` naming the op and your line.

Writes to ``.data`` between forward and backward (``x.data[0] = 5``, ``W.data -= lr *
W.grad``) raise :class:`ModifiedInPlaceError` with or without this mode (``inplace.py``
logs them). The copies kept here catch, in addition, writes that go around that log:
to a numpy array a tensor shares (``copy=False``) or an op took as an operand (``x * a``),
or through ``np.asarray(x.data)``, ``rng.random(out=x.data)``, ``np.nditer``, a
memoryview, ctypes (the README's "Known gaps" lists them all).

Build the graph inside the block: ops made outside it have no recorded line and no
copies, though their backward gradients are still checked.

    >>> import tensorgraph as tg
    >>> x = tg.tensor([1.0, -1.0], requires_grad=True)
    >>> with tg.detect_anomaly():
    ...     y = tg.log(x)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    tensorgraph.anomaly.AnomalyError: detect_anomaly: log produced nan in 1 of 2 entries ...

This module imports nothing from the rest of the engine but ``modes.py`` (``tensor.py``
imports it).
"""

from __future__ import annotations

import linecache
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .modes import GlobalFlag, Switch

if TYPE_CHECKING:
    from .tensor import Tensor

__all__ = ["AnomalyError", "ModifiedInPlaceError", "detect_anomaly", "is_anomaly_enabled"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


class AnomalyError(FloatingPointError):
    """An op's forward or backward produced NaN or inf inside ``tg.detect_anomaly()``."""


class ModifiedInPlaceError(RuntimeError):
    """An array the graph recorded was changed in place before ``backward()``."""


# Process-wide, as PyTorch's anomaly mode is (grad mode, by contrast, is per thread): on
# while a detect_anomaly block is open in any thread.
ANOMALY = GlobalFlag()


def is_anomaly_enabled() -> bool:
    """Whether ``tg.detect_anomaly()`` is on (anywhere in the process).

    >>> import tensorgraph as tg
    >>> tg.is_anomaly_enabled()
    False
    """
    return ANOMALY.value


class detect_anomaly(Switch):
    """Context manager (and decorator): raise at the first NaN or inf, naming op and line.

    Process-wide, as ``torch.autograd.detect_anomaly``: ops made by other threads while
    the block runs are watched too, and the mode stays on until the last block open in
    any thread closes.

    >>> import tensorgraph as tg
    >>> with tg.detect_anomaly():
    ...     tg.is_anomaly_enabled()
    True
    """

    FLAG, VALUE = ANOMALY, True


# ----- where the user's code made an op -----


def caller(skip: tuple[str, ...] = (_PACKAGE,)) -> tuple[str, int] | None:
    """(file, line) of the innermost frame whose file lies outside the folders ``skip``:
    the line of the user's code that led here.

    >>> caller(skip=())[1] > 0
    True
    """
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(skip):
        frame = frame.f_back
    return None if frame is None else (frame.f_code.co_filename, frame.f_lineno)


def _where(place: tuple[str, int] | None) -> str:
    """``file:line: source`` (the source line is looked up only when an error is raised)."""
    if place is None:
        return "an unknown place"
    path, line = place
    source = linecache.getline(path, line).strip()
    return f"{path}:{line}" + (f": {source}" if source else "")


def _bad(a: np.ndarray) -> str:
    """'nan in 2 of 3 entries' (or inf, or both)."""
    nan, inf = int(np.isnan(a).sum()), int(np.isinf(a).sum())
    kinds = " and ".join(k for k, n in (("nan", nan), ("inf", inf)) if n)
    return f"{kinds} in {nan + inf} of {a.size} entries"


def _describe(t: Tensor) -> str:
    """ "'W', shape (3, 2), a leaf" or "shape (3,), the output of exp"."""
    what = "a leaf" if t.op is None else f"the output of {t.op}"
    name = f"{t.name!r}, " if t.name else ""
    return f"{name}shape {t.shape}, {what}"


# ----- the hooks tensor.py calls (only while the mode is on) -----


def watch(t: Tensor, op: str, inputs: tuple[Tensor, ...], backward: Any) -> Any:
    """Check a new op's output; return its backward rule wrapped to catch in-place edits.

    Called by ``Tensor._make`` with the finished tensor ``t``.
    """
    place = caller()
    out = t._data
    if out.dtype.kind in "fc" and not np.isfinite(out).all():
        lines = [f"detect_anomaly: {op} produced {_bad(out)} of its output (shape {t.shape})"]
        lines.append(f"  at {_where(place)}")
        for i, inp in enumerate(inputs):
            if inp._data.dtype.kind == "f" and not np.isfinite(inp._data).all():
                lines.append(
                    f"  input {i} ({_describe(inp)}) already held {_bad(inp._data)}: "
                    "the bad values came in from there"
                )
        raise AnomalyError("\n".join(lines))
    if backward is None:
        return None

    # The arrays backward will read, and a copy of each to notice in-place changes.
    saved = [(f"input {i}", inp, inp._data, inp._data.copy()) for i, inp in enumerate(inputs)]
    saved.append(("the output", None, out, out.copy()))

    def checked(g: np.ndarray) -> Sequence[np.ndarray | None]:
        for label, inp, array, copy in saved:
            if not _unchanged(array, copy):
                about = f" ({_describe(inp)})" if inp is not None else ""
                raise ModifiedInPlaceError(
                    f"backward: {label} of {op}{about} was modified in place after {op} used "
                    f"it, so its gradient would be wrong.\n  {op} was made at {_where(place)}\n"
                    "  Change .data only after backward(), then run the forward pass again."
                )
        return backward(g)

    # Read by check_grads below; a closure over arrays only, so no reference cycle.
    checked.origin = place  # type: ignore[attr-defined]
    return checked


def _unchanged(array: np.ndarray, copy: np.ndarray) -> bool:
    """Same shape and the same bits (so a NaN left alone counts as unchanged)."""
    if array.shape != copy.shape or array.dtype != copy.dtype:
        return False
    if array.size <= 4096:  # small: comparing bytes is the fastest test
        return array.tobytes() == copy.tobytes()
    return bool(np.array_equal(array, copy, equal_nan=True))


def check_grads(node: Tensor, upstream: np.ndarray, grads: Sequence[np.ndarray | None]) -> None:
    """Raise if the backward rule of ``node`` produced NaN or inf for an input needing it."""
    for i, (inp, g) in enumerate(zip(node.inputs, grads, strict=True)):
        if g is None or not inp.requires_grad or np.isfinite(g).all():
            continue
        origin = getattr(node._backward, "origin", None)
        came = (
            f"  {node.op} was made at {_where(origin)}"
            if origin
            else f"  {node.op} was made outside tg.detect_anomaly(), so its line is unknown"
        )
        cause = (
            f"the upstream gradient already held {_bad(upstream)}"
            if not np.isfinite(upstream).all()
            else "the upstream gradient was finite"
        )
        raise AnomalyError(
            f"detect_anomaly: the backward of {node.op} produced {_bad(np.asarray(g))} of the "
            f"gradient for input {i} ({_describe(inp)}); {cause}\n{came}"
        )


def check_seed(seed: np.ndarray) -> None:
    """Raise if the gradient handed to ``backward()`` is not finite."""
    if not np.isfinite(seed).all():
        raise AnomalyError(f"detect_anomaly: backward: the seed grad holds {_bad(seed)}")
