"""The ``tensorgraph`` command."""

from __future__ import annotations

import argparse
import sys

import tensorgraph as tg


def lecture_example() -> tuple[float, list[float]]:
    """The lecture's f = 2*(x*y + max(z, w)) at (3, -4, 2, -1): f and its gradient.

    >>> lecture_example()
    (-20.0, [-8.0, 6.0, 2.0, 0.0])
    """
    x, y, z, w = (
        tg.tensor(v, requires_grad=True, name=n)
        for v, n in zip((3.0, -4.0, 2.0, -1.0), "xyzw", strict=True)
    )
    f = 2 * (x * y + tg.maximum(z, w))
    f.backward()
    return f.item(), [t.grad.item() for t in (x, y, z, w)]


def torch_lecture_example() -> tuple[float, list[float]] | None:
    """The same computation in PyTorch, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    x, y, z, w = (
        torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (3.0, -4.0, 2.0, -1.0)
    )
    f = 2 * (x * y + torch.maximum(z, w))
    f.backward()
    return f.item(), [t.grad.item() for t in (x, y, z, w)]


def demo(args: argparse.Namespace) -> int:
    f, grads = lecture_example()
    print(f"tensorgraph: f = {f:g}, grad [x, y, z, w] = {[round(g, 12) for g in grads]}")
    ref = torch_lecture_example()
    if ref is None:
        print("pytorch:     not installed (pip install torch==2.13.0 to compare)")
    else:
        print(f"pytorch:     f = {ref[0]:g}, grad [x, y, z, w] = {ref[1]}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tensorgraph`` console script."""
    parser = argparse.ArgumentParser(prog="tensorgraph", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="the lecture example, forward and backward")
    p_demo.add_argument("--out", default="out", help="output folder")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
