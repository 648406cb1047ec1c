"""Every op in ``tg.OPS`` against PyTorch: values and gradients.

Each case runs the same function in tensorgraph and in torch on the same random inputs
(a seeded numpy Generator), backpropagates the same random upstream gradient through
``backward(grad=...)``, and compares the output and every input's gradient:

- float64 to rtol 1e-10 (plus atol 1e-12 for entries that are 0 up to rounding, where a
  relative tolerance has no scale);
- float32 at rtol 1e-4, checking that float32 stays float32;
- float64 against central differences, where the function is differentiable at the
  inputs (ties, relu at 0 and the like are checked against torch only).

`test_every_op_has_a_torch_case` fails when an op is added to ``tg.OPS`` without a case.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tensorgraph as tg

RTOL64, ATOL64 = 1e-10, 1e-12
RTOL32, ATOL32 = 1e-4, 1e-5

# An input spec is a shape (standard normal entries), a fixed array (ties, exact zeros)
# or a function of the Generator (inputs restricted to an op's domain).
Spec = tuple[int, ...] | np.ndarray | Callable[[np.random.Generator], np.ndarray]


def positive(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    """Entries in [0.5, 2]: the domain of log, sqrt and fractional powers."""
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def nonzero(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    """Entries of either sign with |x| in [0.5, 2]: safe divisors."""
    return lambda rng: rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)


def spread(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    """Entries up to +-30, where a naive sigmoid or tanh would lose precision."""
    return lambda rng: rng.uniform(-30.0, 30.0, shape)


@dataclass(frozen=True)
class Case:
    op: str  # the tg.OPS name the case is about
    id: str
    tg: Callable[..., Any]
    torch: Callable[..., Any]
    inputs: tuple[Spec, ...]
    smooth: bool = True  # differentiable at the inputs: central differences apply

    def make_inputs(self, dtype: type) -> list[np.ndarray]:
        rng = np.random.default_rng(zlib.crc32(f"{self.op}/{self.id}".encode()))
        arrays = []
        for spec in self.inputs:
            if isinstance(spec, tuple):
                arr = rng.standard_normal(spec)
            elif isinstance(spec, np.ndarray):
                arr = spec
            else:
                arr = spec(rng)
            arrays.append(np.array(arr, dtype=dtype))
        return arrays


def both(op: str, id: str, f: Callable, *inputs: Spec, smooth: bool = True) -> Case:
    """A case whose function reads the same in tensorgraph and in torch."""
    return Case(op, id, f, f, inputs, smooth)


def case(op: str, id: str, f_tg: Callable, f_torch: Callable, *inputs: Spec, **kw: Any) -> Case:
    return Case(op, id, f_tg, f_torch, inputs, **kw)


# Broadcasting variants for the elementwise binary ops: equal shapes, a 0-d tensor on
# either side, (3,1)x(1,4), trailing-axis broadcasting both ways, and a mixed pattern.
BROADCAST = [
    ("same", (3, 4), (3, 4)),
    ("scalar-left", (), (3, 4)),
    ("scalar-right", (2, 3), ()),
    ("col-row", (3, 1), (1, 4)),
    ("batch-vector", (2, 3, 4), (4,)),
    ("vector-batch", (4,), (2, 3, 4)),
    ("mixed", (2, 1, 4), (3, 1)),
    ("both-0d", (), ()),
]

BINARY = [
    ("add", lambda a, b: a + b, tg.add, torch.add),
    ("sub", lambda a, b: a - b, tg.sub, torch.sub),
    ("mul", lambda a, b: a * b, tg.mul, torch.mul),
    ("div", lambda a, b: a / b, tg.div, torch.div),
]

CASES: list[Case] = []

for name, operator, f_tg, f_torch in BINARY:
    for label, sa, sb in BROADCAST:
        rhs: Spec = nonzero(*sb) if name == "div" else sb
        CASES.append(both(name, f"op-{label}", operator, sa, rhs))
        CASES.append(case(name, f"fn-{label}", f_tg, f_torch, sa, rhs))

for label, sa, sb in BROADCAST:
    CASES.append(case("maximum", label, tg.maximum, torch.maximum, sa, sb))
    CASES.append(case("minimum", label, tg.minimum, torch.minimum, sa, sb))

# Ties: torch.maximum and torch.minimum give each tied side half the gradient.
TIE_A = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]])
TIE_B = np.array([[1.0, 0.0, 3.0], [0.0, 2.0, -5.0]])
CASES += [
    case("maximum", "ties", tg.maximum, torch.maximum, TIE_A, TIE_B, smooth=False),
    case("minimum", "ties", tg.minimum, torch.minimum, TIE_A, TIE_B, smooth=False),
    case(
        "maximum",
        "ties-broadcast",
        tg.maximum,
        torch.maximum,
        TIE_A,
        np.array([1.0, 2.0, 3.0]),
        smooth=False,
    ),
    case(
        "minimum",
        "ties-broadcast",
        tg.minimum,
        torch.minimum,
        np.array([[0.0], [5.0]]),
        TIE_A,
        smooth=False,
    ),
    # maximum(x, x): a tie everywhere, the two halves adding back to the whole.
    case("maximum", "self", lambda x: tg.maximum(x, x), lambda x: torch.maximum(x, x), (3,)),
]

CASES += [
    both("neg", "op", lambda x: -x, (3, 4)),
    case("neg", "fn", tg.neg, torch.neg, (2, 3, 4)),
    case("neg", "0d", tg.neg, torch.neg, ()),
]

for p in [2, 3, 1, 0, -1, -2]:
    CASES.append(both("pow", f"int-{p}", lambda x, p=p: x**p, nonzero(3, 4)))
for p in [0.5, -2.5, 1.5]:
    CASES.append(both("pow", f"float-{p}", lambda x, p=p: x**p, positive(3, 4)))
CASES += [
    case("pow", "fn", lambda x: tg.pow(x, 3), lambda x: torch.pow(x, 3), (2, 3)),
    case("pow", "0d", lambda x: tg.pow(x, 2.0), lambda x: torch.pow(x, 2.0), ()),
    case("pow", "numpy-exponent", lambda x: x ** np.float64(2.0), lambda x: x**2.0, (4,)),
]

MATMUL = [
    ("2d-2d", (3, 4), (4, 5)),
    ("1d-2d", (4,), (4, 5)),
    ("2d-1d", (3, 4), (4,)),
    ("1d-1d", (4,), (4,)),
    ("batch-batch", (2, 3, 4), (2, 4, 5)),
    ("batch-2d", (2, 3, 4), (4, 5)),
    ("2d-batch", (3, 4), (2, 4, 5)),
    ("batch-broadcast", (2, 1, 3, 4), (5, 4, 2)),
    ("1d-batch", (4,), (2, 4, 5)),
    ("batch-1d", (2, 3, 4), (4,)),
]
for label, sa, sb in MATMUL:
    CASES.append(both("matmul", f"op-{label}", lambda a, b: a @ b, sa, sb))
    CASES.append(case("matmul", f"fn-{label}", tg.matmul, torch.matmul, sa, sb))

# Reductions: every axis form, with and without keepdims.
AXES = [None, 0, 1, -1, (0, 2), (0, 1, 2), (-1, 0)]
for axis in AXES:
    for keep in (False, True):
        label = f"axis={axis}-keep={keep}"
        CASES.append(
            case(
                "sum",
                label,
                lambda x, a=axis, k=keep: tg.sum(x, axis=a, keepdims=k),
                lambda x, a=axis, k=keep: torch.sum(x, dim=a, keepdim=k),
                (2, 3, 4),
            )
        )
        CASES.append(
            case(
                "mean",
                label,
                lambda x, a=axis, k=keep: x.mean(axis=a, keepdims=k),
                lambda x, a=axis, k=keep: torch.mean(x, dim=a, keepdim=k),
                (2, 3, 4),
            )
        )
        for name, f_tg, f_torch in [("max", tg.max, torch.amax), ("min", tg.min, torch.amin)]:
            CASES.append(
                case(
                    name,
                    label,
                    lambda x, a=axis, k=keep, f=f_tg: f(x, axis=a, keepdims=k),
                    lambda x, a=axis, k=keep, f=f_torch: (
                        f(x, keepdim=k) if a is None else f(x, dim=a, keepdim=k)
                    ),
                    (2, 3, 4),
                )
            )

# Tied maxima: torch.amax / torch.amin spread the gradient evenly among them.
TIES = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 5.0, -1.0, 5.0]])
for axis in [None, 0, 1]:
    CASES += [
        case(
            "max",
            f"ties-axis={axis}",
            lambda x, a=axis: tg.max(x, axis=a),
            lambda x, a=axis: torch.amax(x) if a is None else torch.amax(x, dim=a),
            TIES,
            smooth=False,
        ),
        case(
            "min",
            f"ties-axis={axis}",
            lambda x, a=axis: tg.min(x, axis=a),
            lambda x, a=axis: torch.amin(x) if a is None else torch.amin(x, dim=a),
            TIES,
            smooth=False,
        ),
    ]
CASES += [
    case("sum", "method", lambda x: x.sum(), torch.sum, (5,)),
    case("sum", "0d", tg.sum, torch.sum, ()),
    case("mean", "fn", lambda x: tg.mean(x, axis=0), lambda x: torch.mean(x, dim=0), (5, 2)),
    case("max", "method-1d", lambda x: x.max(), torch.amax, (6,)),
    case("min", "method-1d", lambda x: x.min(), torch.amin, (6,)),
]


def torch_twin(info: tg.OpInfo) -> Callable[..., Any]:
    """The PyTorch function the registry names as the op's twin ("torch.exp")."""
    obj: Any = torch
    for part in info.torch.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


# Elementwise functions of one input (the registry's, with their PyTorch twin), on the
# function form, the method form where the op has one, and a 0-d tensor.
UNARY = [
    info
    for info in tg.OPS.values()
    if info.kind == "elementwise" and len(info.inputs) == 1 and not info.attrs
    if info.torch and not info.operator
]
for info in UNARY:
    spec: Spec = positive(2, 3, 4) if info.domain == "positive" else (2, 3, 4)
    CASES.append(case(info.name, "fn", info.function, torch_twin(info), spec))
    if info.name in info.methods:
        CASES.append(both(info.name, "method", lambda x, n=info.name: getattr(x, n)(), spec))
    CASES.append(case(info.name, "0d", info.function, torch_twin(info), np.array(0.7)))
CASES += [
    # Periodic: far from 0 numpy and torch still agree (both reduce the argument exactly).
    case("sin", "large", tg.sin, torch.sin, spread(20)),
    case("cos", "large", tg.cos, torch.cos, spread(20)),
    case("cos", "composed", lambda x: tg.sin(x) * tg.cos(x), lambda x: x.sin() * x.cos(), (5,)),
    case("sigmoid", "large", tg.sigmoid, torch.sigmoid, spread(20)),
    case("tanh", "large", tg.tanh, torch.tanh, spread(20)),
    # At exactly 0 both relu and abs have gradient 0 in torch.
    case("relu", "at-zero", tg.relu, torch.relu, np.array([-1.0, 0.0, 2.0]), smooth=False),
    case("abs", "at-zero", tg.abs, torch.abs, np.array([-1.0, 0.0, 2.0]), smooth=False),
    case("abs", "builtin", lambda x: abs(x), torch.abs, (4,)),
]

# Shape ops. transpose follows numpy (a permutation of the axes); torch's transpose is
# tg.swapaxes, torch's permute is tg.transpose.
CASES += [
    both("reshape", "method-args", lambda x: x.reshape(6, 4), (2, 3, 4)),
    both("reshape", "method-tuple", lambda x: x.reshape((4, -1)), (2, 3, 4)),
    case("reshape", "fn", lambda x: tg.reshape(x, -1), lambda x: torch.reshape(x, (-1,)), (3, 4)),
    case("reshape", "0d-to-1x1", lambda x: tg.reshape(x, (1, 1)), lambda x: x.reshape(1, 1), ()),
    case("transpose", "T-2d", lambda x: x.T, lambda x: x.T, (3, 4)),
    case("transpose", "T-3d", lambda x: x.T, lambda x: x.permute(2, 1, 0), (2, 3, 4)),
    case("transpose", "method-none", lambda x: x.transpose(), lambda x: x.t(), (3, 4)),
    case(
        "transpose",
        "perm",
        lambda x: x.transpose(1, 2, 0),
        lambda x: x.permute(1, 2, 0),
        (2, 3, 4),
    ),
    case(
        "transpose",
        "perm-tuple-negative",
        lambda x: tg.transpose(x, (-1, 0, 1)),
        lambda x: x.permute(2, 0, 1),
        (2, 3, 4),
    ),
    case(
        "transpose",
        "swapaxes",
        lambda x: x.swapaxes(0, 2),
        lambda x: torch.transpose(x, 0, 2),
        (2, 3, 4),
    ),
    case(
        "transpose",
        "swapaxes-fn",
        lambda x: tg.swapaxes(x, -1, 1),
        lambda x: torch.transpose(x, -1, 1),
        (2, 3, 4),
    ),
]

# Indexing: slices, integers, integer arrays (repeats accumulate), boolean masks.
LABELS = np.array([2, 0, 2, 1, 2])  # scores[np.arange(N), y] with a repeated class
MASK = np.random.default_rng(7).standard_normal((4, 5)) > 0
CASES += [
    both("index", "int", lambda x: x[1], (3, 4)),
    both("index", "negative-int", lambda x: x[-1, 2], (3, 4)),
    both("index", "slice", lambda x: x[1:, ::2], (3, 4)),
    both("index", "ellipsis", lambda x: x[..., 0], (2, 3, 4)),
    both("index", "newaxis", lambda x: x[:, None, 1:3], (3, 4)),
    both("index", "scores[arange(N), y]", lambda x: x[np.arange(5), LABELS], (5, 3)),
    both("index", "repeat-rows", lambda x: x[[0, 0, 1]], (3, 4)),
    both(
        "index", "repeat-pairs", lambda x: x[np.array([0, 0, 0, 2]), np.array([1, 1, 1, 0])], (3, 4)
    ),
    both("index", "array-and-slice", lambda x: x[np.array([2, 2]), 1:], (3, 4)),
    both("index", "array-2d", lambda x: x[np.array([[0, 1], [1, 1]])], (3, 2)),
    both("index", "bool-mask", lambda x: x[MASK], (4, 5)),
    both("index", "bool-rows", lambda x: x[np.array([True, False, True])], (3, 4)),
    both("index", "mask-from-comparison", lambda x: x[x > 0], (4, 5)),
    # numpy allows a negative step, torch does not: torch.flip is the same selection.
    case("index", "negative-step", lambda x: x[::-1, 1], lambda x: x.flip(0)[:, 1], (3, 4)),
    case(
        "index",
        "tensor-index",
        lambda x: x[tg.tensor([1, 1, 0])],
        lambda x: x[torch.tensor([1, 1, 0])],
        (3, 2),
    ),
]

# Repeated inputs: x*x, x+x, one node feeding two consumers, deeper sharing.
CASES += [
    both("mul", "x*x", lambda x: x * x, (3, 4)),
    both("add", "x+x", lambda x: x + x, (3, 4)),
    both("sub", "x-x", lambda x: x - x, (3,)),
    both("div", "x/x", lambda x: x / x, nonzero(3)),
    both("matmul", "x@x", lambda x: x @ x, (3, 3)),
    both("mul", "shared-node", lambda x: (lambda y: y * y + y.exp())(x * 2), (3, 4)),
    both("add", "a+a twice", lambda a: (lambda b: b + b)(a + a), ()),
    both("add", "diamond", lambda x, w: (lambda h: h.tanh() + h * x)(x @ w), (2, 3), (3, 3)),
]

# Python numbers and numpy arrays on either side of every operator.
ONES = np.ones(3)
INTS = np.arange(3)
MAT = np.linspace(-1.0, 1.0, 6).reshape(3, 2)
CASES += [
    both("mul", "2*x", lambda x: 2 * x, (3,)),
    both("mul", "x*2.5", lambda x: x * 2.5, (3,)),
    case("add", "array+x", lambda x: ONES + x, lambda x: torch.from_numpy(ONES) + x, (3,)),
    case("add", "x+array", lambda x: x + ONES, lambda x: x + torch.from_numpy(ONES), (2, 3)),
    case("mul", "int-array*x", lambda x: INTS * x, lambda x: torch.from_numpy(INTS) * x, (3,)),
    both("div", "x/2", lambda x: x / 2, (3,)),
    both("div", "2/x", lambda x: 2 / x, nonzero(3)),
    both("sub", "3-x", lambda x: 3 - x, (3,)),
    both("sub", "x-3", lambda x: x - 3, (3,)),
    case("sub", "array-x", lambda x: ONES - x, lambda x: torch.from_numpy(ONES) - x, (3,)),
    case("div", "array/x", lambda x: ONES / x, lambda x: torch.from_numpy(ONES) / x, nonzero(3)),
    # A float64 array promotes a float32 tensor, as in numpy and in torch's elementwise
    # ops (torch.matmul refuses mixed dtypes, so its side promotes by hand).
    case(
        "matmul", "x@array", lambda x: x @ MAT, lambda x: x.double() @ torch.from_numpy(MAT), (4, 3)
    ),
    case(
        "matmul",
        "array@x",
        lambda x: MAT.T @ x,
        lambda x: torch.from_numpy(MAT.T) @ x.double(),
        (3, 4),
    ),
    case("maximum", "x-vs-0", lambda x: tg.maximum(x, 0), lambda x: x.clamp(min=0), (5,)),
    both("pow", "x**2", lambda x: x**2, (3,)),
    # 2 ** x is built from exp and mul; torch computes pow(2, x).
    case("exp", "2**x", lambda x: 2**x, lambda x: 2**x, (3,)),
    case("exp", "0.5**x", lambda x: 0.5**x, lambda x: 0.5**x, (3,)),
]

# The loss gates of tensorgraph/losses.py (validation, float32 and more: test_losses.py).
# PyTorch's multi_margin_loss also averages over the K classes, hence the * K.
Y5 = np.array([2, 0, 2, 1, 3])


def _multi_margin(p: int, delta: float = 1.0) -> Callable:
    return lambda s: F.multi_margin_loss(s, torch.from_numpy(Y5), p=p, margin=delta) * s.shape[1]


CASES += [
    case("svm_loss", "hinge", lambda s: tg.svm_loss(s, Y5), _multi_margin(1), (5, 4)),
    case(
        "svm_loss",
        "squared-delta",
        lambda s: tg.svm_loss(s, Y5, delta=0.5, squared=True),
        _multi_margin(2, 0.5),
        (5, 4),
    ),
    case(
        "softmax_loss",
        "cross-entropy",
        lambda s: tg.softmax_loss(s, Y5),
        lambda s: F.cross_entropy(s, torch.from_numpy(Y5)),
        spread(5, 4),
    ),
    case("l1", "sum-abs", tg.l1, lambda w: w.abs().sum(), (3, 4)),
    case("l2", "sum-squares", tg.l2, lambda w: (w * w).sum(), (3, 4)),
]


# ----- the ops PyTorch users reach for (issue 13) -----


def alone(op: str, f: Callable) -> Callable:
    """``f`` only binds attributes of the op ``op`` (cat's list, where's mask): it composes
    nothing, so tests/test_inplace.py holds it to the op's in-place classification."""
    f.__name__ = op
    return f


def dims(x: Any) -> tuple[int, ...]:
    """Every axis of a torch tensor (torch's reductions want them spelled out)."""
    return tuple(range(x.ndim))


# softmax and log_softmax: one fused gate each, along any axis, stable for large scores.
for name, f_tg, f_torch in [
    ("softmax", tg.softmax, torch.softmax),
    ("log_softmax", tg.log_softmax, torch.log_softmax),
]:
    for axis in [-1, 0, 1, -2]:
        CASES.append(
            case(
                name,
                f"axis={axis}",
                lambda x, a=axis, f=f_tg: f(x, axis=a),
                lambda x, a=axis, f=f_torch: f(x, dim=a),
                (2, 3, 4),
            )
        )
    CASES += [
        case(name, "default-axis", f_tg, lambda x, f=f_torch: f(x, -1), (3, 5)),
        both(name, "method-dim", lambda x, n=name: getattr(x, n)(dim=0), (3, 5)),
        case(name, "0d", f_tg, lambda x, f=f_torch: f(x, -1), ()),
        case(name, "1d", f_tg, lambda x, f=f_torch: f(x, 0), (6,)),
        # Scores of +-30 and of 1e3: the max shift keeps exp from overflowing.
        case(name, "spread", f_tg, lambda x, f=f_torch: f(x, -1), spread(4, 5)),
        case(
            name,
            "huge",
            f_tg,
            lambda x, f=f_torch: f(x, -1),
            lambda rng: rng.uniform(-1e3, 1e3, (3, 4)),
            smooth=False,  # central differences of 1e3-sized scores drown in rounding
        ),
    ]

for axis in [None, 0, 1, -1, (0, 2), (-1, 0)]:
    for keep in (False, True):
        CASES.append(
            case(
                "logsumexp",
                f"axis={axis}-keep={keep}",
                lambda x, a=axis, k=keep: tg.logsumexp(x, axis=a, keepdims=k),
                lambda x, a=axis, k=keep: torch.logsumexp(
                    x, dim=dims(x) if a is None else a, keepdim=k
                ),
                (2, 3, 4),
            )
        )
CASES += [
    both("logsumexp", "method-dim", lambda x: x.logsumexp(dim=1, keepdim=True), (3, 4)),
    case("logsumexp", "0d", tg.logsumexp, lambda x: torch.logsumexp(x, dim=()), ()),
    case(
        "logsumexp", "spread", lambda x: tg.logsumexp(x, 1), lambda x: x.logsumexp(1), spread(3, 5)
    ),
]

# where: a bool mask (an attribute, no gradient) chooses between two inputs that broadcast.
MASK_3X4 = np.random.default_rng(3).random((3, 4)) > 0.5
MASK_COL = np.array([[True], [False], [True]])
for label, mask, sa, sb in [
    ("same", MASK_3X4, (3, 4), (3, 4)),
    ("mask-broadcast", MASK_COL, (1, 4), (3, 4)),
    ("inputs-broadcast", MASK_3X4, (4,), (3, 1)),
    ("0d-b", MASK_3X4, (3, 4), ()),
    ("0d-mask", np.array(False), (2, 3), (2, 3)),
]:
    CASES.append(
        case(
            "where",
            label,
            alone("where", lambda a, b, m=mask: tg.where(m, a, b)),
            lambda a, b, m=mask: torch.where(torch.from_numpy(m), a, b),
            sa,
            sb,
        )
    )
CASES += [
    # The mask made from an input (x > 0), as people write it; and a number as b.
    case(
        "where",
        "leaky-by-hand",
        lambda x: tg.where(x > 0, x, 0.1 * x),
        lambda x: torch.where(x > 0, x, 0.1 * x),
        (3, 4),
    ),
    case(
        "where",
        "number",
        lambda x: tg.where(tg.tensor(MASK_3X4, dtype=bool), x, 0.0),
        lambda x: torch.where(torch.from_numpy(MASK_3X4), x, 0.0),
        (3, 4),
    ),
    # The same tensor on both sides: every entry of the gradient arrives once.
    case(
        "where",
        "x-or-x",
        lambda x: tg.where(MASK_3X4, x, x),
        lambda x: torch.where(torch.from_numpy(MASK_3X4), x, x),
        (3, 4),
    ),
]

# clamp (and its numpy name clip): the gradient passes at the bounds themselves, as torch's.
BOUNDS = np.array([[-2.0, -1.0, -0.5, 0.0], [0.25, 0.5, 1.0, 3.0]])  # holds -0.5 and 1.0
CASES += [
    case("clamp", "both", lambda x: tg.clamp(x, -0.5, 1.0), lambda x: x.clamp(-0.5, 1.0), (3, 4)),
    case("clamp", "min", lambda x: tg.clamp(x, min=0.2), lambda x: x.clamp(min=0.2), (3, 4)),
    case("clamp", "max", lambda x: x.clamp(max=-0.1), lambda x: x.clamp(max=-0.1), (3, 4)),
    case("clamp", "clip-fn", lambda x: tg.clip(x, -1, 1), lambda x: torch.clip(x, -1, 1), (5,)),
    case("clamp", "clip-method", lambda x: x.clip(0.0, 0.5), lambda x: x.clip(0.0, 0.5), (5,)),
    case("clamp", "0d", lambda x: tg.clamp(x, 0.0), lambda x: x.clamp(0.0), ()),
    both("clamp", "at-bounds", lambda x: x.clamp(-0.5, 1.0), BOUNDS, smooth=False),
    both("clamp", "at-min", lambda x: x.clamp(min=0.0), BOUNDS, smooth=False),
    both("clamp", "at-max", lambda x: x.clamp(max=0.5), BOUNDS, smooth=False),
    # min > max: every entry is max and no gradient passes, as in torch.
    both("clamp", "min-above-max", lambda x: x.clamp(1.0, -1.0), BOUNDS, smooth=False),
]

# leaky_relu: slope 0.01 by default, torch's gradient (the slope) at exactly 0.
CASES += [
    case("leaky_relu", "default", tg.leaky_relu, F.leaky_relu, (3, 4)),
    case(
        "leaky_relu",
        "slope",
        lambda x: tg.leaky_relu(x, 0.2),
        lambda x: F.leaky_relu(x, 0.2),
        (2, 3, 4),
    ),
    case("leaky_relu", "0d", tg.leaky_relu, F.leaky_relu, ()),
    case("leaky_relu", "at-zero", tg.leaky_relu, F.leaky_relu, BOUNDS, smooth=False),
]

# log1p and expm1 get the registry's cases for elementwise functions; and tiny inputs,
# where log(1 + x) and exp(x) - 1 lose every digit.
CASES += [
    case("log1p", "tiny", tg.log1p, torch.log1p, lambda rng: rng.uniform(1e-12, 1e-9, (5,))),
    case("expm1", "tiny", tg.expm1, torch.expm1, lambda rng: rng.uniform(-1e-9, 1e-9, (5,))),
]

# cat and stack: a list of inputs; the same tensor twice gets both parts of the gradient.
for label, axis, shapes in [
    ("axis0", 0, [(2, 3), (4, 3)]),
    ("axis1", 1, [(2, 3), (2, 1), (2, 2)]),
    ("axis-1", -1, [(2, 3, 1), (2, 3, 4)]),
    ("axis-2", -2, [(2, 1, 4), (2, 3, 4)]),
    ("1d", 0, [(3,), (2,)]),
    ("one", 0, [(2, 2)]),
]:
    CASES.append(
        case(
            "cat",
            label,
            alone("cat", lambda *xs, a=axis: tg.cat(list(xs), axis=a)),
            lambda *xs, a=axis: torch.cat(xs, dim=a),
            *shapes,
        )
    )
for label, axis, shapes in [
    ("axis0", 0, [(2, 3)] * 2),
    ("axis1", 1, [(2, 3)] * 3),
    ("axis-1", -1, [(2, 3)] * 2),
    ("0d", 0, [(), ()]),
    ("one", 0, [(4,)]),
]:
    CASES.append(
        case(
            "stack",
            label,
            alone("stack", lambda *xs, a=axis: tg.stack(list(xs), axis=a)),
            lambda *xs, a=axis: torch.stack(xs, dim=a),
            *shapes,
        )
    )
CASES += [
    case(
        "cat", "x-twice", lambda x: tg.cat((x, x), axis=1), lambda x: torch.cat((x, x), 1), (2, 3)
    ),
    case(
        "cat",
        "dim",
        lambda a, b: tg.cat([a, b], dim=1),
        lambda a, b: torch.cat([a, b], 1),
        (2, 1),
        (2, 2),
    ),
    case(
        "stack", "x-twice", lambda x: tg.stack([x, x * 2]), lambda x: torch.stack([x, x * 2]), (3,)
    ),
]

# squeeze, unsqueeze, flatten: the gradient reshaped back.
SQUEEZABLE = (1, 3, 1, 2)
CASES += [
    case("squeeze", "all", tg.squeeze, torch.squeeze, SQUEEZABLE),
    case("squeeze", "axis", lambda x: tg.squeeze(x, 2), lambda x: x.squeeze(2), SQUEEZABLE),
    case("squeeze", "negative", lambda x: x.squeeze(-2), lambda x: x.squeeze(-2), SQUEEZABLE),
    case("squeeze", "tuple", lambda x: x.squeeze((0, 2)), lambda x: x.squeeze((0, 2)), SQUEEZABLE),
    case("squeeze", "dim", lambda x: x.squeeze(dim=0), lambda x: x.squeeze(dim=0), SQUEEZABLE),
    case("squeeze", "nothing", tg.squeeze, torch.squeeze, (2, 3)),
    case(
        "unsqueeze",
        "0",
        alone("unsqueeze", lambda x: tg.unsqueeze(x, 0)),
        lambda x: x.unsqueeze(0),
        (2, 3),
    ),
    case("unsqueeze", "-1", lambda x: x.unsqueeze(-1), lambda x: x.unsqueeze(-1), (2, 3)),
    case("unsqueeze", "middle", lambda x: x.unsqueeze(dim=1), lambda x: x.unsqueeze(1), (2, 3)),
    case("unsqueeze", "0d", lambda x: x.unsqueeze(0), lambda x: x.unsqueeze(0), ()),
    # A tuple of new axes (numpy's expand_dims); torch spells it with two unsqueezes.
    case(
        "unsqueeze",
        "tuple",
        lambda x: x.unsqueeze((0, -1)),
        lambda x: x.unsqueeze(0).unsqueeze(-1),
        (2, 3),
    ),
    case("flatten", "all", tg.flatten, torch.flatten, (2, 3, 4)),
    case("flatten", "start", lambda x: x.flatten(1), lambda x: x.flatten(1), (2, 3, 4)),
    case(
        "flatten",
        "torch-names",
        lambda x: x.flatten(start_dim=0, end_dim=-2),
        lambda x: x.flatten(start_dim=0, end_dim=-2),
        (2, 3, 4),
    ),
    case(
        "flatten", "one-axis", lambda x: tg.flatten(x, 1, 1), lambda x: x.flatten(1, 1), (2, 3, 4)
    ),
    case("flatten", "0d", tg.flatten, torch.flatten, ()),
]

# var and std: torch's correction (default 1), every axis form, keepdims.
for name, f_tg, f_torch in [("var", tg.var, torch.var), ("std", tg.std, torch.std)]:
    for axis in [None, 0, -1, (0, 2), (-1, 1)]:
        for correction in (1, 0, 2):
            if correction == 2 and axis == 0:
                continue  # 2 entries, 0 degrees of freedom: see test_var_without_freedom
            for keep in (False, True):
                CASES.append(
                    case(
                        name,
                        f"axis={axis}-c={correction}-keep={keep}",
                        lambda x, a=axis, c=correction, k=keep, f=f_tg: f(
                            x, axis=a, correction=c, keepdims=k
                        ),
                        lambda x, a=axis, c=correction, k=keep, f=f_torch: f(
                            x, dim=a, correction=c, keepdim=k
                        ),
                        (2, 3, 4),
                    )
                )
    CASES += [
        both(name, "method", lambda x, n=name: getattr(x, n)(), (4, 5)),
        both(name, "method-dim", lambda x, n=name: getattr(x, n)(dim=1, keepdim=True), (4, 5)),
        case(
            name,
            "ddof",
            lambda x, f=f_tg: f(x, ddof=0),
            lambda x, f=f_torch: f(x, correction=0),
            (6,),
        ),
        # One row without spread: torch's std sends 0 back there, not NaN.
        case(
            name,
            "no-spread",
            lambda x, f=f_tg: f(x, axis=1),
            lambda x, f=f_torch: f(x, dim=1),
            np.array([[1.0, 1.0, 1.0], [0.5, -2.0, 3.0]]),
            smooth=name == "var",
        ),
    ]

# power: a tensor exponent (x ** y, 2 ** x), with broadcasting; x ** 2 stays pow.
POSITIVE_BROADCAST = [("same", (3, 4), (3, 4)), ("col-row", (3, 1), (1, 4)), ("0d", (), (2, 3))]
for label, sa, sb in POSITIVE_BROADCAST:
    CASES.append(both("power", f"op-{label}", lambda a, b: a**b, positive(*sa), sb))
    CASES.append(case("power", f"fn-{label}", tg.power, torch.pow, positive(*sa), sb))
CASES += [
    both("power", "2**x", lambda x: 2**x, (3,)),
    both("power", "0.5**x", lambda x: 0.5**x, (3, 2)),
    case(
        "power",
        "array**x",
        lambda x: np.array([1.5, 2.0, 3.0]) ** x,
        lambda x: torch.tensor([1.5, 2.0, 3.0], dtype=torch.float64) ** x,
        (2, 3),
    ),
    both("power", "x**x", lambda x: x**x, positive(4)),
    # Where torch's rule is 0 * inf torch says 0: a 0 base, a 0 exponent; a negative base
    # with whole exponents has values, and NaN for d/d exponent (log of a negative), as torch.
    both(
        "power",
        "zeros",
        lambda a, b: a**b,
        np.array([0.0, 0.0, 0.0, 2.0]),
        np.array([0.0, 1.0, 2.0, 0.0]),
        smooth=False,
    ),
    both(
        "power",
        "negative-base",
        lambda a, b: a**b,
        np.array([-2.0, -1.5, -3.0]),
        np.array([2.0, 3.0, -1.0]),
        smooth=False,
    ),
]

# astype, float(), double(): a cast whose backward casts the gradient back.
CASES += [
    both("astype", "double", lambda x: x.double() * x, (3, 4)),
    case(
        "astype",
        "astype-float64",
        alone("astype", lambda x: tg.astype(x, np.float64)),
        lambda x: x.to(torch.float64),
        (2, 3),
    ),
    # Through float32 and back: both engines round to float32 in the middle.
    both("astype", "float-double", lambda x: x.float().double() * 3, (3, 4), smooth=False),
    case(
        "astype",
        "astype-float32",
        lambda x: (x.astype("float32") ** 2).astype(np.float64),
        lambda x: (x.to(torch.float32) ** 2).to(torch.float64),
        (5,),
        smooth=False,
    ),
]


def _ids(c: Case) -> str:
    return f"{c.op}/{c.id}"


def run_pair(c: Case, dtype: type) -> tuple[list[tg.Tensor], list[torch.Tensor], Any, Any]:
    """Run a case in both engines, backpropagating one random upstream gradient."""
    arrays = c.make_inputs(dtype)
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = c.tg(*xs), c.torch(*ts)
    rng = np.random.default_rng(zlib.crc32(_ids(c).encode()) + 1)
    seed = np.asarray(rng.standard_normal(out.shape), dtype=out.dtype)
    out.backward(grad=seed)
    ref.backward(torch.tensor(seed))
    return xs, ts, out, ref


@pytest.mark.parametrize("c", CASES, ids=_ids)
def test_float64_matches_torch(c: Case) -> None:
    xs, ts, out, ref = run_pair(c, np.float64)
    assert isinstance(out, tg.Tensor)
    assert out.shape == tuple(ref.shape)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=RTOL64, atol=ATOL64)
    for i, (x, t) in enumerate(zip(xs, ts, strict=True)):
        assert x.grad is not None, f"input {i} got no gradient"
        assert x.grad.shape == x.shape and x.grad.dtype == np.float64
        np.testing.assert_allclose(
            x.grad, t.grad.numpy(), rtol=RTOL64, atol=ATOL64, err_msg=f"grad of input {i}"
        )


@pytest.mark.parametrize("c", CASES, ids=_ids)
def test_float32_matches_torch(c: Case) -> None:
    xs, ts, out, ref = run_pair(c, np.float32)
    assert out.shape == tuple(ref.shape)
    assert out.dtype == np.dtype(str(ref.dtype).removeprefix("torch."))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=RTOL32, atol=ATOL32)
    for i, (x, t) in enumerate(zip(xs, ts, strict=True)):
        assert x.grad.dtype == np.float32, f"grad of input {i} is {x.grad.dtype}"
        np.testing.assert_allclose(
            x.grad, t.grad.numpy(), rtol=RTOL32, atol=ATOL32, err_msg=f"grad of input {i}"
        )


def numerical_grads(
    f: Callable[..., tg.Tensor], arrays: list[np.ndarray], seed: np.ndarray, eps: float = 1e-6
) -> list[np.ndarray]:
    """Central differences of sum(f(*arrays) * seed) with respect to every input entry."""

    def loss() -> float:
        with tg.no_grad():
            return float(np.sum(f(*[tg.tensor(a) for a in arrays]).data * seed))

    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + eps
            up = loss()
            a[i] = old - eps
            down = loss()
            a[i] = old
            g[i] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


@pytest.mark.parametrize("c", [c for c in CASES if c.smooth], ids=_ids)
def test_float64_matches_central_differences(c: Case) -> None:
    arrays = c.make_inputs(np.float64)
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = c.tg(*xs)
    seed = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(grad=seed)
    expected = numerical_grads(c.tg, arrays, seed)
    for i, (x, g) in enumerate(zip(xs, expected, strict=True)):
        np.testing.assert_allclose(x.grad, g, rtol=1e-5, atol=1e-7, err_msg=f"input {i}")


def test_every_unary_elementwise_op_gets_cases_from_the_registry() -> None:
    names = {info.name for info in UNARY}
    assert {"exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs"} <= names
    for info in tg.OPS.values():
        if info.torch:
            assert callable(torch_twin(info)), f"{info.name}: no {info.torch} in torch"


def test_every_op_has_a_torch_case() -> None:
    covered = {c.op for c in CASES}
    missing = sorted(set(tg.OPS) - covered)
    assert not missing, f"ops without a PyTorch comparison in this file: {missing}"
    smooth = {c.op for c in CASES if c.smooth}
    assert not sorted(set(tg.OPS) - smooth), "every op needs a central-difference case too"


def test_case_ids_are_unique() -> None:
    ids = [_ids(c) for c in CASES]
    assert len(ids) == len(set(ids))


INT_2X2 = np.array([[1, -2], [3, 4]])
BOOL_2X2 = np.array([[True, False], [False, True]])
FLOAT32_WITH_NUMBERS = [
    ("x*2", lambda x: x * 2, None),
    ("2.5-x", lambda x: 2.5 - x, None),
    ("x/3", lambda x: x / 3, None),
    ("1/x", lambda x: 1 / x, None),
    ("x+1", lambda x: x + 1, None),
    ("x**2", lambda x: x**2, None),
    ("x**0.5", lambda x: x**0.5, None),
    ("2**x", lambda x: 2**x, None),
    ("maximum(x,0)", lambda x: tg.maximum(x, 0), lambda x: torch.maximum(x, torch.tensor(0.0))),
    # x holds a 1.0: a tie, half the gradient to each side as in torch.minimum.
    ("minimum(1,x)", lambda x: tg.minimum(1, x), lambda x: torch.minimum(torch.tensor(1.0), x)),
    ("mean", lambda x: x.mean(), None),
    ("sum-axis", lambda x: x.sum(axis=0), lambda x: x.sum(dim=0)),
    ("sigmoid", tg.sigmoid, torch.sigmoid),
    ("exp*3", lambda x: tg.exp(x) * 3, lambda x: torch.exp(x) * 3),
    ("x@x", lambda x: x @ x, None),
    # Integer and bool arrays do not widen float32 (torch's rule; numpy would for ints).
    ("int-array*x", lambda x: INT_2X2 * x, lambda x: torch.from_numpy(INT_2X2) * x),
    ("x*bool-array", lambda x: x * BOOL_2X2, lambda x: x * torch.from_numpy(BOOL_2X2)),
]


@pytest.mark.parametrize(
    "f_tg, f_torch", [f[1:] for f in FLOAT32_WITH_NUMBERS], ids=[f[0] for f in FLOAT32_WITH_NUMBERS]
)
def test_float32_stays_float32_with_python_numbers(
    f_tg: Callable, f_torch: Callable | None
) -> None:
    x = tg.tensor(np.array([[0.5, 1.0], [1.5, 2.0]], dtype=np.float32), requires_grad=True)
    t = torch.tensor(x.data, requires_grad=True)
    out, ref = f_tg(x), (f_torch or f_tg)(t)
    assert ref.dtype == torch.float32  # the rule we copy from torch
    assert out.dtype == np.float32
    out.sum().backward()
    ref.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=RTOL32)
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=RTOL32)


# ----- the ops of issue 13: what the cases above cannot say -----


@pytest.mark.parametrize("name", ["logsumexp", "softmax", "log_softmax"])
def test_scores_of_1e4_stay_finite_in_float32(name: str) -> None:
    scores = np.array([[1e4, 1e4 - 1.0, -1e4], [-1e4, -1e4, -1e4]], dtype=np.float32)
    x = tg.tensor(scores, requires_grad=True)
    t = torch.tensor(scores, requires_grad=True)
    out = getattr(tg, name)(x, axis=1)
    ref = getattr(torch, name)(t, 1)
    out.sum().backward()
    ref.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_logsumexp_of_minus_infinity_is_minus_infinity_as_in_torch() -> None:
    scores = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
    out = tg.logsumexp(tg.tensor(scores), axis=1)
    np.testing.assert_array_equal(out.data, torch.logsumexp(torch.tensor(scores), 1).numpy())
    assert out.data[0] == -np.inf


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_without_freedom_warns_and_gives_torchs_nan(name: str) -> None:
    """n - correction <= 0: torch warns and returns NaN (0/0) or inf; so do we."""
    data = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 5.0]])
    x = tg.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    with pytest.warns(RuntimeWarning, match=rf"{name}: degrees of freedom <= 0 \(2 entries"):
        out = getattr(tg, name)(x, axis=0, correction=2)
    with pytest.warns(UserWarning):
        ref = getattr(torch, name)(t, dim=0, correction=2)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_array_equal(out.data, ref.detach().numpy())
    np.testing.assert_array_equal(x.grad, t.grad.numpy())


def test_where_copies_its_mask_and_sends_it_no_gradient() -> None:
    mask = np.array([True, False, True])
    a = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = tg.tensor([-1.0, -2.0, -3.0], requires_grad=True)
    out = tg.where(mask, a, b)
    mask[:] = False  # the caller's array changes after the op ran
    out.backward(np.array([1.0, 10.0, 100.0]))
    assert out.inputs == (a, b) and out.attrs["cond"].tolist() == [True, False, True]
    assert a.grad.tolist() == [1.0, 0.0, 100.0] and b.grad.tolist() == [0.0, 10.0, 0.0]
    assert not np.shares_memory(out.attrs["cond"], mask)


def test_clip_is_clamp_under_numpys_name_not_a_second_op() -> None:
    assert tg.clip is tg.clamp and "clip" not in tg.OPS
    assert tg.OPS["clamp"].methods == ("clamp", "clip")
    assert list(tg.OPS).count("clamp") == 1
    assert tg.tensor([3.0]).clip(max=1.0).op == "clamp"


def test_a_cast_records_the_dtype_and_casts_the_gradient_back() -> None:
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.float()
    assert y.dtype == np.float32 and y.op == "astype" and y.attrs == {"dtype": "float32"}
    (y.double() * 2).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [2.0, 2.0]
    assert tg.OPS["astype"].call([tg.tensor([1.0])], y.attrs).dtype == np.float32


def test_x_squared_stays_pow_and_a_tensor_exponent_is_power() -> None:
    x = tg.tensor([1.5, 2.0], requires_grad=True)
    assert (x**2).op == "pow" and (x**2).attrs == {"exponent": 2}
    y = tg.tensor([0.5, 3.0], requires_grad=True)
    z = x**y
    assert z.op == "power" and z.inputs == (x, y)
    two = 2**x
    assert two.op == "power" and two.inputs[1] is x and two.inputs[0].item() == 2.0
    assert not two.inputs[0].requires_grad  # the base is a constant: no gradient computed
