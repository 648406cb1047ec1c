"""What the always-on in-place check costs in a training loop (findings.md, F6).

    .venv/bin/python benchmarks/inplace_cost.py [--rounds 15]

Case 3's SGD step (N = 256, D = 3073, K = 10, fused SVM loss + L2), three ways to apply
the update, interleaved round by round in one process, BLAS pinned to one thread, CPU
time, medians:

- ``W.data -= lr * W.grad``: the lecture's idiom, through the TrackedArray (logged);
- ``opt.step()``: tg.optim.SGD, which writes the engine's array and logs once per
  parameter;
- the raw update on the engine's private array (no log): the floor the check adds to.

Building a graph costs nothing extra (no per-op bookkeeping), so what is measured is
the write path alone.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import tensorgraph as tg  # noqa: E402

N, D, K, LR, REG, STEPS = 256, 3073, 10, 1e-3, 1e-4, 100


def one_dtype(dtype: type, rounds: int, rng: np.random.Generator) -> None:
    X = tg.tensor(rng.standard_normal((N, D)).astype(dtype))
    y = rng.integers(0, K, N)
    W = tg.tensor((rng.standard_normal((K, D)) / np.sqrt(D)).astype(dtype), requires_grad=True)
    b = tg.tensor(np.zeros(K, dtype), requires_grad=True)
    opt = tg.optim.SGD([W, b], lr=LR)

    def forward_backward() -> None:
        (tg.svm_loss(X @ W.T + b, y) + REG * tg.l2(W)).backward()

    def tracked() -> None:
        forward_backward()
        W.data -= LR * W.grad
        b.data -= LR * b.grad
        W.grad = b.grad = None

    def optimizer() -> None:
        forward_backward()
        opt.step()
        opt.zero_grad()

    def raw() -> None:
        forward_backward()
        W._data -= LR * W.grad  # the engine's own array: nothing logged
        b._data -= LR * b.grad
        W.grad = b.grad = None

    ways = {"`W.data -= lr * W.grad`": tracked, "`opt.step()`": optimizer, "raw": raw}
    times: dict[str, list[float]] = {name: [] for name in ways}
    for r in range(rounds):
        for name in list(ways) if r % 2 else list(reversed(ways)):
            t0 = time.process_time()
            for _ in range(STEPS):
                ways[name]()
            times[name].append((time.process_time() - t0) / STEPS * 1e6)
    floor = float(np.median(times["raw"]))
    for name, ts in times.items():
        med = float(np.median(ts))
        print(f"| {np.dtype(dtype).name} | {name} | {med:.0f} | {med / floor:.3f} |")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args(argv)
    threadpool_limits(1)
    rng = np.random.default_rng(0)
    print("| dtype | update | CPU median, µs per step | × raw |")
    print("|---|---|---|---|")
    for dtype in (np.float64, np.float32):
        one_dtype(dtype, args.rounds, rng)


if __name__ == "__main__":
    main()
