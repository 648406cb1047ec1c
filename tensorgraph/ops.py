"""Every op: its forward and its backward rule, side by side, with every fact about it.

Each op is a function of numpy arrays returning its output and its backward rule (how
the ``@op`` decorator turns it into ``tg.<name>`` is in ``registry.py``)::

    def mul(a: Array, b: Array) -> Forward:
        return a * b, lambda g: (g * b, g * a)

``g`` is the upstream gradient; the rule returns one gradient per input, at the shape
numpy broadcasting gave it (the engine sums it down to the input's shape). Parameters
annotated ``Array`` are inputs; the others are attributes, kept in ``t.attrs``. Errors
are raised without the op's name: the decorator puts it in front.

To add an op, see "Adding an op" in the README: one function here, a test, the docs
regenerated.
"""

from __future__ import annotations

import builtins
import math
import operator
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from .inplace import note_write
from .modes import is_grad_enabled
from .registry import (
    OPS,
    Array,
    Arrays,
    Forward,
    OpInfo,
    constant,
    derivative_doc,
    derivative_table,
    op,
    write_docs,
)
from .tensor import Axis, Operand, Tensor, _short

__all__ = [
    "OPS",
    "OpInfo",
    "abs",
    "add",
    "astype",
    "cat",
    "clamp",
    "clip",
    "cos",
    "derivative_doc",
    "derivative_table",
    "div",
    "exp",
    "expm1",
    "flatten",
    "index",
    "leaky_relu",
    "log",
    "log1p",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mul",
    "neg",
    "op",
    "pow",
    "power",
    "relu",
    "reshape",
    "sigmoid",
    "sin",
    "softmax",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "sub",
    "sum",
    "swapaxes",
    "tanh",
    "transpose",
    "unsqueeze",
    "var",
    "where",
    "write_docs",
]


# ----- helpers the rules share -----


def _axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """``axis`` as a tuple of non-negative axes (all of them for None)."""
    if axis is None:
        return tuple(range(ndim))
    try:
        return normalize_axis_tuple(axis, ndim)
    except np.exceptions.AxisError:
        # numpy's AxisError is both a ValueError and an IndexError, so either except works.
        raise np.exceptions.AxisError(
            f"axis {axis!r} is out of range for a tensor with {ndim} dimension(s)"
        ) from None
    except TypeError:  # axis=1.0 or "a": not out of range, not an axis at all (as numpy)
        raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}") from None
    except ValueError:  # numpy's "repeated axis"
        raise ValueError(f"axis {axis!r} names an axis twice") from None


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with the reduced ``axes`` kept as 1s (what keepdims=True gives)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _number(value: Any, what: str) -> float:
    """An attribute that must be a real number (not a bool, an array or a tensor)."""
    real = int | float | np.integer | np.floating
    if isinstance(value, bool | np.bool_) or not isinstance(value, real):
        raise TypeError(f"{what} must be a number, got {_short(value)}")
    return float(value)


def _reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with the reduced ``axes`` dropped (what keepdims=False gives)."""
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _sign_kink(ins: list[np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
    """The branch of a gate that switches where its input crosses 0 (relu, abs, l1)."""
    return np.sign(ins[0]).astype(np.int8)


def _gap_kink(ins: list[np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
    """The branch of maximum and minimum: which input is larger, or a tie."""
    return np.sign(np.subtract(ins[0], ins[1])).astype(np.int8)


def _extreme_kink(ins: list[np.ndarray], attrs: dict[str, Any], reduce: np.ufunc) -> np.ndarray:
    """The branch of max and min: which entries are the extreme (ties share)."""
    axes = _axes(attrs.get("axis"), ins[0].ndim)
    return ins[0] == reduce.reduce(ins[0], axis=axes, keepdims=True)


# ----- arithmetic -----


@op(
    "+",
    "∂/∂a = 1,  ∂/∂b = 1",
    kind="elementwise",
    pattern="add distributes",
    operator="+",
    methods=("__add__", "__radd__"),
    reads_data=False,
    commutative=True,
    torch="torch.add",
    code="out = a + b; da = g; db = g",
)
def add(a: Array, b: Array) -> Forward:
    """Elementwise ``a + b`` with numpy broadcasting.

    >>> import tensorgraph as tg
    >>> tg.add(tg.tensor([1.0, 2.0]), 10)
    tensor([11., 12.])
    """
    return a + b, lambda g: (g, g)


@op(
    "-",
    "∂/∂a = 1,  ∂/∂b = -1",
    kind="elementwise",
    operator="-",
    methods=("__sub__", "__rsub__"),
    reads_data=False,
    torch="torch.sub",
    code="out = a - b; da = g; db = -g",
)
def sub(a: Array, b: Array) -> Forward:
    """Elementwise ``a - b``.

    >>> import tensorgraph as tg
    >>> tg.sub(5, tg.tensor([1.0, 2.0]))
    tensor([4., 3.])
    """
    return a - b, lambda g: (g, -g)


@op(
    "*",
    "∂/∂a = b,  ∂/∂b = a",
    kind="elementwise",
    pattern="mul swaps",
    operator="*",
    methods=("__mul__", "__rmul__"),
    commutative=True,
    torch="torch.mul",
    code="out = a * b; da = g * b; db = g * a",
)
def mul(a: Array, b: Array) -> Forward:
    """Elementwise ``a * b``.

    >>> import tensorgraph as tg
    >>> tg.mul(tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0]))
    tensor([3., 8.])
    """
    return a * b, lambda g: (g * b, g * a)


@op(
    "/",
    "∂/∂a = 1/b,  ∂/∂b = -a/b²",
    kind="elementwise",
    operator="/",
    methods=("__truediv__", "__rtruediv__"),
    torch="torch.div",
    code="out = a / b; da = g / b; db = -g * (out / b)",
)
def div(a: Array, b: Array) -> Forward:
    """Elementwise ``a / b``.

    >>> import tensorgraph as tg
    >>> tg.div(tg.tensor([1.0, 3.0]), 2)
    tensor([0.5, 1.5])
    """
    return a / b, lambda g: (g / b, -g * ((a / b) / b))


@op(
    "-",
    "∂/∂x = -1",
    kind="elementwise",
    operator="-",
    methods=("__neg__",),
    reads_data=False,
    torch="torch.neg",
    code="out = -x; dx = -g",
)
def neg(x: Array) -> Forward:
    """Elementwise ``-x``.

    >>> import tensorgraph as tg
    >>> -tg.tensor([1.0, -2.0])
    tensor([-1.,  2.])
    """
    return -x, lambda g: (-g,)


@op(
    "**",
    "∂/∂x = p·x^(p-1)   (p a number)",
    kind="elementwise",
    operator="**",
    methods=("__pow__",),
    torch="torch.pow",
    code="""
out = np.power(x, exponent)
if exponent == 0:
    dx = np.zeros_like(g)
else:
    dx = g * (exponent * np.power(x, exponent - 1))
""",
)
def pow(x: Array, exponent: float) -> Forward:  # noqa: A001 - mirrors tg.pow / torch.pow
    """Elementwise ``x ** exponent`` for a number ``exponent``.

    >>> import tensorgraph as tg
    >>> tg.pow(tg.tensor([2.0, 3.0]), 2)
    tensor([4., 9.])
    """
    p = exponent
    if isinstance(p, Tensor) or not isinstance(p, int | float | np.number) or isinstance(p, bool):
        raise TypeError(
            f"the exponent must be a Python number, got {_short(p)}; "
            "for a tensor exponent write x ** e or tg.power(x, e)"
        )
    p = float(p) if not isinstance(p, int) else p
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.power(x, p).astype(x.dtype, copy=False)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        if p == 0:
            return (np.zeros_like(g),)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g * (p * np.power(x, p - 1)),)

    return out, backward, {"exponent": p}


@op(
    "**",
    "∂/∂a = b·a^(b-1),  ∂/∂b = a^b·ln(a)   (torch's 0 at b = 0, and at a = 0 with b ≥ 0)",
    kind="elementwise",
    operator="**",
    methods=("__pow__", "__rpow__"),
    torch="torch.pow",
    domain="positive",
    code="""
out = np.power(a, b)
da = np.where(b == 0, 0, g * (b * np.power(a, b - 1)))
db = np.where((a == 0) & (b >= 0), 0, g * (out * np.log(a)))
""",
)
def power(a: Array, b: Array, *, needs_grad: tuple[bool, bool] = (True, True)) -> Forward:
    """Elementwise ``a ** b`` where the exponent is a tensor too (``x ** y``, ``2 ** x``).

    Defined for a positive base; elsewhere the values and gradients are numpy's and
    torch's (NaN where a real power has none). A number exponent (``x ** 2``) records
    :func:`pow` instead, with the exponent as its attribute.

    >>> import tensorgraph as tg
    >>> x = tg.tensor([1.0, 3.0], requires_grad=True)
    >>> y = 2 ** x
    >>> y.op, y
    ('power', tensor([2., 8.], op='power', requires_grad=True))
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = np.power(a, b)
    need_a, need_b = needs_grad

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        # Where torch's rule is 0 * inf, torch says 0: b = 0 for ∂/∂a, a = 0 (b >= 0) for ∂/∂b.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ga = np.where(b == 0, 0, g * (b * np.power(a, b - 1))) if need_a else None
            gb = np.where((a == 0) & (b >= 0), 0, g * (out * np.log(a))) if need_b else None
        return ga, gb

    return out, backward


def raise_to(x: Operand, exponent: Any) -> Tensor:
    """``x ** exponent``: :func:`pow` for a number exponent (drawn ``x**2``), else :func:`power`.

    >>> import tensorgraph as tg
    >>> x = tg.tensor([2.0, 3.0])
    >>> raise_to(x, 2).op, raise_to(x, tg.tensor([1.0, 2.0])).op
    ('pow', 'power')
    """
    if isinstance(exponent, Tensor | np.ndarray | list | tuple):
        return power(x, exponent)
    return pow(x, exponent)


@op(
    "@",
    "∂/∂A = G·Bᵀ,  ∂/∂B = Aᵀ·G   (G the upstream gradient)",
    kind="linear algebra",
    operator="@",
    methods=("__matmul__", "__rmatmul__"),
    torch="torch.matmul",
    code="""
out = a @ b
if a.ndim == 2 and b.ndim == 2:
    da = g @ b.T
    db = (g.T @ a).T
elif a.ndim == 1 and b.ndim == 1:
    da = g * b
    db = g * a
else:  # numpy's rules for 1-D and batched operands: promote to matrices, then undo it
    a2 = a if a.ndim > 1 else a[None, :]
    b2 = b if b.ndim > 1 else b[:, None]
    g2 = g if b.ndim > 1 else np.expand_dims(g, -1)
    g2 = g2 if a.ndim > 1 else np.expand_dims(g2, -2)
    ga = g2 @ np.swapaxes(b2, -1, -2)
    gb = np.swapaxes(a2, -1, -2) @ g2
    da = ga if a.ndim > 1 else ga[..., 0, :]
    db = gb if b.ndim > 1 else gb[..., 0]
""",
)
def matmul(a: Array, b: Array, *, needs_grad: tuple[bool, bool] = (True, True)) -> Forward:
    """Matrix product ``a @ b`` with numpy's rules (1-D operands, batches).

    >>> import tensorgraph as tg
    >>> tg.matmul(tg.tensor([[1.0, 2.0]]), tg.tensor([[3.0], [4.0]]))
    tensor([[11.]])
    """
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"both operands need at least 1 dimension, got shapes {a.shape} and {b.shape} "
            "(use * to multiply by a scalar)"
        )
    try:
        out = a @ b
    except ValueError:
        raise ValueError(f"cannot multiply {a.shape} by {b.shape}") from None

    if a.ndim == 2 and b.ndim == 2:
        need_a, need_b = needs_grad

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
            # Only the gradients an input needs: the data X of `X @ W.T` needs none, and
            # skipping it saves a whole GEMM per step. Aᵀ·G is computed as (Gᵀ·A)ᵀ:
            # BLAS writes the wide K×D result up to 2.5x faster than the tall D×K one
            # (benchmarks/findings.md, F1).
            return (g @ b.T if need_a else None), ((g.T @ a).T if need_b else None)

    elif a.ndim == 1 and b.ndim == 1:

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
            return g * b, g * a  # a dot product: g is 0-d

    else:

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
            # Promote 1-D operands to matrices as numpy does, then undo it.
            a2 = a if a.ndim > 1 else a[None, :]
            b2 = b if b.ndim > 1 else b[:, None]
            g2 = g if b.ndim > 1 else np.expand_dims(g, -1)
            g2 = g2 if a.ndim > 1 else np.expand_dims(g2, -2)
            ga = g2 @ np.swapaxes(b2, -1, -2)
            gb = np.swapaxes(a2, -1, -2) @ g2
            return (ga if a.ndim > 1 else ga[..., 0, :]), (gb if b.ndim > 1 else gb[..., 0])

    return out, backward


# ----- max and its relatives: the gates that route -----


def _pick(a: np.ndarray, b: np.ndarray, choose: np.ufunc, wins: np.ufunc) -> Forward:
    """maximum (choose=np.maximum, wins=np.greater) or minimum: the gradient goes to the
    chosen side, half to each on a tie, as torch.maximum and torch.minimum do."""

    def backward(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        share = np.where(a == b, 0.5, wins(a, b))  # a's part: 1, 0, or ½ on a tie
        ga = g * share
        return ga, g - ga  # exact: share is 0, ½ or 1

    return choose(a, b), backward


@op(
    "max",
    "∂/∂a = 1 if a > b, ½ on a tie, else 0 (and b alike)",
    kind="elementwise",
    pattern="max routes",
    expr="max",
    kink=_gap_kink,
    commutative=True,
    torch="torch.maximum",
    code="""
out = np.maximum(a, b)
da = g * (a > b) + g * (a == b) / 2
db = g * (b > a) + g * (b == a) / 2
""",
)
def maximum(a: Array, b: Array) -> Forward:
    """Elementwise maximum of two tensors: the lecture's max gate.

    On a tie each side gets half the gradient, as ``torch.maximum`` does.

    >>> import tensorgraph as tg
    >>> tg.maximum(tg.tensor(2.0), tg.tensor(-1.0))
    tensor(2.)
    """
    return _pick(a, b, np.maximum, np.greater)


@op(
    "min",
    "∂/∂a = 1 if a < b, ½ on a tie, else 0 (and b alike)",
    kind="elementwise",
    pattern="min routes",
    expr="min",
    kink=_gap_kink,
    commutative=True,
    torch="torch.minimum",
    code="""
out = np.minimum(a, b)
da = g * (a < b) + g * (a == b) / 2
db = g * (b < a) + g * (b == a) / 2
""",
)
def minimum(a: Array, b: Array) -> Forward:
    """Elementwise minimum of two tensors (ties split the gradient in half).

    >>> import tensorgraph as tg
    >>> tg.minimum(tg.tensor([1.0, 5.0]), 3)
    tensor([1., 3.])
    """
    return _pick(a, b, np.minimum, np.less)


def _extreme(x: np.ndarray, axis: Axis, keepdims: bool, reduce: np.ufunc) -> Forward:
    """max (reduce=np.maximum) or min along ``axis``; tied extremes share the gradient
    evenly, as torch.amax and torch.amin do."""
    meant_the_gate = isinstance(axis, Tensor | float) or (
        isinstance(axis, np.ndarray) and axis.dtype.kind not in "iu"
    )
    if meant_the_gate:  # tg.max(z, w): the gate was meant
        gate = reduce.__name__  # "maximum" or "minimum"
        kinds = {Tensor: "a tensor", np.ndarray: "an array"}
        kind = next((k for c, k in kinds.items() if isinstance(axis, c)), "a number")
        lecture = ", the lecture's max(z, w)," if gate == "maximum" else ""
        raise TypeError(
            f"axis must be an int or a tuple of ints, but got {kind} as the axis "
            f"({_short(axis, 40)}): tg.{gate[:3]}(x, axis) reduces one "
            f"tensor; for the elementwise {gate[:3]} gate of two tensors{lecture} use "
            f"tg.{gate}(z, w)"
        )
    axes = _axes(axis, x.ndim)
    if any(x.shape[i] == 0 for i in axes):
        raise ValueError(f"cannot reduce an empty axis of a tensor of shape {x.shape}")
    kept = reduce.reduce(x, axis=axes, keepdims=True)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        mask = x == kept
        return (mask * (g.reshape(kept.shape) / mask.sum(axis=axes, keepdims=True)),)

    out = kept if keepdims else kept.reshape([n for i, n in enumerate(x.shape) if i not in axes])
    return out, backward


@op(
    "max",
    "∂/∂x = 1 at the maximum (shared evenly among ties), else 0",
    kind="reduction",
    pattern="max routes",
    methods=("max",),
    expr="max",
    kink=lambda ins, attrs: _extreme_kink(ins, attrs, np.maximum),
    torch="torch.amax",
    code="""
out = x.max(axis=axis, keepdims=keepdims)
mask = x == x.max(axis=axis, keepdims=True)
count = mask.sum(axis=axis, keepdims=True)
dx = mask * (g.reshape(count.shape) / count)
""",
)
def max(x: Array, axis: Axis = None, keepdims: bool = False) -> Forward:  # noqa: A001
    """Largest entry, over all entries or along ``axis`` (a reduction).

    For the elementwise max of two tensors use :func:`maximum`.

    >>> import tensorgraph as tg
    >>> tg.max(tg.tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1)
    tensor([5., 7.])
    """
    return _extreme(x, axis, keepdims, np.maximum)


@op(
    "min",
    "∂/∂x = 1 at the minimum (shared evenly among ties), else 0",
    kind="reduction",
    pattern="min routes",
    methods=("min",),
    expr="min",
    kink=lambda ins, attrs: _extreme_kink(ins, attrs, np.minimum),
    torch="torch.amin",
    code="""
out = x.min(axis=axis, keepdims=keepdims)
mask = x == x.min(axis=axis, keepdims=True)
count = mask.sum(axis=axis, keepdims=True)
dx = mask * (g.reshape(count.shape) / count)
""",
)
def min(x: Array, axis: Axis = None, keepdims: bool = False) -> Forward:  # noqa: A001
    """Smallest entry, over all entries or along ``axis`` (a reduction).

    >>> import tensorgraph as tg
    >>> tg.min(tg.tensor([3.0, -1.0, 2.0]))
    tensor(-1.)
    """
    return _extreme(x, axis, keepdims, np.minimum)


@op(
    "relu",
    "∂/∂x = 1 if x > 0 else 0",
    kind="elementwise",
    pattern="max routes",
    methods=("relu",),
    expr="relu",
    kink=_sign_kink,
    torch="torch.relu",
    code="out = np.maximum(x, 0); dx = g * (x > 0)",
)
def relu(x: Array) -> Forward:
    """Elementwise ``max(x, 0)``; the gradient at exactly 0 is 0, as in PyTorch.

    >>> import tensorgraph as tg
    >>> tg.relu(tg.tensor([-1.0, 0.0, 2.0]))
    tensor([0., 0., 2.])
    """
    return np.maximum(x, 0), lambda g: (g * (x > 0),)


@op(
    "abs",
    "∂/∂x = sign(x)   (0 at x = 0)",
    kind="elementwise",
    methods=("abs", "__abs__"),
    expr="abs",
    kink=_sign_kink,
    torch="torch.abs",
    code="out = np.abs(x); dx = g * np.sign(x)",
)
def abs(x: Array) -> Forward:  # noqa: A001
    """Elementwise absolute value.

    >>> import tensorgraph as tg
    >>> tg.abs(tg.tensor([-2.0, 3.0]))
    tensor([2., 3.])
    """
    return np.abs(x), lambda g: (g * np.sign(x),)


@op(
    "leaky_relu",
    "∂/∂x = 1 if x > 0 else negative_slope",
    kind="elementwise",
    expr="leaky_relu",
    kink=_sign_kink,
    torch="torch.nn.functional.leaky_relu",
    code="""
out = np.where(x > 0, x, x * negative_slope)
dx = np.where(x > 0, g, g * negative_slope)
""",
)
def leaky_relu(x: Array, negative_slope: float = 0.01) -> Forward:
    """Elementwise ``x`` where ``x > 0``, else ``negative_slope * x``; at exactly 0 the
    gradient is ``negative_slope``, as in PyTorch.

    >>> import tensorgraph as tg
    >>> tg.leaky_relu(tg.tensor([-2.0, 3.0]), 0.1)
    tensor([-0.2,  3. ])
    """
    slope = _number(negative_slope, "negative_slope")
    return np.where(x > 0, x, x * slope), lambda g: (np.where(x > 0, g, g * slope),)


def _clamp_kink(ins: list[np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
    """The branch of clamp: below min, between the bounds or above max (each side of each)."""
    bounds = [attrs[k] for k in ("min", "max") if attrs.get(k) is not None]
    return np.stack([np.sign(ins[0] - bound) for bound in bounds]).astype(np.int8)


@op(
    "clamp",
    "∂/∂x = 1 if min ≤ x ≤ max (bounds included, as torch), else 0",
    kind="elementwise",
    pattern="max routes",
    methods=("clamp", "clip"),
    expr="clamp",
    kink=_clamp_kink,
    torch="torch.clamp",
    code="""
out = x if min is None else np.maximum(x, min)
out = out if max is None else np.minimum(out, max)
if min is None:
    dx = g * (x <= max)
elif max is None:
    dx = g * (x >= min)
else:
    dx = g * ((x >= min) & (x <= max))
""",
)
def clamp(x: Array, min: float | None = None, max: float | None = None) -> Forward:  # noqa: A002
    """Each entry limited to ``[min, max]`` (either bound may be None); ``tg.clip`` too.

    The gradient passes where ``min <= x <= max``, the bounds included, and is 0 outside,
    as ``torch.clamp``'s. With ``min > max`` every entry is ``max``, as in torch.

    >>> import tensorgraph as tg
    >>> tg.clamp(tg.tensor([-2.0, 0.5, 3.0]), min=0.0, max=1.0)
    tensor([0. , 0.5, 1. ])
    """
    if min is None and max is None:
        raise ValueError("give min, max or both (with neither there is nothing to clamp)")
    lo = None if min is None else _number(min, "min")
    hi = None if max is None else _number(max, "max")
    out = x if lo is None else np.maximum(x, lo)
    out = out if hi is None else np.minimum(out, hi)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        inside = (x >= lo) if lo is not None else (x <= hi)
        if lo is not None and hi is not None:
            inside &= x <= hi
        return (g * inside,)

    return out, backward, {"min": lo, "max": hi}


clip = clamp  # numpy's name for the same op (np.clip); one registry entry, tg.OPS["clamp"]


@op(
    "where",
    "∂/∂a = 1 where cond, else 0;  ∂/∂b = 1 where not cond, else 0   (cond gets none)",
    kind="elementwise",
    pattern="where routes",
    expr="where",
    reads_data=False,
    torch="torch.where",
    code="out = np.where(cond, a, b); da = np.where(cond, g, 0); db = np.where(cond, 0, g)",
)
def where(cond: Any, a: Array, b: Array) -> Forward:
    """``a`` where ``cond`` is True, else ``b``, with broadcasting, as ``torch.where``.

    ``cond`` is a bool array or bool tensor (``x > 0``): an attribute of the op, copied
    when it runs, that gets no gradient.

    >>> import tensorgraph as tg
    >>> x = tg.tensor([-1.0, 2.0])
    >>> tg.where(x > 0, x, 0.1 * x)
    tensor([-0.1,  2. ])
    """
    c = cond._data if isinstance(cond, Tensor) else cond
    c = np.array(c)  # a copy: the rule reads it later, the caller may change theirs
    if c.dtype != np.bool_:
        raise TypeError(
            f"cond must be a bool array or bool tensor (such as x > 0), got dtype {c.dtype}"
        )
    try:
        np.broadcast_shapes(c.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"shapes {c.shape} (cond), {a.shape} and {b.shape} cannot be broadcast together"
        ) from None
    return np.where(c, a, b), lambda g: (np.where(c, g, 0), np.where(c, 0, g)), {"cond": c}


# ----- reductions -----


@op(
    "sum",
    "∂/∂x = 1 for every entry summed",
    kind="reduction",
    pattern="sum distributes",
    methods=("sum",),
    expr="sum",
    reads_data=False,
    torch="torch.sum",
    code="""
out = x.sum(axis=axis, keepdims=keepdims)
if keepdims or axis is None:
    dx = np.broadcast_to(g, x.shape)
else:
    dx = np.broadcast_to(np.expand_dims(g, axis), x.shape)
""",
)
def sum(x: Array, axis: Axis = None, keepdims: bool = False) -> Forward:  # noqa: A001
    """Sum over all entries, or along ``axis``.

    >>> import tensorgraph as tg
    >>> tg.sum(tg.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0)
    tensor([4., 6.])
    """
    shape = x.shape
    axes = _axes(axis, x.ndim)
    kept = _kept_shape(shape, axes)
    return x.sum(axis=axes, keepdims=keepdims), lambda g: (np.broadcast_to(g.reshape(kept), shape),)


@op(
    "mean",
    "∂/∂x = 1/n for each of the n entries averaged",
    kind="reduction",
    pattern="mean distributes",
    methods=("mean",),
    expr="mean",
    reads_data=False,
    torch="torch.mean",
    code="""
out = x.mean(axis=axis, keepdims=keepdims)
if keepdims or axis is None:
    dx = np.broadcast_to(g / (x.size // max(out.size, 1)), x.shape)
else:
    dx = np.broadcast_to(np.expand_dims(g, axis) / (x.size // max(out.size, 1)), x.shape)
""",
)
def mean(x: Array, axis: Axis = None, keepdims: bool = False) -> Forward:
    """Mean over all entries, or along ``axis``.

    >>> import tensorgraph as tg
    >>> tg.mean(tg.tensor([1.0, 2.0, 6.0]))
    tensor(3.)
    """
    shape = x.shape
    axes = _axes(axis, x.ndim)
    kept = _kept_shape(shape, axes)
    count = math.prod(shape[i] for i in axes)
    if count == 0:
        raise ValueError(f"cannot average an empty axis of a tensor of shape {shape}")
    out = x.mean(axis=axes, keepdims=keepdims)
    return out, lambda g: (np.broadcast_to(g.reshape(kept) / count, shape),)


def _shifted(x: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x - m`` and ``log(sum(exp(x - m)))`` over ``axes`` (kept as 1s), and ``m``, the
    maximum: logsumexp is their sum. Shifted so that scores of 1e4 stay finite in float32;
    a slice of -inf gives -inf, not NaN (torch's rule)."""
    m = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)
    shifted = x - m
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return shifted, np.log(np.exp(shifted).sum(axis=axes, keepdims=True)), m


@op(
    "logsumexp",
    "∂/∂x = exp(x - logsumexp(x)), the softmax of x along the axes",
    kind="reduction",
    methods=("logsumexp",),
    expr="logsumexp",
    torch="torch.logsumexp",
    code="""
m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
m = np.where(np.isfinite(m), m, 0)
kept = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
out = kept if keepdims else np.squeeze(kept, axis=axis)
dx = g.reshape(kept.shape) * np.exp(x - kept)
""",
)
def logsumexp(x: Array, axis: Axis = None, keepdims: bool = False) -> Forward:
    """``log(sum(exp(x)))`` over all entries or along ``axis``, computed stably.

    >>> import tensorgraph as tg
    >>> tg.logsumexp(tg.tensor([[1e4, 1e4]], dtype="float32"), axis=1)
    tensor([10000.693], dtype=float32)
    """
    axes = _axes(axis, x.ndim)
    _, lse, m = _shifted(x, axes)
    kept = lse + m
    out = kept if keepdims else kept.reshape(_reduced_shape(x.shape, axes))
    return out, lambda g: (g.reshape(kept.shape) * np.exp(x - kept),)


def _spread(x: np.ndarray, axis: Axis, correction: float, keepdims: bool, root: bool) -> Forward:
    """var (root=False) or std along ``axis``: the sum of squared deviations over
    ``n - correction``, as torch.var and torch.std compute it (two passes)."""
    axes = _axes(axis, x.ndim)
    c = _number(correction, "correction")
    n = math.prod(x.shape[i] for i in axes)
    dof = builtins.max(n - c, 0.0)
    if dof == 0:
        warnings.warn(
            f"{'std' if root else 'var'}: degrees of freedom <= 0 ({n} entries, correction "
            f"{c:g}): the result is NaN or inf, as in torch",
            RuntimeWarning,
            stacklevel=5,  # the caller of tg.var / tg.std
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        kept_shape = _kept_shape(x.shape, axes)
        mean = x.mean(axis=axes, keepdims=True) if n else np.full(kept_shape, np.nan, x.dtype)
        diff = x - mean
        kept = (diff * diff).sum(axis=axes, keepdims=True) / dof
        if root:
            kept = np.sqrt(kept)
    kept = kept.astype(x.dtype, copy=False)
    out = kept if keepdims else kept.reshape(_reduced_shape(x.shape, axes))
    scale = 2 / dof if dof else math.inf

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        g = g.reshape(kept.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            if root:  # d std = d var / (2 std); torch says 0 where std is 0
                g = np.where(kept == 0, 0, g / (2 * kept))
            return (g * scale * (x - mean),)

    return out, backward


@op(
    "var",
    "∂/∂x = 2·(x - mean(x)) / (n - correction)",
    kind="reduction",
    methods=("var",),
    expr="var",
    torch="torch.var",
    code="""
mean = x.mean(axis=axis, keepdims=True)
diff = x - mean
dof = max(x.size // mean.size - correction, 0.0)
kept = (diff * diff).sum(axis=axis, keepdims=True) / dof
out = kept if keepdims else np.squeeze(kept, axis=axis)
dx = g.reshape(kept.shape) * (2 / dof if dof else np.inf) * (x - mean)
""",
)
def var(x: Array, axis: Axis = None, correction: float = 1, keepdims: bool = False) -> Forward:
    """Variance over all entries or along ``axis``, divided by ``n - correction``.

    ``correction=1`` (the default, as in torch) is the sample variance; ``correction=0``
    (numpy's default, also spelled ``ddof=0``) the population variance.

    >>> import tensorgraph as tg
    >>> tg.var(tg.tensor([1.0, 2.0, 3.0, 4.0])), tg.var(tg.tensor([1.0, 2.0, 3.0, 4.0]), ddof=0)
    (tensor(1.6667), tensor(1.25))
    """
    return _spread(x, axis, correction, keepdims, root=False)


@op(
    "std",
    "∂/∂x = (x - mean(x)) / ((n - correction)·std(x))   (0 where std is 0, as torch)",
    kind="reduction",
    methods=("std",),
    expr="std",
    torch="torch.std",
    code="""
mean = x.mean(axis=axis, keepdims=True)
diff = x - mean
dof = max(x.size // mean.size - correction, 0.0)
kept = np.sqrt((diff * diff).sum(axis=axis, keepdims=True) / dof)
out = kept if keepdims else np.squeeze(kept, axis=axis)
gk = np.where(kept == 0, 0, g.reshape(kept.shape) / (2 * kept))  # 0 where std is 0, as torch
dx = gk * (2 / dof if dof else np.inf) * (x - mean)
""",
)
def std(x: Array, axis: Axis = None, correction: float = 1, keepdims: bool = False) -> Forward:
    """Standard deviation, ``sqrt(var(x, axis, correction))``; at zero spread its
    gradient is 0, as in torch.

    >>> import tensorgraph as tg
    >>> tg.std(tg.tensor([[1.0, 3.0], [2.0, 2.0]]), axis=1)
    tensor([1.4142, 0.    ])
    """
    return _spread(x, axis, correction, keepdims, root=True)


# ----- elementwise functions -----


@op(
    "exp",
    "∂/∂x = exp(x)",
    kind="elementwise",
    methods=("exp",),
    expr="exp",
    torch="torch.exp",
    code="out = np.exp(x); dx = g * out",
)
def exp(x: Array) -> Forward:
    """Elementwise ``e ** x``.

    >>> import tensorgraph as tg
    >>> tg.exp(tg.tensor(0.0))
    tensor(1.)
    """
    out = np.exp(x)
    return out, lambda g: (g * out,)


@op(
    "log",
    "∂/∂x = 1/x",
    kind="elementwise",
    methods=("log",),
    expr="log",
    torch="torch.log",
    domain="positive",
    code="out = np.log(x); dx = g / x",
)
def log(x: Array) -> Forward:
    """Elementwise natural logarithm.

    >>> import tensorgraph as tg
    >>> tg.log(tg.tensor(1.0))
    tensor(0.)
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(x)
    return out, lambda g: (g / x,)


@op(
    "sqrt",
    "∂/∂x = 1/(2·sqrt(x))",
    kind="elementwise",
    methods=("sqrt",),
    expr="sqrt",
    torch="torch.sqrt",
    domain="positive",
    code="out = np.sqrt(x); dx = g / (2 * out)",
)
def sqrt(x: Array) -> Forward:
    """Elementwise square root.

    >>> import tensorgraph as tg
    >>> tg.sqrt(tg.tensor([4.0, 9.0]))
    tensor([2., 3.])
    """
    with np.errstate(invalid="ignore"):
        out = np.sqrt(x)
    return out, lambda g: (g / (2 * out),)


@op(
    "tanh",
    "∂/∂x = 1 - tanh(x)²",
    kind="elementwise",
    methods=("tanh",),
    expr="tanh",
    torch="torch.tanh",
    code="out = np.tanh(x); dx = g * (1 - out * out)",
)
def tanh(x: Array) -> Forward:
    """Elementwise hyperbolic tangent.

    >>> import tensorgraph as tg
    >>> tg.tanh(tg.tensor(0.0))
    tensor(0.)
    """
    out = np.tanh(x)
    return out, lambda g: (g * (1 - out * out),)


@op(
    "σ",
    "∂/∂x = σ(x)·(1 - σ(x))",
    kind="elementwise",
    methods=("sigmoid",),
    expr="sigmoid",
    torch="torch.sigmoid",
    code="""
e = np.exp(-np.abs(x))
out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
dx = g * out * (1 - out)
""",
)
def sigmoid(x: Array) -> Forward:
    """Elementwise logistic function ``1 / (1 + e^-x)``, stable for large ``|x|``.

    >>> import tensorgraph as tg
    >>> tg.sigmoid(tg.tensor(0.0))
    tensor(0.5)
    """
    # exp of -|x| never overflows; pick the matching form on each side of 0.
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
    return out, lambda g: (g * out * (1 - out),)


@op(
    "sin",
    "∂/∂x = cos(x)",
    kind="elementwise",
    expr="sin",
    torch="torch.sin",
    code="out = np.sin(x); dx = g * np.cos(x)",
)
def sin(x: Array) -> Forward:
    """Elementwise sine (radians).

    >>> import tensorgraph as tg
    >>> tg.sin(tg.tensor(0.0))
    tensor(0.)
    """
    return np.sin(x), lambda g: (g * np.cos(x),)


@op(
    "cos",
    "∂/∂x = -sin(x)",
    kind="elementwise",
    expr="cos",
    torch="torch.cos",
    code="out = np.cos(x); dx = -g * np.sin(x)",
)
def cos(x: Array) -> Forward:
    """Elementwise cosine (radians).

    >>> import tensorgraph as tg
    >>> tg.cos(tg.tensor(0.0))
    tensor(1.)
    """
    return np.cos(x), lambda g: (-g * np.sin(x),)


@op(
    "log1p",
    "∂/∂x = 1/(1 + x)",
    kind="elementwise",
    methods=("log1p",),
    expr="log1p",
    torch="torch.log1p",
    domain="positive",
    code="out = np.log1p(x); dx = g / (1 + x)",
)
def log1p(x: Array) -> Forward:
    """Elementwise ``log(1 + x)``, exact for tiny ``x`` where ``log(1 + x)`` rounds to 0.

    >>> import tensorgraph as tg
    >>> tg.log1p(tg.tensor([0.0, 1e-20]))
    tensor([0.e+00, 1.e-20])
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log1p(x)
    return out, lambda g: (g / (1 + x),)


@op(
    "expm1",
    "∂/∂x = exp(x)",
    kind="elementwise",
    methods=("expm1",),
    expr="expm1",
    torch="torch.expm1",
    code="out = np.expm1(x); dx = g * (out + 1)",
)
def expm1(x: Array) -> Forward:
    """Elementwise ``exp(x) - 1``, exact for tiny ``x``.

    >>> import tensorgraph as tg
    >>> tg.expm1(tg.tensor([0.0, 1e-20]))
    tensor([0.e+00, 1.e-20])
    """
    with np.errstate(over="ignore"):
        out = np.expm1(x)
    return out, lambda g: (g * (out + 1),)


# ----- softmax: a normalization along an axis -----


def _softmax_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """The axes of a softmax; a 0-d tensor is a softmax of one entry along axis 0 or -1."""
    if ndim == 0 and axis in (0, -1):
        return ()
    return _axes(axis, ndim)


@op(
    "softmax",
    "∂/∂x = s·(G - sum(G·s))   (s the output, sums along the axis)",
    kind="normalization",
    methods=("softmax",),
    expr="softmax",
    torch="torch.softmax",
    code="""
ax = () if x.ndim == 0 else axis
e = np.exp(x - np.max(x, axis=ax, keepdims=True, initial=-np.inf))
out = e / e.sum(axis=ax, keepdims=True)
dx = out * (g - (g * out).sum(axis=ax, keepdims=True))
""",
)
def softmax(x: Array, axis: Axis = -1) -> Forward:
    """``exp(x) / sum(exp(x))`` along ``axis`` (default the last), shifted by the
    maximum so that large scores do not overflow: one gate with its own backward.

    >>> import tensorgraph as tg
    >>> tg.softmax(tg.tensor([[0.0, 0.0], [1000.0, 0.0]]))
    tensor([[0.5, 0.5],
            [1. , 0. ]])
    """
    axes = _softmax_axes(axis, x.ndim)
    e = np.exp(x - np.max(x, axis=axes, keepdims=True, initial=-np.inf))
    out = e / e.sum(axis=axes, keepdims=True)

    # torch's form of the rule, term for term: s·(G - sum(G·s)).
    return out, lambda g: (out * (g - (g * out).sum(axis=axes, keepdims=True)),)


@op(
    "log_softmax",
    "∂/∂x = G - softmax(x)·sum(G)   (sums along the axis)",
    kind="normalization",
    methods=("log_softmax",),
    expr="log_softmax",
    torch="torch.log_softmax",
    code="""
ax = () if x.ndim == 0 else axis
m = np.max(x, axis=ax, keepdims=True, initial=-np.inf)
shifted = x - np.where(np.isfinite(m), m, 0)
out = shifted - np.log(np.exp(shifted).sum(axis=ax, keepdims=True))
dx = g - np.exp(out) * g.sum(axis=ax, keepdims=True)
""",
)
def log_softmax(x: Array, axis: Axis = -1) -> Forward:
    """``x - logsumexp(x)`` along ``axis`` (default the last): the log of the softmax,
    without ever taking the log of a probability that rounded to 0.

    >>> import tensorgraph as tg
    >>> tg.log_softmax(tg.tensor([0.0, 1000.0]))
    tensor([-1000.,     0.])
    """
    axes = _softmax_axes(axis, x.ndim)
    shifted, lse, _ = _shifted(x, axes)
    out = shifted - lse  # not x - logsumexp(x): 1e4 + 0.3 would round in float32
    return out, lambda g: (g - np.exp(out) * g.sum(axis=axes, keepdims=True),)


# ----- shape ops -----


@op(
    "reshape",
    "the upstream gradient, reshaped back",
    kind="shape",
    methods=("reshape",),
    expr="reshape",
    reads_data=False,
    torch="torch.reshape",
    code="out = x.reshape(shape); dx = g.reshape(x.shape)",
)
def reshape(x: Array, shape: int | tuple[int, ...]) -> Forward:
    """The same entries in a new shape (one dimension may be -1), as ``np.reshape``.

    >>> import tensorgraph as tg
    >>> tg.reshape(tg.tensor([1.0, 2.0, 3.0, 4.0]), (2, 2)).shape
    (2, 2)
    """
    try:
        out = x.reshape(shape)
    except (ValueError, TypeError):
        shown = tuple(shape) if isinstance(shape, tuple | list) else (shape,)
        raise ValueError(
            f"cannot reshape a tensor of shape {x.shape} ({x.size} entries) into {shown}"
        ) from None
    old = x.shape
    return out, lambda g: (g.reshape(old),), {"shape": out.shape}


@op(
    "T",
    "the upstream gradient, with the axes permuted back",
    kind="shape",
    methods=("transpose", "T", "swapaxes", "t"),
    expr="transpose",
    reads_data=False,
    torch="torch.permute",
    code="""
out = x.T if axes == tuple(range(x.ndim))[::-1] else x.transpose(axes)
if axes == tuple(range(x.ndim))[::-1]:
    dx = g.T
else:
    dx = g.transpose(tuple(int(i) for i in np.argsort(axes)))
""",
)
def transpose(x: Array, axes: tuple[int, ...] | None = None) -> Forward:
    """Permute the axes, as ``numpy.transpose`` does (no axes: reverse them).

    Note: numpy semantics, so ``t.transpose(1, 0)`` is a permutation, not PyTorch's
    swap of two dimensions; use :func:`swapaxes` for that.

    >>> import tensorgraph as tg
    >>> tg.transpose(tg.tensor([[1.0, 2.0, 3.0]])).shape
    (3, 1)
    """
    if axes is None:  # x.T, the common case: reversed axes, its own inverse
        perm = tuple(range(x.ndim - 1, -1, -1))
        return x.transpose(), lambda g: (g.transpose(),), {"axes": perm}
    perm = tuple(axes)
    if sorted(_axes(perm, x.ndim)) != list(range(x.ndim)):
        hint = ""
        if len(perm) == 2:  # PyTorch's transpose(dim0, dim1) swaps two axes
            hint = (
                f" (numpy's transpose lists every axis in its new order; to swap two axes, "
                f"as PyTorch's transpose{perm} does, write x.swapaxes{perm})"
            )
        raise ValueError(f"axes {perm} are not a permutation of a {x.ndim}-d tensor{hint}")
    inverse = tuple(np.argsort(_axes(perm, x.ndim)))
    return x.transpose(perm), lambda g: (g.transpose(inverse),), {"axes": perm}


def _method_axes(x: Tensor, axes: tuple[Any, ...]) -> tuple[int, ...] | None:
    """The axes of ``x.transpose(*axes)``, as numpy reads them, with PyTorch's trap made
    loud: on a 2-D tensor, ``x.transpose(0, 1)`` is numpy's identity permutation (x
    unchanged) where PyTorch swaps the two axes (xᵀ). That spelling is refused.

    >>> import tensorgraph as tg
    >>> _method_axes(tg.tensor([[1.0, 2.0]]), (1, 0)), _method_axes(tg.tensor([1.0]), ())
    ((1, 0), None)
    """
    if len(axes) == 1:  # x.transpose((1, 0)), numpy's other spelling: as it is
        return axes[0]
    if (
        x.ndim == 2
        and len(axes) == 2
        and all(isinstance(a, int | np.integer) and not isinstance(a, bool) for a in axes)
        and [a % 2 for a in axes] == [0, 1]
        and all(-2 <= a < 2 for a in axes)
    ):
        raise ValueError(
            f"transpose{tuple(int(a) for a in axes)} on a 2-D tensor is numpy's identity "
            "permutation: it would return the tensor unchanged, where PyTorch's "
            "transpose(0, 1) swaps the axes. For the transpose write x.T, x.t() or "
            "x.swapaxes(0, 1); for the identity on purpose, x.transpose((0, 1))"
        )
    return axes or None


def _t_axes(x: Tensor) -> tuple[int, ...]:
    """The axes of PyTorch's ``x.t()``: a tensor of at most 2 dimensions, its axes reversed.

    >>> import tensorgraph as tg
    >>> _t_axes(tg.tensor([[1.0, 2.0]])), _t_axes(tg.tensor([1.0]))
    ((1, 0), (0,))
    """
    if x.ndim > 2:
        raise ValueError(
            f"t: expects a tensor of at most 2 dimensions, got shape {x.shape}; "
            "use x.swapaxes(a, b) or x.transpose(axes)"
        )
    return tuple(reversed(range(x.ndim)))


def swapaxes(x: Operand, axis1: int, axis2: int) -> Tensor:
    """Swap two axes (PyTorch's ``transpose(dim0, dim1)``), recorded as a transpose.

    >>> import tensorgraph as tg
    >>> tg.swapaxes(tg.tensor(np.zeros((2, 3, 4))), 0, 2).shape
    (4, 3, 2)
    """
    x = constant(x, None, "swapaxes")
    perm = list(range(x.ndim))
    try:  # one axis at a time: (0, -1) of a 1-D tensor name the same axis, as numpy allows
        (a1,), (a2,) = (_axes(operator.index(a), x.ndim) for a in (axis1, axis2))
    except TypeError:
        raise TypeError(f"swapaxes: axis must be an int, got {axis1!r} and {axis2!r}") from None
    except ValueError as err:
        raise type(err)(f"swapaxes: {err}") from None
    perm[a1], perm[a2] = perm[a2], perm[a1]
    return transpose(x, tuple(perm))


def _clean_index(index: Any) -> tuple[Any, bool]:
    """An index as numpy reads it, with every array part copied; and whether it is advanced.

    Inside an index tuple, lists, tuples, arrays, tensors and any other sequence are
    integer (or boolean) arrays, as in numpy: ``x[(0, 0), :]`` picks row 0 twice. The
    arrays are copied and made read-only, and slice bounds become ints, because the
    backward rule reads the index later (and ``t.attrs["index"]`` shows it): a change to
    the caller's array afterwards must not reach the gradient.
    """
    parts = index if isinstance(index, tuple) else (index,)
    cleaned, advanced = [], False
    for part in parts:
        if isinstance(part, slice):
            part = _clean_slice(part)
        elif _is_array_like(part):
            advanced = True
            part = _index_array(part)
        cleaned.append(part)  # ints, None, ..., bools: immutable; other things numpy refuses
    return (tuple(cleaned) if isinstance(index, tuple) else cleaned[0]), advanced


def _is_array_like(part: Any) -> bool:
    """Whether numpy reads ``part`` of an index as an array (a list, a tensor, a range...)."""
    if isinstance(part, Tensor | np.ndarray | list | tuple | range):
        return True
    if isinstance(part, str | bytes | np.generic):
        return False  # numpy scalars are integers (or refused); strings are refused
    return isinstance(part, Sequence) or hasattr(part, "__array__")  # deque, torch tensors


def _index_array(part: Any) -> np.ndarray:
    """A copy of one array part of an index, as intp or bool, read-only."""
    if isinstance(part, Tensor):
        part = part._data
    try:
        arr = np.asarray(part)
    except Exception as err:  # ragged lists, objects with no array form
        raise IndexError(f"cannot read {_short(part)} as an index array: {err}") from None
    if not isinstance(part, list | tuple | range):  # np.asarray shared the array's memory
        arr = arr.copy()
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise IndexError(f"float index array holds non-integers: {_short(arr)}")
        arr = arr.astype(np.intp)
    elif arr.dtype.kind == "O":
        raise IndexError(
            f"an index list may hold only integers or booleans (within int64), got {_short(part)}"
        )
    elif arr.dtype.kind not in "iub":
        raise IndexError(f"cannot index with an array of dtype {arr.dtype}: {_short(part)}")
    arr.flags.writeable = False
    return arr


def _clean_slice(s: slice) -> slice:
    """``s`` with its bounds as Python ints (a 0-d array bound is read now, not later)."""
    try:
        bounds = [None if v is None else operator.index(v) for v in (s.start, s.stop, s.step)]
    except TypeError:
        raise TypeError(
            f"slice indices must be integers or None or have an __index__ method, got {s}"
        ) from None
    return slice(*bounds)


@op(
    "[ ]",
    "1 at the entries picked (repeated picks add up), else 0",
    kind="shape",
    pattern="index routes",
    operator="[]",
    methods=("__getitem__",),
    reads_data=False,
    code="""
out = x[index]
dx = np.zeros_like(x)
if any(isinstance(i, np.ndarray) for i in (index if isinstance(index, tuple) else (index,))):
    np.add.at(dx, index, g)  # repeated picks add up
else:
    dx[index] = g
""",
)
def index(x: Array, index: Any) -> Forward:
    """``x[index]``: slices, integers, and integer or boolean arrays, as in numpy.

    Repeated indices accumulate their gradient, so ``scores[np.arange(N), y]`` works.

    >>> import tensorgraph as tg
    >>> s = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> s[[0, 1], [1, 0]]
    tensor([2., 3.])
    """
    idx, advanced = _clean_index(index)
    try:
        out = np.asarray(x[idx])
    except IndexError as err:
        raise IndexError(f"{err} (the tensor has shape {x.shape})") from None
    shape, dtype = x.shape, x.dtype

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        gx = np.zeros(shape, dtype)
        if advanced:
            np.add.at(gx, idx, g)  # repeated indices add up
        else:
            gx[idx] = g
        return (gx,)

    return out, backward, {"index": idx}


def _one_axis(axis: Any, ndim: int, what: str = "axis") -> int:
    """A single axis as a non-negative int (cat, stack, flatten take one, not a tuple)."""
    if isinstance(axis, bool | np.bool_) or not isinstance(axis, int | np.integer):
        raise TypeError(f"{what} must be an integer, got {_short(axis)}")
    try:
        (a,) = normalize_axis_tuple(int(axis), ndim)
    except np.exceptions.AxisError:
        raise np.exceptions.AxisError(
            f"{what} {axis} is out of range for a tensor with {ndim} dimension(s)"
        ) from None
    return a


def _shape_list(arrays: Sequence[np.ndarray]) -> str:
    """The inputs' shapes for a message, the first few of them."""
    shown = ", ".join(str(a.shape) for a in arrays[:6])
    return shown + (f", ... ({len(arrays)} tensors)" if len(arrays) > 6 else "")


@op(
    "cat",
    "the upstream gradient, cut back into each input's slice along the axis",
    kind="shape",
    expr="cat",
    reads_data=False,
    torch="torch.cat",
    code="""
out = np.concatenate(tensors, axis=axis)
dtensors = np.split(g, np.cumsum([t.shape[axis] for t in tensors])[:-1], axis=axis)
""",
)
def cat(tensors: Arrays, axis: int = 0) -> Forward:
    """Join tensors end to end along an existing ``axis`` (``np.concatenate``, ``torch.cat``).

    They must agree in every other dimension; mixed float dtypes give the wider one.

    >>> import tensorgraph as tg
    >>> tg.cat([tg.tensor([[1.0, 2.0]]), tg.tensor([[3.0, 4.0], [5.0, 6.0]])]).shape
    (3, 2)
    """
    if not tensors:
        raise ValueError("expected a non-empty list of tensors")
    first = tensors[0]
    if any(t.ndim == 0 for t in tensors):
        raise ValueError(
            f"0-d tensors have no axis to join along (shapes {_shape_list(tensors)}); "
            "use tg.stack to make a new axis"
        )
    ax = _one_axis(axis, first.ndim)
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or t.shape[:ax] + t.shape[ax + 1 :] != (
            first.shape[:ax] + first.shape[ax + 1 :]
        ):
            raise ValueError(
                f"tensor {i} has shape {t.shape} but tensor 0 has shape {first.shape}: they may "
                f"differ only along axis {axis} (shapes {_shape_list(tensors)})"
            )
    cuts = np.cumsum([t.shape[ax] for t in tensors])[:-1].tolist()
    return np.concatenate(tensors, axis=ax), lambda g: tuple(np.split(g, cuts, axis=ax))


@op(
    "stack",
    "the upstream gradient's slice at each input's position along the new axis",
    kind="shape",
    expr="stack",
    reads_data=False,
    torch="torch.stack",
    code="out = np.stack(tensors, axis=axis); dtensors = list(np.moveaxis(g, axis, 0))",
)
def stack(tensors: Arrays, axis: int = 0) -> Forward:
    """Tensors of one shape stacked along a new ``axis`` (``np.stack``, ``torch.stack``).

    >>> import tensorgraph as tg
    >>> tg.stack([tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0])], axis=1)
    tensor([[1., 3.],
            [2., 4.]])
    """
    if not tensors:
        raise ValueError("expected a non-empty list of tensors")
    first = tensors[0]
    for i, t in enumerate(tensors):
        if t.shape != first.shape:
            raise ValueError(
                f"tensor {i} has shape {t.shape} but tensor 0 has shape {first.shape}: "
                f"stacked tensors must have one shape (shapes {_shape_list(tensors)})"
            )
    ax = _one_axis(axis, first.ndim + 1)
    return np.stack(tensors, axis=ax), lambda g: tuple(np.moveaxis(g, ax, 0))


@op(
    "squeeze",
    "the upstream gradient, reshaped back",
    kind="shape",
    methods=("squeeze",),
    expr="squeeze",
    reads_data=False,
    torch="torch.squeeze",
    code="out = np.squeeze(x, axis=axis); dx = g.reshape(x.shape)",
)
def squeeze(x: Array, axis: Axis = None) -> Forward:
    """Drop axes of size 1: all of them, or those ``axis`` names (each must have size 1).

    >>> import tensorgraph as tg
    >>> tg.squeeze(tg.tensor([[[1.0], [2.0]]])).shape, tg.squeeze(tg.tensor([[1.0, 2.0]]), 0).shape
    ((2,), (2,))
    """
    shape = x.shape
    if axis is None:
        axes = tuple(i for i, n in enumerate(shape) if n == 1)
    else:
        axes = _axes(axis, x.ndim)
        for i in axes:
            if shape[i] != 1:
                raise ValueError(
                    f"cannot squeeze axis {i} of a tensor of shape {shape}: "
                    f"its size is {shape[i]}, not 1"
                )
    return x.reshape(_reduced_shape(shape, axes)), lambda g: (g.reshape(shape),)


@op(
    "unsqueeze",
    "the upstream gradient, reshaped back",
    kind="shape",
    methods=("unsqueeze",),
    expr="unsqueeze",
    reads_data=False,
    torch="torch.unsqueeze",
    code="out = np.expand_dims(x, axis); dx = g.reshape(x.shape)",
)
def unsqueeze(x: Array, axis: int | tuple[int, ...]) -> Forward:
    """A new axis of size 1 at position ``axis`` of the result (``np.expand_dims``).

    >>> import tensorgraph as tg
    >>> tg.unsqueeze(tg.tensor([1.0, 2.0]), 0).shape, tg.tensor([1.0, 2.0]).unsqueeze(-1).shape
    ((1, 2), (2, 1))
    """
    many = isinstance(axis, tuple | list)
    ndim = x.ndim + (len(axis) if many else 1)
    if not many and (isinstance(axis, bool | np.bool_) or not isinstance(axis, int | np.integer)):
        raise TypeError(f"axis must be an integer or a tuple of them, got {_short(axis)}")
    try:
        axes = normalize_axis_tuple(axis, ndim)
    except np.exceptions.AxisError:
        raise np.exceptions.AxisError(
            f"axis {axis!r} is out of range: a tensor of shape {x.shape} takes new axes "
            f"in [{-ndim}, {ndim - 1}]"
        ) from None
    except (ValueError, TypeError):
        raise ValueError(f"axis {axis!r} must be distinct whole numbers") from None
    shape = x.shape
    return np.expand_dims(x, axes), lambda g: (g.reshape(shape),)


@op(
    "flatten",
    "the upstream gradient, reshaped back",
    kind="shape",
    methods=("flatten",),
    expr="flatten",
    reads_data=False,
    torch="torch.flatten",
    code="""
s, e = start % max(x.ndim, 1), end % max(x.ndim, 1)
out = x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1 :]) if x.ndim else x.reshape(1)
dx = g.reshape(x.shape)
""",
)
def flatten(x: Array, start: int = 0, end: int = -1) -> Forward:
    """Axes ``start`` to ``end`` (both included) merged into one, as ``torch.flatten``
    (``start_dim``/``end_dim`` work too); a 0-d tensor becomes shape (1,).

    >>> import tensorgraph as tg
    >>> x = tg.tensor(np.zeros((2, 3, 4)))
    >>> tg.flatten(x).shape, x.flatten(1).shape, x.flatten(start_dim=0, end_dim=1).shape
    ((24,), (2, 12), (6, 4))
    """
    old = x.shape
    shape = old or (1,)
    s = _one_axis(start, len(shape), "start")
    e = _one_axis(end, len(shape), "end")
    if s > e:
        raise ValueError(f"start ({start}) comes after end ({end}) for a tensor of shape {old}")
    new = shape[:s] + (math.prod(shape[s : e + 1]),) + shape[e + 1 :]
    return x.reshape(new), lambda g: (g.reshape(old),)


@op(
    "astype",
    "the upstream gradient, cast back to the input's dtype",
    kind="elementwise",
    methods=("astype", "float", "double"),
    expr="astype",
    reads_data=False,
    torch="torch.Tensor.to",
    code="out = x.astype(dtype); dx = g.astype(x.dtype)",
)
def astype(x: Array, dtype: Any) -> Forward:
    """The entries in another float dtype; ``t.float()`` (float32) and ``t.double()``
    (float64) too. Differentiable: the gradient is cast back to the input's dtype.

    >>> import tensorgraph as tg
    >>> x = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> y = x.float()
    >>> (y * y).sum().backward()
    >>> y.dtype, x.grad.dtype
    (dtype('float32'), dtype('float64'))
    """
    new = np.dtype(dtype)
    if new.kind != "f":
        raise TypeError(
            f"only floating-point dtypes carry a gradient, got {new} (for other dtypes "
            "take the values: t.data.astype(...))"
        )
    old = x.dtype
    return x.astype(new), lambda g: (g.astype(old),), {"dtype": new.name}


# ----- not ops: comparisons, in-place updates -----


def compare(ufunc: np.ufunc, a: Operand, b: Any) -> Tensor:
    """``a < b`` and the other comparisons: a bool tensor that carries no gradient.

    >>> import tensorgraph as tg
    >>> tg.tensor([1.0, 3.0]) > 2
    tensor([False,  True], dtype=bool)
    """
    a = constant(a, None, ufunc.__name__)
    b = constant(b, a._data.dtype, ufunc.__name__)
    try:
        return Tensor(ufunc(a._data, b._data), dtype=bool)
    except ValueError:
        raise ValueError(
            f"{ufunc.__name__}: shapes {a.shape} and {b.shape} cannot be broadcast together"
        ) from None


_IN_PLACE: dict[str, tuple[np.ufunc, Callable[..., Tensor]]] = {
    "+=": (np.add, add),
    "-=": (np.subtract, sub),
    "*=": (np.multiply, mul),
    "/=": (np.true_divide, div),
}


def update_in_place(t: Tensor, symbol: str, other: Operand) -> Tensor:
    """``t += other`` (and ``-=``, ``*=``, ``/=``), as in PyTorch.

    Where no graph is recorded (inside ``tg.no_grad()``, or for a tensor that needs no
    gradient) the tensor's own memory is updated, so ``with tg.no_grad(): W -= lr *
    W.grad`` updates the parameter itself; the write is logged (inplace.py), so a graph
    that held the old values refuses to run backward. A computed tensor that needs a
    gradient gets a new graph node instead (``loss += reg * tg.l2(W)``), the value
    PyTorch's recorded in-place op gives. A leaf that needs a gradient is refused, as in
    PyTorch: updating it in place while recording would cut it from its own gradient.

    >>> import tensorgraph as tg
    >>> w = tg.tensor([1.0, 2.0], requires_grad=True)
    >>> with tg.no_grad():
    ...     w -= 0.5
    >>> w
    tensor([0.5, 1.5], requires_grad=True)
    """
    ufunc, functional = _IN_PLACE[symbol]
    where = f"in-place {symbol}"
    if t.requires_grad and is_grad_enabled():
        if t.op is None:
            raise RuntimeError(
                f"{where}: this tensor is a leaf that requires a gradient, and an in-place "
                "change while the graph is recorded would cut it from that gradient; "
                f"update it inside `with tg.no_grad():` (W {symbol} lr * W.grad) or through .data"
            )
        return functional(t, other)
    other = constant(other, t._data.dtype, where)
    try:
        ufunc(t._data, other._data, out=t._data)
    except ValueError:
        raise ValueError(
            f"{where}: a {other.shape} operand cannot update a tensor of shape "
            f"{t.shape} in place (the result must keep the tensor's shape)"
        ) from None
    except TypeError as err:  # numpy's casting error, e.g. bool tensors
        raise TypeError(f"{where}: {err}") from None
    note_write(t._data)
    return t
