"""Slide 'Derivative': df/dx = lim (f(x + h) - f(x)) / h, and gradients of 2-D functions.

The slide's three examples at (x, y) = (3, -4), by backward through the graph and
by the limit itself (a small h):

    f = x * y      grad = [y, x]
    f = x + y      grad = [1, 1]
    f = max(x, y)  grad = [1(x >= y), 1(x <= y)]

    python examples/07_derivatives.py [OUT]
"""

import sys
from pathlib import Path

import tensorgraph as tg


def grad_of(fn, a: float, b: float) -> tuple[float, list[float]]:
    x = tg.tensor(a, requires_grad=True, name="x")
    y = tg.tensor(b, requires_grad=True, name="y")
    f = fn(x, y)
    f.backward()
    return f.item(), [x.grad.item(), y.grad.item()]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    a, b, h = 3.0, -4.0, 1e-5
    examples = (
        ("x * y", lambda x, y: x * y, "[y, x]"),
        ("x + y", lambda x, y: x + y, "[1, 1]"),
        ("max(x, y)", lambda x, y: tg.maximum(x, y), "[1(x >= y), 1(x <= y)]"),
    )
    print(f"at x = {a:g}, y = {b:g}:")
    for text, fn, rule in examples:
        f, g = grad_of(fn, a, b)
        # The limit definition, one coordinate at a time (forward difference, as on the slide).
        fx = (fn(tg.tensor(a + h), tg.tensor(b)).item() - f) / h
        fy = (fn(tg.tensor(a), tg.tensor(b + h)).item() - f) / h
        print(
            f"  f = {text:9s} = {f:5g}  backward grad = {g}  ({rule})  "
            f"(f(x+h) - f(x))/h = [{fx:.4f}, {fy:.4f}]"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples"))
