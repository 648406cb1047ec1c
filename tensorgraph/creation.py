"""New tensors: constants, ranges, the identity and random numbers, as numpy and PyTorch name them.

These make leaves, not ops: nothing is recorded, and a tensor made with
``requires_grad=True`` is a parameter ready for training::

    W = tg.randn(3, 10, seed=0, requires_grad=True, name="W")

Shapes are given either way, ``tg.zeros(2, 3)`` (PyTorch) or ``tg.zeros((2, 3))``
(numpy). The dtype is float64 unless ``dtype=`` says otherwise (integer and bool dtypes
are allowed for tensors that need no gradient), as ``tg.tensor`` makes it. Random
tensors come from a numpy Generator: ``seed=`` (an int) makes one, so the same seed gives
the same numbers (``tg.randn(2, seed=0)`` equals ``np.random.default_rng(0).standard_normal(2)``),
``rng=`` passes your own, and neither draws fresh entropy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor, _short, tensor

__all__ = ["arange", "eye", "full", "ones", "ones_like", "rand", "randn", "zeros", "zeros_like"]


# ----- checking the arguments -----


def _shape(where: str, shape: tuple[Any, ...]) -> tuple[int, ...]:
    """``(2, 3)`` from ``zeros(2, 3)`` or ``zeros((2, 3))``, checked."""
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    for n in shape:
        if isinstance(n, bool | np.bool_) or not isinstance(n, int | np.integer):
            raise TypeError(
                f"{where}: a shape is made of whole numbers, got {_short(n)} in {_short(shape)}"
            )
        if n < 0:
            raise ValueError(f"{where}: negative dimension {n} in shape {tuple(shape)}")
    return tuple(int(n) for n in shape)


def _dtype(where: str, dtype: Any, requires_grad: bool, default: Any = np.float64) -> np.dtype:
    """The dtype to make: ``dtype``, else ``default``; one that can hold a gradient if asked."""
    try:
        dt = np.dtype(default if dtype is None else dtype)
    except TypeError:
        raise TypeError(f"{where}: {_short(dtype)} is not a dtype numpy knows") from None
    if dt.kind not in "fiub":
        raise TypeError(f"{where}: unsupported dtype {dt}; use a float dtype")
    if requires_grad and dt.kind != "f":
        raise TypeError(f"{where}: only floating-point tensors can require gradients, got {dt}")
    return dt


def _number(where: str, what: str, value: Any) -> float | int | bool:
    if not isinstance(value, int | float | bool | np.integer | np.floating | np.bool_):
        raise TypeError(f"{where}: {what} must be a number, got {_short(value)}")
    return value.item() if isinstance(value, np.generic) else value


def _generator(where: str, seed: Any, rng: Any) -> np.random.Generator:
    """The Generator random numbers come from: ``rng``, or a new one from ``seed``."""
    if seed is not None and rng is not None:
        raise ValueError(f"{where}: give seed= or rng=, not both")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"{where}: rng must be a numpy.random.Generator (np.random.default_rng(0)), "
                f"got {type(rng).__name__}"
            )
        return rng
    if seed is not None:
        if isinstance(seed, bool | np.bool_) or not isinstance(seed, int | np.integer):
            raise TypeError(f"{where}: seed must be an int, got {_short(seed)}")
        if seed < 0:
            raise ValueError(f"{where}: seed must be a non-negative int, got {seed}")
    return np.random.default_rng(seed)


def _leaf(where: str, make: Any, requires_grad: bool, name: str | None) -> Tensor:
    """A leaf of the array ``make()`` builds; numpy's size errors named after ``where``."""
    if name is not None and not isinstance(name, str):
        raise TypeError(f"{where}: name must be a string, got {_short(name)}")
    try:
        data = make()
    except MemoryError as err:  # numpy's own subclass wants other arguments
        raise MemoryError(f"{where}: {err}") from None
    except ValueError as err:  # "Maximum allowed size exceeded", "array is too big"
        raise ValueError(f"{where}: {err}") from None
    return tensor(data, requires_grad=bool(requires_grad), name=name, dtype=data.dtype, copy=False)


# ----- constants -----


def zeros(
    *shape: int | tuple[int, ...],
    dtype: Any = None,
    requires_grad: bool = False,
    name: str | None = None,
) -> Tensor:
    """A tensor of zeros: ``tg.zeros(2, 3)`` or ``tg.zeros((2, 3))``.

    >>> import tensorgraph as tg
    >>> tg.zeros(2, 3).shape, tg.zeros((2,), dtype="float32")
    ((2, 3), tensor([0., 0.], dtype=float32))
    """
    dims = _shape("zeros", shape)
    dt = _dtype("zeros", dtype, requires_grad)
    return _leaf("zeros", lambda: np.zeros(dims, dt), requires_grad, name)


def ones(
    *shape: int | tuple[int, ...],
    dtype: Any = None,
    requires_grad: bool = False,
    name: str | None = None,
) -> Tensor:
    """A tensor of ones: ``tg.ones(2, 3)`` or ``tg.ones((2, 3))``.

    >>> import tensorgraph as tg
    >>> tg.ones(3, requires_grad=True)
    tensor([1., 1., 1.], requires_grad=True)
    """
    dims = _shape("ones", shape)
    dt = _dtype("ones", dtype, requires_grad)
    return _leaf("ones", lambda: np.ones(dims, dt), requires_grad, name)


def full(
    shape: int | tuple[int, ...],
    fill_value: float,
    dtype: Any = None,
    requires_grad: bool = False,
    name: str | None = None,
) -> Tensor:
    """A tensor of ``shape`` with every entry ``fill_value``, as ``np.full`` and ``torch.full``.

    >>> import tensorgraph as tg
    >>> tg.full((2, 2), 0.5)
    tensor([[0.5, 0.5],
            [0.5, 0.5]])
    """
    dims = _shape("full", shape if isinstance(shape, tuple | list) else (shape,))
    value = _number("full", "fill_value", fill_value)
    dt = _dtype("full", dtype, requires_grad)
    return _leaf("full", lambda: np.full(dims, value, dt), requires_grad, name)


def _like(where: str, t: Any, dtype: Any, requires_grad: bool) -> tuple[tuple[int, ...], np.dtype]:
    """The shape of ``t`` and the dtype to make: ``dtype``, else t's (if a float), else float64."""
    if isinstance(t, Tensor | np.ndarray):
        shape, own = t.shape, t.dtype
    else:
        raise TypeError(f"{where}: expected a tensor or a numpy array, got {type(t).__name__}")
    default = own if own.kind == "f" else np.float64
    return shape, _dtype(where, dtype, requires_grad, default)


def zeros_like(
    t: Tensor | np.ndarray,
    dtype: Any = None,
    requires_grad: bool = False,
    name: str | None = None,
) -> Tensor:
    """Zeros of ``t``'s shape and (float) dtype. A new leaf: nothing of t's graph comes along.

    >>> import tensorgraph as tg
    >>> tg.zeros_like(tg.tensor([[1.0, 2.0]], dtype="float32"))
    tensor([[0., 0.]], dtype=float32)
    """
    shape, dt = _like("zeros_like", t, dtype, requires_grad)
    return _leaf("zeros_like", lambda: np.zeros(shape, dt), requires_grad, name)


def ones_like(
    t: Tensor | np.ndarray,
    dtype: Any = None,
    requires_grad: bool = False,
    name: str | None = None,
) -> Tensor:
    """Ones of ``t``'s shape and (float) dtype. A new leaf: nothing of t's graph comes along.

    >>> import tensorgraph as tg
    >>> tg.ones_like(tg.tensor([1.0, 2.0, 3.0]))
    tensor([1., 1., 1.])
    """
    shape, dt = _like("ones_like", t, dtype, requires_grad)
    return _leaf("ones_like", lambda: np.ones(shape, dt), requires_grad, name)


# ----- ranges and the identity -----


def arange(
    start: float,
    stop: float | None = None,
    step: float = 1,
    dtype: Any = None,
    requires_grad: bool = False,
    name: str | None = None,
) -> Tensor:
    """Evenly spaced values in ``[start, stop)``, as ``np.arange`` (``arange(5)`` is 0 to 4).

    float64 unless ``dtype`` says otherwise (numpy and torch would make whole numbers
    int64; here, as in ``tg.tensor``, they become floats that can carry a gradient).

    >>> import tensorgraph as tg
    >>> tg.arange(4), tg.arange(1, 2, 0.25)
    (tensor([0., 1., 2., 3.]), tensor([1.  , 1.25, 1.5 , 1.75]))
    """
    if stop is None:
        start, stop = 0, start
    for what, value in (("start", start), ("stop", stop), ("step", step)):
        if isinstance(_number("arange", what, value), bool) or not np.isfinite(value):
            raise ValueError(f"arange: {what} must be a finite number, got {_short(value)}")
    if step == 0:
        raise ValueError("arange: step must not be 0")
    dt = _dtype("arange", dtype, requires_grad)
    return _leaf("arange", lambda: np.arange(start, stop, step, dtype=dt), requires_grad, name)


def eye(
    n: int,
    m: int | None = None,
    dtype: Any = None,
    requires_grad: bool = False,
    name: str | None = None,
) -> Tensor:
    """The ``n`` x ``m`` identity (``m`` defaults to ``n``): ones on the diagonal.

    >>> import tensorgraph as tg
    >>> tg.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    rows, cols = _shape("eye", (n, n if m is None else m))
    dt = _dtype("eye", dtype, requires_grad)
    return _leaf("eye", lambda: np.eye(rows, cols, dtype=dt), requires_grad, name)


# ----- random numbers -----


def _random(
    where: str,
    draw: str,
    shape: tuple[Any, ...],
    seed: Any,
    rng: Any,
    dtype: Any,
    requires_grad: bool,
    name: str | None,
) -> Tensor:
    dims = _shape(where, shape)
    dt = _dtype(where, dtype, requires_grad)
    if dt.kind != "f":
        raise TypeError(f"{where}: random numbers come as floats; got dtype {dt}")
    gen = _generator(where, seed, rng)
    method = getattr(gen, draw)
    if dt in (np.float32, np.float64):  # numpy draws these natively, no rounding step
        return _leaf(where, lambda: method(dims, dtype=dt), requires_grad, name)
    return _leaf(where, lambda: method(dims).astype(dt), requires_grad, name)


def rand(
    *shape: int | tuple[int, ...],
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    dtype: Any = None,
    requires_grad: bool = False,
    name: str | None = None,
) -> Tensor:
    """Uniform random numbers in ``[0, 1)``, from ``np.random.default_rng(seed)`` or ``rng``.

    >>> import numpy as np, tensorgraph as tg
    >>> x = tg.rand(2, 3, seed=0)
    >>> x.shape, bool(np.all(x.data == np.random.default_rng(0).random((2, 3))))
    ((2, 3), True)
    """
    return _random("rand", "random", shape, seed, rng, dtype, requires_grad, name)


def randn(
    *shape: int | tuple[int, ...],
    seed: int | None = None,
    rng: np.random.Generator | None = None,
    dtype: Any = None,
    requires_grad: bool = False,
    name: str | None = None,
) -> Tensor:
    """Standard normal random numbers, from ``np.random.default_rng(seed)`` or ``rng``.

    >>> import numpy as np, tensorgraph as tg
    >>> W = tg.randn(3, 2, seed=0, requires_grad=True, name="W")
    >>> W.shape, W.requires_grad, tg.randn(3, 2, seed=0).data.tolist() == W.data.tolist()
    ((3, 2), True, True)
    """
    return _random("randn", "standard_normal", shape, seed, rng, dtype, requires_grad, name)
