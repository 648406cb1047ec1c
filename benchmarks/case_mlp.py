"""Case 7: one training step of a two-layer net, 784-256-10 ReLU, batch 128, float32.

The Fashion-MNIST network (examples/14), one minibatch step: forward, softmax
cross-entropy, backward, SGD update. Implementations, each on the same random batch
and from the same weights:

- tensorgraph: ``tg.nn.Sequential(Linear, ReLU, Linear)``, ``F.cross_entropy``,
  ``backward()``, ``tg.optim.SGD.step()`` (exactly what a user writes);
- PyTorch: the same in ``torch.nn`` and ``torch.optim.SGD`` (one thread);
- hand-written numpy: the CS231n two-layer net, forward and backward by hand.

Checked first: the same loss and the same four gradients from all three. The floor is
the step's five GEMMs (2 forward, 3 backward: the input needs no gradient) at the GEMM
rate measured in this run. Targets (issue 13): tensorgraph ≤ 1.2× PyTorch and ≤ 1.1×
numpy. The Fashion-MNIST fit itself (tensorgraph and PyTorch, the same loop) is in case 6
(--full).
"""

from __future__ import annotations

import numpy as np
import torch

import tensorgraph as tg
import tensorgraph.nn.functional as F
from benchmarks.case_sgd import gemm_rate
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

TITLE = "7. One training step of a two-layer net, 784-256-10, batch 128, float32 (ms per step)"
LR = 1e-6  # a tiny step: the weights barely move, so every repeat does the same work


def numpy_step(W1, b1, W2, b2, X, y, lr):
    """The CS231n two-layer net: forward, softmax loss, backward, SGD, by hand."""
    n = len(X)
    rows = np.arange(n)
    h = X @ W1.T + b1
    np.maximum(h, 0, out=h)
    s = h @ W2.T + b2
    s -= s.max(axis=1, keepdims=True)
    e = np.exp(s)
    total = e.sum(axis=1)
    loss = np.mean(np.log(total) - s[rows, y])
    ds = e / total[:, None]
    ds[rows, y] -= 1
    ds /= n
    dW2, db2 = ds.T @ h, ds.sum(axis=0)
    dh = ds @ W2
    dh *= h > 0
    dW1, db1 = dh.T @ X, dh.sum(axis=0)
    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2
    return loss, (dW1, db1, dW2, db2)


def build(sizes, dtype):
    """The same weights in tensorgraph, PyTorch and plain arrays."""
    model = tg.nn.MLP(sizes, dtype=dtype, generator=0)
    twin = torch.nn.Sequential(
        torch.nn.Linear(sizes[0], sizes[1]), torch.nn.ReLU(), torch.nn.Linear(sizes[1], sizes[2])
    ).to(getattr(torch, np.dtype(dtype).name))
    twin.load_state_dict(model.state_dict())
    arrays = [np.array(v) for v in model.state_dict().values()]
    return model, twin, arrays


def check(res, sizes, X, y, dtype):
    """The same loss and gradients from all three, before any timing."""
    model, twin, (W1, b1, W2, b2) = build(sizes, dtype)
    loss_ref, grads_ref = numpy_step(W1, b1, W2, b2, X, y, 0.0)
    loss = F.cross_entropy(model(X), y)
    loss.backward()
    ours = [p.grad for p in model.parameters()]
    tloss = torch.nn.functional.cross_entropy(twin(torch.from_numpy(X)), torch.from_numpy(y))
    tloss.backward()
    theirs = [p.grad.numpy() for p in twin.parameters()]
    tol = 1e-4 if dtype == np.float32 else 1e-10
    for name, value, grads in (
        ("tensorgraph", loss.item(), ours),
        ("PyTorch", tloss.item(), theirs),
    ):
        err = max(
            abs(value - loss_ref) / abs(loss_ref),
            *(np.abs(g - r).max() / np.abs(r).max() for g, r in zip(grads, grads_ref, strict=True)),
        )
        res.checks.append(
            Check(
                f"{name} = numpy loss and 4 gradients", bool(err < tol), f"relative error {err:.1e}"
            )
        )


def run(quick: bool) -> CaseResult:
    res = CaseResult("mlp", TITLE)
    sizes, n = ([784, 256, 10], 128) if not quick else ([64, 32, 10], 16)
    rounds, repeats, number = (7, 7, 5) if not quick else (2, 2, 2)
    dtype = np.float32
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, sizes[0])).astype(dtype)
    y = rng.integers(0, sizes[-1], n)
    check(res, sizes, X, y, dtype)

    model, twin, (W1, b1, W2, b2) = build(sizes, dtype)
    opt = tg.optim.SGD(model.parameters(), lr=LR)

    def step_tensorgraph():
        loss = F.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    pX, py = torch.from_numpy(X), torch.from_numpy(y)
    topt = torch.optim.SGD(twin.parameters(), lr=LR)

    def step_torch():
        loss = torch.nn.functional.cross_entropy(twin(pX), py)
        topt.zero_grad()
        loss.backward()
        topt.step()

    def step_numpy():
        numpy_step(W1, b1, W2, b2, X, y, LR)

    h = np.maximum(X @ W1.T, 0)
    ds = np.full((n, sizes[2]), 1.0 / n, dtype)

    def gemms_only():  # the step's five GEMMs (the input needs no gradient), nothing else
        X @ W1.T
        h @ W2.T
        ds.T @ h
        ds @ W2
        h.T @ X  # dW1 = dh.T @ X, the same shapes

    impls = {
        "tensorgraph (tg.nn, F.cross_entropy, tg.optim.SGD)": step_tensorgraph,
        "PyTorch (torch.nn, F.cross_entropy, torch.optim.SGD)": step_torch,
        "numpy hand-written": step_numpy,
        "numpy: the five GEMMs alone": gemms_only,
    }
    times = measure(impls, rounds, repeats, number)
    rate = gemm_rate(dtype, 512 if quick else 1024, 3 if quick else 7)
    d, hdim, k = sizes
    flops = 2 * n * (d * hdim + hdim * k) * 3 - 2 * n * d * hdim  # fwd + 2 bwd per layer - dX
    floor = flops / rate
    ours = times["tensorgraph (tg.nn, F.cross_entropy, tg.optim.SGD)"].cpu
    theirs = times["PyTorch (torch.nn, F.cross_entropy, torch.optim.SGD)"].cpu
    base = times["numpy hand-written"].cpu
    rows = []
    for name, t in times.items():
        rows.append(
            [
                name,
                *fmt_timing(t, 1e3),
                f"{t.cpu / theirs:.2f}",
                f"{t.cpu / base:.2f}",
                f"{t.cpu / floor:.2f}",
            ]
        )
        res.numbers[f"{name} ms"] = t.cpu * 1e3
    rows.append(
        [
            "roofline floor (the GEMMs' flops at GEMM peak)",
            fmt(floor * 1e3),
            "",
            "",
            "",
            "",
            "",
            "1",
        ]
    )
    res.tables.append(
        Table(
            ["impl", *(f"{c}, ms" for c in TIMING_COLUMNS), "× PyTorch", "× numpy", "× floor"], rows
        )
    )
    res.targets.append(Target("tensorgraph / PyTorch", ours / theirs, 1.2))
    res.targets.append(Target("tensorgraph / numpy hand-written", ours / base, 1.1))
    res.numbers["GEMM GF/s float32"] = rate / 1e9
    res.notes.append(
        f"Sizes {'-'.join(map(str, sizes))}, batch {n}, float32, a fixed random batch; SGD lr "
        f"{LR:g}. GEMM peak in this run: {rate / 1e9:.1f} GF/s (float32, one thread); the "
        f"floor is the step's {flops / 1e6:.0f} Mflop at that rate."
    )
    return res


# ----- the Fashion-MNIST fit, for case 6 (--full): the same loop in both libraries -----

# Chosen on the validation split by benchmarks/tune_fashion_mlp.py (findings.md, F7).
FASHION_MLP = {"hidden": 256, "learning_rate": 1e-3, "epochs": 20, "batch_size": 128}


class LoopMLP:
    """A two-layer net 784-256-10 (ReLU) trained by the plain PyTorch loop, in tensorgraph
    or in PyTorch: float32, Adam, softmax cross-entropy, the same start (PyTorch's model
    loads tensorgraph's initial state dict) and the same minibatches, so the fit times
    compare the libraries and nothing else. The API case 6 expects: fit, predict,
    get_params.
    """

    def __init__(self, backend: str, quick: bool = False, seed: int = 0, **settings) -> None:
        self.backend, self.seed = backend, seed
        self.settings = {**FASHION_MLP, **settings}
        if quick:
            self.settings["epochs"] = 2
        # Warm up here, outside the timed fit: PyTorch's first Adam step loads code lazily.
        rng = np.random.default_rng(0)
        tiny = {**self.settings, "hidden": 4, "epochs": 1, "batch_size": 8}
        saved, self.settings = self.settings, tiny
        self.fit(rng.standard_normal((8, 3)), np.arange(8) % 2)
        self.settings = saved

    def get_params(self) -> dict:
        return dict(self.settings)

    def fit(self, X, y) -> LoopMLP:
        s = self.settings
        X = np.ascontiguousarray(X, dtype=np.float32)
        rng = np.random.default_rng(self.seed)
        sizes = [X.shape[1], s["hidden"], int(y.max()) + 1]
        model = tg.nn.MLP(sizes, dtype=np.float32, generator=self.seed)
        if self.backend == "torch":
            twin = torch.nn.Sequential(
                torch.nn.Linear(sizes[0], sizes[1]),
                torch.nn.ReLU(),
                torch.nn.Linear(sizes[1], sizes[2]),
            )
            twin.load_state_dict(model.state_dict())
            model = twin
            opt = torch.optim.Adam(model.parameters(), lr=s["learning_rate"])
            X, y = torch.from_numpy(X), torch.from_numpy(np.asarray(y))
            loss_fn = torch.nn.functional.cross_entropy
        else:
            opt = tg.optim.Adam(model.parameters(), lr=s["learning_rate"])
            loss_fn = F.cross_entropy
        n, b = len(X), s["batch_size"]
        for _ in range(s["epochs"]):
            order = rng.permutation(n)
            for i in range(0, n, b):
                idx = order[i : i + b]
                loss = loss_fn(model(X[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        self.model = model
        return self

    def predict(self, X) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float32)
        if self.backend == "torch":
            with torch.no_grad():
                return self.model(torch.from_numpy(X)).argmax(dim=1).numpy()
        with tg.no_grad():
            return self.model(X).data.argmax(axis=1)
