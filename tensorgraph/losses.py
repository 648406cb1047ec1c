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

from .registry import Array, Forward, op
from .tensor import Tensor, _short

__all__ = ["l1", "l2", "softmax_loss", "svm_loss"]


def _scores(s: np.ndarray) -> np.ndarray:
    """The (N, K) float scores, or a clear error."""
    if s.dtype.kind != "f":
        raise TypeError(f"scores must be floating point, got dtype {s.dtype}")
    if s.ndim != 2:
        raise ValueError(f"scores must be 2-D, (N examples, K classes), got shape {s.shape}")
    n, k = s.shape
    if n == 0:
        raise ValueError(f"empty batch: scores has shape {s.shape} (N = 0)")
    if k == 0:
        raise ValueError(f"scores has shape {s.shape}: no classes (K = 0)")
    return s


def labels(where: str, y: Any, n: int, k: int) -> np.ndarray:
    """Check N integer class labels in [0, K) and return them as a new intp array.

    Integer arrays and lists pass; float arrays (and tensors, whose data is float) pass
    when every entry is a whole number. Anything else is a ValueError naming ``where``.
    The result is always a read-only copy: a loss keeps it for its backward rule, and a
    later change to the caller's array (or to ``t.attrs["y"]``) must not reach the gradient.

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
    out = np.array(arr, dtype=np.intp)
    out.flags.writeable = False  # t.attrs["y"] shows it; backward reads it
    return out


def _weights(w: np.ndarray) -> np.ndarray:
    if w.dtype.kind != "f":
        raise TypeError(f"weights must be floating point, got dtype {w.dtype}")
    return w


def _svm_kink(ins: list[np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
    """Which hinge terms are active (margin > 0), at the edge (0) or off."""
    s, y = ins[0], attrs["y"]
    rows = np.arange(len(y))
    margins = s - s[rows, y][:, None] + attrs["delta"]
    margins[rows, y] = -1.0  # the true class never counts
    return np.sign(margins).astype(np.int8)


@op(
    "svm loss",
    "∂/∂s_j = 1[m_j > 0]/N for j ≠ y (2·m_j/N if squared), ∂/∂s_y = −Σ_j ∂/∂s_j; "
    "m_j = s_j − s_y + Δ, and 0 at m_j = 0 exactly (as torch)",
    kind="loss",
    expr="svm_loss",
    kink=_svm_kink,
    code="""
rows = np.arange(len(y))
margins = scores - scores[rows, y][:, None] + delta
margins[rows, y] = 0  # the true class is not a margin
hinge = np.maximum(margins, 0)
if squared:
    hinge = hinge * hinge
out = hinge.sum() / len(y)
if squared:
    dscores = (margins > 0) * (2 * margins) * (g / len(y))
else:
    dscores = (margins > 0) * (g / len(y))
dscores[rows, y] = -dscores.sum(axis=1)
""",
)
def svm_loss(scores: Array, y: Any, delta: float = 1.0, squared: bool = False) -> Forward:
    """Multiclass SVM (Weston-Watkins hinge) loss, averaged over the batch.

    ``mean_i sum_{j != y_i} max(0, s_ij - s_iy_i + delta)``; ``squared=True`` squares
    each term (the L2-SVM). At a margin of exactly 0 the gradient is 0, as in PyTorch's
    ``multi_margin_loss`` (which equals this loss divided by K).

    >>> import tensorgraph as tg
    >>> round(tg.svm_loss(tg.tensor([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0]]), [0, 1]).item(), 4)
    1.45
    """
    sd = _scores(scores)
    n, k = sd.shape
    yi = labels("svm_loss", y, n, k)
    if isinstance(delta, bool) or not isinstance(delta, int | float | np.number):
        raise TypeError(f"delta must be a number, got {_short(delta)}")
    if not (math.isfinite(delta) and delta >= 0):
        raise ValueError(f"delta must be a finite number >= 0, got {delta}")
    if not isinstance(squared, bool | np.bool_):
        raise TypeError(f"squared must be True or False, got {_short(squared)}")

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

    return out, backward, {"y": yi, "delta": float(delta), "squared": bool(squared)}


@op(
    "softmax loss",
    "∂/∂s = (softmax(s) − onehot(y)) / N",
    kind="loss",
    expr="softmax_loss",
    torch="torch.nn.functional.cross_entropy",
    code="""
rows = np.arange(len(y))
shifted = scores - scores.max(axis=1, keepdims=True)
e = np.exp(shifted)
sumexp = e.sum(axis=1)
out = (np.log(sumexp) - shifted[rows, y]).sum() / len(y)
dscores = e / sumexp[:, None]
dscores[rows, y] -= 1
dscores *= g / len(y)
""",
)
def softmax_loss(scores: Array, y: Any) -> Forward:
    """Softmax cross-entropy loss, averaged over the batch.

    ``mean_i (log sum_j exp(s_ij) - s_iy_i)``, computed through log-sum-exp, so it stays
    finite in float32 even when the probability of the true class underflows to 0.

    >>> import tensorgraph as tg
    >>> round(tg.softmax_loss(tg.tensor([[3.2, 5.1, -1.7]]), [0]).item(), 4)
    2.0404
    """
    sd = _scores(scores)
    n, k = sd.shape
    yi = labels("softmax_loss", y, n, k)

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

    return out, backward, {"y": yi}


@op(
    "L1",
    "∂/∂W = sign(W)   (0 at W = 0)",
    kind="loss",
    expr="l1",
    kink=lambda ins, attrs: np.sign(ins[0]).astype(np.int8),
    code="out = np.abs(w).sum(); dw = np.sign(w) * g",
)
def l1(w: Array) -> Forward:
    """L1 regularization ``R(W) = sum_ij |W_ij|``.

    >>> import tensorgraph as tg
    >>> tg.l1(tg.tensor([[1.0, -2.0], [0.5, 0.0]])).item()
    3.5
    """
    w = _weights(w)
    out = np.asarray(np.abs(w).sum(), dtype=w.dtype)
    return out, lambda g: (np.sign(w) * g,)


@op("L2", "∂/∂W = 2·W", kind="loss", expr="l2", code="out = np.vdot(w, w); dw = w * (2 * g)")
def l2(w: Array) -> Forward:
    """L2 regularization ``R(W) = sum_ij W_ij^2`` (no factor 1/2, as in the lecture).

    >>> import tensorgraph as tg
    >>> tg.l2(tg.tensor([[1.0, -2.0], [0.5, 0.0]])).item()
    5.25
    """
    w = _weights(w)
    out = np.asarray(np.vdot(w, w), dtype=w.dtype)
    return out, lambda g: (w * (2 * g),)
