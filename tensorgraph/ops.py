"""Every op: its forward and its backward rule, side by side.

An op takes tensors (or numbers), computes its output with numpy, and hands
``Tensor._make`` a backward function: upstream gradient ``g`` (the shape of the output)
in, one gradient per input out. Gradients come back at the shape numpy broadcasting
gave them; the engine sums them down to each input's shape (``unbroadcast``).

Each op is registered with ``@op(name, symbol, local, pattern)``: the symbol a drawing
puts on its gate, its local gradient for the derivative table (``docs/derivatives.md``
is generated from this registry and a test keeps the two equal), and, where the lecture
names one, its pattern of backward flow.

To add an op: write one function here like ``mul`` below, and one test against PyTorch
in ``tests/test_ops_torch.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from .inplace import note_write
from .tensor import Tensor, _as_array, _short, is_grad_enabled

Operand = Tensor | float | int | np.ndarray
Axis = int | tuple[int, ...] | None


@dataclass(frozen=True)
class OpInfo:
    """What the registry knows about an op (read by the docs and the visualizer).

    >>> OPS["mul"].symbol, OPS["mul"].local
    ('*', '∂/∂a = b,  ∂/∂b = a')
    """

    name: str
    symbol: str
    local: str
    pattern: str
    function: Callable[..., Tensor]


OPS: dict[str, OpInfo] = {}


def op(name: str, symbol: str, local: str, pattern: str = "") -> Callable:
    """Register an op function under ``name`` (decorator).

    >>> @op("twice", "2×", "∂/∂x = 2")
    ... def twice(x):
    ...     return mul(x, 2)
    >>> OPS.pop("twice").symbol
    '2×'
    """

    def register(function: Callable[..., Tensor]) -> Callable[..., Tensor]:
        OPS[name] = OpInfo(name, symbol, local, pattern, function)
        return function

    return register


# ----- turning operands into tensors -----


def _constant(x: Any, like: np.dtype, where: str) -> Tensor:
    """A Python number, or an integer or bool array, takes the dtype of the float tensor it
    meets (as in torch)."""
    if isinstance(x, Tensor):
        return x
    if like.kind == "f":
        if isinstance(x, int | float):
            return Tensor(np.asarray(x, dtype=like))
        # Integer and bool arrays do not widen a float tensor either, as in torch (numpy
        # would make int64 * float32 float64), so float32 stays float32.
        if isinstance(x, np.ndarray) and x.dtype.kind in "iub":
            return Tensor(x, dtype=like)
    # Name the op in the message ("mul: complex numbers are not supported (got 1j)").
    return Tensor(_as_array(x, where=where))


def _operands(where: str, a: Any, b: Any) -> tuple[Tensor, Tensor]:
    if type(a) is Tensor and type(b) is Tensor:  # the hot path
        return a, b
    if isinstance(a, Tensor):
        return a, _constant(b, a._data.dtype, where)
    if isinstance(b, Tensor):
        return _constant(a, b._data.dtype, where), b
    return Tensor(_as_array(a, where=where)), Tensor(_as_array(b, where=where))


def _operand(where: str, x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(_as_array(x, where=where))


def _broadcast(where: str, ufunc: np.ufunc, a: Tensor, b: Tensor) -> np.ndarray:
    try:
        return ufunc(a._data, b._data)
    except ValueError:
        raise ValueError(
            f"{where}: shapes {a.shape} and {b.shape} cannot be broadcast together"
        ) from None


def _axes(where: str, axis: Axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    try:
        return normalize_axis_tuple(axis, ndim)
    except (np.exceptions.AxisError, TypeError):
        raise ValueError(
            f"{where}: axis {axis!r} is out of range for a tensor with {ndim} dimension(s)"
        ) from None
    except ValueError:  # numpy's "repeated axis"
        raise ValueError(f"{where}: axis {axis!r} names an axis twice") from None


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


# ----- arithmetic -----


@op("add", "+", "∂/∂a = 1,  ∂/∂b = 1", "add distributes")
def add(a: Operand, b: Operand) -> Tensor:
    """Elementwise ``a + b`` with numpy broadcasting.

    >>> import tensorgraph as tg
    >>> tg.add(tg.tensor([1.0, 2.0]), 10)
    tensor([11., 12.])
    """
    a, b = _operands("add", a, b)
    return Tensor._make(_broadcast("add", np.add, a, b), "add", (a, b), lambda g: (g, g))


@op("sub", "-", "∂/∂a = 1,  ∂/∂b = -1")
def sub(a: Operand, b: Operand) -> Tensor:
    """Elementwise ``a - b``.

    >>> import tensorgraph as tg
    >>> tg.sub(5, tg.tensor([1.0, 2.0]))
    tensor([4., 3.])
    """
    a, b = _operands("sub", a, b)
    return Tensor._make(_broadcast("sub", np.subtract, a, b), "sub", (a, b), lambda g: (g, -g))


@op("mul", "*", "∂/∂a = b,  ∂/∂b = a", "mul swaps")
def mul(a: Operand, b: Operand) -> Tensor:
    """Elementwise ``a * b``.

    >>> import tensorgraph as tg
    >>> tg.mul(tg.tensor([1.0, 2.0]), tg.tensor([3.0, 4.0]))
    tensor([3., 8.])
    """
    a, b = _operands("mul", a, b)
    ad, bd = a._data, b._data
    out = _broadcast("mul", np.multiply, a, b)
    return Tensor._make(out, "mul", (a, b), lambda g: (g * bd, g * ad))


@op("div", "/", "∂/∂a = 1/b,  ∂/∂b = -a/b²")
def div(a: Operand, b: Operand) -> Tensor:
    """Elementwise ``a / b``.

    >>> import tensorgraph as tg
    >>> tg.div(tg.tensor([1.0, 3.0]), 2)
    tensor([0.5, 1.5])
    """
    a, b = _operands("div", a, b)
    ad, bd = a._data, b._data
    out = _broadcast("div", np.true_divide, a, b)
    return Tensor._make(out, "div", (a, b), lambda g: (g / bd, -g * ((ad / bd) / bd)))


@op("neg", "-", "∂/∂x = -1")
def neg(x: Operand) -> Tensor:
    """Elementwise ``-x``.

    >>> import tensorgraph as tg
    >>> -tg.tensor([1.0, -2.0])
    tensor([-1.,  2.])
    """
    x = _operand("neg", x)
    return Tensor._make(-x._data, "neg", (x,), lambda g: (-g,))


@op("pow", "**", "∂/∂x = p·x^(p-1)   (p a number)")
def pow(x: Operand, p: float) -> Tensor:  # noqa: A001 - mirrors tg.pow / torch.pow
    """Elementwise ``x ** p`` for a number ``p``.

    >>> import tensorgraph as tg
    >>> tg.pow(tg.tensor([2.0, 3.0]), 2)
    tensor([4., 9.])
    """
    x = _operand("pow", x)
    if isinstance(p, Tensor) or not isinstance(p, int | float | np.number) or isinstance(p, bool):
        raise TypeError(
            f"pow: the exponent must be a Python number, got {_short(p)}; "
            "for a tensor exponent write tg.exp(e * tg.log(x))"
        )
    p = float(p) if not isinstance(p, int) else p
    xd = x._data
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.power(xd, p)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        if p == 0:
            return (np.zeros_like(g),)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g * (p * np.power(xd, p - 1)),)

    return Tensor._make(out.astype(xd.dtype, copy=False), "pow", (x,), backward, {"exponent": p})


@op("matmul", "@", "∂/∂A = G·Bᵀ,  ∂/∂B = Aᵀ·G   (G the upstream gradient)")
def matmul(a: Operand, b: Operand) -> Tensor:
    """Matrix product ``a @ b`` with numpy's rules (1-D operands, batches).

    >>> import tensorgraph as tg
    >>> tg.matmul(tg.tensor([[1.0, 2.0]]), tg.tensor([[3.0], [4.0]]))
    tensor([[11.]])
    """
    a, b = _operands("matmul", a, b)
    ad, bd = a._data, b._data
    if ad.ndim == 0 or bd.ndim == 0:
        raise ValueError(
            f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and "
            f"{b.shape} (use * to multiply by a scalar)"
        )
    try:
        out = ad @ bd
    except ValueError:
        raise ValueError(f"matmul: cannot multiply {a.shape} by {b.shape}") from None

    if ad.ndim == 2 and bd.ndim == 2:
        need_a, need_b = a.requires_grad, b.requires_grad

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
            # Only the gradients an input needs: the data X of `X @ W.T` needs none, and
            # skipping it saves a whole GEMM per step. Aᵀ·G is computed as (Gᵀ·A)ᵀ:
            # BLAS writes the wide K×D result up to 2.5x faster than the tall D×K one
            # (benchmarks/findings.md, F1).
            ga = g @ bd.T if need_a else None
            gb = (g.T @ ad).T if need_b else None
            return ga, gb

    elif ad.ndim == 1 and bd.ndim == 1:
        # A dot product: g is 0-d, which the promotion below cannot expand.

        def backward(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return g * bd, g * ad

    else:

        def backward(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            # Promote 1-D operands to matrices as numpy does, then undo it.
            a2 = ad if ad.ndim > 1 else ad[None, :]
            b2 = bd if bd.ndim > 1 else bd[:, None]
            # b's axis first: for 1-D @ 1-D, g is 0-d and becomes (1, 1).
            g2 = g if bd.ndim > 1 else np.expand_dims(g, -1)
            g2 = g2 if ad.ndim > 1 else np.expand_dims(g2, -2)
            ga = g2 @ np.swapaxes(b2, -1, -2)
            gb = np.swapaxes(a2, -1, -2) @ g2
            return (ga if ad.ndim > 1 else ga[..., 0, :]), (gb if bd.ndim > 1 else gb[..., 0])

    return Tensor._make(out, "matmul", (a, b), backward)


# ----- max and its relatives: the gates that route -----


@op("maximum", "max", "∂/∂a = 1 if a > b, ½ on a tie, else 0 (and b alike)", "max routes")
def maximum(a: Operand, b: Operand) -> Tensor:
    """Elementwise maximum of two tensors: the lecture's max gate.

    On a tie each side gets half the gradient, as ``torch.maximum`` does.

    >>> import tensorgraph as tg
    >>> tg.maximum(tg.tensor(2.0), tg.tensor(-1.0))
    tensor(2.)
    """
    a, b = _operands("maximum", a, b)
    ad, bd = a._data, b._data
    out = _broadcast("maximum", np.maximum, a, b)

    def backward(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        share = np.where(ad == bd, 0.5, ad > bd)  # a's part: 1, 0, or ½ on a tie
        ga = g * share
        return ga, g - ga  # exact: share is 0, ½ or 1

    return Tensor._make(out, "maximum", (a, b), backward)


@op("minimum", "min", "∂/∂a = 1 if a < b, ½ on a tie, else 0 (and b alike)", "min routes")
def minimum(a: Operand, b: Operand) -> Tensor:
    """Elementwise minimum of two tensors (ties split the gradient in half).

    >>> import tensorgraph as tg
    >>> tg.minimum(tg.tensor([1.0, 5.0]), 3)
    tensor([1., 3.])
    """
    a, b = _operands("minimum", a, b)
    ad, bd = a._data, b._data
    out = _broadcast("minimum", np.minimum, a, b)

    def backward(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        share = np.where(ad == bd, 0.5, ad < bd)  # a's part: 1, 0, or ½ on a tie
        ga = g * share
        return ga, g - ga  # exact: share is 0, ½ or 1

    return Tensor._make(out, "minimum", (a, b), backward)


def _extreme(name: str, reduce: np.ufunc, x: Operand, axis: Axis, keepdims: bool) -> Tensor:
    x = _operand(name, x)
    xd = x._data
    axes = _axes(name, axis, xd.ndim)
    if any(xd.shape[i] == 0 for i in axes):
        raise ValueError(f"{name}: cannot reduce an empty axis of a tensor of shape {x.shape}")
    kept = reduce.reduce(xd, axis=axes, keepdims=True)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        # Tied extremes share the gradient evenly, as torch.amax / torch.amin do.
        mask = xd == kept
        return (mask * (g.reshape(kept.shape) / mask.sum(axis=axes, keepdims=True)),)

    out = kept if keepdims else kept.reshape([n for i, n in enumerate(xd.shape) if i not in axes])
    return Tensor._make(out, name, (x,), backward, {"axis": axis, "keepdims": keepdims})


@op("max", "max", "∂/∂x = 1 at the maximum (shared evenly among ties), else 0", "max routes")
def max(x: Operand, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Largest entry, over all entries or along ``axis`` (a reduction).

    For the elementwise max of two tensors use :func:`maximum`.

    >>> import tensorgraph as tg
    >>> tg.max(tg.tensor([[1.0, 5.0], [7.0, 2.0]]), axis=1)
    tensor([5., 7.])
    """
    return _extreme("max", np.maximum, x, axis, keepdims)


@op("min", "min", "∂/∂x = 1 at the minimum (shared evenly among ties), else 0", "min routes")
def min(x: Operand, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Smallest entry, over all entries or along ``axis`` (a reduction).

    >>> import tensorgraph as tg
    >>> tg.min(tg.tensor([3.0, -1.0, 2.0]))
    tensor(-1.)
    """
    return _extreme("min", np.minimum, x, axis, keepdims)


@op("relu", "relu", "∂/∂x = 1 if x > 0 else 0", "max routes")
def relu(x: Operand) -> Tensor:
    """Elementwise ``max(x, 0)``; the gradient at exactly 0 is 0, as in PyTorch.

    >>> import tensorgraph as tg
    >>> tg.relu(tg.tensor([-1.0, 0.0, 2.0]))
    tensor([0., 0., 2.])
    """
    x = _operand("relu", x)
    xd = x._data
    return Tensor._make(np.maximum(xd, 0), "relu", (x,), lambda g: (g * (xd > 0),))


@op("abs", "abs", "∂/∂x = sign(x)   (0 at x = 0)")
def abs(x: Operand) -> Tensor:  # noqa: A001
    """Elementwise absolute value.

    >>> import tensorgraph as tg
    >>> tg.abs(tg.tensor([-2.0, 3.0]))
    tensor([2., 3.])
    """
    x = _operand("abs", x)
    xd = x._data
    return Tensor._make(np.abs(xd), "abs", (x,), lambda g: (g * np.sign(xd),))


# ----- reductions -----


@op("sum", "sum", "∂/∂x = 1 for every entry summed", "sum distributes")
def sum(x: Operand, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over all entries, or along ``axis``.

    >>> import tensorgraph as tg
    >>> tg.sum(tg.tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0)
    tensor([4., 6.])
    """
    x = _operand("sum", x)
    shape = x._data.shape
    axes = _axes("sum", axis, len(shape))
    kept = _kept_shape(shape, axes)
    out = x._data.sum(axis=axes, keepdims=keepdims)
    return Tensor._make(
        out,
        "sum",
        (x,),
        lambda g: (np.broadcast_to(g.reshape(kept), shape),),
        {"axis": axis, "keepdims": keepdims},
    )


@op("mean", "mean", "∂/∂x = 1/n for each of the n entries averaged", "mean distributes")
def mean(x: Operand, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over all entries, or along ``axis``.

    >>> import tensorgraph as tg
    >>> tg.mean(tg.tensor([1.0, 2.0, 6.0]))
    tensor(3.)
    """
    x = _operand("mean", x)
    shape = x._data.shape
    axes = _axes("mean", axis, len(shape))
    kept = _kept_shape(shape, axes)
    count = math.prod(shape[i] for i in axes)
    if count == 0:
        raise ValueError(f"mean: cannot average an empty axis of a tensor of shape {shape}")
    out = x._data.mean(axis=axes, keepdims=keepdims)
    return Tensor._make(
        out,
        "mean",
        (x,),
        lambda g: (np.broadcast_to(g.reshape(kept) / count, shape),),
        {"axis": axis, "keepdims": keepdims},
    )


# ----- elementwise functions -----


@op("exp", "exp", "∂/∂x = exp(x)")
def exp(x: Operand) -> Tensor:
    """Elementwise ``e ** x``.

    >>> import tensorgraph as tg
    >>> tg.exp(tg.tensor(0.0))
    tensor(1.)
    """
    x = _operand("exp", x)
    out = np.exp(x._data)
    return Tensor._make(out, "exp", (x,), lambda g: (g * out,))


@op("log", "log", "∂/∂x = 1/x")
def log(x: Operand) -> Tensor:
    """Elementwise natural logarithm.

    >>> import tensorgraph as tg
    >>> tg.log(tg.tensor(1.0))
    tensor(0.)
    """
    x = _operand("log", x)
    xd = x._data
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(xd)
    return Tensor._make(out, "log", (x,), lambda g: (g / xd,))


@op("sqrt", "sqrt", "∂/∂x = 1/(2·sqrt(x))")
def sqrt(x: Operand) -> Tensor:
    """Elementwise square root.

    >>> import tensorgraph as tg
    >>> tg.sqrt(tg.tensor([4.0, 9.0]))
    tensor([2., 3.])
    """
    x = _operand("sqrt", x)
    with np.errstate(invalid="ignore"):
        out = np.sqrt(x._data)
    return Tensor._make(out, "sqrt", (x,), lambda g: (g / (2 * out),))


@op("tanh", "tanh", "∂/∂x = 1 - tanh(x)²")
def tanh(x: Operand) -> Tensor:
    """Elementwise hyperbolic tangent.

    >>> import tensorgraph as tg
    >>> tg.tanh(tg.tensor(0.0))
    tensor(0.)
    """
    x = _operand("tanh", x)
    out = np.tanh(x._data)
    return Tensor._make(out, "tanh", (x,), lambda g: (g * (1 - out * out),))


@op("sigmoid", "σ", "∂/∂x = σ(x)·(1 - σ(x))")
def sigmoid(x: Operand) -> Tensor:
    """Elementwise logistic function ``1 / (1 + e^-x)``, stable for large ``|x|``.

    >>> import tensorgraph as tg
    >>> tg.sigmoid(tg.tensor(0.0))
    tensor(0.5)
    """
    x = _operand("sigmoid", x)
    xd = x._data
    # exp of -|x| never overflows; pick the matching form on each side of 0.
    e = np.exp(-np.abs(xd))
    out = np.where(xd >= 0, 1 / (1 + e), e / (1 + e)).astype(xd.dtype, copy=False)
    return Tensor._make(out, "sigmoid", (x,), lambda g: (g * out * (1 - out),))


# ----- shape ops -----


@op("reshape", "reshape", "the upstream gradient, reshaped back")
def reshape(x: Operand, *shape: int | tuple[int, ...]) -> Tensor:
    """The same entries in a new shape (one dimension may be -1).

    >>> import tensorgraph as tg
    >>> tg.reshape(tg.tensor([1.0, 2.0, 3.0, 4.0]), 2, 2).shape
    (2, 2)
    """
    x = _operand("reshape", x)
    new = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
    try:
        out = x._data.reshape(new)
    except (ValueError, TypeError):
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} entries) "
            f"into {tuple(new)}"
        ) from None
    old = x.shape
    return Tensor._make(out, "reshape", (x,), lambda g: (g.reshape(old),), {"shape": out.shape})


@op("transpose", "T", "the upstream gradient, with the axes permuted back")
def transpose(x: Operand, *axes: int | tuple[int, ...]) -> Tensor:
    """Permute the axes, as ``numpy.transpose`` does (no axes: reverse them).

    Note: numpy semantics, so ``t.transpose(1, 0)`` is a permutation, not PyTorch's
    swap of two dimensions; use :func:`swapaxes` for that.

    >>> import tensorgraph as tg
    >>> tg.transpose(tg.tensor([[1.0, 2.0, 3.0]])).shape
    (3, 1)
    """
    x = _operand("transpose", x)
    perm = axes[0] if len(axes) == 1 and isinstance(axes[0], tuple | list) else axes
    perm = tuple(perm) if perm else tuple(reversed(range(x.ndim)))
    if sorted(_axes("transpose", perm, x.ndim)) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {perm} are not a permutation of a {x.ndim}-d tensor")
    inverse = tuple(np.argsort(_axes("transpose", perm, x.ndim)))
    out = x._data.transpose(perm)
    return Tensor._make(out, "transpose", (x,), lambda g: (g.transpose(inverse),), {"axes": perm})


def swapaxes(x: Operand, axis1: int, axis2: int) -> Tensor:
    """Swap two axes (PyTorch's ``transpose(dim0, dim1)``), recorded as a transpose.

    >>> import tensorgraph as tg
    >>> tg.swapaxes(tg.tensor(np.zeros((2, 3, 4))), 0, 2).shape
    (4, 3, 2)
    """
    x = _operand("swapaxes", x)
    perm = list(range(x.ndim))
    # One axis at a time: (0, -1) of a 1-D tensor name the same axis, which numpy allows.
    (a1,), (a2,) = _axes("swapaxes", axis1, x.ndim), _axes("swapaxes", axis2, x.ndim)
    perm[a1], perm[a2] = perm[a2], perm[a1]
    return transpose(x, tuple(perm))


def _clean_index(index: Any) -> tuple[Any, bool]:
    """Tensors and lists in an index become integer (or bool) arrays; say if any is advanced."""
    parts = index if isinstance(index, tuple) else (index,)
    cleaned, advanced = [], False
    for part in parts:
        if isinstance(part, Tensor):
            part = part._data
        if isinstance(part, list):
            part = np.asarray(part)
        if isinstance(part, np.ndarray):
            advanced = True
            if part.dtype.kind == "f":
                if not np.all(np.isfinite(part)) or np.any(part != np.round(part)):
                    raise IndexError(f"index: float index array holds non-integers: {_short(part)}")
                part = part.astype(np.intp)
            elif part.dtype.kind not in "iub":
                raise IndexError(f"index: cannot index with an array of dtype {part.dtype}")
        cleaned.append(part)
    return (tuple(cleaned) if isinstance(index, tuple) else cleaned[0]), advanced


@op("index", "[ ]", "1 at the entries picked (repeated picks add up), else 0", "index routes")
def index(x: Operand, idx: Any) -> Tensor:
    """``x[idx]``: slices, integers, and integer or boolean arrays, as in numpy.

    Repeated indices accumulate their gradient, so ``scores[np.arange(N), y]`` works.

    >>> import tensorgraph as tg
    >>> s = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> s[[0, 1], [1, 0]]
    tensor([2., 3.])
    """
    x = _operand("index", x)
    idx, advanced = _clean_index(idx)
    try:
        out = x._data[idx]
    except IndexError as err:
        raise IndexError(f"index: {err} (the tensor has shape {x.shape})") from None
    shape, dtype = x.shape, x.dtype

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        gx = np.zeros(shape, dtype)
        if advanced:
            np.add.at(gx, idx, g)  # repeated indices add up
        else:
            gx[idx] = g
        return (gx,)

    return Tensor._make(np.asarray(out), "index", (x,), backward, {"index": idx})


# ----- comparisons: results carry no gradient -----


def _compare(ufunc: np.ufunc, name: str) -> Callable[[Tensor, Any], Tensor]:
    def compare(a: Tensor, b: Any) -> Tensor:
        a, b = _operands(name, a, b)
        return Tensor(_broadcast(name, ufunc, a, b), dtype=bool)

    compare.__name__ = name
    return compare


# ----- the operator methods on Tensor -----


def _attach() -> None:
    T = Tensor
    T.__add__ = add
    T.__radd__ = lambda self, other: add(other, self)
    T.__sub__ = sub
    T.__rsub__ = lambda self, other: sub(other, self)
    T.__mul__ = mul
    T.__rmul__ = lambda self, other: mul(other, self)
    T.__truediv__ = div
    T.__rtruediv__ = lambda self, other: div(other, self)
    T.__matmul__ = matmul
    T.__rmatmul__ = lambda self, other: matmul(other, self)
    T.__pow__ = pow
    T.__rpow__ = _rpow
    T.__neg__ = neg
    T.__iadd__ = _inplace(np.add, "+=", add)
    T.__isub__ = _inplace(np.subtract, "-=", sub)
    T.__imul__ = _inplace(np.multiply, "*=", mul)
    T.__itruediv__ = _inplace(np.true_divide, "/=", div)
    T.__getitem__ = index
    T.__lt__ = _compare(np.less, "lt")
    T.__le__ = _compare(np.less_equal, "le")
    T.__gt__ = _compare(np.greater, "gt")
    T.__ge__ = _compare(np.greater_equal, "ge")
    T.__eq__ = _compare(np.equal, "eq")
    T.__ne__ = _compare(np.not_equal, "ne")
    for name in ("sum", "mean", "max", "min", "exp", "log", "sqrt", "tanh", "sigmoid", "relu"):
        setattr(T, name, globals()[name])
    T.abs = abs
    T.__abs__ = abs
    T.reshape = reshape
    T.transpose = transpose
    T.swapaxes = swapaxes
    T.T = property(transpose, doc="The tensor with its axes reversed (a transpose op).")


def _inplace(ufunc: np.ufunc, symbol: str, functional: Callable) -> Callable:
    """``t += x`` and friends, as in PyTorch.

    Where no graph is recorded (inside ``tg.no_grad()``, or for a tensor that needs no
    gradient) the tensor's own memory is updated, so ``with tg.no_grad(): W -= lr *
    W.grad`` updates the parameter itself; the write is logged (inplace.py), so a graph
    that held the old values refuses to run backward. A computed tensor that needs a
    gradient gets a new graph node instead (``loss += reg * tg.l2(W)``), the value
    PyTorch's recorded in-place op gives. A leaf that needs a gradient is refused, as in
    PyTorch: updating it in place while recording would cut it from its own gradient.
    """
    where = f"in-place {symbol}"

    def method(self: Tensor, other: Any) -> Tensor:
        if self.requires_grad and is_grad_enabled():
            if self.op is None:
                raise RuntimeError(
                    f"{where}: this tensor is a leaf that requires a gradient, and an in-place "
                    "change while the graph is recorded would cut it from that gradient; "
                    "update it inside `with tg.no_grad():` (W -= lr * W.grad) or through .data"
                )
            return functional(self, other)
        other = _constant(other, self._data.dtype, where)
        try:
            ufunc(self._data, other._data, out=self._data)
        except ValueError:
            raise ValueError(
                f"{where}: a {other.shape} operand cannot update a tensor of shape "
                f"{self.shape} in place (the result must keep the tensor's shape)"
            ) from None
        except TypeError as err:  # numpy's casting error, e.g. bool tensors
            raise TypeError(f"{where}: {err}") from None
        note_write(self._data)
        return self

    method.__name__ = f"__i{functional.__name__}__"
    return method


def _rpow(self: Tensor, base: Any) -> Tensor:
    """``base ** x`` for a positive number base, built as exp(x * log(base))."""
    if not isinstance(base, int | float) or isinstance(base, bool) or base <= 0:
        raise TypeError(f"pow: base ** tensor needs a positive number as base, got {_short(base)}")
    return exp(mul(self, math.log(base)))


_attach()


def derivative_table() -> str:
    """The derivative table (op, gate symbol, local gradient, pattern) as Markdown.

    ``docs/derivatives.md`` holds this text under a header (:func:`derivative_doc`); a
    test checks that it is up to date.

    >>> "| mul | `*` |" in derivative_table()
    True
    """
    lines = [
        "| op | gate | local gradient | backward-flow pattern |",
        "|---|---|---|---|",
    ]
    for info in OPS.values():
        lines.append(f"| {info.name} | `{info.symbol}` | {info.local} | {info.pattern} |")
    return "\n".join(lines) + "\n"


def derivative_doc() -> str:
    """The whole text of ``docs/derivatives.md``: a fixed header, then the table.

    After adding an op, regenerate the file (``tests/test_docs.py`` checks it)::

        python -c "import tensorgraph as tg; tg.ops.write_derivative_doc()"

    >>> derivative_doc().startswith("# Derivative table")
    True
    """
    header = (
        "# Derivative table\n\n"
        "Generated from the op registry `tg.OPS` by `tensorgraph.ops.derivative_doc()`; "
        "a test keeps this file equal to it. `G` is the upstream gradient; every rule is "
        "applied as upstream x local = downstream, then summed back over broadcast "
        "dimensions.\n\n"
    )
    return header + derivative_table()


def write_derivative_doc(path: str | None = None) -> str:
    """Write :func:`derivative_doc` to ``docs/derivatives.md`` (or ``path``); return the path.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_derivative_doc(str(pathlib.Path(d) / "derivatives.md"))
    ...     pathlib.Path(p).read_text(encoding="utf-8") == derivative_doc()
    True
    """
    from pathlib import Path

    target = (
        Path(path) if path else Path(__file__).resolve().parent.parent / "docs" / "derivatives.md"
    )
    target.write_text(derivative_doc(), encoding="utf-8", newline="\n")
    return str(target)


__all__ = [
    "OPS",
    "OpInfo",
    "abs",
    "add",
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
    "sqrt",
    "sub",
    "sum",
    "swapaxes",
    "tanh",
    "transpose",
    "write_derivative_doc",
]
