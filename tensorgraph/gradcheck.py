"""Numerical gradients and gradient checks.

``numerical_grad`` is the lecture's ``num_grad`` with central differences,
``(f(x + h) - f(x - h)) / 2h``, whose error shrinks like h² instead of h.

``gradcheck`` compares the gradients a backward pass computes with central differences
in float64, input by input, and reports the worst relative error of each. It also reads
the graph record to notice when a checked point sits within h of a kink (a max, relu,
abs or hinge that switches branch between x - h and x + h): there the numerical
gradient averages two slopes, so a mismatch means nothing, and a
:class:`GradcheckKinkWarning` says so.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .registry import OPS
from .tensor import Tensor, _short, graph_nodes

__all__ = ["GradcheckKinkWarning", "GradcheckResult", "gradcheck", "numerical_grad"]


class GradcheckKinkWarning(UserWarning):
    """A point checked by ``gradcheck`` lies within h of a kink of the function."""


def _scalar_value(where: str, value: Any) -> float:
    """The value of f as a float: a number, or a one-element tensor or array."""
    if isinstance(value, Tensor):
        value = value._data
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "iuf":
        raise ValueError(f"{where}: f must return one number, got {_short(value)}")
    return float(arr.reshape(()))


def numerical_grad(f: Callable[[np.ndarray], Any], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """The gradient of ``f`` at ``x`` by central differences, entry by entry.

    ``f`` takes the array ``x`` and returns a number. Each entry of ``x`` is moved to
    ``x + h`` and ``x - h`` in place and put back, so ``x`` is unchanged afterwards
    (even if ``f`` raises). Use float64: in float32 the differences drown in rounding.

    >>> import numpy as np
    >>> x = np.array([3.0, -4.0])
    >>> numerical_grad(lambda v: v[0] * v[1], x).round(6)
    array([-4.,  3.])
    """
    if isinstance(x, Tensor):
        x = x._data
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(
            "numerical_grad: x must be a floating-point numpy array (it is changed in place "
            f"and restored), got {type(x).__name__}"
            + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else "")
        )
    if not (isinstance(h, int | float) and math.isfinite(h) and h > 0):
        raise ValueError(f"numerical_grad: h must be a positive number, got {h!r}")
    grad = np.zeros(x.shape, dtype=np.float64)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        try:
            x[ix] = old + h
            f_plus = _scalar_value("numerical_grad", f(x))
            x[ix] = old - h
            f_minus = _scalar_value("numerical_grad", f(x))
        finally:
            x[ix] = old
        grad[ix] = (f_plus - f_minus) / (2 * h)
    return grad


@dataclass
class GradcheckResult:
    """What ``gradcheck`` found, one entry per input tensor.

    ``errors[i]`` is the worst relative error ``|a - n| / max(|a| + |n|, 1e-8)`` over the
    checked entries of input i (a analytic, n numerical); ``ok`` is True when every
    checked entry satisfies ``|a - n| <= atol + rtol * |n|``. ``analytic[i]`` and
    ``numerical[i]`` are the compared values at the flat indices ``checked[i]``;
    ``kinks[i]`` lists the flat indices that sat within h of a kink.
    """

    errors: list[float]
    ok: bool
    checked: list[np.ndarray]
    analytic: list[np.ndarray]
    numerical: list[np.ndarray]
    kinks: list[list[int]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        lines = [f"gradcheck: {'ok' if self.ok else 'MISMATCH'}"]
        for i, err in enumerate(self.errors):
            note = f", {len(self.kinks[i])} near a kink" if self.kinks and self.kinks[i] else ""
            lines.append(
                f"  input {i}: worst relative error {err:.2e} "
                f"over {len(self.checked[i])} entries{note}"
            )
        return "\n".join(lines)


# ----- kinks: where a routing op switches branch -----


def _signatures(out: Tensor) -> list[tuple[str, np.ndarray]]:
    """Which branch each kinked gate of the graph takes (the registry's ``kink``)."""
    sigs = []
    for node in graph_nodes(out):
        info = OPS.get(node.op) if node.op is not None else None
        if info is not None and info.kink is not None:
            sigs.append((node.op, info.kink([i._data for i in node.inputs], node.attrs)))
    return sigs


def _switched(a: list[tuple[str, np.ndarray]], b: list[tuple[str, np.ndarray]]) -> set[str]:
    """The kink ops that take another branch in b than in a (all of them if the graphs differ)."""
    if len(a) != len(b) or any(na != nb for (na, _), (nb, _) in zip(a, b, strict=True)):
        return {name for name, _ in a + b}
    return {na for (na, sa), (_, sb) in zip(a, b, strict=True) if not np.array_equal(sa, sb)}


# ----- the check -----


def _scalar_output(fn: Callable[..., Tensor], inputs: Sequence[Tensor]) -> Tensor:
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if out.size != 1:
        raise ValueError(f"gradcheck: fn must return a one-element tensor, got shape {out.shape}")
    return out


def gradcheck(
    fn: Callable[..., Tensor],
    *tensors: Any,
    h: float = 1e-6,
    rtol: float = 1e-3,
    atol: float = 1e-5,
    sparse: int | None = None,
    seed: int = 0,
) -> GradcheckResult:
    """Compare the analytic gradients of ``fn`` with central differences, in float64.

    ``fn(*tensors)`` must return a one-element tensor. Every tensor passed is an input
    to check (pass constants such as labels through a closure); each is copied to
    float64, the originals are not touched. With ``sparse=m``, only m entries of each
    input (sampled with ``seed``, without replacement) are checked, for big tensors.
    The tolerances are PyTorch's ``gradcheck`` defaults.

    Warns with :class:`GradcheckKinkWarning` when a checked point lies within ``h`` of
    a kink: some max, minimum, relu, abs, l1 or svm_loss gate takes a different branch
    at ``x - h``, ``x`` or ``x + h``.

    >>> import tensorgraph as tg
    >>> W = tg.tensor([[0.2, -0.5], [1.5, 1.3]], requires_grad=True)
    >>> x = tg.tensor([[1.0, 2.0]])
    >>> gradcheck(lambda W: tg.softmax_loss(x @ W.T, [1]) + tg.l2(W), W).ok
    True
    """
    if not tensors:
        raise ValueError("gradcheck: pass at least one tensor to check")
    if not (isinstance(h, int | float) and math.isfinite(h) and h > 0):
        raise ValueError(f"gradcheck: h must be a positive number, got {h!r}")
    if sparse is not None and (isinstance(sparse, bool) or not isinstance(sparse, int)):
        raise TypeError(f"gradcheck: sparse must be None or a positive int, got {sparse!r}")
    if sparse is not None and sparse < 1:
        raise ValueError(f"gradcheck: sparse must be a positive number of entries, got {sparse}")

    inputs = []
    for i, t in enumerate(tensors):
        data = t._data if isinstance(t, Tensor) else t
        arr = np.array(data, dtype=np.float64)  # a copy: the caller's tensors stay as they were
        if arr.dtype.kind != "f":
            raise TypeError(f"gradcheck: input {i} is not numeric")
        name = t.name if isinstance(t, Tensor) else None
        inputs.append(Tensor(arr, requires_grad=True, name=name))

    out = _scalar_output(fn, inputs)
    if not out.requires_grad:
        raise ValueError("gradcheck: the output of fn does not depend on any input")
    out.backward()
    center = _signatures(out)
    grads = [np.zeros(t.shape) if t.grad is None else t.grad.astype(np.float64) for t in inputs]
    del out

    rng = np.random.default_rng(seed)
    result = GradcheckResult(errors=[], ok=True, checked=[], analytic=[], numerical=[], kinks=[])
    kink_ops: set[str] = set()
    for t, grad in zip(inputs, grads, strict=True):
        flat = t._data.reshape(-1)  # a view: writes move the input
        if sparse is None or sparse >= flat.size:
            picks = np.arange(flat.size)
        else:
            picks = np.sort(rng.choice(flat.size, size=sparse, replace=False))
        numeric = np.empty(len(picks))
        kinks = []
        for n, j in enumerate(picks):
            old = flat[j]
            try:
                flat[j] = old + h
                plus = _scalar_output(fn, inputs)
                f_plus, sig_plus = _scalar_value("gradcheck", plus), _signatures(plus)
                flat[j] = old - h
                minus = _scalar_output(fn, inputs)
                f_minus, sig_minus = _scalar_value("gradcheck", minus), _signatures(minus)
            finally:
                flat[j] = old
            del plus, minus
            numeric[n] = (f_plus - f_minus) / (2 * h)
            switched = _switched(center, sig_plus) | _switched(center, sig_minus)
            if switched:
                kinks.append(int(j))
                kink_ops |= switched
        analytic = grad.reshape(-1)[picks]
        diff = np.abs(analytic - numeric)
        rel = diff / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)
        result.errors.append(float(rel.max()) if rel.size else 0.0)
        result.ok &= bool(np.all(diff <= atol + rtol * np.abs(numeric)))
        result.checked.append(picks)
        result.analytic.append(analytic)
        result.numerical.append(numeric)
        result.kinks.append(kinks)

    near = [(i, len(k)) for i, k in enumerate(result.kinks) if k]
    if near:
        where = ", ".join(f"{count} of input {i}" for i, count in near)
        warnings.warn(
            f"gradcheck: checked points sit within h={h:g} of a kink ({where}): "
            f"{', '.join(sorted(kink_ops))} switches branch between x - h and x + h, so the "
            "numerical gradient there averages two slopes and a mismatch is expected; move the "
            "point or use a smaller h",
            GradcheckKinkWarning,
            stacklevel=2,
        )
    return result
