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

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from .inplace import note_write
from .modes import is_grad_enabled
from .registry import (
    OPS,
    Array,
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
    "cos",
    "derivative_doc",
    "derivative_table",
    "div",
    "exp",
    "index",
    "log",
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
    "relu",
    "reshape",
    "sigmoid",
    "sin",
    "sqrt",
    "sub",
    "sum",
    "swapaxes",
    "tanh",
    "transpose",
    "write_docs",
]


# ----- helpers the rules share -----


def _axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """``axis`` as a tuple of non-negative axes (all of them for None)."""
    if axis is None:
        return tuple(range(ndim))
    try:
        return normalize_axis_tuple(axis, ndim)
    except (np.exceptions.AxisError, TypeError):
        # numpy's AxisError is both a ValueError and an IndexError, so either except works.
        raise np.exceptions.AxisError(
            f"axis {axis!r} is out of range for a tensor with {ndim} dimension(s)"
        ) from None
    except ValueError:  # numpy's "repeated axis"
        raise ValueError(f"axis {axis!r} names an axis twice") from None


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with the reduced ``axes`` kept as 1s (what keepdims=True gives)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


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
            "for a tensor exponent write tg.exp(e * tg.log(x))"
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


def number_pow(base: float, x: Operand) -> Tensor:
    """``base ** x`` for a positive number base, built as ``exp(x * log(base))``.

    >>> import tensorgraph as tg
    >>> number_pow(2, tg.tensor([3.0]))
    tensor([8.])
    """
    if not isinstance(base, int | float) or isinstance(base, bool) or base <= 0:
        raise TypeError(f"pow: base ** tensor needs a positive number as base, got {_short(base)}")
    return exp(mul(x, math.log(base)))


@op(
    "@",
    "∂/∂A = G·Bᵀ,  ∂/∂B = Aᵀ·G   (G the upstream gradient)",
    kind="linear algebra",
    operator="@",
    methods=("__matmul__", "__rmatmul__"),
    torch="torch.matmul",
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
    if isinstance(axis, Tensor | np.ndarray | float):  # tg.max(z, w): the gate was meant
        gate = reduce.__name__  # "maximum" or "minimum"
        kinds = {Tensor: "a tensor", np.ndarray: "an array"}
        kind = next((k for c, k in kinds.items() if isinstance(axis, c)), "a number")
        lecture = ", the lecture's max(z, w)," if gate == "maximum" else ""
        raise TypeError(
            f"got {kind} as the axis ({_short(axis, 40)}): tg.{gate[:3]}(x, axis) reduces one "
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
)
def abs(x: Array) -> Forward:  # noqa: A001
    """Elementwise absolute value.

    >>> import tensorgraph as tg
    >>> tg.abs(tg.tensor([-2.0, 3.0]))
    tensor([2., 3.])
    """
    return np.abs(x), lambda g: (g * np.sign(x),)


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


# ----- elementwise functions -----


@op("exp", "∂/∂x = exp(x)", kind="elementwise", methods=("exp",), expr="exp", torch="torch.exp")
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


@op("sin", "∂/∂x = cos(x)", kind="elementwise", expr="sin", torch="torch.sin")
def sin(x: Array) -> Forward:
    """Elementwise sine (radians).

    >>> import tensorgraph as tg
    >>> tg.sin(tg.tensor(0.0))
    tensor(0.)
    """
    return np.sin(x), lambda g: (g * np.cos(x),)


@op("cos", "∂/∂x = -sin(x)", kind="elementwise", expr="cos", torch="torch.cos")
def cos(x: Array) -> Forward:
    """Elementwise cosine (radians).

    >>> import tensorgraph as tg
    >>> tg.cos(tg.tensor(0.0))
    tensor(1.)
    """
    return np.cos(x), lambda g: (-g * np.sin(x),)


# ----- shape ops -----


@op(
    "reshape",
    "the upstream gradient, reshaped back",
    kind="shape",
    methods=("reshape",),
    expr="reshape",
    reads_data=False,
    torch="torch.reshape",
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
)
def transpose(x: Array, axes: tuple[int, ...] | None = None) -> Forward:
    """Permute the axes, as ``numpy.transpose`` does (no axes: reverse them).

    Note: numpy semantics, so ``t.transpose(1, 0)`` is a permutation, not PyTorch's
    swap of two dimensions; use :func:`swapaxes` for that.

    >>> import tensorgraph as tg
    >>> tg.transpose(tg.tensor([[1.0, 2.0, 3.0]])).shape
    (3, 1)
    """
    perm = tuple(axes) if axes is not None else tuple(reversed(range(x.ndim)))
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
        (a1,), (a2,) = _axes(axis1, x.ndim), _axes(axis2, x.ndim)
    except ValueError as err:
        raise type(err)(f"swapaxes: {err}") from None
    perm[a1], perm[a2] = perm[a2], perm[a1]
    return transpose(x, tuple(perm))


def _clean_index(index: Any) -> tuple[Any, bool]:
    """An index as numpy reads it, with every array part copied; and whether it is advanced.

    Inside an index tuple, lists, tuples, arrays and tensors are integer (or boolean)
    arrays, as in numpy: ``x[(0, 0), :]`` picks row 0 twice. Copies, because the
    backward rule reads the index later and the caller may change their array meanwhile.
    """
    parts = index if isinstance(index, tuple) else (index,)
    cleaned, advanced = [], False
    for part in parts:
        if isinstance(part, Tensor):
            part = part._data
        if isinstance(part, list | tuple | np.ndarray):
            advanced = True
            part = np.array(part)
            if part.dtype.kind == "f":
                if not np.all(np.isfinite(part)) or np.any(part != np.round(part)):
                    raise IndexError(f"float index array holds non-integers: {_short(part)}")
                part = part.astype(np.intp)
            elif part.dtype.kind not in "iub":
                raise IndexError(f"cannot index with an array of dtype {part.dtype}")
        cleaned.append(part)
    return (tuple(cleaned) if isinstance(index, tuple) else cleaned[0]), advanced


@op(
    "[ ]",
    "1 at the entries picked (repeated picks add up), else 0",
    kind="shape",
    pattern="index routes",
    operator="[]",
    methods=("__getitem__",),
    reads_data=False,
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
