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
