"""Before and after a change, side by side in one process: cases 1-3 for two revisions.

    python3 benchmarks/compare_revisions.py 93a03f8          # that commit vs the work tree
    python3 benchmarks/compare_revisions.py 93a03f8 HEAD~3   # two commits

Each revision's `tensorgraph/` is taken from git (or the work tree for the second one when
it is not given) into a temporary folder under its own package name, so both run in the
same process, round by round, on one BLAS thread (benchmarks/common.py's method). It
prints a Markdown table: the lecture example and the 100-op chain (µs per evaluation)
and one float64 SVM SGD step at N=256, D=3073, K=10 (µs per step), with after/before.
Use it to show what a refactor costs; BENCHMARKS.md itself is written by run.py.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.common import measure  # noqa: E402


def export(rev: str | None, dest: Path) -> str:
    """Put revision ``rev``'s tensorgraph package (the work tree's for None) under ``dest``
    as a package of its own name; return that name."""
    name = "tg_worktree" if rev is None else f"tg_{rev.replace('~', '_').replace('^', '_')}"
    target = dest / name
    if rev is None:
        shutil.copytree(ROOT / "tensorgraph", target)
    else:
        archive = subprocess.run(
            ["git", "archive", rev, "tensorgraph"], cwd=ROOT, check=True, capture_output=True
        ).stdout
        unpack = dest / f"{name}-unpack"
        unpack.mkdir()
        subprocess.run(["tar", "-x", "-C", str(unpack)], input=archive, check=True)
        (unpack / "tensorgraph").rename(target)
    return name


def lecture(tg: object) -> Callable[[], None]:
    def run() -> None:
        x = tg.tensor(3.0, requires_grad=True)
        y = tg.tensor(-4.0, requires_grad=True)
        z = tg.tensor(2.0, requires_grad=True)
        w = tg.tensor(-1.0, requires_grad=True)
        f = 2 * (x * y + tg.maximum(z, w))
        f.backward()

    return run


def chain(tg: object) -> Callable[[], None]:
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.normal(size=4), requires_grad=True)
    cs = [
        tg.tensor(
            rng.normal(size=4) if i % 2 == 0 else rng.uniform(0.9, 1.1, 4), requires_grad=True
        )
        for i in range(100)
    ]
    seed = np.ones(4)

    def run() -> None:
        x.grad = None
        for c in cs:
            c.grad = None
        y = x
        for i, c in enumerate(cs):
            y = y + c if i % 2 == 0 else y * c
        y.backward(seed)

    return run


def sgd(tg: object) -> Callable[[], None]:
    rng = np.random.default_rng(0)
    n, d, k = 256, 3073, 10
    X = tg.tensor(rng.normal(size=(n, d)), copy=False)
    labels = rng.integers(0, k, n)
    W = tg.tensor(rng.normal(size=(k, d)) * 1e-3, requires_grad=True)
    b = tg.tensor(np.zeros(k), requires_grad=True)

    def run() -> None:
        loss = tg.svm_loss(X @ W.T + b, labels) + 1e-3 * tg.l2(W)
        loss.backward()
        W.data -= 1e-3 * W.grad
        b.data -= 1e-3 * b.grad
        W.grad = b.grad = None

    return run


def main(argv: list[str]) -> int:
    if not argv or len(argv) > 2:
        print(__doc__)
        return 2
    before, after = argv[0], (argv[1] if len(argv) > 1 else None)
    from threadpoolctl import threadpool_limits

    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, tmp)
        names = [export(before, Path(tmp)), export(after, Path(tmp))]
        mods = [importlib.import_module(n) for n in names]
        labels = [before, after or "work tree"]
        print(f"| case | {labels[0]} | {labels[1]} | after / before |")
        print("|---|---|---|---|")
        with threadpool_limits(1):
            for case, make, number in [("lecture", lecture, 500), ("chain", chain, 50)] + [
                ("sgd step", sgd, 20)
            ]:
                times = measure(
                    {lab: make(m) for lab, m in zip(labels, mods, strict=True)},
                    rounds=9,
                    repeats=7,
                    number=number,
                )
                a, b = (times[lab].cpu * 1e6 for lab in labels)
                print(f"| {case} (µs) | {a:.1f} | {b:.1f} | {b / a:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
