"""Case 2: per-op overhead. A chain of 100 alternating add and mul ops on shape-(4,)
float64 tensors, forward and backward, in microseconds per op.

Every op's second operand is a parameter that needs a gradient too (so backward does
the work an engine does for a layer's weights): y = ((x + c0) * c1 + c2) * c3 ...
The hand-written loop is the floor for any numpy engine: the same forward, storing what
backward needs, and the same backward, with no graph bookkeeping at all.
"""

from __future__ import annotations

import numpy as np
import torch

import tensorgraph as tg
from benchmarks.common import (
    TIMING_COLUMNS,
    CaseResult,
    Check,
    Table,
    Target,
    fmt_timing,
    measure,
)

N_OPS = 100
SHAPE = (4,)


def make_data() -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=SHAPE)
    # Multipliers near 1 keep 100 products finite and the gradients meaningful.
    cs = [
        rng.normal(size=SHAPE) if i % 2 == 0 else rng.uniform(0.9, 1.1, SHAPE) for i in range(N_OPS)
    ]
    return x, cs


def numpy_loop(x: np.ndarray, cs: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Forward, then backward by hand: the gradient of sum(y) w.r.t. x and every c."""
    saved = []
    y = x
    for i, c in enumerate(cs):
        saved.append(y)
        y = y + c if i % 2 == 0 else y * c
    g = np.ones_like(y)
    gcs: list[np.ndarray] = [None] * len(cs)  # type: ignore[list-item]
    for i in range(len(cs) - 1, -1, -1):
        if i % 2 == 0:
            gcs[i] = g
        else:
            gcs[i] = g * saved[i]
            g = g * cs[i]
    return g, gcs


def run(quick: bool) -> CaseResult:
    res = CaseResult("chain", "2. Chain of 100 alternating add/mul on shape (4,), fwd + bwd")
    x0, c0 = make_data()
    seed_np = np.ones(SHAPE)

    tx = tg.tensor(x0, requires_grad=True)
    tcs = [tg.tensor(c, requires_grad=True) for c in c0]
    px = torch.tensor(x0, requires_grad=True)
    pcs = [torch.tensor(c, requires_grad=True) for c in c0]
    seed_pt = torch.ones(SHAPE, dtype=torch.float64)

    def run_tensorgraph() -> None:
        tx.grad = None
        for c in tcs:
            c.grad = None
        y = tx
        for i, c in enumerate(tcs):
            y = y + c if i % 2 == 0 else y * c
        y.backward(seed_np)

    def run_torch() -> None:
        px.grad = None
        for c in pcs:
            c.grad = None
        y = px
        for i, c in enumerate(pcs):
            y = y + c if i % 2 == 0 else y * c
        y.backward(seed_pt)

    def run_numpy() -> None:
        numpy_loop(x0, c0)

    # tg.compile: the same chain traced once, then run as generated straight-line numpy
    # (the seed of ones is the gradient of y.sum()).
    def chain(x, cs):
        y = x
        for i, c in enumerate(cs):
            y = y + c if i % 2 == 0 else y * c
        return y.sum()

    compiled = tg.compile(chain)

    def run_compiled() -> None:
        compiled(x0, c0)

    impls = {
        "tensorgraph": run_tensorgraph,
        "tensorgraph, compiled": run_compiled,
        "PyTorch": run_torch,
        "numpy hand-written": run_numpy,
    }

    # Correctness: all three give the same gradients.
    run_tensorgraph()
    run_torch()
    gx, gcs = numpy_loop(x0, c0)
    err_tg = max(
        np.abs(tx.grad - gx).max(),
        max(np.abs(t.grad - g).max() for t, g in zip(tcs, gcs, strict=True)),
    )
    err_pt = max(
        np.abs(px.grad.numpy() - gx).max(),
        max(np.abs(p.grad.numpy() - g).max() for p, g in zip(pcs, gcs, strict=True)),
    )
    res.checks.append(
        Check("tensorgraph grads = hand-written", bool(err_tg < 1e-10), f"{err_tg:.1e}")
    )
    res.checks.append(Check("PyTorch grads = hand-written", bool(err_pt < 1e-10), f"{err_pt:.1e}"))
    _, grads = compiled(x0, c0)
    err_c = max(
        np.abs(grads["x"] - gx).max(),
        max(np.abs(g - h).max() for g, h in zip(grads["cs"], gcs, strict=True)),
    )
    res.checks.append(
        Check("tensorgraph compiled grads = hand-written", bool(err_c < 1e-10), f"{err_c:.1e}")
    )

    rounds, repeats, number = (2, 3, 3) if quick else (7, 9, 40)
    times = measure(impls, rounds, repeats, number)
    per_op = 1e6 / N_OPS
    rows = []
    for name, t in times.items():
        rows.append([name, *fmt_timing(t, per_op)])
        res.numbers[f"{name} µs/op"] = t.cpu * per_op
    res.tables.append(Table(["impl", *(f"{c}, µs/op" for c in TIMING_COLUMNS)], rows))
    ours = times["tensorgraph"].cpu
    res.targets.append(Target("tensorgraph / PyTorch", ours / times["PyTorch"].cpu, 0.35))
    res.targets.append(
        Target("tensorgraph / hand-written numpy", ours / times["numpy hand-written"].cpu, 2.0)
    )
    res.targets.append(
        Target(
            "tensorgraph compiled / hand-written numpy",
            times["tensorgraph, compiled"].cpu / times["numpy hand-written"].cpu,
            1.5,
        )
    )
    res.notes.append(
        "Every operand needs a gradient; the seed is a ones vector passed to backward. "
        "Parameters' gradients are cleared before each pass, as an optimizer's zero_grad does."
    )
    res.notes.append(
        "tensorgraph, compiled: tg.compile(chain) of the same loop (x and a list of the 100 "
        "parameters as arguments, returning y.sum()), traced once; each call checks the "
        "arguments' shapes and runs the generated code, building no graph."
    )
    return res
