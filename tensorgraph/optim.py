"""Optimizers: SGD (with momentum and weight decay) and Adam, as in PyTorch.

The lecture's update ``weights += - step_size * weights_grad``, for a list of
parameter tensors (or a model's ``parameters()``):

    >>> import tensorgraph as tg
    >>> w = tg.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = tg.optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step(); opt.zero_grad()
    >>> w
    tensor([ 0.8, -1.6], requires_grad=True)

Each ``step()`` updates the parameters in place, step for step as ``torch.optim.SGD`` and
``torch.optim.Adam`` do (``tests/test_optim.py`` compares them), and logs the write, so a
graph built before the step refuses ``backward()`` (``tensorgraph/inplace.py``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from .inplace import note_write
from .tensor import Tensor, _short

__all__ = ["SGD", "Adam", "Optimizer"]


class Optimizer:
    """What every optimizer shares: its parameters, its learning rate and ``zero_grad``.

    Subclasses write ``step()``. ``params`` is a list of leaf tensors that require a
    gradient, a single one, or a model's ``parameters()``; ``lr`` may be changed between
    steps (a learning-rate schedule).

    >>> import tensorgraph as tg
    >>> issubclass(tg.optim.Adam, tg.optim.Optimizer)
    True
    """

    def __init__(self, params: Iterable[Tensor] | Tensor, lr: float) -> None:
        where = type(self).__name__
        if isinstance(params, Tensor):
            params = [params]
        if isinstance(params, dict) or not isinstance(params, Iterable):
            raise TypeError(
                f"{where}: params must be a list of tensors or model.parameters(), "
                f"got {type(params).__name__}"
            )
        self.params: list[Tensor] = list(params)
        if not self.params:
            raise ValueError(f"{where}: got an empty list of parameters")
        seen: set[int] = set()
        for i, p in enumerate(self.params):
            if isinstance(p, dict):
                raise TypeError(
                    f"{where}: parameter groups (dicts) are not supported; pass the tensors"
                )
            if not isinstance(p, Tensor):
                raise TypeError(f"{where}: parameter {i} is a {type(p).__name__}, not a Tensor")
            if not (p.requires_grad and p.is_leaf):
                raise ValueError(
                    f"{where}: parameter {i} ({p.name or 'unnamed'}, shape {p.shape}) must be a "
                    "leaf tensor made with requires_grad=True"
                )
            if id(p) in seen:
                raise ValueError(f"{where}: parameter {i} ({p.name or 'unnamed'}) is listed twice")
            seen.add(id(p))
        self.lr = lr

    @property
    def lr(self) -> float:
        """The learning rate (step size), a positive number."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _check_lr(type(self).__name__, value)

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        raise NotImplementedError

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (gradients otherwise accumulate).

        As PyTorch: ``.grad`` becomes None (zeros with ``set_to_none=False``).
        """
        for p in self.params:
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = np.zeros_like(p._data)

    def _gradient(self, p: Tensor, weight_decay: float) -> np.ndarray | None:
        """p's gradient in p's dtype, plus ``weight_decay * p`` (L2 as PyTorch adds it)."""
        g = p.grad
        if g is None:
            return None
        if g.dtype != p._data.dtype:
            g = g.astype(p._data.dtype)
        if weight_decay:
            g = g + weight_decay * p._data  # a new array: p.grad stays what backward gave
        return g


class SGD(Optimizer):
    """Minibatch stochastic gradient descent, optionally with momentum and weight decay.

    Each ``step()`` updates every parameter in place from its ``.grad``, exactly as
    ``torch.optim.SGD`` does (no dampening, no Nesterov)::

        g = grad + weight_decay * p
        v = momentum * v + g        (v = g on the first step)
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

    def __init__(
        self,
        params: Iterable[Tensor] | Tensor,
        lr: float = 1e-3,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _check_number("SGD", "momentum", momentum, "[0, 1)", high=1.0)
        self.weight_decay = _check_number("SGD", "weight_decay", weight_decay, ">= 0")
        self._velocity: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        """Move every parameter that has a gradient one step downhill, in place."""
        for i, p in enumerate(self.params):
            g = self._gradient(p, self.weight_decay)
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

    def __repr__(self) -> str:
        decay = f", weight_decay={self.weight_decay:g}" if self.weight_decay else ""
        return (
            f"SGD({len(self.params)} parameters, lr={self._lr:g}, "
            f"momentum={self.momentum:g}{decay})"
        )


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), step for step as ``torch.optim.Adam``.

    With ``g`` the gradient plus ``weight_decay * p`` (L2 added to the gradient, as
    PyTorch's Adam does; not AdamW's decoupled decay) and ``t`` the step number::

        m = beta1 * m + (1 - beta1) * g            (m, v start at 0)
        v = beta2 * v + (1 - beta2) * g²
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    The moments live per parameter, in its dtype; a parameter without a gradient is
    skipped and its step count does not advance, as in PyTorch.

    >>> import tensorgraph as tg
    >>> w = tg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w  # the first step moves each entry by lr, whatever the gradient's size
    tensor([ 0.9, -0.9], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Tensor,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if not isinstance(betas, tuple | list) or len(betas) != 2:
            raise TypeError(f"Adam: betas must be a pair (beta1, beta2), got {_short(betas)}")
        self.betas = (
            _check_number("Adam", "betas[0]", betas[0], "[0, 1)", high=1.0),
            _check_number("Adam", "betas[1]", betas[1], "[0, 1)", high=1.0),
        )
        self.eps = _check_number("Adam", "eps", eps, ">= 0")
        self.weight_decay = _check_number("Adam", "weight_decay", weight_decay, ">= 0")
        n = len(self.params)
        self._m: list[np.ndarray | None] = [None] * n
        self._v: list[np.ndarray | None] = [None] * n
        self._steps = [0] * n

    def step(self) -> None:
        """One Adam step for every parameter that has a gradient, in place."""
        beta1, beta2 = self.betas
        for i, p in enumerate(self.params):
            g = self._gradient(p, self.weight_decay)
            if g is None:
                continue
            m, v = self._m[i], self._v[i]
            if m is None or v is None:
                m = self._m[i] = np.zeros_like(p._data)
                v = self._v[i] = np.zeros_like(p._data)
            self._steps[i] += 1
            t = self._steps[i]
            # The order of PyTorch's single-tensor Adam, so the rounding matches too.
            m += (1 - beta1) * (g - m)  # exp_avg.lerp_(grad, 1 - beta1)
            v *= beta2
            v += (1 - beta2) * (g * g)
            step_size = self._lr / (1 - beta1**t)
            denom = np.sqrt(v)
            denom /= math.sqrt(1 - beta2**t)
            denom += self.eps
            p._data -= step_size * (m / denom)
            note_write(p._data)

    def __repr__(self) -> str:
        decay = f", weight_decay={self.weight_decay:g}" if self.weight_decay else ""
        return (
            f"Adam({len(self.params)} parameters, lr={self._lr:g}, betas={self.betas}, "
            f"eps={self.eps:g}{decay})"
        )


def _check_lr(where: str, lr: Any) -> float:
    if isinstance(lr, bool) or not isinstance(lr, int | float | np.floating):
        raise TypeError(f"{where}: lr must be a number, got {lr!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"{where}: lr must be a positive finite number, got {lr}")
    return float(lr)


def _check_number(where: str, name: str, value: Any, rule: str, high: float | None = None) -> float:
    """A hyperparameter that must be a finite number >= 0 (and < ``high``, if given)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{where}: {name} must be a number, got {value!r}")
    if not (math.isfinite(value) and value >= 0 and (high is None or value < high)):
        raise ValueError(
            f"{where}: {name} must be {'in ' if rule[0] == '[' else ''}{rule}, got {value}"
        )
    return float(value)
