"""Case 1: the lecture example f = 2·(x·y + max(z, w)), forward and backward.

Fresh leaves every iteration in all three, as a student's notebook cell would make them;
and tg.compile's generated code for the same function, which builds no graph at all.
micrograd 0.1.0 has no max, so max(z, w) is written relu(z - w) + w (and its z - w
expands to z + w·(-1)): that is micrograd's graph for the same function.
"""

from __future__ import annotations

import math

import micrograd.engine as mg
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

X, Y, Z, W = 3.0, -4.0, 2.0, -1.0
EXPECTED = (-20.0, [-8.0, 6.0, 2.0, 0.0])


def run_tensorgraph() -> tuple[float, list[float]]:
    x = tg.tensor(X, requires_grad=True)
    y = tg.tensor(Y, requires_grad=True)
    z = tg.tensor(Z, requires_grad=True)
    w = tg.tensor(W, requires_grad=True)
    f = 2 * (x * y + tg.maximum(z, w))
    f.backward()
    return f.item(), [x.grad.item(), y.grad.item(), z.grad.item(), w.grad.item()]


def run_micrograd() -> tuple[float, list[float]]:
    x, y, z, w = mg.Value(X), mg.Value(Y), mg.Value(Z), mg.Value(W)
    f = 2 * (x * y + (z - w).relu() + w)
    f.backward()
    return f.data, [x.grad, y.grad, z.grad, w.grad]


def run_torch() -> tuple[float, list[float]]:
    leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (X, Y, Z, W)]
    x, y, z, w = leaves
    f = 2 * (x * y + torch.maximum(z, w))
    f.backward()
    return f.item(), [t.grad.item() for t in leaves]


# tg.compile: traced once (at the warm-up call), then the generated numpy code runs.
LECTURE = tg.compile(lambda x, y, z, w: 2 * (x * y + tg.maximum(z, w)))


def run_compiled() -> tuple[float, list[float]]:
    f, g = LECTURE(X, Y, Z, W)
    return float(f), [float(g["x"]), float(g["y"]), float(g["z"]), float(g["w"])]


IMPLS = {
    "tensorgraph": run_tensorgraph,
    "tensorgraph, compiled": run_compiled,
    "micrograd 0.1.0": run_micrograd,
    "PyTorch": run_torch,
}


def run(quick: bool) -> CaseResult:
    res = CaseResult("lecture", "1. Lecture example, forward + backward (µs per evaluation)")
    for name, fn in IMPLS.items():
        f, grads = fn()
        ok = math.isclose(f, EXPECTED[0]) and all(
            math.isclose(g, e, abs_tol=1e-12) for g, e in zip(grads, EXPECTED[1], strict=True)
        )
        res.checks.append(Check(f"{name}: f = -20, grads = [-8, 6, 2, 0]", ok, f"{f}, {grads}"))

    rounds, repeats, number = (2, 3, 20) if quick else (7, 9, 500)
    times = measure(IMPLS, rounds, repeats, number)
    base = times["micrograd 0.1.0"].cpu
    rows = []
    for name, t in times.items():
        rows.append([name, *fmt_timing(t, 1e6), f"{t.cpu / base:.2f}"])
        res.numbers[f"{name} µs"] = t.cpu * 1e6
    res.tables.append(
        Table(["impl", *(f"{c}, µs" for c in TIMING_COLUMNS), "× micrograd (CPU)"], rows)
    )
    res.targets.append(
        Target("tensorgraph / micrograd", times["tensorgraph"].cpu / base, 1.0),
    )
    res.targets.append(
        Target("tensorgraph compiled / micrograd", times["tensorgraph, compiled"].cpu / base, 0.5),
    )
    res.notes.append(
        "micrograd writes max(z, w) as relu(z - w) + w; PyTorch uses float64 0-d leaves "
        "and torch.maximum. All three rebuild the graph from fresh leaves each time."
    )
    res.notes.append(
        "tensorgraph, compiled: tg.compile(lambda x, y, z, w: 2 * (x * y + tg.maximum(z, w))),"
        " traced once at the warm-up call; each call then runs the generated numpy code "
        "(tg.flat_code's lines) on new numbers, building no graph."
    )
    return res
