"""Optimizers: stochastic gradient descent, with momentum as in PyTorch.

The lecture's update ``weights += - step_size * weights_grad``, for a list of
parameter tensors:

    >>> import tensorgraph as tg
    >>> w = tg.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = tg.optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step(); opt.zero_grad()
    >>> w
    tensor([ 0.8, -1.6], requires_grad=True)
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .inplace import note_write
from .tensor import Tensor

__all__ = ["SGD"]


class SGD:
    """Minibatch stochastic gradient descent, optionally with momentum.

    Each ``step()`` updates every parameter in place from its ``.grad``, exactly as
    ``torch.optim.SGD`` does (no dampening, no Nesterov)::

        v = momentum * v + grad     (v = grad on the first step)
        p = p - lr * v

    Parameters without a gradient are skipped. ``zero_grad()`` sets every ``.grad``
    to None. ``lr`` may be changed between steps (a learning-rate schedule).

    >>> import tensorgraph as tg
    >>> w = tg.tensor(1.0, requires_grad=True)
    >>> opt = SGD([w], lr=0.5, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * 1.0).backward(); opt.step()
    >>> round(w.item(), 2)  # 1 - 0.5 * 1 - 0.5 * 1.9
    -0.45
    """

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0) -> None:
        if isinstance(params, Tensor):
            params = [params]
        self.params: list[Tensor] = list(params)
        if not self.params:
            raise ValueError("SGD: got an empty list of parameters")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError(f"SGD: parameter {i} is a {type(p).__name__}, not a Tensor")
            if not (p.requires_grad and p.is_leaf):
                raise ValueError(
                    f"SGD: parameter {i} ({p.name or 'unnamed'}, shape {p.shape}) must be a "
                    "leaf tensor made with requires_grad=True"
                )
        self.lr = _check_lr(lr)
        if isinstance(momentum, bool) or not isinstance(momentum, int | float | np.floating):
            raise TypeError(f"SGD: momentum must be a number, got {momentum!r}")
        if not (0.0 <= momentum < 1.0):
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum}")
        self.momentum = float(momentum)
        self._velocity: list[np.ndarray | None] = [None] * len(self.params)

    @property
    def lr(self) -> float:
        """The learning rate (step size), a positive number."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _check_lr(value)

    def step(self) -> None:
        """Move every parameter that has a gradient one step downhill, in place."""
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            if self.momentum:
                v = self._velocity[i]
                if v is None:
                    v = self._velocity[i] = np.array(g, dtype=p._data.dtype)
                else:
                    v *= self.momentum
                    v += g
                g = v
            p._data -= self._lr * g
            note_write(p._data)  # so a stale graph's backward() refuses to run (inplace.py)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (gradients otherwise accumulate)."""
        for p in self.params:
            p.grad = None

    def __repr__(self) -> str:
        return f"SGD({len(self.params)} parameters, lr={self._lr:g}, momentum={self.momentum:g})"


def _check_lr(lr: float) -> float:
    if isinstance(lr, bool) or not isinstance(lr, int | float | np.floating):
        raise TypeError(f"SGD: lr must be a number, got {lr!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"SGD: lr must be a positive finite number, got {lr}")
    return float(lr)
