"""Slides 'Backpropagation': the chain rule on f = 2 * (x*y + max(z, w)).

First the slide's code as it stands, forward then backward, one local gradient at a
time; then the same function as a tensorgraph graph, whose backward pass produces the
same numbers, with every intermediate value and gradient it stored; last, that graph
drawn (backpropagation.svg) beside the code tensorgraph writes back for it
(tg.flat_code, backpropagation_code.py): the slide's lines, for any graph.

    python examples/10_backpropagation.py [OUT]
"""

import sys
from pathlib import Path

import tensorgraph as tg
import viz


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # Forward pass (the slide)
    x = 3
    y = -4
    z = 2
    w = -1  # noqa: E702
    p = x * y  # -12
    q = max(z, w)  # 2
    v = p + q  # -10
    f = 2 * v  # -20
    print(f"forward:  p = x*y = {p}, q = max(z, w) = {q}, v = p + q = {v}, f = 2v = {f}")

    # Backward pass (the slide): local gradients, multiplied along each path
    dfdv = 2
    dvdp = 1
    dpdx = y
    dpdy = x
    dvdq = 1
    dqdz = z > w
    dqdw = w > z
    dfdx = dfdv * dvdp * dpdx  # -8
    dfdy = dfdv * dvdp * dpdy  # 6
    dfdz = dfdv * dvdq * dqdz  # 2
    dfdw = dfdv * dvdq * dqdw  # 0
    print(f"backward: df/dx = {dfdx}, df/dy = {dfdy}, df/dz = {dfdz}, df/dw = {dfdw}")

    # The same in tensorgraph: build the graph, call backward once.
    X, Y, Z, W = (
        tg.tensor(float(t), requires_grad=True, name=n)
        for t, n in ((x, "x"), (y, "y"), (z, "z"), (w, "w"))
    )
    P = X * Y
    Q = tg.maximum(Z, W)
    V = P + Q
    F = 2 * V
    F.backward()
    print("tensorgraph, gate by gate (value; gradient of f with respect to it):")
    for name, t in (("p", P), ("q", Q), ("v", V), ("f", F)):
        print(f"  {name} = {t.op:8s} {t.data.item():6g}; df/d{name} = {t.grad.item():g}")
    grads = [t.grad.item() for t in (X, Y, Z, W)]
    print(f"tensorgraph: f = {F.item():g}, grad [x, y, z, w] = {grads}")

    # The graph drawn, and written back as straight-line code: its gates get the
    # slide's names (p, q, v) and each line its value.
    print("wrote", viz.render(F, out / "backpropagation.svg", title="f = 2(xy + max(z, w))"))
    code = tg.flat_code(F)
    (out / "backpropagation_code.py").write_text(code, encoding="utf-8")
    print(f"tg.flat_code(F), also in {out / 'backpropagation_code.py'}:\n{code}")
    namespace: dict = {}
    exec(code, namespace)  # the code runs: grads() at other values, same shapes
    at = namespace["grads"](x=1, y=2, z=-3, w=5)
    print("its grads(x=1, y=2, z=-3, w=5):", {k: float(g) for k, g in at.items()})


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples"))
