"""Property-based fuzzing: random expression graphs, built twice, compared with PyTorch.

Hypothesis draws a small program step by step: leaves of random broadcastable shapes,
then ops applied to earlier results (so subexpressions are shared), constants on either
side, reductions over random axes, reshapes, transposes and indexing. Every step is run
in tensorgraph and in PyTorch at once and the values must agree; at the end both graphs
are backpropagated and the gradient of every tensor (leaves and intermediates) must
agree too (float64, rtol 1e-9). After each step torch's value is snapped to ours (an
identity for gradients), so each op is compared on identical inputs.

Kinks and ties are made harmless by construction. Leaves sit away from 0 (|x| >= 0.2),
log, sqrt and fractional powers only see inputs >= 0.1, and a divisor is >= 0.1 in size.
Where a kink or tie can still arise (relu, abs, maximum, minimum, max, min), each gap
must be either exactly 0 in *both* frameworks (an exact tie, e.g. maximum(x, x), which
both resolve by the same documented rule: half to each side, evenly among tied maxima,
0 at the kink) or clearly away from 0; otherwise the step is redrawn on fresh inputs.

The ops of issue 13 keep to the same rules: clamp's bounds and leaky_relu's kink are
clear of the values or exactly on them, where's mask comes from values away from 0 (or
is drawn at random), std is exactly 0 or clearly larger than the entries' rounding
(its gradient divides by it), power's base is positive, and casts go through float32
and back in both frameworks alike.

Also fuzzed: the loss gates, detach/no_grad cuts, programs run under
tg.detect_anomaly() (which must change nothing), float32 programs, where only the
dtypes are compared (float32 rounding differs between numpy and torch), and in-place
writes to a random tensor (through .data, or `t += c` under no_grad) before backward:
backward must raise ModifiedInPlaceError or give torch's gradients of the graph as built.
Indices come in numpy's forms, tuples inside the index included (``x[(0, 0), ...]``,
``x[..., (1, 1)]``, nested lists, bool tuples, None mixed in); in half the programs every
index array and label the caller handed over is overwritten before backward, which
must then give torch's gradients unchanged (the ops copied them).

Profiles: "ci" (300 examples, 100 float32 ones and 15 per op, derandomized) by
default; TENSORGRAPH_FUZZ=long runs 5000 (and 1666, 200 per op) with a random seed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tensorgraph as tg

torch = pytest.importorskip("torch")
from test_ops_torch import torch_twin  # noqa: E402

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile(
    "ci", max_examples=300, deadline=None, derandomize=True, suppress_health_check=_HEALTH
)
settings.register_profile(
    "long", max_examples=5000, deadline=None, derandomize=False, suppress_health_check=_HEALTH
)
PROFILE = settings.get_profile("long" if os.environ.get("TENSORGRAPH_FUZZ") == "long" else "ci")

RTOL = 1e-9
MARGIN = 1e-6  # a gap smaller than this (but not exactly 0) is a near-tie: redraw
LIMIT = 1e6  # values larger than this are dropped, so nothing overflows downstream

# Ops of tg.OPS the fuzzer leaves to their own tests, with the reason.
NOT_FUZZED: dict[str, str] = {}


@dataclass
class Pair:
    """One value in both frameworks: a tensorgraph tensor and its PyTorch twin."""

    t: tg.Tensor
    u: Any  # torch.Tensor


@dataclass
class Program:
    data: Any  # hypothesis' interactive draw
    dtype: type = np.float64  # float32 programs check dtypes, not values (see below)
    pool: list[Pair] = field(default_factory=list)  # results later steps may reuse
    made: list[Pair] = field(default_factory=list)  # every tensor, to compare gradients
    ops: list[str] = field(default_factory=list)
    mode: str = ""  # how finish() ran backward
    given: list[Any] = field(default_factory=list)  # index arrays and labels handed to ops

    def draw(self, strategy: st.SearchStrategy, label: str | None = None) -> Any:
        return self.data.draw(strategy, label=label)

    def choice(self, options: list) -> Any:
        return options[self.draw(st.integers(0, len(options) - 1))]

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.draw(st.integers(0, 2**32 - 1)))


# ----- leaves, constants and shapes -----


def away_from_zero(p: Program, shape: tuple[int, ...], positive: bool = False) -> np.ndarray:
    """Distinct random values with 0.2 <= |x| <= 2 (positive if asked)."""
    rng = p.rng()
    mag = np.asarray(rng.uniform(0.2, 2.0, size=shape))
    if positive:
        return mag
    return np.asarray(mag * rng.choice([-1.0, 1.0], size=shape))


def new_leaf(p: Program, shape: tuple[int, ...], positive: bool = False) -> Pair:
    """A fresh input: usually requires a gradient, sometimes is a plain constant tensor."""
    values = away_from_zero(p, shape, positive).astype(p.dtype)
    grad = p.draw(st.integers(0, 4)) > 0
    pair = Pair(
        tg.tensor(values, requires_grad=grad),
        torch.tensor(values, requires_grad=grad),
    )
    p.made.append(pair)
    p.pool.append(pair)
    return pair


def base_shape(p: Program) -> tuple[int, ...]:
    return tuple(p.draw(st.lists(st.integers(1, 4), min_size=0, max_size=3), label="shape"))


def broadcastable_to(p: Program, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts with ``shape``: leading dims dropped or added, some set to 1."""
    drop = p.draw(st.integers(0, len(shape)))
    out = [1 if p.draw(st.booleans()) else n for n in shape[drop:]]
    if drop == 0 and len(shape) < 3 and p.draw(st.integers(0, 5)) == 0:
        out.insert(0, p.draw(st.integers(1, 3)))
    return tuple(out)


def broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def pick(p: Program, ok: Callable[[Pair], bool] = lambda _: True) -> Pair | None:
    """An earlier result satisfying ``ok`` (this is what shares subexpressions)."""
    candidates = [q for q in p.pool if ok(q)]
    return p.choice(candidates) if candidates else None


def values(pair: Pair) -> tuple[np.ndarray, np.ndarray]:
    return pair.t.data, pair.u.detach().numpy()


def clear(gap_t: np.ndarray, gap_u: np.ndarray) -> bool:
    """Each gap is an exact 0 in both frameworks, or well away from 0 in both."""
    exact = (gap_t == 0) & (gap_u == 0)
    far = (np.abs(gap_t) > MARGIN) & (np.abs(gap_u) > MARGIN)
    return bool(np.all(exact | far))


# ----- the second operand of a binary op -----


def operand(p: Program, like: Pair, ok: Callable[[np.ndarray], bool]) -> tuple[Any, Any]:
    """Another operand for ``like``: an earlier result, a new leaf, a number or an array.

    ``ok`` checks the tensorgraph values the operand may take (a divisor away from 0).
    Returns the (tensorgraph, torch) pair of objects to pass to each framework.
    """
    kind = p.draw(st.sampled_from(["pool", "leaf", "number", "array"]), label="operand")
    if kind == "pool":
        q = pick(p, lambda q: broadcasts(q.t.shape, like.t.shape) and ok(q.t.data))
        if q is not None:
            return q.t, q.u
        kind = "leaf"
    if kind == "leaf":
        q = new_leaf(p, broadcastable_to(p, like.t.shape))
        return q.t, q.u
    if kind == "number":
        c = float(p.choice([-1.5, -0.5, 0.25, 2.0, 3.0]))
        return c, c
    arr = away_from_zero(p, broadcastable_to(p, like.t.shape)).astype(p.dtype)
    return arr, torch.from_numpy(arr)


# ----- one builder per op: returns the new pair, or None to redraw the step -----

Builder = Callable[[Program], Pair | None]
BUILDERS: dict[str, Builder] = {}


def builds(*names: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        for name in names:
            BUILDERS[name] = fn
        return fn

    return register


def binary(name: str) -> Builder:
    ops: dict[str, tuple[Callable, Callable, Callable]] = {
        # name: (tensorgraph operator, tensorgraph function, torch)
        "add": (lambda a, b: a + b, tg.add, lambda a, b: a + b),
        "sub": (lambda a, b: a - b, tg.sub, lambda a, b: a - b),
        "mul": (lambda a, b: a * b, tg.mul, lambda a, b: a * b),
        "div": (lambda a, b: a / b, tg.div, lambda a, b: a / b),
        "maximum": (tg.maximum, tg.maximum, torch.maximum),
        "minimum": (tg.minimum, tg.minimum, torch.minimum),
    }
    via_operator, via_function, torch_fn = ops[name]

    def build(p: Program) -> Pair | None:
        a = pick(p) or new_leaf(p, base_shape(p))
        divisor_ok = (lambda v: bool(np.all(np.abs(v) >= 0.1))) if name == "div" else None
        b_t, b_u = operand(p, a, divisor_ok or (lambda v: True))
        if name in ("maximum", "minimum") and p.draw(st.integers(0, 3)) == 0:
            # An exact tie everywhere between two different tensors: a and a * 1.
            twin = accept(p, "mul", Pair(a.t * 1.0, a.u * 1.0))
            b_t, b_u = twin.t, twin.u
        left = p.draw(st.booleans())  # a on the left, or on the right
        if name == "div" and not left and not divisor_ok(a.t.data):
            left = True  # a cannot be the divisor
        x_t, y_t = (a.t, b_t) if left else (b_t, a.t)
        x_u, y_u = (a.u, b_u) if left else (b_u, a.u)
        if name in ("maximum", "minimum"):
            if not isinstance(x_u, torch.Tensor):
                x_u = torch.as_tensor(x_u, dtype=a.u.dtype)
            if not isinstance(y_u, torch.Tensor):
                y_u = torch.as_tensor(y_u, dtype=a.u.dtype)
            gap_t = np.asarray(x_t.data if isinstance(x_t, tg.Tensor) else x_t) - np.asarray(
                y_t.data if isinstance(y_t, tg.Tensor) else y_t
            )
            gap_u = (x_u - y_u).detach().numpy()
            if not clear(gap_t, gap_u):
                return None
        fn = via_operator if p.draw(st.booleans()) else via_function
        if not isinstance(x_t, tg.Tensor) and not isinstance(y_t, tg.Tensor):
            fn = via_function
        return Pair(fn(x_t, y_t), torch_fn(x_u, y_u))

    return build


for _name in ("add", "sub", "mul", "div", "maximum", "minimum"):
    builds(_name)(binary(_name))


def unary(info: tg.OpInfo) -> Builder:
    """Any elementwise op of one input, from its registry entry: the function, its methods
    (and operator) and its PyTorch twin; inputs kept in its domain and, for an op with a
    kink (relu, abs), clear of it."""
    forms: list[Callable] = [info.function]
    forms += [lambda x, m=m: getattr(x, m)() for m in info.methods if m.isidentifier()]
    forms += [lambda x: -x] if info.operator == "-" else []
    forms += [abs] if "__abs__" in info.methods else []
    torch_fn = torch_twin(info)
    in_domain = positive if info.domain == "positive" else moderate

    def build(p: Program) -> Pair | None:
        x = pick(p, lambda q: in_domain(q.t.data))
        x = x or new_leaf(p, base_shape(p), info.domain == "positive")
        if info.kink is not None and not clear(*values(x)):
            return None
        return Pair(p.choice(forms)(x.t), torch_fn(x.u))

    return build


def positive(v: np.ndarray) -> bool:
    return bool(np.all(v >= 0.1))


def moderate(v: np.ndarray) -> bool:
    return bool(np.all(np.abs(v) <= 10))  # exp of it stays far from overflow


for _info in tg.OPS.values():
    if _info.kind == "elementwise" and len(_info.inputs) == 1 and not _info.attrs:
        builds(_info.name)(unary(_info))


@builds("pow")
def build_pow(p: Program) -> Pair | None:
    e = p.choice([2, 3, 0, 1, -1, -2, 0.5, 1.5, -0.5, 2.5])
    if isinstance(e, float) or e < 0:  # needs x > 0 (fractional) or x away from 0
        x = pick(p, lambda q: positive(q.t.data)) or new_leaf(p, base_shape(p), positive=True)
    else:
        x = pick(p) or new_leaf(p, base_shape(p))
    form = p.draw(st.integers(0, 2))
    if form == 2 and isinstance(e, int) and e > 0 and np.all(x.t.data <= 10):
        # number ** tensor: recorded as exp(x * log(base)), so pow's partner ops get fuzzed
        return Pair(e**x.t, e**x.u)
    out = x.t**e if form == 0 else tg.pow(x.t, e)
    return Pair(out, x.u**e)


@builds("matmul")
def build_matmul(p: Program) -> Pair | None:
    a = pick(p, lambda q: q.t.ndim >= 1) or new_leaf(p, base_shape(p) or (3,))
    left = p.draw(st.booleans())  # a @ other, or other @ a
    shape = a.t.shape
    k = shape[-1] if left or len(shape) == 1 else shape[-2]
    batch = shape[:-2]
    m = p.draw(st.integers(1, 3))
    rank = p.draw(st.integers(1, 3))
    if rank == 1:
        other = (k,)
    elif rank == 2:
        other = (k, m) if left else (m, k)
    else:
        b = batch[-1:] if batch and p.draw(st.booleans()) else (p.draw(st.integers(1, 2)),)
        other = (*b, k, m) if left else (*b, m, k)

    def fits(q: Pair) -> bool:
        try:
            np.matmul(*((np.zeros(shape), np.zeros(q.t.shape))[:: 1 if left else -1]))
        except ValueError:
            return False
        return q.t.ndim >= 1

    q = pick(p, fits) if p.draw(st.booleans()) else None
    if q is None:
        if not fits(Pair(tg.tensor(np.zeros(other)), None)):
            other = (k,)
        q = new_leaf(p, other)
    x, y = (a, q) if left else (q, a)
    out = x.t @ y.t if p.draw(st.booleans()) else tg.matmul(x.t, y.t)
    return Pair(out, x.u @ y.u)


def axis_choice(p: Program, ndim: int) -> int | tuple[int, ...] | None:
    if ndim == 0 or p.draw(st.integers(0, 3)) == 0:
        return None
    axes = p.draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    axes = [a - ndim if p.draw(st.booleans()) else a for a in axes]  # negative axes too
    return axes[0] if len(axes) == 1 and p.draw(st.booleans()) else tuple(axes)


def reduction(name: str) -> Builder:
    torch_fns = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax, "min": torch.amin}

    def build(p: Program) -> Pair | None:
        x = pick(p) or new_leaf(p, base_shape(p))
        if name in ("max", "min") and x.t.ndim < 3 and p.draw(st.integers(0, 3)) == 0:
            # Exact ties along a new axis 0: x broadcast against zeros of shape (2, ...).
            zeros = np.zeros((2, *x.t.shape), dtype=p.dtype)
            x = accept(p, "add", Pair(x.t + zeros, x.u + torch.from_numpy(zeros)))
        axis = axis_choice(p, x.t.ndim)
        keep = p.draw(st.booleans())
        if name in ("max", "min"):
            # Ties: exact ties in both frameworks are fine (both share the gradient
            # evenly); near-ties are not.
            dims = tuple(range(x.t.ndim)) if axis is None else axis
            ext = torch_fns[name](x.u.detach(), dim=dims, keepdim=True).numpy()
            ext_t = getattr(np, name)(x.t.data, axis=dims, keepdims=True)
            if not clear(x.t.data - ext_t, x.u.detach().numpy() - ext):
                return None
        if p.draw(st.booleans()):
            out = getattr(tg, name)(x.t, axis=axis, keepdims=keep)
        else:
            out = getattr(x.t, name)(axis=axis, keepdims=keep)
        if axis is None:
            ref = torch_fns[name](x.u)
            if keep:
                ref = ref.reshape((1,) * x.t.ndim)
        else:
            ref = torch_fns[name](x.u, dim=axis, keepdim=keep)
        return Pair(out, ref)

    return build


for _name in ("sum", "mean", "max", "min"):
    builds(_name)(reduction(_name))


@builds("reshape")
def build_reshape(p: Program) -> Pair | None:
    x = pick(p) or new_leaf(p, base_shape(p))
    n = x.t.size
    factors = [f for f in range(1, n + 1) if n % f == 0]
    f = p.choice(factors)
    shape = p.choice([(n,), (1, n), (n, 1), (f, n // f), (n // f, 1, f), ()])
    if shape == () and n != 1:
        shape = (n,)
    if shape and p.draw(st.booleans()):  # let the engine infer one dimension
        i = p.draw(st.integers(0, len(shape) - 1))
        shape = shape[:i] + (-1,) + shape[i + 1 :]
    form = p.draw(st.integers(0, 2))
    if form == 0:
        out = x.t.reshape(shape)
    elif form == 1:
        out = x.t.reshape(*shape) if shape else x.t.reshape(())
    else:
        out = tg.reshape(x.t, shape)
    return Pair(out, x.u.reshape(shape))


@builds("transpose")
def build_transpose(p: Program) -> Pair | None:
    x = pick(p, lambda q: q.t.ndim >= 1) or new_leaf(p, base_shape(p) or (2, 3))
    nd = x.t.ndim
    form = p.draw(st.integers(0, 3))
    if form == 0:
        return Pair(x.t.T, x.u.permute(*reversed(range(nd))))
    if form == 1:
        return Pair(tg.transpose(x.t), x.u.permute(*reversed(range(nd))))
    if form == 2:
        perm = tuple(p.draw(st.permutations(range(nd))))
        return Pair(x.t.transpose(perm), x.u.permute(*perm))
    i, j = p.draw(st.integers(-nd, nd - 1)), p.draw(st.integers(-nd, nd - 1))
    return Pair(x.t.swapaxes(i, j), x.u.transpose(i, j))


@builds("index")
def build_index(p: Program) -> Pair | None:
    x = pick(p, lambda q: q.t.ndim >= 1) or new_leaf(p, base_shape(p) or (3, 2))
    shape = x.t.shape
    n, last = shape[0], shape[-1]
    form = p.draw(st.integers(0, 11), label="index form")
    rng = p.rng()
    # Every array part goes to tensorgraph as is (finish() may change it later: the
    # gradient must not follow) and to torch as its own copy.
    rows = rng.integers(-n, n, size=p.draw(st.integers(1, 5)))  # repeats: gradients add up
    if form == 0:  # an integer, maybe negative
        idx_t = idx_u = p.draw(st.integers(-n, n - 1))
    elif form == 1:  # a non-empty slice with a positive step
        start = p.draw(st.integers(0, n - 1))
        step = p.draw(st.integers(1, 2))
        idx_t = idx_u = slice(start, None, step)
    elif form == 2:  # an integer array or list
        idx_t, idx_u = (rows if p.draw(st.booleans()) else rows.tolist()), torch.tensor(rows)
    elif form == 3 and len(shape) >= 2:  # scores[np.arange(N), y]
        cols = rng.integers(0, shape[1], size=n)
        idx_t = (np.arange(n), cols)
        idx_u = (torch.arange(n), torch.tensor(cols))
    elif form == 4 and len(shape) >= 2:  # a slice, then an integer array
        cols = rng.integers(0, shape[1], size=3)
        idx_t, idx_u = (slice(None), cols), (slice(None), torch.tensor(cols))
    elif form == 5:  # a tuple of repeated integers inside the index: x[(0, 0), ...]
        idx_t, idx_u = (tuple(rows.tolist()), Ellipsis), (torch.tensor(rows), Ellipsis)
    elif form == 6:  # the same on the last axis: x[..., (1, 1)]
        cols = rng.integers(-last, last, size=p.draw(st.integers(1, 4)))
        idx_t, idx_u = (Ellipsis, tuple(cols.tolist())), (Ellipsis, torch.tensor(cols))
    elif form == 7 and len(shape) >= 2:  # two tuples, broadcast together: x[(0, 0), (1, 1)]
        cols = rng.integers(0, shape[1], size=len(rows))
        idx_t = (tuple(rows.tolist()), list(cols.tolist()))
        idx_u = (torch.tensor(rows), torch.tensor(cols))
    elif form == 8:  # a nested list: a 2-d index array, x[([[0, 1], [1, 1]],)]
        grid = rng.integers(-n, n, size=(2, 2))
        idx_t, idx_u = (grid.tolist(),), (torch.tensor(grid),)
    elif form == 9:  # None mixed in: x[None, (0, 0)]
        idx_t, idx_u = (None, tuple(rows.tolist())), (None, torch.tensor(rows))
    elif form == 10:  # a tuple of bools: a mask of axis 0, never empty
        mask = rng.random(n) < 0.5
        mask[rng.integers(0, n)] = True
        idx_t, idx_u = (tuple(mask.tolist()),), (torch.tensor(mask),)
    else:  # a boolean mask of the whole shape, never empty
        mask = rng.random(shape) < 0.5
        mask.flat[rng.integers(0, mask.size)] = True
        idx_t, idx_u = mask, torch.tensor(mask)
    p.given.append(idx_t)
    return Pair(x.t[idx_t] if p.draw(st.booleans()) else tg.index(x.t, idx_t), x.u[idx_u])


@builds("detach")
def build_detach(p: Program) -> Pair | None:
    """Not an op: a cut in the graph. Later ops see a constant; no gradient flows back."""
    x = pick(p) or new_leaf(p, base_shape(p))
    if p.draw(st.booleans()):
        return Pair(x.t.detach(), x.u.detach())
    with tg.no_grad(), torch.no_grad():
        return Pair(x.t * 1.0, x.u * 1.0)


# ----- the ops PyTorch users reach for (issue 13) -----


def all_dims(nd: int, axis: int | tuple[int, ...] | None) -> tuple[int, ...]:
    """torch's spelling of "every axis" for the reductions that want them listed."""
    return tuple(range(nd)) if axis is None else axis


def softmax_like(name: str) -> Builder:
    def build(p: Program) -> Pair | None:
        return build_softmax(p, name)

    return build


def build_softmax(p: Program, name: str) -> Pair | None:
    x = pick(p) or new_leaf(p, base_shape(p))
    nd = x.t.ndim
    axis = p.draw(st.integers(-nd, nd - 1)) if nd else p.choice([0, -1])
    form = p.draw(st.integers(0, 2))
    if form == 0:
        out = getattr(tg, name)(x.t, axis)
    elif form == 1:
        out = getattr(x.t, name)(dim=axis)
    else:
        out = getattr(tg, name)(x.t) if axis in (-1, nd - 1) else getattr(tg, name)(x.t, axis=axis)
    return Pair(out, getattr(torch, name)(x.u, axis))


for _name in ("softmax", "log_softmax"):
    builds(_name)(softmax_like(_name))


@builds("logsumexp")
def build_logsumexp(p: Program) -> Pair | None:
    x = pick(p) or new_leaf(p, base_shape(p))
    axis = axis_choice(p, x.t.ndim)
    keep = p.draw(st.booleans())
    out = tg.logsumexp(x.t, axis, keep) if p.draw(st.booleans()) else x.t.logsumexp(axis, keep)
    return Pair(out, torch.logsumexp(x.u, all_dims(x.t.ndim, axis), keep))


def spread(name: str) -> Builder:
    def build(p: Program) -> Pair | None:
        return build_spread(p, name)

    return build


def build_spread(p: Program, name: str) -> Pair | None:
    x = pick(p) or new_leaf(p, base_shape(p))
    axis = axis_choice(p, x.t.ndim)
    axes = all_dims(x.t.ndim, axis)
    n = int(np.prod([x.t.shape[i] for i in ((axes,) if isinstance(axes, int) else axes)]))
    correction = p.choice([0, 1])
    if n <= correction:
        correction = 0
    keep = p.draw(st.booleans())
    ref = getattr(torch, name)(x.u, dim=axis, correction=correction, keepdim=keep)
    if name == "std":
        # Near 0 the gradient 1/std magnifies rounding: an exact 0 (both engines send 0
        # back) or a spread clearly larger than the rounding of the entries.
        size = float(np.max(np.abs(x.t.data), initial=1.0))
        s = ref.detach().numpy()
        if not np.all((s == 0) | (s > 1e-3 * size)):
            return None
    if p.draw(st.booleans()):
        out = getattr(tg, name)(x.t, axis=axis, correction=correction, keepdims=keep)
    else:
        out = getattr(x.t, name)(dim=axis, correction=correction, keepdim=keep)
    return Pair(out, ref)


for _name in ("var", "std"):
    builds(_name)(spread(_name))


@builds("where")
def build_where(p: Program) -> Pair | None:
    x = pick(p) or new_leaf(p, base_shape(p))
    mask = x.t.data > 0  # leaves sit away from 0, so the mask is the same in torch
    if p.draw(st.booleans()):  # a bool tensor, or a mask that broadcasts against x
        cond_t: Any = x.t > 0
    else:
        cond_t = p.rng().random(broadcastable_to(p, x.t.shape)) < 0.5
        mask = cond_t
    b_t, b_u = operand(p, x, lambda v: True)
    a_t, a_u = x.t, x.u
    if p.draw(st.booleans()):
        (a_t, a_u), (b_t, b_u) = (b_t, b_u), (a_t, a_u)
    if not isinstance(a_t, tg.Tensor) and not isinstance(b_t, tg.Tensor):
        return None
    if not broadcasts(np.shape(mask), np.broadcast_shapes(np.shape(a_t), np.shape(b_t))):
        return None  # a mask that fits x but not x and b together
    out = tg.where(cond_t, a_t, b_t)
    if not isinstance(a_u, torch.Tensor):
        a_u = torch.as_tensor(a_u, dtype=x.u.dtype)
    if not isinstance(b_u, torch.Tensor):
        b_u = torch.as_tensor(b_u, dtype=x.u.dtype)
    return Pair(out, torch.where(torch.from_numpy(np.asarray(mask)), a_u, b_u))


@builds("clamp")
def build_clamp(p: Program) -> Pair | None:
    x = pick(p) or new_leaf(p, base_shape(p))
    lo = p.choice([None, -1.5, -0.5, 0.25, 1.0])
    hi = p.choice([None, -0.25, 0.5, 1.5]) if lo is not None else p.choice([-0.25, 0.5, 1.5])
    for bound in (lo, hi):  # the gradient jumps at a bound: clear of them, or exactly on
        if bound is not None and not clear(x.t.data - bound, x.u.detach().numpy() - bound):
            return None
    form = p.draw(st.integers(0, 3))
    if form == 0:
        out = tg.clamp(x.t, lo, hi)
    elif form == 1:
        out = tg.clip(x.t, min=lo, max=hi)
    else:
        out = x.t.clamp(lo, hi) if form == 2 else x.t.clip(lo, hi)
    return Pair(out, torch.clamp(x.u, lo, hi))


@builds("leaky_relu")
def build_leaky_relu(p: Program) -> Pair | None:
    x = pick(p) or new_leaf(p, base_shape(p))
    if not clear(*values(x)):
        return None
    slope = p.choice([0.01, 0.2, -0.5, 1.5])
    out = (
        tg.leaky_relu(x.t, slope) if slope != 0.01 or p.draw(st.booleans()) else tg.leaky_relu(x.t)
    )
    return Pair(out, torch.nn.functional.leaky_relu(x.u, slope))


@builds("power")
def build_power(p: Program) -> Pair | None:
    """A tensor exponent: x ** y (x > 0), 2 ** x, array ** x, tg.power."""
    a = pick(p, lambda q: positive(q.t.data) and bool(np.all(q.t.data <= 10)))
    a = a or new_leaf(p, base_shape(p), positive=True)

    def small(v: np.ndarray) -> bool:
        return bool(np.all(np.abs(v) <= 3))

    form = p.draw(st.integers(0, 2))
    if form == 2:  # a number or an array as the base, the tensor as the exponent
        b = pick(p, lambda q: small(q.t.data)) or new_leaf(p, base_shape(p))
        if p.draw(st.booleans()):
            base = float(p.choice([2.0, 0.5, 3.0]))
            return Pair(base**b.t, base**b.u)
        arr = away_from_zero(p, broadcastable_to(p, b.t.shape), positive=True).astype(p.dtype)
        return Pair(arr**b.t, torch.from_numpy(arr) ** b.u)
    b_t, b_u = operand(p, a, small)
    if not isinstance(b_t, tg.Tensor):
        b_t, b_u = np.asarray(b_t, dtype=p.dtype), torch.as_tensor(b_u, dtype=a.u.dtype)
    out = a.t**b_t if form == 0 else tg.power(a.t, b_t)
    return Pair(out, a.u**b_u)


@builds("cat")
def build_cat(p: Program) -> Pair | None:
    x = pick(p, lambda q: q.t.ndim >= 1) or new_leaf(p, base_shape(p) or (2, 3))
    nd = x.t.ndim
    axis = p.draw(st.integers(-nd, nd - 1))
    ax = axis % nd
    others: list[Pair] = []
    for _ in range(p.draw(st.integers(0, 2))):

        def fits(q: Pair) -> bool:
            s = q.t.shape
            return q.t.ndim == nd and s[:ax] + s[ax + 1 :] == x.t.shape[:ax] + x.t.shape[ax + 1 :]

        q = pick(p, fits) if p.draw(st.booleans()) else None
        if q is None:
            shape = list(x.t.shape)
            shape[ax] = p.draw(st.integers(1, 3))
            q = new_leaf(p, tuple(shape))
        others.append(q)
    parts = [x, *others]
    if p.draw(st.booleans()):
        parts.reverse()
    form = p.draw(st.integers(0, 1))
    out = (
        tg.cat([q.t for q in parts], axis)
        if form == 0
        else tg.cat(tuple(q.t for q in parts), dim=axis)
    )
    return Pair(out, torch.cat([q.u for q in parts], axis))


@builds("stack")
def build_stack(p: Program) -> Pair | None:
    x = pick(p) or new_leaf(p, base_shape(p))
    parts = [x]
    for _ in range(p.draw(st.integers(0, 2))):
        q = pick(p, lambda q: q.t.shape == x.t.shape) if p.draw(st.booleans()) else None
        parts.append(q or new_leaf(p, x.t.shape))
    axis = p.draw(st.integers(-x.t.ndim - 1, x.t.ndim))
    return Pair(tg.stack([q.t for q in parts], axis), torch.stack([q.u for q in parts], axis))


@builds("unsqueeze")
def build_unsqueeze(p: Program) -> Pair | None:
    x = pick(p) or new_leaf(p, base_shape(p))
    axis = p.draw(st.integers(-x.t.ndim - 1, x.t.ndim))
    out = tg.unsqueeze(x.t, axis) if p.draw(st.booleans()) else x.t.unsqueeze(dim=axis)
    return Pair(out, x.u.unsqueeze(axis))


@builds("squeeze")
def build_squeeze(p: Program) -> Pair | None:
    """Every axis of size 1, or some of them (a tensor with some: often an unsqueezed one)."""
    x = pick(p, lambda q: 1 in q.t.shape) if p.draw(st.booleans()) else None
    x = x or pick(p) or new_leaf(p, base_shape(p))
    nd = x.t.ndim
    ones = [i - nd if p.draw(st.booleans()) else i for i, n in enumerate(x.t.shape) if n == 1]
    if not ones or p.draw(st.booleans()):
        return Pair(x.t.squeeze() if p.draw(st.booleans()) else tg.squeeze(x.t), x.u.squeeze())
    some = tuple(p.draw(st.lists(st.sampled_from(ones), min_size=1, unique=True)))
    axis = some[0] if len(some) == 1 else some
    return Pair(tg.squeeze(x.t, axis), x.u.squeeze(axis))


@builds("flatten")
def build_flatten(p: Program) -> Pair | None:
    x = pick(p) or new_leaf(p, base_shape(p))
    nd = max(x.t.ndim, 1)
    start = p.draw(st.integers(-nd, nd - 1))
    end = p.draw(st.integers(-nd, nd - 1))
    if start % nd > end % nd:
        start, end = end, start
    form = p.draw(st.integers(0, 2))
    if form == 0:
        out = tg.flatten(x.t, start, end)
    elif form == 1:
        out = x.t.flatten(start_dim=start, end_dim=end)
    else:
        out = x.t.flatten() if (start % nd, end % nd) == (0, nd - 1) else x.t.flatten(start, end)
    return Pair(out, torch.flatten(x.u, start, end))


@builds("astype")
def build_astype(p: Program) -> Pair | None:
    """A cast and back (through float32 in a float64 program: both engines round alike)."""
    x = pick(p) or new_leaf(p, base_shape(p))
    other = np.float32 if p.dtype == np.float64 else np.float64
    torch_of = {np.float32: torch.float32, np.float64: torch.float64}
    form = p.draw(st.integers(0, 2))
    if form == 0:  # to the dtype it has: still a recorded cast
        return Pair(x.t.astype(p.dtype), x.u.to(torch_of[p.dtype]))
    there = (
        x.t.astype(other) if form == 1 else (x.t.float() if other == np.float32 else x.t.double())
    )
    back = there.double() if p.dtype == np.float64 else there.float()
    return Pair(back, x.u.to(torch_of[other]).to(torch_of[p.dtype]))


# ----- the fused loss gates (tensorgraph/losses.py), against torch's own losses -----


def labels_for(p: Program, n: int, k: int) -> tuple[Any, Any]:
    """N labels in [0, K), as an int array, a list, whole floats or a tensor."""
    y = p.rng().integers(0, k, size=n)
    form = p.draw(st.integers(0, 3))
    given = [y, y.tolist(), y.astype(np.float64), tg.tensor(y)][form]
    p.given.append(given)  # finish() may change it later: the gradient must not follow
    return given, torch.tensor(y)


def scores_pair(p: Program) -> Pair:
    s = pick(p, lambda q: q.t.ndim == 2)
    if s is None:
        n, k = p.draw(st.integers(1, 4)), p.draw(st.integers(1, 4))
        s = new_leaf(p, (n, k))
    return s


@builds("svm_loss")
def build_svm_loss(p: Program) -> Pair | None:
    s = scores_pair(p)
    n, k = s.t.shape
    y_t, y_u = labels_for(p, n, k)
    delta = p.choice([1.0, 0.5, 2.0, 0.0])
    squared = p.draw(st.booleans())
    # The hinge's kink: each margin s_j - s_y + delta (j != y) must be clearly off 0.
    rows = np.arange(n)
    for sd in values(s):
        margins = sd - sd[rows, y_u.numpy()][:, None] + delta
        margins[rows, y_u.numpy()] = 1.0
        if not clear(margins, margins):
            return None
    out = tg.svm_loss(s.t, y_t, delta=delta, squared=squared)
    # torch's multi_margin_loss divides each row by K; ours (the lecture's) does not.
    ref = k * torch.nn.functional.multi_margin_loss(s.u, y_u, p=2 if squared else 1, margin=delta)
    return Pair(out, ref)


@builds("softmax_loss")
def build_softmax_loss(p: Program) -> Pair | None:
    s = scores_pair(p)
    y_t, y_u = labels_for(p, *s.t.shape)
    return Pair(tg.softmax_loss(s.t, y_t), torch.nn.functional.cross_entropy(s.u, y_u))


@builds("l1")
def build_l1(p: Program) -> Pair | None:
    w = pick(p) or new_leaf(p, base_shape(p))
    if not clear(*values(w)):
        return None
    return Pair(tg.l1(w.t), w.u.abs().sum())


@builds("l2")
def build_l2(p: Program) -> Pair | None:
    w = pick(p) or new_leaf(p, base_shape(p))
    return Pair(tg.l2(w.t), (w.u * w.u).sum())


# ----- running a program -----


def step(p: Program, name: str) -> None:
    pair = BUILDERS[name](p)
    if pair is not None:
        accept(p, name, pair)


def accept(p: Program, name: str, pair: Pair) -> Pair | None:
    """Check a new result against torch and, unless too large, make it reusable."""
    t, u = pair.t, pair.u
    assert t.op is not None or not t.requires_grad, f"{name}: a computed tensor without an op"
    assert t.shape == tuple(u.shape), f"{name}: shape {t.shape} vs torch {tuple(u.shape)}"
    assert t.dtype == p.dtype and u.dtype == torch.from_numpy(t.data).dtype, f"{name}: dtype"
    assert t.requires_grad == u.requires_grad, f"{name}: requires_grad differs"
    if p.dtype == np.float64:
        # Both ran on identical inputs (see snap), so only this op's rounding differs;
        # sums (sum, mean, matmul, losses) may cancel, hence a floor scaled to the inputs.
        scale = max([1.0, *(float(np.max(np.abs(i.data), initial=0)) for i in t.inputs)])
        floor = 1e-12 * scale ** (2 if t.op in ("matmul", "l2") else 1)
        np.testing.assert_allclose(t.data, u.detach().numpy(), rtol=RTOL, atol=floor, err_msg=name)
    if not np.all(np.abs(t.data) < LIMIT):
        return None  # too large to build on safely; it stays out of the pool and the output
    pair.u = snap(t, u)
    p.made.append(pair)
    p.pool.append(pair)
    p.ops.append(name)
    return pair


def snap(t: tg.Tensor, u: Any) -> Any:
    """torch's result with exactly tensorgraph's value, and torch's gradient path.

    u + (t - u) equals t bit for bit when t and u agree to within a factor of 2 (then
    t - u is exact, Sterbenz), and the added term is a constant, so gradients flow as
    through u. Without this, an ill-conditioned op (log near 1, a sum that cancels)
    would turn one ulp of difference upstream into a large relative one downstream.
    """
    value = torch.from_numpy(t.data.copy())
    if not u.requires_grad:
        return value
    snapped = u + (value - u.detach())
    np.testing.assert_array_equal(snapped.detach().numpy(), t.data)
    snapped.retain_grad()
    return snapped


def assert_close(actual: np.ndarray | None, expected: Any, what: str) -> None:
    if expected is None or actual is None:
        assert actual is None and expected is None, f"{what}: {actual} vs torch {expected}"
        return
    expected = expected.numpy()
    assert actual.shape == expected.shape, f"{what}: {actual.shape} vs {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: {actual.dtype} vs {expected.dtype}"
    if actual.dtype != np.float64:
        return  # float32: rounding differs from torch's; float64 runs check the values
    # Sums of many terms in a different order cancel differently: a tiny absolute floor
    # scaled to the largest entry (1e-12 of it) keeps rtol meaningful near 0.
    floor = 1e-12 * float(np.max(np.abs(expected), initial=1.0))
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=floor, err_msg=what)


def finish(p: Program) -> None:
    """Backpropagate both graphs and compare every gradient.

    One program in four first writes into a random tensor's ``.data`` in place (torch's
    twins are separate copies, so torch keeps the graph as built). Backward must then
    either raise ModifiedInPlaceError before any gradient moves, or give exactly the
    gradients of the graph as built: torch's.
    """
    live = [q for q in p.pool if q.t.requires_grad]
    if not live:
        return
    if p.given and p.draw(st.booleans(), label="change indices and labels"):
        for given in p.given:  # the ops copied them: backward must not see this
            overwrite(given)
        p.ops.append("change every index array and label")
    written = p.draw(st.integers(0, 3), label="write .data") == 3
    if written:
        k = p.draw(st.integers(0, len(p.made) - 1), label="victim")
        victim = p.made[k].t
        if p.draw(st.booleans(), label="through .data"):
            victim.data += 0.25
        else:  # PyTorch's idiom: an in-place operator where no graph is recorded
            with tg.no_grad():
                victim += 0.25
            assert victim is p.made[k].t
        p.ops.append(f"write to tensor #{k}")
    try:
        backpropagate(p, live)
    except tg.ModifiedInPlaceError:
        assert written, f"ModifiedInPlaceError with no write, after ops {p.ops}"
        assert all(q.t.grad is None for q in p.made), "raised after gradients moved"
        return
    for i, q in enumerate(p.made):
        if p.mode == "twice" and not q.t.is_leaf:
            continue  # torch also accumulates retained intermediate grads; we do not
        what = f"grad of tensor #{i} ({q.t.op or 'leaf'}) after ops {p.ops}"
        assert_close(q.t.grad, q.u.grad, what)


def overwrite(given: Any) -> None:
    """Set every entry of an index or label the caller still holds to 0 (or False).

    0 is a valid label and a valid index along any axis, so a graph that read the new
    values would run, just with the wrong gradient.
    """
    if isinstance(given, tg.Tensor):
        given.data[...] = 0
    elif isinstance(given, np.ndarray):
        given[...] = 0
    elif isinstance(given, list):
        for i, item in enumerate(given):
            if isinstance(item, list | tuple | np.ndarray | tg.Tensor):
                overwrite(item)
            else:
                given[i] = type(item)(0)
    elif isinstance(given, tuple):  # a tuple itself cannot change; its arrays and lists can
        for item in given:
            if isinstance(item, list | np.ndarray | tg.Tensor | tuple):
                overwrite(item)


def backpropagate(p: Program, live: list[Pair]) -> None:
    """Run backward in both frameworks, in one of three ways hypothesis picks."""
    mode = p.mode = p.draw(st.sampled_from(["seed", "combine", "twice"]), label="backward")
    if mode == "seed":  # backward from the last result, with a random upstream gradient
        last = live[-1]
        seed = p.rng().standard_normal(last.t.shape).astype(p.dtype)
        last.t.backward(seed)
        last.u.backward(torch.from_numpy(seed))
    else:  # a scalar mixing several results with random weights
        chosen = [q for q in live if p.draw(st.booleans())] or [live[-1]]
        rng = p.rng()
        total_t, total_u = 0.0, 0.0
        for q in chosen:
            w = rng.standard_normal(q.t.shape).astype(p.dtype)
            total_t = total_t + (q.t * w).sum()
            total_u = total_u + (q.u * torch.from_numpy(w)).sum()
        total_t.backward(retain_graph=mode == "twice")
        total_u.backward(retain_graph=mode == "twice")
        if mode == "twice":  # leaf gradients accumulate; intermediates start afresh
            total_t.backward()
            total_u.backward()


def run(p: Program, first: str | None = None) -> None:
    # Some programs run under tg.detect_anomaly(): its checks and wrapped backward rules
    # must change no value and no gradient (everything here is finite by construction).
    anomaly = p.draw(st.integers(0, 3), label="detect_anomaly") == 3
    with tg.detect_anomaly() if anomaly else contextlib.nullcontext():
        new_leaf(p, base_shape(p))
        names = list(BUILDERS)  # add first: the op hypothesis falls back to most often
        steps = p.draw(st.integers(1, 12), label="steps")
        for i in range(steps):
            name = first if (i == 0 and first) else p.draw(st.sampled_from(names), label="op")
            step(p, name)
        finish(p)


# ----- the tests -----


def test_every_engine_op_is_fuzzed() -> None:
    """A new op in tg.OPS must get a builder here (or a stated reason not to)."""
    missing = set(tg.OPS) - set(BUILDERS) - set(NOT_FUZZED)
    assert not missing, f"ops with no fuzz builder: {sorted(missing)}"


@settings(PROFILE)
@given(st.data())
def test_random_graphs_match_torch(data: st.DataObject) -> None:
    run(Program(data))


@settings(PROFILE, max_examples=PROFILE.max_examples // 3)
@given(st.data())
def test_float32_graphs_stay_float32(data: st.DataObject) -> None:
    """float32 in, float32 out: every value and gradient, as in PyTorch (dtypes only)."""
    run(Program(data, dtype=np.float32))


@pytest.mark.parametrize("name", sorted(BUILDERS))
@settings(PROFILE, max_examples=15 if PROFILE.max_examples <= 300 else 200)
@given(data=st.data())
def test_each_op_in_a_random_graph(name: str, data: st.DataObject) -> None:
    """Each op at least a few times, first in the program so it is surely built."""
    run(Program(data), first=name)
