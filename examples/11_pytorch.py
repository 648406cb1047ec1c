"""Slide 'PyTorch Implementation': the slide's torch code beside the same in tensorgraph.

PyTorch is optional here: without it, only the tensorgraph column runs. The slide
uses Python's built-in max(z, w), which for two 0-d tensors picks one of them (so the
gradient flows to that one alone); tensorgraph's max gate is tg.maximum. viz.compare
draws both graphs, matched node by node, and says where they part (compare.svg/.png);
with torch.maximum they agree.

    python examples/11_pytorch.py [OUT]
"""

import sys
from pathlib import Path

import tensorgraph as tg
import viz


def with_torch() -> list[str] | None:
    try:
        import torch
    except ImportError:
        return None
    # Forward pass (the slide)
    x = torch.tensor(3.0, requires_grad=True)
    y = torch.tensor(-4.0, requires_grad=True)
    z = torch.tensor(2.0, requires_grad=True)
    w = torch.tensor(-1.0, requires_grad=True)
    p = x * y  # tensor(-12., grad_fn=<MulBackward0>)
    q = max(z, w)  # tensor(2., requires_grad=True): z itself
    v = p + q  # tensor(-10., grad_fn=<AddBackward0>)
    f = 2 * v  # tensor(-20., grad_fn=<MulBackward0>)
    # Backward pass
    f.backward()  # compute gradients
    return [repr(t) for t in (p, q, v, f, x.grad, y.grad, z.grad, w.grad)]


def tensorgraph_f() -> tuple[tg.Tensor, list[tg.Tensor]]:
    # Forward pass
    x = tg.tensor(3.0, requires_grad=True, name="x")
    y = tg.tensor(-4.0, requires_grad=True, name="y")
    z = tg.tensor(2.0, requires_grad=True, name="z")
    w = tg.tensor(-1.0, requires_grad=True, name="w")
    p = x * y
    q = tg.maximum(z, w)
    v = p + q
    f = 2 * v
    for t, name in ((p, "p"), (q, "q"), (v, "v"), (f, "f")):
        t.name = name
    # Backward pass
    f.backward()
    return f, [p, q, v, f, x, y, z, w]


def with_tensorgraph() -> list[str]:
    _, (p, q, v, f, x, y, z, w) = tensorgraph_f()
    return [repr(t) for t in (p, q, v, f)] + [repr(t.grad) for t in (x, y, z, w)]


def compare(out: Path) -> None:
    """tensorgraph's graph beside PyTorch's: the slide's code, then torch.maximum."""
    from viz.course.lecture import torch_slide

    ours, _ = tensorgraph_f()
    for python_max, name in ((True, "compare"), (False, "compare_maximum")):
        code = "q = max(z, w)" if python_max else "q = torch.maximum(z, w)"
        c = viz.compare(ours, torch_slide(python_max), title=f"tensorgraph and PyTorch: {code}")
        print(f"viz.compare, PyTorch with {code}: " + ("they agree" if c.ok else "they differ"))
        for line in c.divergences:
            print(f"  {line}")
        for suffix in ("svg", "png"):
            print("  wrote", viz.render(c, out / f"{name}.{suffix}"))


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    names = ["p", "q", "v", "f", "x.grad", "y.grad", "z.grad", "w.grad"]
    ours = with_tensorgraph()
    theirs = with_torch() or ["(torch not installed)"] * len(names)
    print(f"{'':7s} {'PyTorch':44s} tensorgraph")
    for name, a, b in zip(names, theirs, ours, strict=True):
        print(f"{name:7s} {a:44s} {b}")
    print("The slide prints tensor(0.) for w.grad: with Python's max, w is not in the graph, so")
    print("torch leaves w.grad None; torch.maximum(z, w) (tensorgraph's tg.maximum) gives 0.")
    try:
        import torch
    except ImportError:
        return
    z = torch.tensor(2.0, requires_grad=True)
    w = torch.tensor(-1.0, requires_grad=True)
    (2 * (torch.tensor(3.0) * torch.tensor(-4.0) + torch.maximum(z, w))).backward()
    print(f"torch.maximum: z.grad = {z.grad}, w.grad = {w.grad}")
    compare(out)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/examples"))
