"""Loss gates for linear classifiers: svm_loss, softmax_loss, l1, l2.

Each loss is one node of the graph with its own fused backward rule, rather than a chain
of primitive ops: the drawing shows one "svm loss" gate, the backward pass is as cheap as
hand-written numpy, and the softmax loss stays finite where a naive ``-log(p)`` would not.

The training loss of the lecture is ``L = data loss + reg * R(W)``:

    >>> import numpy as np, tensorgraph as tg
    >>> scores = tg.tensor([[3.2, 5.1, -1.7]], requires_grad=True)
    >>> W = tg.tensor([[0.5, -1.0]], requires_grad=True)
    >>> L = tg.svm_loss(scores, [0]) + 0.1 * tg.l2(W)
    >>> round(L.item(), 3)
    3.025

Labels ``y`` are not an input of the gate (they carry no gradient); each loss keeps
them in ``t.attrs["y"]`` for the visualizer, with its other settings.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .ops import Operand, _operand, op
from .tensor import Tensor, _short

__all__ = ["l1", "l2", "softmax_loss", "svm_loss"]


def _scores(where: str, scores: Operand) -> Tensor:
    """The (N, K) float scores tensor, or a clear error."""
    s = _operand(where, scores)
    if s._data.dtype.kind != "f":
        raise TypeError(f"{where}: scores must be floating point, got dtype {s.dtype}")
    if s.ndim != 2:
        raise ValueError(
            f"{where}: scores must be 2-D, (N examples, K classes), got shape {s.shape}"
        )
    n, k = s.shape
    if n == 0:
        raise ValueError(f"{where}: empty batch: scores has shape {s.shape} (N = 0)")
    if k == 0:
        raise ValueError(f"{where}: scores has shape {s.shape}: no classes (K = 0)")
    return s


def labels(where: str, y: Any, n: int, k: int) -> np.ndarray:
    """Check N integer class labels in [0, K) and return them as an intp array.

    Integer arrays and lists pass; float arrays (and tensors, whose data is float) pass
    when every entry is a whole number. Anything else is a ValueError naming ``where``.

    >>> labels("svm_loss", [2.0, 0.0], n=2, k=3)
    array([2, 0])
    """
    if isinstance(y, Tensor):
        y = y._data
    try:
        arr = np.asarray(y)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: cannot read labels y = {_short(y)}: {err}") from None
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise ValueError(
            f"{where}: labels y must be integers in [0, {k}), got {arr.dtype} data {_short(y)}"
        )
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(
            f"{where}: y must hold one label per row of scores (N = {n}), got shape {np.shape(y)}"
        )
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"{where}: label y[{i}] is {arr[i]}, not a class index")
        frac = arr != np.floor(arr)
        if frac.any():
            i = int(np.argmax(frac))
            raise ValueError(f"{where}: label y[{i}] = {arr[i]} is not an integer")
    out_of_range = (arr < 0) | (arr >= k)
    if out_of_range.any():
        i = int(np.argmax(out_of_range))
        raise ValueError(
            f"{where}: label y[{i}] = {arr[i]} is out of range: scores has K = {k} "
            f"classes, so labels must lie in [0, {k})"
        )
    return arr.astype(np.intp, copy=False)


@op(
    "svm_loss",
    "svm loss",
    "∂/∂s_j = 1[m_j > 0]/N for j ≠ y (2·m_j/N if squared), ∂/∂s_y = −Σ_j ∂/∂s_j; "
    "m_j = s_j − s_y + Δ, and 0 at m_j = 0 exactly (as torch)",
)
def svm_loss(scores: Operand, y: Any, delta: float = 1.0, squared: bool = False) -> Tensor:
    """Multiclass SVM (Weston-Watkins hinge) loss, averaged over the batch.

    ``mean_i sum_{j != y_i} max(0, s_ij - s_iy_i + delta)``; ``squared=True`` squares
    each term (the L2-SVM). At a margin of exactly 0 the gradient is 0, as in PyTorch's
    ``multi_margin_loss`` (which equals this loss divided by K).

    >>> import tensorgraph as tg
    >>> round(tg.svm_loss(tg.tensor([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0]]), [0, 1]).item(), 4)
    1.45
    """
    s = _scores("svm_loss", scores)
    n, k = s.shape
    yi = labels("svm_loss", y, n, k)
    if isinstance(delta, bool) or not isinstance(delta, int | float | np.number):
        raise TypeError(f"svm_loss: delta must be a number, got {_short(delta)}")
    if not (math.isfinite(delta) and delta >= 0):
        raise ValueError(f"svm_loss: delta must be a finite number >= 0, got {delta}")
    if not isinstance(squared, bool | np.bool_):
        raise TypeError(f"svm_loss: squared must be True or False, got {_short(squared)}")

    sd = s._data
    rows = np.arange(n)
    margins = sd - sd[rows, yi][:, None]
    margins += sd.dtype.type(delta)
    margins[rows, yi] = 0  # the true class is not a margin
    hinge = np.maximum(margins, 0)
    if squared:
        hinge *= hinge
    out = np.asarray(hinge.sum(dtype=sd.dtype) / n, dtype=sd.dtype)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        # Strictly positive margins only: a margin of exactly 0 passes no gradient.
        coef = (margins > 0).astype(sd.dtype)
        if squared:
            coef *= 2 * margins
        coef *= g / n
        coef[rows, yi] = -coef.sum(axis=1)
        return (coef,)

    attrs = {"y": yi, "delta": float(delta), "squared": bool(squared)}
    return Tensor._make(out, "svm_loss", (s,), backward, attrs)


@op(
    "softmax_loss",
    "softmax loss",
    "∂/∂s = (softmax(s) − onehot(y)) / N",
)
def softmax_loss(scores: Operand, y: Any) -> Tensor:
    """Softmax cross-entropy loss, averaged over the batch.

    ``mean_i (log sum_j exp(s_ij) - s_iy_i)``, computed through log-sum-exp, so it stays
    finite in float32 even when the probability of the true class underflows to 0.

    >>> import tensorgraph as tg
    >>> round(tg.softmax_loss(tg.tensor([[3.2, 5.1, -1.7]]), [0]).item(), 4)
    2.0404
    """
    s = _scores("softmax_loss", scores)
    n, k = s.shape
    yi = labels("softmax_loss", y, n, k)

    sd = s._data
    rows = np.arange(n)
    shifted = sd - sd.max(axis=1, keepdims=True)  # the largest score becomes 0
    exp = np.exp(shifted)
    sumexp = exp.sum(axis=1)
    # log-sum-exp minus the true score: never log(0), however small p_y gets.
    losses = np.log(sumexp) - shifted[rows, yi]
    out = np.asarray(losses.sum(dtype=sd.dtype) / n, dtype=sd.dtype)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        grad = exp / sumexp[:, None]  # the probabilities
        grad[rows, yi] -= 1
        grad *= g / n
        return (grad,)

    return Tensor._make(out, "softmax_loss", (s,), backward, {"y": yi})


def _weights(where: str, w: Operand) -> Tensor:
    t = _operand(where, w)
    if t._data.dtype.kind != "f":
        raise TypeError(f"{where}: weights must be floating point, got dtype {t.dtype}")
    return t


@op("l1", "L1", "∂/∂W = sign(W)   (0 at W = 0)")
def l1(w: Operand) -> Tensor:
    """L1 regularization ``R(W) = sum_ij |W_ij|``.

    >>> import tensorgraph as tg
    >>> tg.l1(tg.tensor([[1.0, -2.0], [0.5, 0.0]])).item()
    3.5
    """
    t = _weights("l1", w)
    wd = t._data
    out = np.asarray(np.abs(wd).sum(), dtype=wd.dtype)
    return Tensor._make(out, "l1", (t,), lambda g: (np.sign(wd) * g,))


@op("l2", "L2", "∂/∂W = 2·W")
def l2(w: Operand) -> Tensor:
    """L2 regularization ``R(W) = sum_ij W_ij^2`` (no factor 1/2, as in the lecture).

    >>> import tensorgraph as tg
    >>> tg.l2(tg.tensor([[1.0, -2.0], [0.5, 0.0]])).item()
    5.25
    """
    t = _weights("l2", w)
    wd = t._data
    out = np.asarray(np.vdot(wd, wd), dtype=wd.dtype)
    return Tensor._make(out, "l2", (t,), lambda g: (wd * (2 * g),))
