"""Slide 'PyTorch Computation Graph': the lecture's graph, drawn by tensorgraph.

Every gate (*, max, +, *) with the value of the forward pass and the gradient of the
backward pass, written as SVG (and PNG) into the output folder.

    python examples/12_computation_graph.py [OUT]
"""

import sys
from pathlib import Path

import tensorgraph as tg
import viz


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    x, y, z, w = (
        tg.tensor(v, requires_grad=True, name=n)
        for v, n in ((3.0, "x"), (-4.0, "y"), (2.0, "z"), (-1.0, "w"))
    )
    p = x * y
    p.name = "p"
    q = tg.maximum(z, w)
    q.name = "q"
    v = p + q
    v.name = "v"
    f = 2 * v
    f.name = "f"
    f.backward()
    print("gates, inputs before outputs:")
    for t in tg.graph_nodes(f):
        kind = t.op or "leaf"
        grad = "" if t.grad is None else f", grad {t.grad.item():g}"
        print(f"  {t.name or '(constant)':10s} {kind:8s} value {t.data.item():g}{grad}")
    for suffix in ("svg", "png"):
        print("wrote", viz.render(f, out / f"computation_graph.{suffix}"))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples"))
