"""Case 3: one SGD step of the linear classifier at CIFAR-10 scale.

N = 256 and 4096, D = 3073, K = 10, float64 and float32, SVM and softmax, on a fixed
random batch. A step is: scores = X @ W.T + b, data loss + reg·sum(W²), the gradient of
W and b, and W -= lr·dW, b -= lr·db. Implementations:

- tensorgraph: tg.svm_loss / tg.softmax_loss + reg * tg.l2(W), backward, update .data;
- tensorgraph, compiled: the same loss through tg.compile (traced once, then the
  generated numpy code on the same arrays), the update on the arrays;
- tensorgraph built from primitive ops (relu, index, exp, log, sum): what a student
  writes before the fused losses exist, for comparison;
- hand-written numpy: the CS231n-style vectorized loss and gradient, checked here to
  give the same loss and gradient as the others;
- PyTorch autograd (SVM from primitive ops, softmax with F.cross_entropy).

The roofline floor is the two GEMMs' 4·N·D·K flops at the GEMM rate measured on this
machine in the same run (a square matmul, one thread).
"""

from __future__ import annotations

import functools
import time

import numpy as np
import torch
import torch.nn.functional as F

import tensorgraph as tg
from benchmarks.common import (
    TIMING_COLUMNS,
    CaseResult,
    Check,
    Table,
    Target,
    fmt,
    fmt_timing,
    measure,
)

D_FULL, K = 3073, 10
REG, LR = 1e-3, 1e-7  # a tiny step: W barely moves, so every repeat does the same work


# ----- the hand-written reference (CS231n style, W of shape (K, D) and a bias b) -----


def numpy_svm(W, b, X, y, reg):
    N = X.shape[0]
    rows = np.arange(N)
    scores = X @ W.T + b
    margins = np.maximum(0, scores - scores[rows, y][:, None] + 1)
    margins[rows, y] = 0
    loss = margins.sum() / N + reg * np.sum(W * W)
    mask = (margins > 0).astype(X.dtype)
    mask[rows, y] = -mask.sum(axis=1)
    dscores = mask / N
    return loss, dscores.T @ X + 2 * reg * W, dscores.sum(axis=0)


def numpy_softmax(W, b, X, y, reg):
    N = X.shape[0]
    rows = np.arange(N)
    scores = X @ W.T + b
    shifted = scores - scores.max(axis=1, keepdims=True)
    lse = np.log(np.exp(shifted).sum(axis=1))  # log-sum-exp: finite in float32 too
    loss = np.mean(lse - shifted[rows, y]) + reg * np.sum(W * W)
    probs = np.exp(shifted - lse[:, None])
    probs[rows, y] -= 1
    dscores = probs / N
    return loss, dscores.T @ X + 2 * reg * W, dscores.sum(axis=0)


NUMPY = {"svm": numpy_svm, "softmax": numpy_softmax}


# ----- tensorgraph and PyTorch losses -----


@functools.cache
def fused_losses():
    """tg's fused losses, or None while tensorgraph/losses.py has not landed."""
    try:
        from tensorgraph import losses
    except ImportError:
        return None
    if not all(hasattr(losses, n) for n in ("svm_loss", "softmax_loss", "l2")):
        return None
    return losses


def tg_fused(kind, scores, y):
    L = fused_losses()
    return L.svm_loss(scores, y) if kind == "svm" else L.softmax_loss(scores, y)


def tg_l2(W):
    return fused_losses().l2(W)


def tg_primitive(kind, scores, y):
    N, Kc = scores.shape
    rows = np.arange(N)
    if kind == "svm":
        others = np.ones((N, Kc), scores.dtype)
        others[rows, y] = 0
        margins = tg.relu(scores - scores[rows, y].reshape(N, 1) + 1)
        return (margins * others).sum() / N
    shifted = scores - scores.data.max(axis=1, keepdims=True)  # a constant shift
    return (tg.log(tg.exp(shifted).sum(axis=1)) - shifted[rows, y]).mean()


def torch_loss(kind, scores, y):
    if kind == "softmax":
        return F.cross_entropy(scores, y)
    N = scores.shape[0]
    margins = (scores - scores.gather(1, y[:, None]) + 1).clamp(min=0)
    return (margins * (1 - F.one_hot(y, scores.shape[1]).to(scores.dtype))).sum() / N


def tg_compiled(kind):
    """The step's loss and gradient by tg.compile: traced once, then generated numpy."""

    def loss(W, b, X, y):
        return tg_fused(kind, X @ W.T + b, y) + REG * tg_l2(W)

    return tg.compile(loss, wrt=("W", "b"))


def has_fused_losses() -> bool:
    return fused_losses() is not None


def gemm_rate(dtype, n: int, repeats: int) -> float:
    """Best flop/s of an n×n matmul on this machine (one BLAS thread)."""
    a = np.random.default_rng(1).standard_normal((n, n)).astype(dtype)
    a @ a
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best


def one_config(res, kind, N, D, dtype, rounds, repeats, rates):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D)).astype(dtype)
    y = rng.integers(0, K, N)
    # Scores of order 1: some SVM margins are active and some not, softmax is not flat.
    W0 = (rng.standard_normal((K, D)) / np.sqrt(D)).astype(dtype)
    b0 = (0.1 * rng.standard_normal(K)).astype(dtype)
    dname = np.dtype(dtype).name
    label = f"N={N} {dname} {kind}"

    # hand-written numpy
    Wn, bn = W0.copy(), b0.copy()
    ref = NUMPY[kind]

    def step_numpy():
        loss, dW, db = ref(Wn, bn, X, y, REG)
        Wn[...] -= LR * dW
        bn[...] -= LR * db
        return loss

    # tensorgraph (fused losses, and primitive ops)
    tX = tg.tensor(X, copy=False)  # X itself, as numpy and torch.from_numpy use it

    def tg_step(loss_fn, Wt, bt):
        def step():
            scores = tX @ Wt.T + bt
            loss = loss_fn(kind, scores, y) + REG * (
                tg_l2(Wt) if loss_fn is tg_fused else (Wt * Wt).sum()
            )
            loss.backward()
            Wt.data -= LR * Wt.grad
            bt.data -= LR * bt.grad
            Wt.grad = bt.grad = None
            return loss

        return step

    # PyTorch (shares X's memory)
    pX, py = torch.from_numpy(X), torch.from_numpy(y)
    pW = torch.from_numpy(W0.copy()).requires_grad_()
    pb = torch.from_numpy(b0.copy()).requires_grad_()

    def step_torch():
        nonlocal pW, pb
        loss = torch_loss(kind, pX @ pW.T + pb, py) + REG * (pW * pW).sum()
        loss.backward()
        with torch.no_grad():
            pW -= LR * pW.grad
            pb -= LR * pb.grad
        pW.grad = pb.grad = None
        return loss

    # The two GEMMs alone: the practical floor of any implementation.
    G = np.full((N, K), 1.0 / N, dtype)

    def gemms_only():
        X @ Wn.T
        G.T @ X

    impls = {"numpy hand-written": step_numpy}
    fused = has_fused_losses()
    if fused:
        impls["tensorgraph"] = tg_step(
            tg_fused,
            tg.tensor(W0.copy(), requires_grad=True),
            tg.tensor(b0.copy(), requires_grad=True),
        )
        compiled, Wc, bc = tg_compiled(kind), W0.copy(), b0.copy()

        def step_compiled():
            loss, grads = compiled(Wc, bc, X, y)
            Wc[...] -= LR * grads["W"]
            bc[...] -= LR * grads["b"]
            return loss

        impls["tensorgraph, compiled"] = step_compiled
    impls["tensorgraph, primitive ops"] = tg_step(
        tg_primitive,
        tg.tensor(W0.copy(), requires_grad=True),
        tg.tensor(b0.copy(), requires_grad=True),
    )
    impls["PyTorch"] = step_torch
    impls["numpy: the two GEMMs alone"] = gemms_only

    check_gradients(res, kind, label, X, y, W0, b0, fused)

    times = measure(impls, rounds, repeats)
    floor = 4 * N * D * K / rates[dname]
    base = times["numpy hand-written"].cpu
    rows = []
    for name, t in times.items():
        rows.append(
            [label, name, *fmt_timing(t, 1e3), f"{t.cpu / base:.2f}", f"{t.cpu / floor:.1f}"]
        )
        res.numbers[f"{label} {name} ms"] = t.cpu * 1e3
    rows.append(
        [
            label,
            "roofline floor (4NDK flops at GEMM peak)",
            f"{fmt(floor * 1e3)}",
            "",
            "",
            "",
            "",
            "1",
        ]
    )
    if fused:
        ours = times["tensorgraph"].cpu
        res.targets.append(Target(f"{label}: tensorgraph / numpy", ours / base, 1.10))
        res.targets.append(
            Target(f"{label}: tensorgraph / PyTorch", ours / times["PyTorch"].cpu, 0.5)
        )
        if kind == "svm":
            compiled = times["tensorgraph, compiled"].cpu
            res.targets.append(
                Target(f"{label}: tensorgraph compiled / numpy", compiled / base, 1.0)
            )
    return rows


def check_gradients(res, kind, label, X, y, W0, b0, fused):
    """Same loss and gradients from every implementation, before any timing."""
    loss_ref, dW_ref, db_ref = NUMPY[kind](W0, b0, X, y, REG)
    results = {}
    fns = [("tensorgraph, primitive ops", tg_primitive)]
    if fused:
        fns.insert(0, ("tensorgraph", tg_fused))
    for name, fn in fns:
        Wt, bt = tg.tensor(W0, requires_grad=True), tg.tensor(b0, requires_grad=True)
        reg = tg_l2(Wt) if fn is tg_fused else (Wt * Wt).sum()
        loss = fn(kind, tg.tensor(X) @ Wt.T + bt, y) + REG * reg
        loss.backward()
        results[name] = (loss.item(), Wt.grad, bt.grad)
    if fused:
        loss, grads = tg_compiled(kind)(W0, b0, X, y)
        results["tensorgraph, compiled"] = (float(loss), grads["W"], grads["b"])
    pW = torch.from_numpy(W0.copy()).requires_grad_()
    pb = torch.from_numpy(b0.copy()).requires_grad_()
    loss = (
        torch_loss(kind, torch.from_numpy(X) @ pW.T + pb, torch.from_numpy(y))
        + REG * (pW * pW).sum()
    )
    loss.backward()
    results["PyTorch"] = (loss.item(), pW.grad.numpy(), pb.grad.numpy())
    tol = 1e-10 if X.dtype == np.float64 else 2e-4
    scale = np.abs(dW_ref).max()
    for name, (loss, dW, db) in results.items():
        err = max(
            abs(loss - loss_ref) / abs(loss_ref),
            np.abs(dW - dW_ref).max() / scale,
            np.abs(db - db_ref).max() / max(np.abs(db_ref).max(), 1e-30),
        )
        res.checks.append(
            Check(
                f"{label}: {name} = numpy loss and gradient",
                bool(err < tol),
                f"relative error {err:.1e}",
            )
        )


def run(quick: bool) -> CaseResult:
    res = CaseResult("sgd", "3. One SGD step of the linear classifier (ms per step)")
    if quick:
        sizes, D, square = [(32, 2, 3)], 97, 128
    else:
        sizes, D, square = [(256, 5, 7), (4096, 3, 2)], D_FULL, 1024
    rates = {d: gemm_rate(d, square, 3 if quick else 7) for d in ("float64", "float32")}
    rows = []
    for N, rounds, repeats in sizes:
        for dtype in (np.float64, np.float32):
            for kind in ("svm", "softmax"):
                rows += one_config(res, kind, N, D, dtype, rounds, repeats, rates)
    res.tables.append(
        Table(["config", "impl", *(f"{c}, ms" for c in TIMING_COLUMNS), "× numpy", "× floor"], rows)
    )
    for d, r in rates.items():
        res.numbers[f"GEMM GF/s {d}"] = r / 1e9
    res.notes.append(
        f"GEMM peak measured in this run ({square}² matmul, best of several, 1 thread): "
        + ", ".join(f"{d} {r / 1e9:.1f} GF/s" for d, r in rates.items())
        + ". The floor is 4·N·D·K flops (X @ Wᵀ and dscoresᵀ @ X) at that rate."
    )
    res.notes.append(
        f"D = {D}, K = {K}, reg = {REG}, lr = {LR}; random X ~ N(0, 1), W ~ N(0, 1/D) so "
        "scores are of order 1; a fixed batch (no minibatch gather in the step)."
    )
    if not has_fused_losses():
        res.notes.append(
            "tensorgraph's fused losses (tg.svm_loss, tg.softmax_loss, tg.l2): "
            "not available yet, so the targets are not measured."
        )
    return res
