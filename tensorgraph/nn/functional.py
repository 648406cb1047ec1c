"""``tg.nn.functional``: losses and layers as functions, in ``torch.nn.functional``'s names.

    >>> import tensorgraph as tg
    >>> import tensorgraph.nn.functional as F
    >>> scores = tg.tensor([[3.2, 5.1, -1.7]], requires_grad=True)
    >>> round(F.cross_entropy(scores, [0]).item(), 4)  # = tg.softmax_loss
    2.0404
    >>> round(F.multi_margin_loss(scores, [0]).item(), 4)  # the hinge of the lecture / K
    0.9667

The losses are the engine's fused loss gates (one node each in a drawing):
``cross_entropy`` is ``tg.softmax_loss`` and ``multi_margin_loss`` is ``tg.svm_loss``
divided by the number of classes K, because PyTorch's ``multi_margin_loss`` divides each
example's sum over j != y by K (the CS231n hinge does not).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..losses import softmax_loss, svm_loss
from ..registry import constant
from ..tensor import Tensor, _short

__all__ = [
    "cross_entropy",
    "linear",
    "mse_loss",
    "multi_margin_loss",
    "relu",
    "sigmoid",
    "tanh",
]

relu = ops.relu
tanh = ops.tanh
sigmoid = ops.sigmoid

_REDUCTIONS = ("mean", "sum", "none")


def linear(input: Any, weight: Any, bias: Any = None) -> Tensor:  # noqa: A002 - torch's name
    """``input @ weight.T + bias``, as ``torch.nn.functional.linear``.

    >>> import tensorgraph as tg
    >>> linear(tg.tensor([[1.0, 2.0]]), tg.tensor([[1.0, 1.0], [0.0, 1.0]]), [0.5, 0.0])
    tensor([[3.5, 2. ]])
    """
    out = ops.matmul(input, ops.transpose(weight))
    return out if bias is None else out + bias


def _reduction(reduction: Any, where: str, allowed: tuple[str, ...] = _REDUCTIONS) -> str:
    if reduction not in allowed:
        raise ValueError(f"{where}: reduction must be one of {allowed}, got {_short(reduction)}")
    return reduction


def _batch(input: Tensor) -> int:  # noqa: A002
    return input.shape[0] if input.ndim else 1


def cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Softmax cross-entropy of scores (N, K) against class indices (N,): ``tg.softmax_loss``.

    ``reduction`` is "mean" (the default, as PyTorch) or "sum"; per-example losses
    ("none") are not available from the fused gate.

    >>> import tensorgraph as tg
    >>> round(cross_entropy(tg.tensor([[1.0, 2.0], [0.0, 0.0]]), [1, 0], "sum").item(), 4)
    1.0064
    """
    _reduction(reduction, "cross_entropy", ("mean", "sum"))
    loss = softmax_loss(input, target)
    if reduction == "sum":
        return loss * _batch(loss.inputs[0])
    return loss


def multi_margin_loss(
    input: Any,  # noqa: A002
    target: Any,
    p: int = 1,
    margin: float = 1.0,
    reduction: str = "mean",
) -> Tensor:
    """PyTorch's multi-class hinge: ``mean_i sum_{j != y_i} max(0, margin - s_iy + s_ij)^p / K``.

    That is ``tg.svm_loss(input, target, delta=margin, squared=(p == 2)) / K``: PyTorch
    divides each example's sum by the number of classes K, the CS231n loss does not
    (``tg.svm_loss`` is the lecture's). ``p`` is 1 or 2; ``reduction`` "mean" or "sum".

    >>> import tensorgraph as tg
    >>> s = tg.tensor([[3.2, 5.1, -1.7]])
    >>> multi_margin_loss(s, [0]).item() * 3 == tg.svm_loss(s, [0]).item()
    True
    """
    if p not in (1, 2) or isinstance(p, bool):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {_short(p)}")
    _reduction(reduction, "multi_margin_loss", ("mean", "sum"))
    hinge = svm_loss(input, target, delta=margin, squared=p == 2)
    n, k = hinge.inputs[0].shape
    return hinge * ((n if reduction == "sum" else 1) / k)


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Squared error ``(input - target)²``, averaged (or summed, or per entry: "none").

    ``input`` and ``target`` must have the same shape (PyTorch only warns and
    broadcasts, which is rarely what was meant).

    >>> import tensorgraph as tg
    >>> mse_loss(tg.tensor([1.0, 2.0]), [0.0, 4.0])
    tensor(2.5)
    """
    _reduction(reduction, "mse_loss")
    x = constant(input, None, "mse_loss")
    t = constant(target, x._data.dtype, "mse_loss")
    if x.shape != t.shape:
        raise ValueError(
            f"mse_loss: input has shape {x.shape} but target has shape {t.shape}; "
            "they must match (reshape one, e.g. scores.reshape(-1))"
        )
    if t._data.dtype != x._data.dtype and t.op is None and not t.requires_grad:
        t = Tensor(np.asarray(t._data, dtype=x._data.dtype))  # data: takes input's dtype
    sq = (x - t) ** 2
    if reduction == "mean":
        return sq.mean()
    return sq.sum() if reduction == "sum" else sq
